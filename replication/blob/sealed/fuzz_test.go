package sealed

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
)

// FuzzOpenFile reads arbitrary bytes as a committed blob file: every read
// ends in bytes that hash to the blob's name, or in ErrCorrupt — never a
// panic, never other bytes. The seeds are real sealed files and pieces of
// them.
func FuzzOpenFile(f *testing.F) {
	dir := f.TempDir()
	s := openStore(f, dir)
	good := blobtest.Bytes(1, 150_000)
	id, err := blob.PutBytes(s, good)
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := os.ReadFile(s.committedPath(id.Hash))
	small, _ := blob.PutBytes(s, []byte("a small blob"))
	rawSmall, _ := os.ReadFile(s.committedPath(small.Hash))
	f.Add(raw, true)
	f.Add(rawSmall, false)
	f.Add(raw[:headerSize+100], true)
	f.Add(append(bytes.Clone(rawSmall), 0, 0, 0, 9), false)
	f.Fuzz(func(t *testing.T, file []byte, big bool) {
		h := small.Hash
		if big {
			h = id.Hash
		}
		path := s.committedPath(h)
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(path, map[bool][]byte{true: raw, false: rawSmall}[big], 0o600)
		r, err := s.Open(h)
		if err != nil {
			if !errors.Is(err, blob.ErrCorrupt) {
				t.Fatalf("open: %v", err)
			}
			return
		}
		defer r.Close()
		got, err := io.ReadAll(r)
		if err != nil {
			if !errors.Is(err, blob.ErrCorrupt) {
				t.Fatalf("read: %v", err)
			}
			return
		}
		if blob.HashOf(got) != h {
			t.Fatal("a read returned bytes that are not the blob")
		}
	})
}
