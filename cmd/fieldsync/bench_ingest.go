package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["ingest"] = benchmark{"hub ingest+reconcile+dedup entries/s vs raw Badger WriteBatch, peak memory, by size", benchIngest}
}

// defaultIngestSizes are the sizes of issue 4: growth up to Hà Tĩnh's
// 1.1 M enrollments. fullIngestSizes adds the province, which takes
// several minutes more (see --full).
const (
	defaultIngestSizes = "100000,300000"
	fullIngestSizes    = "100000,300000,1100000"
	// provinceIngestSizes are issue 11's: Hà Tĩnh, and a province of 10 M
	// (Hà Nội, Hồ Chí Minh City, the merged provinces past 5 M).
	provinceIngestSizes = "1100000,10000000"
	maxIngestSizes      = 8
)

type ingestFlags struct {
	sizes  []int
	cfg    bench.IngestConfig
	asJSON bool
}

func benchIngest(e *env, args []string) error {
	fs := benchFlags(e, "ingest")
	sizes := fs.String("n", defaultIngestSizes, "comma-separated numbers of generated enrollments, one run each")
	full := fs.Bool("full", false, "also measure 1.1 M enrollments (Hà Tĩnh's size): --n "+fullIngestSizes)
	provinces := fs.Bool("provinces", false, "Hà Tĩnh (1.1 M) and a province of 10 M, generated with the same noise: --n "+provinceIngestSizes+
		" (hours, and about 60 GB of disk at the peak)")
	origins := fs.Int("origins", 300, "field laptops (origins) the enrollments are captured on")
	noise := fs.Float64("noise", 0.05, "share of noisy re-enrollments (conflicts and duplicates for the view)")
	seed := fs.Uint64("seed", 1, "generator seed")
	asJSON := fs.Bool("json", false, "print JSON")
	child := fs.Bool("child", false, "run one size in this process and print its JSON (used by the parent run)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *full {
		*sizes = fullIngestSizes
	}
	if *provinces {
		*sizes = provinceIngestSizes
	}
	f := ingestFlags{cfg: bench.IngestConfig{Origins: *origins, Noise: *noise, Seed: *seed}, asJSON: *asJSON}
	var err error
	if f.sizes, err = parseSizes(*sizes); err != nil {
		return err
	}
	if *child {
		return ingestChild(e, f)
	}
	return ingestSizes(e, f)
}

func parseSizes(s string) ([]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxIngestSizes {
		return nil, usagef("--n: %d sizes, at most %d", len(parts), maxIngestSizes)
	}
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > bench.MaxIngestN {
			return nil, usagef("--n: %q is not a size in 1..%d", p, bench.MaxIngestN)
		}
		out = append(out, n)
	}
	return out, nil
}

// ingestChild measures one size in this process.
func ingestChild(e *env, f ingestFlags) error {
	if len(f.sizes) != 1 {
		return usagef("--child takes one size")
	}
	dir, cleanup, err := benchDir()
	if err != nil {
		return err
	}
	defer cleanup()
	cfg := f.cfg
	cfg.N = f.sizes[0]
	cfg.CPUProfile = os.Getenv("FIELDSYNC_BENCH_CPUPROFILE") // the hub phase's, for whoever tunes it
	res, err := bench.Ingest(dir, cfg)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, res)
}

// IngestRun is the output of `bench ingest --json`: one result per size,
// each measured in its own process so that peak RSS is that size's own.
type IngestRun struct {
	Results     []bench.IngestResult `json:"results"`
	WallSeconds float64              `json:"wall_seconds"`
}

// ingestSizes runs each size in a child process and prints the table.
func ingestSizes(e *env, f ingestFlags) error {
	start := time.Now()
	var run IngestRun
	for _, n := range f.sizes {
		if !f.asJSON {
			fmt.Fprintf(e.stderr, "bench ingest: %d enrollments on %d origins...\n", n, f.cfg.Origins)
		}
		res, err := runIngestChild(e.stderr, n, f.cfg)
		if err != nil {
			return err
		}
		run.Results = append(run.Results, res)
	}
	run.WallSeconds = time.Since(start).Seconds()
	if f.asJSON {
		return writeJSON(e.stdout, run)
	}
	printIngest(e.stdout, run)
	return nil
}

func runIngestChild(stderr io.Writer, n int, cfg bench.IngestConfig) (bench.IngestResult, error) {
	var res bench.IngestResult
	exe, err := os.Executable()
	if err != nil {
		return res, err
	}
	cmd := exec.Command(exe, "bench", "ingest", "--child", "--n", strconv.Itoa(n), "--origins", strconv.Itoa(cfg.Origins),
		"--noise", strconv.FormatFloat(cfg.Noise, 'g', -1, 64), "--seed", strconv.FormatUint(cfg.Seed, 10))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("bench ingest --n %d: %w", n, err)
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return res, fmt.Errorf("bench ingest --n %d: reading its result: %w", n, err)
	}
	return res, nil
}

