package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/storage"
)

// AppendResult compares a durable capture with a bare synced Badger write
// of the same size on the same disk.
type AppendResult struct {
	Records      int         `json:"records"`
	PayloadBytes int         `json:"payload_bytes"` // mean payload size
	Enroll       Percentiles `json:"enroll"`        // node.Enroll: validate + sign + durable append
	Append       Percentiles `json:"append"`        // oplog.Append of a ready draft (no validation)
	BareBadger   Percentiles `json:"bare_badger"`   // one synced Badger txn, same value size
	RatioP50     float64     `json:"append_over_bare_p50"`
	RatioP99     float64     `json:"append_over_bare_p99"`
}

// Append measures capture latency one record at a time, as an operator
// saving enrollments at a station does: every save synced before it
// returns. The three writers (node.Enroll, oplog.Append, a bare synced
// Badger txn of the same size) each have their own directory on the same
// disk and are interleaved record by record, in a shuffled order each
// round, so that all three see the same machine state.
func Append(dir string, n int) (AppendResult, error) {
	var res AppendResult
	recs, err := synth.Enrollments(synth.Config{Count: n, Seed: 11})
	if err != nil {
		return res, err
	}
	w, err := openWriters(dir)
	if err != nil {
		return res, err
	}
	defer w.close()
	times := [3][]time.Duration{}
	size := 0
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range recs {
		payload, _ := json.Marshal(&recs[i])
		size += len(payload)
		order := rng.Perm(3)
		for _, k := range order {
			d, err := w.step(k, &recs[i], payload, i)
			if err != nil {
				return res, fmt.Errorf("bench: record %d writer %d: %w", i, k, err)
			}
			times[k] = append(times[k], d)
		}
	}
	res = AppendResult{Records: n, PayloadBytes: size / max(1, n), Enroll: percentiles(times[0]), Append: percentiles(times[1]), BareBadger: percentiles(times[2])}
	res.RatioP50 = float64(res.Append.P50) / float64(res.BareBadger.P50)
	res.RatioP99 = float64(res.Append.P99) / float64(res.BareBadger.P99)
	return res, nil
}

// writers are the three things Append compares.
type writers struct {
	enrollDir, appendDir *datadir.Dir
	node                 *node.Node
	bare                 *storage.BareWriter
	hlc                  replication.HLCState
}

func openWriters(dir string) (*writers, error) {
	cfg := datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586"}}
	w := &writers{}
	var err error
	if w.enrollDir, err = datadir.Init(filepath.Join(dir, "enroll"), cfg); err != nil {
		return nil, err
	}
	if w.node, err = node.New(w.enrollDir, node.Options{Freeze: node.NoFreeze}); err != nil {
		return nil, err
	}
	if w.appendDir, err = datadir.Init(filepath.Join(dir, "append"), cfg); err != nil {
		return nil, err
	}
	if w.bare, err = storage.OpenBareWriter(filepath.Join(dir, "bare")); err != nil {
		return nil, err
	}
	return w, nil
}

// step times one write by writer k.
func (w *writers) step(k int, rec *enrollment.Enrollment, payload []byte, i int) (time.Duration, error) {
	var err error
	start := time.Now()
	switch k {
	case 0:
		r := *rec
		_, err = w.node.Enroll(&r)
	case 1:
		draft := replication.Draft{Kind: replication.KindEnroll, Schema: enrollment.SchemaVersion, Payload: payload, HLC: w.hlc.Next(start)}
		_, err = w.appendDir.Log.Append(w.appendDir.Signer, []replication.Draft{draft})
	case 2:
		err = w.bare.Write(i, payload)
	}
	return time.Since(start), err
}

func (w *writers) close() {
	w.enrollDir.Close()
	w.appendDir.Close()
	w.bare.Close()
}

// ImportResult is the throughput of a bulk import and its peak memory.
type ImportResult struct {
	Records       int     `json:"records"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	PeakHeapMB    float64 `json:"peak_heap_mb"` // Go heap in use, sampled
	PeakRSSMB     float64 `json:"peak_rss_mb"`  // process peak RSS (VmHWM), all of fieldsync
	Accepted      int     `json:"accepted"`
	Rejected      int     `json:"rejected"`
}

// Import measures `fieldsync import` of n generated records (JSON lines,
// the generator's default mix) into a fresh directory: group commits,
// validation, signing, synced writes.
func Import(dir string, n int) (ImportResult, error) {
	var res ImportResult
	var buf bytes.Buffer
	if _, err := synth.Generate(&buf, nil, synth.Config{Count: n, Seed: 1}); err != nil {
		return res, err
	}
	d, err := datadir.Init(filepath.Join(dir, "import"), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586"}})
	if err != nil {
		return res, err
	}
	defer d.Close()
	nd, err := node.New(d, node.Options{Freeze: node.NoFreeze}) // a bulk load, not field capture
	if err != nil {
		return res, err
	}
	stop := sampleHeap(&res.PeakHeapMB)
	start := time.Now()
	st, err := nd.Import(&buf, node.ImportOptions{})
	res.Seconds = time.Since(start).Seconds()
	stop()
	if err != nil {
		return res, err
	}
	res.Records, res.Accepted, res.Rejected = st.Rows, st.Accepted, st.Rejected
	res.RecordsPerSec = float64(st.Rows) / res.Seconds
	res.PeakRSSMB = peakRSSMB()
	return res, nil
}

// sampleHeap records the peak Go heap every 50 ms until stop is called.
func sampleHeap(peak *float64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, float64(ms.HeapInuse)/(1<<20))
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// peakRSSMB reads the process's peak resident set (Linux VmHWM).
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var kb float64
		if n, _ := fmt.Sscanf(string(line), "VmHWM: %f kB", &kb); n == 1 {
			return kb / 1024
		}
	}
	return 0
}
