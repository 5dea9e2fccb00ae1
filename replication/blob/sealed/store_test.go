package sealed

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Key: testKey(7), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	dirs := map[string]string{}
	stores := map[string]*Store{}
	blobtest.Run(t, blobtest.Harness{
		Open: func(t *testing.T) blob.Store {
			dirs[t.Name()] = t.TempDir()
			stores[t.Name()] = openStore(t, dirs[t.Name()])
			return stores[t.Name()]
		},
		Reopen: func(t *testing.T) blob.Store {
			stores[t.Name()] = openStore(t, dirs[t.Name()])
			return stores[t.Name()]
		},
		Tamper: func(t *testing.T, h blob.Hash) { flipByte(t, stores[t.Name()].committedPath(h), 100_000) },
	})
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Nothing of a blob's bytes is on disk in the clear, and file names do not
// reveal its hash.
func TestNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	b := append([]byte("PLAINTEXT-CANARY-"), blobtest.Bytes(1, 200_000)...)
	id, err := blob.PutBytes(s, b)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Begin(blob.IDOf(append([]byte("PARTIAL-CANARY-"), b...)))
	w.Write(append([]byte("PARTIAL-CANARY-"), b[:70_000]...))
	w.Sync()
	w.Close()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		raw, _ := os.ReadFile(p)
		if bytes.Contains(raw, []byte("CANARY")) || bytes.Contains(raw, b[1000:1032]) {
			t.Errorf("%s holds plain blob bytes", p)
		}
		if strings.Contains(p, id.Hash.String()) || bytes.Contains(raw, id.Hash[:]) {
			t.Errorf("%s names the blob's hash", p)
		}
		return nil
	})
}

func TestWrongKeyReadsNothing(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	id, err := blob.PutBytes(s, blobtest.Bytes(2, 5000))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Another key names files differently: the blob is simply not there.
	other, err := Open(Options{Dir: dir, Key: testKey(8), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := other.Has([]blob.Hash{id.Hash})
	if got[0] {
		t.Fatal("a store under another key sees the blob")
	}
	// A file copied under the other key's name does not open.
	os.MkdirAll(filepath.Dir(other.committedPath(id.Hash)), 0o700)
	raw, _ := os.ReadFile(s.committedPath(id.Hash))
	os.WriteFile(other.committedPath(id.Hash), raw, 0o600)
	if err := blob.Check(other, id.Hash); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("read under the wrong key: %v", err)
	}
}

// A file renamed to another blob's name, a truncated file, a record moved:
// each read fails with ErrCorrupt, never returns the bytes.
func TestDamageIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	a, _ := blob.PutBytes(s, blobtest.Bytes(3, 150_000))
	b, _ := blob.PutBytes(s, blobtest.Bytes(4, 150_000))
	pa, pb := s.committedPath(a.Hash), s.committedPath(b.Hash)
	rawA, _ := os.ReadFile(pa)
	rawB, _ := os.ReadFile(pb)

	cases := map[string]func(){
		"renamed":   func() { os.WriteFile(pa, rawB, 0o600) },
		"truncated": func() { os.WriteFile(pa, rawA[:len(rawA)-100], 0o600) },
		"cut at a record": func() {
			recs, _ := scanRecords(bytes.NewReader(rawA), int64(len(rawA)))
			os.WriteFile(pa, rawA[:recs[len(recs)-1].fileOff], 0o600)
		},
		"header size": func() {
			c := bytes.Clone(rawA)
			c[headerSize-1] ^= 1
			os.WriteFile(pa, c, 0o600)
		},
		"records swapped": func() {
			recs, _ := scanRecords(bytes.NewReader(rawA), int64(len(rawA)))
			r0 := rawA[recs[0].fileOff:recs[1].fileOff]
			r1 := rawA[recs[1].fileOff:recs[2].fileOff]
			c := append(append(append(bytes.Clone(rawA[:recs[0].fileOff]), r1...), r0...), rawA[recs[2].fileOff:]...)
			os.WriteFile(pa, c, 0o600)
		},
	}
	for name, damage := range cases {
		damage()
		if err := blob.Check(s, a.Hash); !errors.Is(err, blob.ErrCorrupt) {
			t.Errorf("%s: check %v", name, err)
		}
		if _, err := blob.ReadAll(s, a.Hash); !errors.Is(err, blob.ErrCorrupt) {
			t.Errorf("%s: read %v", name, err)
		}
		os.WriteFile(pa, rawA, 0o600)
		if err := blob.Check(s, a.Hash); err != nil {
			t.Fatalf("%s: restored file: %v", name, err)
		}
	}
	if err := blob.Check(s, b.Hash); err != nil {
		t.Fatal(err)
	}
}

