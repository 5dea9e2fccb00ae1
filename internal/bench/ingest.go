package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/delta"
	"fieldsync/replication/syncproto"
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

// Limits of IngestConfig: the input is held in memory (about 2.3 KB per
// enrollment), so a run is bounded by what a test machine holds.
const (
	MaxIngestN       = 5_000_000
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
	// Ratio is hub entries/s over raw per-batch entries/s (the same commit
	// points); RatioStream over the streaming WriteBatch.
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

// HubFigures is the hub path: verify as the sync receiver does, Ingest,
// then the view (reconcile and duplicate detection) as the hub's OnIngest
// feeds it.
type HubFigures struct {
	Seconds       float64 `json:"seconds"`
	EntriesPerSec float64 `json:"entries_per_sec"`
	DecodeSeconds float64 `json:"decode_seconds"` // reading and decoding the batch frames
	VerifySeconds float64 `json:"verify_seconds"` // Session.Step + Ready: chain, signatures, genesis
	IngestSeconds float64 `json:"ingest_seconds"` // Log.Ingest (synced) + Session.Persisted
	// IngestedSeconds is when the last batch was acknowledged (the log
	// has everything); Seconds, when the view had applied it all.
	IngestedSeconds float64 `json:"ingested_seconds"`
	Applied         int     `json:"applied"`
	PhaseMem
	// ViewHeapMB is the live heap the view keeps once everything is in
	// (after GC, with the log closed).
	ViewHeapMB float64 `json:"view_heap_mb"`
	// StatsSeconds is one listing of the view's counts and pairs after
	// the run (what the dashboard asks for); not in Seconds.
	StatsSeconds float64         `json:"stats_seconds"`
	View         reconcile.Stats `json:"view"`
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

// hubRun is a hub as `fieldsync run` builds it, without its network: a
// data directory with the hub profile, the daemon's view, and one receiving
// sync session per laptop.
type hubRun struct {
	dir    *datadir.Dir
	daemon *hub.Daemon
	view   *hub.View
	recv   map[replication.OriginID]*syncproto.Session
}

func openHub(path string, in *ingestInput) (*hubRun, error) {
	// Open mode: no roster to consult (its Verifier is a lookup per range).
	cfg := datadir.Config{Role: replication.RoleHub, Tier: hubHello.Tier, Unit: hubHello.Unit, Name: hubHello.Node, Open: true}
	d, err := datadir.Init(path, datadir.InitOptions{Config: cfg, Profile: storage.ProfileHub, EncryptionKey: in.key})
	if err != nil {
		return nil, err
	}
	h := &hubRun{dir: d, recv: map[replication.OriginID]*syncproto.Session{}}
	daemon, err := hub.NewDaemon(hub.DaemonConfig{Dir: d})
	if err != nil {
		d.Close()
		return nil, err
	}
	h.daemon, h.view = daemon, daemon.View()
	self := hubHello
	self.Origin = d.Signer.Origin()
	for o, hello := range in.hellos {
		s, err := syncproto.NewSession(syncproto.DefaultConfig(self), d.Log)
		if err == nil {
			peer := *hello
			err = s.Step(&peer)
		}
		if err != nil {
			d.Close()
			return nil, err
		}
		h.recv[o] = s
	}
	return h, nil
}

// hubPhase runs every batch through the hub path and measures it.
func hubPhase(path string, in *ingestInput, cpuProfile string) (HubFigures, error) {
	var f HubFigures
	h, err := openHub(path, in)
	if err != nil {
		return f, err
	}
	if cpuProfile != "" {
		pf, err := os.Create(cpuProfile)
		if err != nil {
			return f, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return f, err
		}
		defer pprof.StopCPUProfile()
	}
	defer os.RemoveAll(path)
	f.PhaseMem, err = measured(func() error {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.view.Run(ctx); close(done) }()
		start := time.Now()
		err := h.run(in, &f)
		f.IngestedSeconds = time.Since(start).Seconds()
		if err == nil {
			var vec replication.Vector
			if vec, err = h.dir.Log.Vector(); err == nil {
				err = h.view.WaitApplied(ctx, vec)
			}
		}
		f.Seconds = time.Since(start).Seconds()
		cancel()
		<-done
		return err
	})
	f.View, _ = h.view.Stats()
	f.Applied = f.View.Entries - 1 // the hub's own genesis is in its view too
	if cerr := h.daemon.Close(); err == nil {
		err = cerr
	}
	if cerr := h.dir.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return f, err
	}
	f.EntriesPerSec = float64(in.entries) / f.Seconds
	start := time.Now()
	f.View, _ = h.view.Stats()
	f.StatsSeconds = time.Since(start).Seconds()
	h.recv = nil // the sessions keep their last batches; the view is measured alone
	f.ViewHeapMB = liveHeapMB()
	runtime.KeepAlive(h.view)
	if f.Applied != in.entries {
		return f, fmt.Errorf("bench: hub applied %d entries of %d", f.Applied, in.entries)
	}
	return f, nil
}

func (h *hubRun) run(in *ingestInput, f *HubFigures) error {
	fr, err := openFrames(in.dir)
	if err != nil {
		return err
	}
	defer fr.close()
	var decode, verify, ingest time.Duration
	for {
		t0 := time.Now()
		b, err := fr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		t1 := time.Now()
		s := h.recv[b.Ranges[0].Origin]
		p, err := receive(s, b)
		if err != nil {
			return err
		}
		t2 := time.Now()
		res, err := h.dir.Log.Ingest(p.Entries, nil)
		if err := s.Persisted(res, err); err != nil {
			return err
		}
		t3 := time.Now()
		h.view.Wake() // the session's OnIngest: the view follows on its own goroutine
		decode, verify, ingest = decode+t1.Sub(t0), verify+t2.Sub(t1), ingest+t3.Sub(t2)
	}
	f.DecodeSeconds, f.VerifySeconds = decode.Seconds(), verify.Seconds()
	f.IngestSeconds = ingest.Seconds()
	return nil
}

// receive hands a batch to its session and returns what the session wants
// written: the batch's ranges once their chain and signatures verified.
func receive(s *syncproto.Session, b *delta.Batch) (*syncproto.Persist, error) {
	if s == nil {
		return nil, errors.New("bench: batch from an origin with no session")
	}
	if err := s.Step(b); err != nil {
		return nil, err
	}
	rd, err := s.Ready()
	if err != nil {
		return nil, err
	}
	if rd.Persist == nil {
		return nil, fmt.Errorf("bench: batch %d not admitted: %v", b.ID, rd.Events)
	}
	return rd.Persist, nil
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
