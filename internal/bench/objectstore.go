package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/internal/seaweed"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/s3"
	"fieldsync/replication/blob/sealed"
)

// ObjectStoreResult is `fieldsync bench objectstore`: a station-day of
// dossiers' blobs ingested, chunk by chunk as the sync lane writes them
// (each chunk synced, the blob committed), into a hub's object store on a
// real SeaweedFS on this machine, into the local sealed store, and the
// same bytes written as plain synced files: MB/s of each, in one run.
type ObjectStoreResult struct {
	Dossiers   int     `json:"dossiers"`
	Blobs      int     `json:"blobs"`
	MB         float64 `json:"mb"`
	Writers    int     `json:"writers"`
	PlainMBs   float64 `json:"plain_files_mb_s"`
	SealedMBs  float64 `json:"sealed_local_mb_s"`
	S3MBs      float64 `json:"seaweedfs_mb_s"`
	S3VsLocal  float64 `json:"seaweedfs_vs_sealed_local"`
	S3VsPlain  float64 `json:"seaweedfs_vs_plain_files"`
	Verified   int     `json:"verified"`
	Objects    int     `json:"objects"`
	SeaweedDir string  `json:"-"`
}

// ObjectStore measures it with n dossiers and writers concurrent blob
// writers (the replicator's default is 4). bin is the SeaweedFS binary.
func ObjectStore(dir, bin string, n, writers int) (*ObjectStoreResult, error) {
	var blobs [][]byte
	g, err := synth.New(synth.Config{Count: n, Seed: 21, Commune: "18586"})
	if err != nil {
		return nil, err
	}
	var total int64
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		for _, f := range rec.Files() {
			if len(f.Data) > 0 {
				blobs = append(blobs, f.Data)
				total += int64(len(f.Data))
			}
		}
	}
	res := &ObjectStoreResult{Dossiers: n, Blobs: len(blobs), MB: float64(total) / 1e6, Writers: writers}
	key := bytes.Repeat([]byte{0x5a}, sealed.KeySize)

	// Plain files: the same bytes, one file each, synced.
	plainDir := filepath.Join(dir, "plain")
	if err := os.MkdirAll(plainDir, 0o700); err != nil {
		return nil, err
	}
	secs, err := parallel(blobs, writers, func(i int, b []byte) error {
		f, err := os.Create(filepath.Join(plainDir, fmt.Sprintf("%06d", i)))
		if err != nil {
			return err
		}
		if _, err = f.Write(b); err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	res.PlainMBs = res.MB / secs

	local, err := sealed.Open(sealed.Options{Dir: filepath.Join(dir, "sealed"), Key: key, MinFreeBytes: -1})
	if err != nil {
		return nil, err
	}
	defer local.Close()
	if secs, err = parallel(blobs, writers, func(_ int, b []byte) error { return writeChunked(local, b) }); err != nil {
		return nil, err
	}
	res.SealedMBs = res.MB / secs

	srv, err := seaweed.StartBin(context.Background(), bin, seaweed.Options{Dir: filepath.Join(dir, "seaweedfs")})
	if err != nil {
		return nil, err
	}
	defer srv.Kill()
	c, err := srv.Bucket(context.Background(), "province-blobs")
	if err != nil {
		return nil, err
	}
	st, err := s3.Open(s3.Options{Client: c, Prefix: "hub-42/", Owner: "bench", Dir: filepath.Join(dir, "stage"), Key: key, MinFreeBytes: -1})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if secs, err = parallel(blobs, writers, func(_ int, b []byte) error { return writeChunked(st, b) }); err != nil {
		return nil, err
	}
	res.S3MBs = res.MB / secs
	res.S3VsLocal, res.S3VsPlain = res.S3MBs/res.SealedMBs, res.S3MBs/res.PlainMBs
	// Everything landed, verified, once.
	for _, b := range blobs {
		if err := blob.Check(st, blob.HashOf(b)); err != nil {
			return nil, fmt.Errorf("bench: a blob in the object store: %w", err)
		}
		res.Verified++
	}
	u, err := st.Usage()
	if err != nil {
		return nil, err
	}
	res.Objects = u.Blobs
	return res, nil
}

// writeChunked writes a blob as the sync lane does: 64 KiB chunks, each
// synced, then the commit.
func writeChunked(s blob.Store, b []byte) error {
	id := blob.IDOf(b)
	w, err := s.Begin(id)
	if err != nil {
		return err
	}
	for off := 0; off < len(b); off += 64 << 10 {
		if _, err := w.Write(b[off:min(off+64<<10, len(b))]); err != nil {
			w.Close()
			return err
		}
		if off+64<<10 < len(b) {
			if err := w.Sync(); err != nil {
				w.Close()
				return err
			}
		}
	}
	return w.Commit()
}

// parallel runs fn over the blobs with k workers and returns the seconds.
func parallel(blobs [][]byte, k int, fn func(i int, b []byte) error) (float64, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, k)
	next := make(chan int)
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i, blobs[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() {
		for i := range blobs {
			next <- i
		}
		close(next)
	}()
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return time.Since(start).Seconds(), nil
}
