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
	maxIngestSizes     = 8
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
	fmt.Fprintf(w, "hub path (decode, verify, Ingest, view) vs raw Badger WriteBatch of the same keys and values (rawB: flushed per sync batch, rawS: one stream);\n"+
		"same options (hub profile, synced, encrypted); back to back, one process per size\n")
	fmt.Fprintf(w, "%8s %7s | %8s %8s %8s | %6s %6s | %6s %6s %6s %6s | %7s %7s %7s %7s\n", "enroll", "batches",
		"hub e/s", "rawB e/s", "rawS e/s", "h/rawB", "h/rawS", "decode", "verify", "ingest", "view", "hubHeap", "hubRSS", "viewMB", "rawRSS")
	for _, r := range run.Results {
		h := r.Hub
		pct := func(s float64) float64 { return 100 * s / h.Seconds }
		fmt.Fprintf(w, "%8d %7d | %8.0f %8.0f %8.0f | %6.2f %6.2f | %5.1f%% %5.1f%% %5.1f%% %5.1f%% | %7.0f %7.0f %7.0f %7.0f\n",
			r.N, r.Batches, h.EntriesPerSec, r.RawBatch.EntriesPerSec, r.RawStream.EntriesPerSec, r.Ratio, r.RatioStream,
			pct(h.DecodeSeconds), pct(h.VerifySeconds), pct(h.IngestSeconds), pct(h.Seconds-h.IngestedSeconds),
			h.PeakHeapMB, h.PeakRSSMB, h.ViewHeapMB, max(r.RawBatch.PeakRSSMB, r.RawStream.PeakRSSMB))
	}
	fmt.Fprintf(w, "CPU µs per entry, whole process (all goroutines: Badger, GC), steadier than wall time on a shared machine:\n")
	fmt.Fprintf(w, "%8s | %8s %8s %8s | %8s\n", "enroll", "hub", "rawB", "rawS", "rawB/hub")
	for _, r := range run.Results {
		us := func(s float64) float64 { return 1e6 * s / float64(max(1, r.Entries)) }
		fmt.Fprintf(w, "%8d | %8.1f %8.1f %8.1f | %8.3f\n", r.N, us(r.Hub.CPUSeconds), us(r.RawBatch.CPUSeconds), us(r.RawStream.CPUSeconds),
			r.RawBatch.CPUSeconds/r.Hub.CPUSeconds)
	}
	for _, r := range run.Results {
		fmt.Fprintf(w, "  n=%d, %d origins: %d entries (%d rejected on laptops), %.0f per batch, %.1f%% signed, %.0f MB written; "+
			"hub %.1f s, raw %.1f s / %.1f s (reading %.1f s of it); build %.0f s; view: %d citizens, %d conflicts, %d pairs\n",
			r.N, r.Origins, r.Entries, r.Rejected, r.EntriesPerBatch, 100*r.SignedShare, r.WrittenMB, r.Hub.Seconds, r.RawBatch.Seconds,
			r.RawStream.Seconds, r.RawBatch.ReadSeconds, r.BuildSeconds, r.Hub.View.Citizens, r.Hub.View.Conflicts, r.Hub.View.Pairs)
	}
	perPhase := len(run.Results) > 0 && run.Results[0].RSSPerPhase
	fmt.Fprintf(w, "  MB: peak Go heap in use and peak RSS (VmHWM%s) of the hub phase; viewMB: live heap once all is in, log closed; wall %.0f s\n",
		map[bool]string{true: ", reset at each phase", false: " since process start"}[perPhase], run.WallSeconds)
}
