// Package blobtest is the conformance suite every blob.Store passes, and
// helpers to make test blobs. It is imported only by tests.
package blobtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"fieldsync/replication/blob"
)

// Harness opens a store. Reopen must return a store over the same durable
// state after the previous one was closed. Tamper, if set, damages the
// stored bytes of a committed blob (a bit flip on disk) so the suite can
// check that reads refuse them.
type Harness struct {
	Open   func(t *testing.T) blob.Store
	Reopen func(t *testing.T) blob.Store
	Tamper func(t *testing.T, h blob.Hash)
}

// Bytes returns n deterministic pseudo-random (incompressible) bytes.
func Bytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"put-read", testPutRead},
		{"put-mismatch-never-visible", testPutMismatch},
		{"stored-once", testStoredOnce},
		{"chunked-resume", testChunkedResume},
		{"resume-after-reopen-keeps-synced", testResumeAfterReopen},
		{"write-past-size-refused", testWritePastSize},
		{"commit-incomplete", testCommitIncomplete},
		{"commit-mismatch-discards", testCommitMismatch},
		{"busy-and-exists", testBusyExists},
		{"begin-other-size-restarts", testBeginOtherSize},
		{"delete-and-abort", testDeleteAbort},
		{"list-and-usage", testListUsage},
		{"bad-ids", testBadIDs},
		{"has-batch-limit", testHasLimit},
		{"concurrent-writers", testConcurrent},
		{"closed", testClosed},
		{"tampered-never-read", testTampered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

func has(t *testing.T, s blob.Store, h blob.Hash) bool {
	t.Helper()
	got, err := s.Has([]blob.Hash{h})
	must(t, err)
	return got[0]
}

func testPutRead(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(1, 300_001)
	id, err := blob.PutBytes(s, b)
	must(t, err)
	if id != blob.IDOf(b) {
		t.Fatalf("id %v", id)
	}
	got, err := s.Has([]blob.Hash{id.Hash, blob.HashOf([]byte("other"))})
	must(t, err)
	if !got[0] || got[1] {
		t.Fatalf("has %v", got)
	}
	in, err := s.Stat(id.Hash)
	must(t, err)
	if in.ID != id {
		t.Fatalf("stat %+v", in)
	}
	back, err := blob.ReadAll(s, id.Hash)
	must(t, err)
	if !bytes.Equal(back, b) {
		t.Fatal("read back differs")
	}
	must(t, blob.Check(s, id.Hash))
	// ReadAt at chunk offsets, across any internal boundary.
	r, err := s.Open(id.Hash)
	must(t, err)
	defer r.Close()
	if r.Size() != id.Size {
		t.Fatalf("size %d", r.Size())
	}
	for _, off := range []int64{0, 1, 65535, 65536, 100_000, 299_000} {
		p := make([]byte, 1000)
		n, err := r.ReadAt(p, off)
		if err != nil && err != io.EOF {
			t.Fatalf("readat %d: %v", off, err)
		}
		if !bytes.Equal(p[:n], b[off:off+int64(n)]) || n != min(1000, int(id.Size-off)) {
			t.Fatalf("readat %d: %d bytes differ", off, n)
		}
	}
	p := make([]byte, 10)
	if n, err := r.ReadAt(p, id.Size-3); n != 3 || err != io.EOF {
		t.Fatalf("readat past end: %d %v", n, err)
	}
	_, err = s.Open(blob.HashOf([]byte("absent")))
	wantErr(t, err, blob.ErrNotFound)
	_, err = s.Stat(blob.HashOf([]byte("absent")))
	wantErr(t, err, blob.ErrNotFound)
}

func testPutMismatch(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(2, 10_000)
	id := blob.IDOf(b)
	bad := append([]byte(nil), b...)
	bad[5000] ^= 1
	for name, input := range map[string][]byte{"flipped": bad, "longer": append(append([]byte(nil), b...), 'x'), "shorter": b[:9999]} {
		err := blob.Put(s, id, bytes.NewReader(input))
		if !errors.Is(err, blob.ErrMismatch) {
			t.Fatalf("%s: %v, want ErrMismatch", name, err)
		}
		if has(t, s, id.Hash) {
			t.Fatalf("%s: a mismatching blob became visible", name)
		}
	}
	// A wrong size claimed for the right bytes is a mismatch too.
	err := blob.Put(s, blob.ID{Hash: id.Hash, Size: id.Size + 1}, bytes.NewReader(b))
	wantErr(t, err, blob.ErrMismatch)
	if has(t, s, id.Hash) {
		t.Fatal("visible under a wrong size")
	}
	u, err := s.Usage()
	must(t, err)
	if u.Blobs != 0 || u.Bytes != 0 {
		t.Fatalf("usage after mismatches %+v", u)
	}
	must(t, blob.Put(s, id, bytes.NewReader(b)))
	if !has(t, s, id.Hash) {
		t.Fatal("the right bytes are not held")
	}
}

func testStoredOnce(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(3, 50_000)
	for range 3 {
		_, err := blob.PutBytes(s, b)
		must(t, err)
	}
	u, err := s.Usage()
	must(t, err)
	if u.Blobs != 1 || u.Bytes != 50_000 {
		t.Fatalf("usage %+v, want one blob of 50000 bytes", u)
	}
}

// writeChunks writes b[from:to] in chunks of n bytes, syncing each.
func writeChunks(t *testing.T, w blob.Writer, b []byte, from, to, n int) {
	t.Helper()
	for off := from; off < to; off += n {
		end := min(off+n, to)
		k, err := w.Write(b[off:end])
		must(t, err)
		if k != end-off {
			t.Fatalf("short write %d", k)
		}
		must(t, w.Sync())
		if w.Durable() != int64(end) || w.Offset() != int64(end) {
			t.Fatalf("after chunk to %d: offset %d durable %d", end, w.Offset(), w.Durable())
		}
	}
}

func testChunkedResume(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(4, 200_000)
	id := blob.IDOf(b)
	w, err := s.Begin(id)
	must(t, err)
	if w.ID() != id || w.Offset() != 0 || w.Durable() != 0 {
		t.Fatalf("fresh writer %v %d %d", w.ID(), w.Offset(), w.Durable())
	}
	writeChunks(t, w, b, 0, 48_000, 16_000)
	must(t, w.Close())
	p, err := s.Partial(id.Hash)
	must(t, err)
	if p.ID != id || p.Durable != 48_000 {
		t.Fatalf("partial %+v", p)
	}
	if has(t, s, id.Hash) {
		t.Fatal("a partial write is visible")
	}
	w, err = s.Begin(id)
	must(t, err)
	if w.Durable() != 48_000 || w.Offset() != 48_000 {
		t.Fatalf("resumed at %d/%d", w.Offset(), w.Durable())
	}
	writeChunks(t, w, b, 48_000, 200_000, 16_000)
	must(t, w.Commit())
	back, err := blob.ReadAll(s, id.Hash)
	must(t, err)
	if !bytes.Equal(back, b) {
		t.Fatal("resumed blob differs")
	}
	_, err = s.Partial(id.Hash)
	wantErr(t, err, blob.ErrNotFound)
	_, err = w.Write([]byte{1})
	wantErr(t, err, blob.ErrClosed)
}

func testResumeAfterReopen(t *testing.T, h Harness) {
	s := h.Open(t)
	b := Bytes(5, 100_000)
	id := blob.IDOf(b)
	w, err := s.Begin(id)
	must(t, err)
	writeChunks(t, w, b, 0, 30_000, 10_000)
	if _, err := w.Write(b[30_000:40_000]); err != nil { // written, never synced
		t.Fatal(err)
	}
	must(t, s.Close()) // the writer is abandoned open, as in a crash
	s = h.Reopen(t)
	defer s.Close()
	w, err = s.Begin(id)
	must(t, err)
	if w.Durable() != 30_000 || w.Offset() != 30_000 {
		t.Fatalf("after reopen the resume point is %d/%d, want the synced 30000", w.Offset(), w.Durable())
	}
	writeChunks(t, w, b, 30_000, 100_000, 25_000)
	must(t, w.Commit())
	s2 := s
	back, err := blob.ReadAll(s2, id.Hash)
	must(t, err)
	if !bytes.Equal(back, b) {
		t.Fatal("blob resumed across a reopen differs")
	}
	// Committed blobs survive a reopen.
	must(t, s.Close())
	s = h.Reopen(t)
	if !has(t, s, id.Hash) {
		t.Fatal("committed blob lost on reopen")
	}
	must(t, blob.Check(s, id.Hash))
}

func testWritePastSize(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(6, 1000)
	id := blob.IDOf(b)
	w, err := s.Begin(id)
	must(t, err)
	_, err = w.Write(b[:900])
	must(t, err)
	n, err := w.Write(make([]byte, 101))
	if !errors.Is(err, blob.ErrMismatch) || n != 0 {
		t.Fatalf("write past size: %d %v", n, err)
	}
	if w.Offset() != 900 {
		t.Fatalf("offset %d after a refused write", w.Offset())
	}
	_, err = w.Write(b[900:])
	must(t, err)
	must(t, w.Commit())
}

func testCommitIncomplete(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(7, 5000)
	id := blob.IDOf(b)
	w, err := s.Begin(id)
	must(t, err)
	_, err = w.Write(b[:4000])
	must(t, err)
	wantErr(t, w.Commit(), blob.ErrIncomplete)
	if has(t, s, id.Hash) {
		t.Fatal("incomplete blob visible")
	}
	_, err = w.Write(b[4000:])
	must(t, err)
	must(t, w.Commit())
	if !has(t, s, id.Hash) {
		t.Fatal("blob not visible after commit")
	}
}

func testCommitMismatch(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(8, 70_000)
	id := blob.IDOf(b)
	w, err := s.Begin(id)
	must(t, err)
	bad := append([]byte(nil), b...)
	bad[69_999] ^= 0x80
	writeChunks(t, w, bad, 0, len(bad), 32_000)
	wantErr(t, w.Commit(), blob.ErrMismatch)
	if has(t, s, id.Hash) {
		t.Fatal("mismatching blob visible")
	}
	_, err = s.Partial(id.Hash)
	wantErr(t, err, blob.ErrNotFound)
	wantErr(t, w.Sync(), blob.ErrClosed)
	w, err = s.Begin(id)
	must(t, err)
	if w.Durable() != 0 {
		t.Fatalf("a discarded partial resumed at %d", w.Durable())
	}
	writeChunks(t, w, b, 0, len(b), 32_000)
	must(t, w.Commit())
}

func testBusyExists(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(9, 2000)
	id := blob.IDOf(b)
	w, err := s.Begin(id)
	must(t, err)
	_, err = s.Begin(id)
	wantErr(t, err, blob.ErrBusy)
	wantErr(t, s.Delete(id.Hash), blob.ErrBusy)
	_, err = w.Write(b)
	must(t, err)
	must(t, w.Commit())
	_, err = s.Begin(id)
	wantErr(t, err, blob.ErrExists)
	must(t, blob.Put(s, id, bytes.NewReader(nil))) // held: a no-op that reads nothing
}

func testBeginOtherSize(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	b := Bytes(10, 9000)
	id := blob.IDOf(b)
	lie := blob.ID{Hash: id.Hash, Size: 20_000}
	w, err := s.Begin(lie)
	must(t, err)
	writeChunks(t, w, Bytes(11, 20_000), 0, 8000, 4000)
	must(t, w.Close())
	w, err = s.Begin(id)
	must(t, err)
	if w.Durable() != 0 {
		t.Fatalf("a partial begun for another size resumed at %d", w.Durable())
	}
	writeChunks(t, w, b, 0, len(b), 4500)
	must(t, w.Commit())
}

func testDeleteAbort(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	id, err := blob.PutBytes(s, Bytes(12, 3000))
	must(t, err)
	must(t, s.Delete(id.Hash))
	if has(t, s, id.Hash) {
		t.Fatal("deleted blob held")
	}
	wantErr(t, s.Delete(id.Hash), blob.ErrNotFound)
	b := Bytes(13, 6000)
	id = blob.IDOf(b)
	w, err := s.Begin(id)
	must(t, err)
	writeChunks(t, w, b, 0, 3000, 3000)
	must(t, w.Abort())
	_, err = s.Partial(id.Hash)
	wantErr(t, err, blob.ErrNotFound)
	w, err = s.Begin(id)
	must(t, err)
	writeChunks(t, w, b, 0, 3000, 3000)
	must(t, w.Close())
	must(t, s.Delete(id.Hash)) // a partial alone is deleted too
	_, err = s.Partial(id.Hash)
	wantErr(t, err, blob.ErrNotFound)
}

func testListUsage(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	var ids []blob.ID
	var total int64
	for i := range 5 {
		id, err := blob.PutBytes(s, Bytes(uint64(20+i), 1000*(i+1)))
		must(t, err)
		ids = append(ids, id)
		total += id.Size
	}
	b := Bytes(30, 8000)
	pid := blob.IDOf(b)
	w, err := s.Begin(pid)
	must(t, err)
	writeChunks(t, w, b, 0, 2000, 2000)
	must(t, w.Close())
	var listed []blob.ID
	must(t, s.List(func(in blob.Info) bool { listed = append(listed, in.ID); return true }))
	if len(listed) != 5 {
		t.Fatalf("listed %d", len(listed))
	}
	seen := map[blob.ID]bool{}
	for _, id := range listed {
		if seen[id] {
			t.Fatalf("%v listed twice", id)
		}
		seen[id] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("%v not listed", id)
		}
	}
	n := 0
	must(t, s.List(func(blob.Info) bool { n++; return n < 2 }))
	if n != 2 {
		t.Fatalf("list did not stop: %d", n)
	}
	var parts []blob.Partial
	must(t, s.ListPartial(func(p blob.Partial) bool { parts = append(parts, p); return true }))
	if len(parts) != 1 || parts[0].ID != pid || parts[0].Durable != 2000 {
		t.Fatalf("partials %+v", parts)
	}
	u, err := s.Usage()
	must(t, err)
	if u != (blob.Usage{Blobs: 5, Bytes: total, Partials: 1, PartialBytes: 2000}) {
		t.Fatalf("usage %+v", u)
	}
}

