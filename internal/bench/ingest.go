package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"fieldsync/storage"
)

// IngestConfig says what Ingest measures.
type IngestConfig struct {
	N       int     // generated enrollments
	Origins int     // field laptops (origins) they are captured on
	Noise   float64 // share of noisy re-enrollments: conflicts and duplicates for the view
	Seed    uint64
	// CPUProfile, when set, is where the hub phase's CPU profile is written.
	CPUProfile string
}

// Limits of IngestConfig: the input is built and kept on disk (about 3
// KB per enrollment at its peak, while the batches are interleaved), one
// laptop's log in memory per core.
const (
	MaxIngestN       = 12_000_000
	MaxIngestOrigins = 2000
)

func (c IngestConfig) check() error {
	switch {
	case c.N < 1 || c.N > MaxIngestN:
		return fmt.Errorf("bench: ingest of %d enrollments, want 1..%d", c.N, MaxIngestN)
	case c.Origins < 1 || c.Origins > MaxIngestOrigins:
		return fmt.Errorf("bench: %d origins, want 1..%d", c.Origins, MaxIngestOrigins)
	}
	return nil
}

// IngestResult is the hub's ingest throughput next to raw Badger writes of
// the same bytes, measured back to back in one process.
type IngestResult struct {
	N       int     `json:"n"`
	Origins int     `json:"origins"`
	Noise   float64 `json:"noise"`
	Seed    uint64  `json:"seed"`
	// Entries is what the hub receives: the records the laptops accepted
	// plus one genesis per origin. Rejected records failed validation on
	// the laptop and never left it.
	Entries  int `json:"entries"`
	Rejected int `json:"rejected"`
	Batches  int `json:"batches"`
	// EntriesPerBatch and SignedShare describe the batches as the sync
	// protocol cut them (signatures only at checkpoints and range ends).
	EntriesPerBatch float64 `json:"entries_per_batch"`
	SignedShare     float64 `json:"signed_share"`
	PayloadMB       float64 `json:"payload_mb"`
	WrittenMB       float64 `json:"written_mb"` // keys and values the baseline writes
	BuildSeconds    float64 `json:"build_seconds"`
	// BaseHeapMB is the live heap when the timed phases start (the input
	// is on disk); the phases' peaks include it.
	BaseHeapMB float64 `json:"base_heap_mb"`
	// RSSPerPhase says each phase's peak RSS was measured from its start
	// (Linux clear_refs); otherwise it is the process's peak so far.
	RSSPerPhase bool `json:"rss_per_phase"`

	RawBatch  RawFigures `json:"raw_per_batch"` // a WriteBatch flushed per sync batch
	RawStream RawFigures `json:"raw_stream"`    // one WriteBatch over everything
	Hub       HubFigures `json:"hub"`
	// AckRatio is the entries/s the hub acknowledged over raw per-batch
	// entries/s (the commit points a sync batch has); Ratio the same with
	// the view caught up as well; RatioStream, over the streaming
	// WriteBatch.
	AckRatio    float64 `json:"acked_over_raw_per_batch"`
	Ratio       float64 `json:"hub_over_raw_per_batch"`
	RatioStream float64 `json:"hub_over_raw_stream"`
}

// PhaseMem is a timed phase's peak memory, and the CPU the whole process
// spent in it (user+system, every goroutine: Badger's compactions, GC):
// steadier than wall time on a machine shared with other work.
type PhaseMem struct {
	PeakHeapMB float64 `json:"peak_heap_mb"` // HeapInuse, sampled every 50 ms
	PeakRSSMB  float64 `json:"peak_rss_mb"`  // VmHWM
	CPUSeconds float64 `json:"cpu_seconds"`
}