// A torn record at the end of a partial write (a crash mid-write) is cut
// on resume, and the write continues from the last whole record.
func TestResumeCutsATornRecord(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	b := blobtest.Bytes(5, 300_000)
	id := blob.IDOf(b)
	w, _ := s.Begin(id)
	w.Write(b[:200_000]) // three whole records sealed, the rest buffered
	w.Sync()
	w.Close()
	p := s.partialPath(id.Hash)
	raw, _ := os.ReadFile(p)
	os.WriteFile(p, append(raw, 0, 1, 0, 0, 9, 9, 9), 0o600) // a torn next record
	s.Close()
	s = openStore(t, dir)
	w, err := s.Begin(id)
	if err != nil {
		t.Fatal(err)
	}
	if w.Durable() != 200_000 {
		t.Fatalf("resumed at %d", w.Durable())
	}
	w.Write(b[200_000:])
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := blob.Check(s, id.Hash); err != nil {
		t.Fatal(err)
	}
	// A damaged record in a partial write is cut too: the resume starts
	// before it, never after.
	c := blobtest.Bytes(6, 300_000)
	cid := blob.IDOf(c)
	w, _ = s.Begin(cid)
	for off := 0; off < 250_000; off += 50_000 {
		w.Write(c[off : off+50_000])
		w.Sync()
	}
	w.Close()
	p = s.partialPath(cid.Hash)
	raw, _ = os.ReadFile(p)
	recs, _ := scanRecords(bytes.NewReader(raw), int64(len(raw)))
	raw[recs[2].fileOff+20] ^= 1
	os.WriteFile(p, raw, 0o600)
	w, _ = s.Begin(cid)
	if w.Durable() != recs[2].plainOff {
		t.Fatalf("resumed at %d, want %d (before the damaged record)", w.Durable(), recs[2].plainOff)
	}
	w.Write(c[w.Durable():])
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Open removes what a crash left mid-commit.
func TestOpenCleansUp(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	b := blobtest.Bytes(7, 1000)
	id, _ := blob.PutBytes(s, b)
	// A partial left beside its committed blob, and a stray temp file.
	os.WriteFile(s.partialPath(id.Hash), []byte("x"), 0o600)
	tmp := filepath.Join(filepath.Dir(s.committedPath(id.Hash)), tmpPrefix+"x")
	os.WriteFile(tmp, []byte("x"), 0o600)
	s.Close()
	s = openStore(t, dir)
	if _, err := os.Stat(s.partialPath(id.Hash)); err == nil {
		t.Fatal("partial beside a committed blob kept")
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Fatal("temp file kept")
	}
	if err := blob.Check(s, id.Hash); err != nil {
		t.Fatal(err)
	}
}

func TestFreeSpaceFloor(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Key: testKey(7), MinFreeBytes: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	_, err = blob.PutBytes(s, blobtest.Bytes(8, 100_000))
	if !errors.Is(err, blob.ErrDiskFull) {
		t.Fatalf("got %v, want ErrDiskFull", err)
	}
	u, _ := s.Usage()
	if u.Blobs != 0 {
		t.Fatalf("usage %+v", u)
	}
}