func printIngest(w io.Writer, run IngestRun) {
	fmt.Fprintf(w, "a running hub taking the laptops' batches (decode, verify, Ingest synced and acked; the view following on its own goroutine)\n"+
		"vs raw Badger WriteBatch of the same keys and values (rawB: flushed per sync batch, rawS: one stream); same options (hub profile,\n"+
		"synced, encrypted); back to back, one process per size\n")
	fmt.Fprintf(w, "%9s %7s | %8s %8s %8s %8s | %6s %6s %6s | %7s %7s %7s %7s %6s\n", "enroll", "batches",
		"acked/s", "view e/s", "rawB e/s", "rawS e/s", "ack/rB", "ack/rS", "all/rB", "hubHeap", "hubRSS", "B/cit", "rawRSS", "lagMax")
	for _, r := range run.Results {
		h := r.Hub
		fmt.Fprintf(w, "%9d %7d | %8.0f %8.0f %8.0f %8.0f | %6.2f %6.2f %6.2f | %7.0f %7.0f %7.0f %7.0f %6d\n",
			r.N, r.Batches, h.AckedEntriesPerSec, h.EntriesPerSec, r.RawBatch.EntriesPerSec, r.RawStream.EntriesPerSec,
			h.AckedEntriesPerSec/r.RawBatch.EntriesPerSec, h.AckedEntriesPerSec/r.RawStream.EntriesPerSec, r.Ratio,
			h.PeakHeapMB, h.PeakRSSMB, h.HeapBytesPerCitizen, max(r.RawBatch.PeakRSSMB, r.RawStream.PeakRSSMB), h.ViewLagMax)
	}
	fmt.Fprintf(w, "while ingesting, every %v: a laptop's capture sent to its ack, the dashboard's snapshot, /metrics (ms p50 / p99 / max):\n", bench.ProbeEvery)
	ms := func(p bench.Percentiles) string {
		s := fmt.Sprintf("%.1f / %.1f / %.1f", p.P50us/1e3, p.P99us/1e3, p.MaxUs/1e3)
		if p.TimedOut > 0 {
			s += fmt.Sprintf(" (%d of %d hit the 1 min bound)", p.TimedOut, p.N)
		}
		return s
	}
	for _, r := range run.Results {
		h := r.Hub
		fmt.Fprintf(w, "%9d | session %s (n=%d) | dashboard %s | metrics %s\n", r.N, ms(h.Session), h.Session.N, ms(h.Dashboard), ms(h.Metrics))
	}
	fmt.Fprintf(w, "restart over what it holds: until it serves sync and the dashboard, entries its view had to apply, same digest:\n")
	for _, r := range run.Results {
		rs := r.Hub.Restart
		fmt.Fprintf(w, "%9d | %.2f s (stores open and matcher loaded %.2f s), lag %d, same digest %v, peak RSS %.0f MB\n",
			r.N, rs.Seconds, rs.OpenSeconds, rs.LagAtOpen, rs.SameDigest, rs.PeakRSSMB)
	}
	fmt.Fprintf(w, "CPU µs per entry, whole process (all goroutines: Badger, GC), steadier than wall time on a shared machine:\n")
	fmt.Fprintf(w, "%9s | %8s %8s %8s | %8s\n", "enroll", "hub", "rawB", "rawS", "rawB/hub")
	for _, r := range run.Results {
		us := func(s float64) float64 { return 1e6 * s / float64(max(1, r.Entries)) }
		fmt.Fprintf(w, "%9d | %8.1f %8.1f %8.1f | %8.3f\n", r.N, us(r.Hub.CPUSeconds), us(r.RawBatch.CPUSeconds), us(r.RawStream.CPUSeconds),
			r.RawBatch.CPUSeconds/r.Hub.CPUSeconds)
	}
	for _, r := range run.Results {
		h := r.Hub
		fmt.Fprintf(w, "  n=%d, %d origins: %d entries (%d rejected on laptops), %.0f per batch, %.1f%% signed, %.0f MB written; "+
			"acked in %.1f s, view done %.1f s (%d sessions: decode %.1f s, verify %.1f s, Ingest %.1f s; %d calls in %d commits); raw %.1f s / %.1f s (reading %.1f s of it); build %.0f s; "+
			"view: %d citizens, %d conflicts, %d pairs; heap %.0f MB empty, %.0f MB with the view\n",
			r.N, r.Origins, r.Entries, r.Rejected, r.EntriesPerBatch, 100*r.SignedShare, r.WrittenMB, h.AckedSeconds, h.Seconds,
			h.Sessions, h.DecodeSeconds, h.VerifySeconds, h.IngestSeconds, h.IngestCalls, h.IngestCommits, r.RawBatch.Seconds,
			r.RawStream.Seconds, r.RawBatch.ReadSeconds, r.BuildSeconds, h.View.Citizens, h.View.Conflicts, h.View.Pairs, h.BaseHeapMB, h.ViewHeapMB)
	}
	perPhase := len(run.Results) > 0 && run.Results[0].RSSPerPhase
	fmt.Fprintf(w, "  MB: peak Go heap in use and peak RSS (VmHWM%s) of the hub phase; B/cit: live heap per citizen held, over the hub's heap empty; wall %.0f s\n",
		map[bool]string{true: ", reset at each phase", false: " since process start"}[perPhase], run.WallSeconds)
}