func testBadIDs(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	for _, id := range []blob.ID{
		{Size: 10},
		{Hash: blob.HashOf([]byte("x")), Size: 0},
		{Hash: blob.HashOf([]byte("x")), Size: -1},
		{Hash: blob.HashOf([]byte("x")), Size: blob.MaxSize + 1},
	} {
		if _, err := s.Begin(id); err == nil {
			t.Fatalf("begin %+v accepted", id)
		}
	}
	if _, err := blob.PutBytes(s, nil); err == nil {
		t.Fatal("an empty blob was stored")
	}
}

func testHasLimit(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	if _, err := s.Has(make([]blob.Hash, blob.MaxHasBatch+1)); err == nil {
		t.Fatal("has past the batch limit answered")
	}
	got, err := s.Has(make([]blob.Hash, blob.MaxHasBatch))
	must(t, err)
	if len(got) != blob.MaxHasBatch {
		t.Fatal("has answered the wrong count")
	}
}

func testConcurrent(t *testing.T, h Harness) {
	s := h.Open(t)
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := Bytes(uint64(40+i), 40_000+i)
			id := blob.IDOf(b)
			w, err := s.Begin(id)
			if err != nil {
				errs <- err
				return
			}
			for off := 0; off < len(b); off += 7000 {
				if _, err := w.Write(b[off:min(off+7000, len(b))]); err != nil {
					errs <- err
					return
				}
				if err := w.Sync(); err != nil {
					errs <- err
					return
				}
			}
			if err := w.Commit(); err != nil {
				errs <- err
				return
			}
			if back, err := blob.ReadAll(s, id.Hash); err != nil || !bytes.Equal(back, b) {
				errs <- fmt.Errorf("blob %d read back: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	u, err := s.Usage()
	must(t, err)
	if u.Blobs != 8 || u.Partials != 0 {
		t.Fatalf("usage %+v", u)
	}
}

func testClosed(t *testing.T, h Harness) {
	s := h.Open(t)
	id, err := blob.PutBytes(s, Bytes(50, 100))
	must(t, err)
	must(t, s.Close())
	_, err = s.Has([]blob.Hash{id.Hash})
	wantErr(t, err, blob.ErrClosed)
	_, err = s.Open(id.Hash)
	wantErr(t, err, blob.ErrClosed)
	_, err = s.Begin(blob.IDOf([]byte("y")))
	wantErr(t, err, blob.ErrClosed)
	wantErr(t, s.Close(), blob.ErrClosed)
}

func testTampered(t *testing.T, h Harness) {
	if h.Tamper == nil {
		t.Skip("no Tamper in the harness")
	}
	s := h.Open(t)
	defer s.Close()
	b := Bytes(60, 150_000)
	id, err := blob.PutBytes(s, b)
	must(t, err)
	good, err := blob.PutBytes(s, Bytes(61, 150_000))
	must(t, err)
	h.Tamper(t, id.Hash)
	wantErr(t, blob.Check(s, id.Hash), blob.ErrCorrupt)
	if _, err := blob.ReadAll(s, id.Hash); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("a tampered blob was read: %v", err)
	}
	must(t, blob.Check(s, good.Hash))
}
