package sealed

// The measurement behind the package's choice of sealed files over
// Badger's value log (see doc.go and BENCHMARKS.md). badgerBlobs is the
// alternative, built as the store would be: blobs in Badger's value log
// (ValueThreshold 1 KiB, so blob values never enter the LSM tree), one
// value per record-sized chunk, Badger's encryption at rest with the same
// settings as the log, synced writes, SHA-256 checked on read. Run:
//
//	go test -run '^$' -bench BenchmarkChoice -benchtime 20x ./replication/blob/sealed/

import (
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
)

type badgerBlobs struct{ db *badger.DB }

func openBadgerBlobs(tb testing.TB, dir string) *badgerBlobs {
	o := badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil).WithDetectConflicts(false).
		WithNumCompactors(2).WithNumGoroutines(2).WithCompression(options.None).
		WithMemTableSize(32 << 20).WithNumMemtables(2).WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(4 << 20).WithValueLogFileSize(64 << 20).WithValueThreshold(1 << 10).
		WithEncryptionKey(testKey(9)).WithIndexCacheSize(16 << 20).WithBlockCacheSize(16 << 20)
	db, err := badger.Open(o)
	if err != nil {
		tb.Fatal(err)
	}
	return &badgerBlobs{db: db}
}

func chunkKey(h blob.Hash, i int) []byte {
	return binary.BigEndian.AppendUint32(append([]byte{'d'}, h[:]...), uint32(i))
}

func metaKey(h blob.Hash) []byte { return append([]byte{'c'}, h[:]...) }

// putAll writes blobs in one transaction per blob (perBlob) or one for all
// (a dossier committed at once, Badger's best case), synced.
func (s *badgerBlobs) putAll(blobs [][]byte, perBlob bool) error {
	txn := s.db.NewTransaction(true)
	for _, b := range blobs {
		id := blob.IDOf(b)
		for i := 0; i*RecordSize < len(b); i++ {
			if err := txn.Set(chunkKey(id.Hash, i), b[i*RecordSize:min((i+1)*RecordSize, len(b))]); err != nil {
				return err
			}
		}
		if err := txn.Set(metaKey(id.Hash), binary.BigEndian.AppendUint64(nil, uint64(id.Size))); err != nil {
			return err
		}
		if perBlob {
			if err := txn.Commit(); err != nil {
				return err
			}
			txn = s.db.NewTransaction(true)
		}
	}
	return txn.Commit()
}

// chunk writes one received chunk of a blob and syncs it (what a hub does
// per acknowledged chunk).
func (s *badgerBlobs) chunk(h blob.Hash, i int, b []byte) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(chunkKey(h, i), b) })
}

