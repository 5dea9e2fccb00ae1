package sealed

import (
	"bytes"
	"path/filepath"
	"testing"

	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
)

// A blob written whole has the size SealedSize says, PlainSize gives its
// plain size back, and NewReader reads its file from anywhere.
func TestSealedSizeAndNewReader(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Key: bytes.Repeat([]byte{7}, KeySize), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []int{1, 100, RecordSize - 1, RecordSize, RecordSize + 1, 3*RecordSize + 17, 500_000} {
		b := blobtest.Bytes(uint64(n), n)
		id, err := blob.PutBytes(s, b)
		if err != nil {
			t.Fatal(err)
		}
		f, size, err := s.OpenFile(id.Hash)
		if err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, size)
		if _, err := f.ReadAt(raw, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if size != SealedSize(int64(n)) {
			t.Fatalf("%d bytes: file of %d, SealedSize %d", n, size, SealedSize(int64(n)))
		}
		if p, ok := PlainSize(size); !ok || p != int64(n) {
			t.Fatalf("%d bytes: PlainSize(%d) = %d %v", n, size, p, ok)
		}
		if p, ok := PlainSize(size + 1); ok != (n%RecordSize != 0) || ok && p != int64(n)+1 {
			t.Fatalf("%d bytes: PlainSize(%d+1) = %d %v", n, size, p, ok)
		}
		got, err := s.ReadHeader(raw[:HeaderSize])
		if err != nil || got != id {
			t.Fatalf("header: %v %v", got, err)
		}
		r, err := s.NewReader(bytes.NewReader(raw), size, id.Hash)
		if err != nil {
			t.Fatal(err)
		}
		back := make([]byte, n)
		if _, err := r.ReadAt(back, 0); err != nil || !bytes.Equal(back, b) {
			t.Fatalf("%d bytes: read back: %v", n, err)
		}
		raw[size-5] ^= 1
		r, err = s.NewReader(bytes.NewReader(raw), size, id.Hash)
		if err == nil {
			_, err = r.ReadAt(back, 0)
		}
		if err == nil {
			t.Fatalf("%d bytes: a flipped bit was read", n)
		}
		sealedRaw, err := s.Seal(id, b)
		if err != nil || int64(len(sealedRaw)) != size {
			t.Fatalf("%d bytes: Seal gave %d bytes, want %d: %v", n, len(sealedRaw), size, err)
		}
		if back, err := blob.ReadAll(readerStore{s, sealedRaw}, id.Hash); err != nil || !bytes.Equal(back, b) {
			t.Fatalf("%d bytes: a sealed copy does not read back: %v", n, err)
		}
		if len(s.Name(id.Hash)) != 64 || filepath.Base(s.committedPath(id.Hash)) != s.Name(id.Hash) {
			t.Fatal("name")
		}
	}
	for _, size := range []int64{0, 10, HeaderSize, HeaderSize + recordOverhead, 1 << 40} {
		if _, ok := PlainSize(size); ok {
			t.Fatalf("PlainSize(%d) accepted", size)
		}
	}
}

// readerStore opens one sealed copy through NewReader, for blob.ReadAll.
type readerStore struct {
	*Store
	raw []byte
}

func (r readerStore) Open(h blob.Hash) (blob.Reader, error) {
	return r.Store.NewReader(bytes.NewReader(r.raw), int64(len(r.raw)), h)
}