// RawFigures is one baseline run. Seconds includes reading the keys and
// values back from the page cache; ReadSeconds is that read alone,
// measured in a pass before.
type RawFigures struct {
	Seconds       float64 `json:"seconds"`
	ReadSeconds   float64 `json:"read_seconds"`
	EntriesPerSec float64 `json:"entries_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	PhaseMem
}

// Ingest generates cfg.N enrollments on cfg.Origins laptops and spools
// them as sync batches in dir (untimed), then measures, back to back on
// fresh Badger directories with the hub profile and the same encryption
// key (every data directory is encrypted at rest): raw WriteBatch writes
// of the entries' keys and values, flushed per sync batch and streamed;
// then the hub path.
func Ingest(dir string, cfg IngestConfig) (IngestResult, error) {
	res := IngestResult{N: cfg.N, Origins: cfg.Origins, Noise: cfg.Noise, Seed: cfg.Seed}
	if err := cfg.check(); err != nil {
		return res, err
	}
	start := time.Now()
	in, err := buildIngestInput(dir, cfg)
	if err != nil {
		return res, err
	}
	res.BuildSeconds = time.Since(start).Seconds()
	res.describe(in)
	res.BaseHeapMB = liveHeapMB()
	res.RSSPerPhase = resetPeakRSS()
	if res.RawBatch, err = rawPhase(filepath.Join(dir, "raw-batch"), in, true); err != nil {
		return res, err
	}
	if res.RawStream, err = rawPhase(filepath.Join(dir, "raw-stream"), in, false); err != nil {
		return res, err
	}
	if res.Hub, err = hubPhase(filepath.Join(dir, "hub"), in, cfg.CPUProfile); err != nil {
		return res, err
	}
	res.AckRatio = res.Hub.AckedEntriesPerSec / res.RawBatch.EntriesPerSec
	res.Ratio = res.Hub.EntriesPerSec / res.RawBatch.EntriesPerSec
	res.RatioStream = res.Hub.EntriesPerSec / res.RawStream.EntriesPerSec
	return res, nil
}

func (r *IngestResult) describe(in *ingestInput) {
	r.Entries, r.Rejected, r.Batches = in.entries, in.rejected, in.batches
	r.EntriesPerBatch = float64(in.entries) / float64(max(1, in.batches))
	r.SignedShare = float64(in.signed) / float64(max(1, in.entries))
	r.PayloadMB = float64(in.payload) / (1 << 20)
	r.WrittenMB = float64(in.written) / (1 << 20)
}

// measured runs a timed phase and records its peak memory.
func measured(fn func() error) (PhaseMem, error) {
	var m PhaseMem
	liveHeapMB()
	resetPeakRSS()
	stop := sampleHeap(&m.PeakHeapMB)
	cpu := cpuTime()
	err := fn()
	m.CPUSeconds = (cpuTime() - cpu).Seconds()
	stop()
	m.PeakRSSMB = peakRSSMB()
	return m, err
}

// rawPhase writes every entry's key and value with WriteBatch into a fresh
// database: flushed after each sync batch (perBatch: the commit points
// Ingest has) or once at the end (Badger's bulk path).
func rawPhase(dir string, in *ingestInput, perBatch bool) (RawFigures, error) {
	var f RawFigures
	start := time.Now()
	if err := eachKV(in, func([][]byte) error { return nil }); err != nil {
		return f, err
	}
	f.ReadSeconds = time.Since(start).Seconds()
	w, err := storage.OpenBatchWriter(dir, storage.ProfileHub, in.key)
	if err != nil {
		return f, err
	}
	defer os.RemoveAll(dir)
	f.PhaseMem, err = measured(func() error {
		start := time.Now()
		err := writeRaw(w, in, perBatch)
		f.Seconds = time.Since(start).Seconds()
		return err
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	f.EntriesPerSec = float64(in.entries) / f.Seconds
	f.MBPerSec = float64(in.written) / (1 << 20) / f.Seconds
	return f, err
}

func writeRaw(w *storage.BatchWriter, in *ingestInput, perBatch bool) error {
	err := eachKV(in, func(kvs [][]byte) error {
		for i := 0; i < len(kvs); i += 2 {
			if err := w.Set(kvs[i], kvs[i+1]); err != nil {
				return err
			}
		}
		if perBatch {
			return w.Flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

// eachKV calls fn with each batch's keys and values, in order.
func eachKV(in *ingestInput, fn func(kvs [][]byte) error) error {
	kr, err := openKV(in.dir)
	if err != nil {
		return err
	}
	defer kr.close()
	var kvs [][]byte
	for {
		kvs, err = kr.next(kvs)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(kvs); err != nil {
			return err
		}
	}
}

// liveHeapMB collects garbage, returns freed memory to the OS, and reports
// the live heap.
func liveHeapMB() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// resetPeakRSS restarts the kernel's peak-RSS count (VmHWM) from the
// current RSS, so a phase's peak is its own; false where unsupported.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