func (s *badgerBlobs) read(id blob.ID) ([]byte, error) {
	out := make([]byte, 0, id.Size)
	err := s.db.View(func(txn *badger.Txn) error {
		for i := 0; int64(i*RecordSize) < id.Size; i++ {
			it, err := txn.Get(chunkKey(id.Hash, i))
			if err != nil {
				return err
			}
			if err := it.Value(func(v []byte) error { out = append(out, v...); return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(out) != id.Hash {
		return nil, blob.ErrCorrupt
	}
	return out, nil
}

func (s *badgerBlobs) delete(id blob.ID) error {
	return s.db.Update(func(txn *badger.Txn) error {
		for i := 0; int64(i*RecordSize) < id.Size; i++ {
			if err := txn.Delete(chunkKey(id.Hash, i)); err != nil {
				return err
			}
		}
		return txn.Delete(metaKey(id.Hash))
	})
}

// dossierBlobs returns one dossier's blobs at DOMAIN.md §6.4 sizes:
// portrait 300 KB, 10 rolled prints 22 KB, 3 slaps 140 KB, 2 irises 30 KB,
// a signature 15 KB: 1.01 MB in 17 blobs.
func dossierBlobs(seed uint64) [][]byte {
	sizes := []int{300_000}
	for range 10 {
		sizes = append(sizes, 22_000)
	}
	sizes = append(sizes, 140_000, 140_000, 140_000, 30_000, 30_000, 15_000)
	out := make([][]byte, len(sizes))
	for i, n := range sizes {
		out[i] = blobtest.Bytes(seed*100+uint64(i), n)
	}
	return out
}

func dossierBytes(bs [][]byte) int64 {
	var n int64
	for _, b := range bs {
		n += int64(len(b))
	}
	return n
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkChoiceCapture: one dossier written durably, as a capture is
// acknowledged.
func BenchmarkChoiceCapture(b *testing.B) {
	b.Run("sealed-files", func(b *testing.B) {
		s := openStore(b, b.TempDir())
		b.SetBytes(dossierBytes(dossierBlobs(0)))
		for i := 0; b.Loop(); i++ {
			for _, x := range dossierBlobs(uint64(i + 1)) {
				if _, err := blob.PutBytes(s, x); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("sealed-files-parallel", func(b *testing.B) {
		s := openStore(b, b.TempDir())
		b.SetBytes(dossierBytes(dossierBlobs(0)))
		for i := 0; b.Loop(); i++ {
			if err := putParallel(s, dossierBlobs(uint64(i+1))); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, perBlob := range []bool{true, false} {
		name := "badger-vlog-txn-per-dossier"
		if perBlob {
			name = "badger-vlog-txn-per-blob"
		}
		b.Run(name, func(b *testing.B) {
			s := openBadgerBlobs(b, b.TempDir())
			defer s.db.Close()
			b.SetBytes(dossierBytes(dossierBlobs(0)))
			for i := 0; b.Loop(); i++ {
				if err := s.putAll(dossierBlobs(uint64(i+1)), perBlob); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// putParallel puts a dossier's blobs from concurrent goroutines: their
// fsyncs share the file system's journal commits.
func putParallel(s blob.Store, bs [][]byte) error {
	errs := make(chan error, len(bs))
	for _, x := range bs {
		go func() { _, err := blob.PutBytes(s, x); errs <- err }()
	}
	var first error
	for range bs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// BenchmarkChoiceReceiveChunks: a blob received in 16 KiB chunks, each
// made durable before it is acknowledged (a hub on a 2G link).
func BenchmarkChoiceReceiveChunks(b *testing.B) {
	const chunk = 16 << 10
	x := blobtest.Bytes(1, 300_000)
	b.Run("sealed-files", func(b *testing.B) {
		s := openStore(b, b.TempDir())
		b.SetBytes(int64(len(x)))
		for i := 0; b.Loop(); i++ {
			y := append(binary.BigEndian.AppendUint64(nil, uint64(i)), x[8:]...)
			w, err := s.Begin(blob.IDOf(y))
			if err != nil {
				b.Fatal(err)
			}
			for off := 0; off < len(y); off += chunk {
				w.Write(y[off:min(off+chunk, len(y))])
				if err := w.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("badger-vlog", func(b *testing.B) {
		s := openBadgerBlobs(b, b.TempDir())
		defer s.db.Close()
		b.SetBytes(int64(len(x)))
		for i := 0; b.Loop(); i++ {
			y := append(binary.BigEndian.AppendUint64(nil, uint64(i)), x[8:]...)
			h := blob.HashOf(y)
			for off, k := 0, 0; off < len(y); off, k = off+chunk, k+1 {
				if err := s.chunk(h, k, y[off:min(off+chunk, len(y))]); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaKey(h), []byte{1}) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkChoiceRead: a dossier read back and verified.
func BenchmarkChoiceRead(b *testing.B) {
	const n = 50
	b.Run("sealed-files", func(b *testing.B) {
		s := openStore(b, b.TempDir())
		var ids []blob.ID
		for i := range n {
			for _, x := range dossierBlobs(uint64(i)) {
				id, _ := blob.PutBytes(s, x)
				ids = append(ids, id)
			}
		}
		b.SetBytes(dossierBytes(dossierBlobs(0)))
		for i := 0; b.Loop(); i++ {
			for _, id := range ids[(i%n)*17 : (i%n+1)*17] {
				if _, err := blob.ReadAll(s, id.Hash); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("badger-vlog", func(b *testing.B) {
		s := openBadgerBlobs(b, b.TempDir())
		defer s.db.Close()
		var ids []blob.ID
		for i := range n {
			bs := dossierBlobs(uint64(i))
			s.putAll(bs, false)
			for _, x := range bs {
				ids = append(ids, blob.IDOf(x))
			}
		}
		b.SetBytes(dossierBytes(dossierBlobs(0)))
		for i := 0; b.Loop(); i++ {
			for _, id := range ids[(i%n)*17 : (i%n+1)*17] {
				if _, err := s.read(id); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// TestChoiceRetentionSpace measures what retention gives back: 200
// dossiers (~200 MB) written, the older half deleted (a laptop dropping
// blobs the province has receipted), disk bytes before and after — for
// Badger also after its value-log GC, run until it finds nothing more.
// Behind -blobchoice (it writes ~400 MB).
func TestChoiceRetentionSpace(t *testing.T) {
	if os.Getenv("FIELDSYNC_BLOBCHOICE") == "" {
		t.Skip("set FIELDSYNC_BLOBCHOICE=1 to measure (writes ~400 MB)")
	}
	const n = 200
	sdir, bdir := t.TempDir(), t.TempDir()
	s := openStore(t, sdir)
	bs := openBadgerBlobs(t, bdir)
	defer bs.db.Close()
	var ids [][]blob.ID
	for i := range n {
		d := dossierBlobs(uint64(i))
		var row []blob.ID
		for _, x := range d {
			id, err := blob.PutBytes(s, x)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, id)
		}
		if err := bs.putAll(d, false); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, row)
	}
	bs.db.Sync()
	sBefore, bBefore := dirBytes(sdir), dirBytes(bdir)
	for _, row := range ids[:n/2] {
		for _, id := range row {
			s.Delete(id.Hash)
			bs.delete(id)
		}
	}
	sAfter, bAfter := dirBytes(sdir), dirBytes(bdir)
	gcRuns := 0
	for bs.db.RunValueLogGC(0.5) == nil {
		gcRuns++
	}
	bGC := dirBytes(bdir)
	t.Logf("written: %d dossiers, %.1f MB of blobs", n, float64(n*dossierBytes(dossierBlobs(0)))/1e6)
	t.Logf("sealed files: %.1f MB on disk, %.1f MB after deleting half", float64(sBefore)/1e6, float64(sAfter)/1e6)
	t.Logf("badger vlog:  %.1f MB on disk, %.1f MB after deleting half, %.1f MB after %d value-log GC runs", float64(bBefore)/1e6, float64(bAfter)/1e6, float64(bGC)/1e6, gcRuns)
	// Both hold what was written.
	for _, row := range ids[n/2:] {
		for _, id := range row {
			if _, err := bs.read(id); err != nil {
				t.Fatal(err)
			}
			if err := blob.Check(s, id.Hash); err != nil {
				t.Fatal(err)
			}
		}
	}
}
