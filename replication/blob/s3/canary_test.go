package s3_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/text/unicode/norm"

	"fieldsync/internal/seaweed"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/s3"
)

// The canary of RELIABILITY.md G9(b), inside images as a capture tool
// would write it (a JPEG comment naming the citizen).
const (
	canaryName = "NGUYỄN VĂN CANARY"
	canaryID   = "001099012345"
)

// canaryImage is a blob that carries the canary in its bytes: a JPEG
// start, a comment segment with the name and ID, then image-like bytes.
func canaryImage(seed uint64, n int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xD8, 0xFF, 0xFE})
	b.WriteString("portrait of " + canaryName + ", CCCD " + canaryID)
	b.Write(blobtest.Bytes(seed, n))
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// TestObjectStoreHoldsNoPlainBytes stores blobs that carry the canary (one
// of them in a multipart upload), then searches every byte SeaweedFS keeps
// on disk — volumes, indexes, the filer's store, logs — and the hub's
// local blob directory, for the canary in UTF-8 (NFC and NFD), the ID
// number, windows of each blob's plain bytes, and each blob's hash (raw
// and hex): there must be none. A control search of the plain bytes proves
// the scanner finds them.
func TestObjectStoreHoldsNoPlainBytes(t *testing.T) {
	srv := seaweed.Start(t) // its own, so its directory holds only this test's data
	ctx := context.Background()
	c, err := srv.Bucket(ctx, "canary")
	if err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	st, err := s3.Open(s3.Options{Client: c, Prefix: "hub/", Owner: "h", Dir: local, Key: testKey, MinFreeBytes: -1, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	needles := map[string][]byte{
		"name (NFC)": []byte(norm.NFC.String(canaryName)),
		"name (NFD)": []byte(norm.NFD.String(canaryName)),
		"ID number":  []byte(canaryID),
	}
	var plain [][]byte
	for i, size := range []int{20_000, 300_000, 7 << 20} {
		b := canaryImage(uint64(200+i), size)
		plain = append(plain, b)
		id, err := blob.PutBytes(st, b)
		if err != nil {
			t.Fatal(err)
		}
		needles["hash hex "+id.Hash.Short()] = []byte(id.Hash.String())
		needles["hash raw "+id.Hash.Short()] = append([]byte(nil), id.Hash[:]...)
		for _, off := range []int{100, len(b) / 2, len(b) - 40} {
			needles["bytes of "+id.Hash.Short()+" at "+itoa(off)] = b[off : off+32]
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil { // flushed to its files
		t.Fatal(err)
	}
	for _, root := range []string{srv.Dir, local} {
		hits, files, total := scan(t, root, needles)
		t.Logf("%s: %d files, %d bytes scanned, %d hits", root, files, total, len(hits))
		for _, h := range hits {
			t.Errorf("found %s", h)
		}
	}
	// The control: the same search finds every needle in the plain bytes.
	ctl := t.TempDir()
	os.WriteFile(filepath.Join(ctl, "plain"), bytes.Join(plain, nil), 0o600)
	inPlain := 0
	for _, n := range needles {
		if bytes.Contains(bytes.Join(plain, nil), n) {
			inPlain++
		}
	}
	if hits, _, _ := scan(t, ctl, needles); len(hits) != inPlain || inPlain < 2+3*len(plain) {
		t.Fatalf("the control search found %d needles, %d are in the plain bytes", len(hits), inPlain)
	}
}

func itoa(i int) string {
	return hex.EncodeToString([]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
}

func scan(t *testing.T, root string, needles map[string][]byte) (hits []string, files int, total int64) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		total += int64(len(b))
		for name, n := range needles {
			if bytes.Contains(b, n) {
				hits = append(hits, name+" in "+path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits, files, total
}
