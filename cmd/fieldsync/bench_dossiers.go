package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["dossiers"] = benchmark{"a station-day of dossiers (records and biometrics) over an emulated 2G link: records first, blobs vs the bound, bytes again per cut, vs whole-file re-upload", benchDossiers}
}

func benchDossiers(e *env, args []string) error {
	fs := benchFlags(e, "dossiers")
	n := fs.Int("n", 300, "dossiers (a station-day is 300)")
	rate := fs.Int64("rate", 128_000, "link rate, bits per second each way")
	rtt := fs.Duration("rtt", 300*time.Millisecond, "link round-trip time")
	speedup := fs.Float64("speedup", 20, "run emulated time this many times faster than real time (1: real time)")
	chunk := fs.Int("chunk", 0, "blob chunk size in bytes (0: the default)")
	maxTime := fs.Duration("max", 24*time.Hour, "stop a scenario after this much emulated time")
	liveFor := fs.Duration("live-for", 30*time.Minute, "the live-capture scenario captures for this long")
	seed := fs.Uint64("seed", 10, "seed of the generated dossiers")
	netns := fs.Bool("netns", false, "run over a real shaped link (two network namespaces, tc tbf at --rate) in real time instead of the emulator: Linux, root")
	size := fs.Int64("dossier-bytes", 0, "scale each dossier's files to about this many bytes (0: the generator's, ~1 MB)")
	only := fs.String("scenario", "", "run only the scenarios with these names (comma-separated)")
	asJSON := fs.Bool("json", false, "print JSON lines")
	parallel := fs.Bool("parallel", false, "run the scenarios at the same time (each on its own link, laptop and hub; a station-day's six take the wall time of the longest instead of their sum); results print in order when all are done, each also to stderr as it ends")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := bench.DossierConfig{Dossiers: *n, Rate: *rate, RTT: *rtt, Speedup: *speedup, Seed: *seed, ChunkBytes: *chunk,
		MaxEmulated: *maxTime, LiveFor: *liveFor, Netns: *netns, DossierBytes: *size}
	if *netns {
		cfg.Speedup = 1 // a real link runs in real time
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	if !*asJSON {
		if *netns {
			fmt.Fprintf(tw, "%d dossiers, a real link: two network namespaces, tc tbf at %d kbit/s, real time\n", *n, *rate/1000)
		} else {
			fmt.Fprintf(tw, "%d dossiers, %d kbit/s, RTT %s, emulated time %.0fx real\n", *n, *rate/1000, *rtt, *speedup)
		}
		fmt.Fprintln(tw, "SCENARIO\tRECORDS AT HUB\tCOMPLETE\tUP TIME\tBOUND\tUP/BOUND\tWIRE UP/PAYLOAD\tCUTS\tAGAIN/CUT\tLIVE P50/MAX\tSESSIONS")
	}
	var scenarios []bench.DossierScenario
	for _, sc := range bench.DossierScenarios() {
		if *only == "" || slices.Contains(strings.Split(*only, ","), sc.Name) {
			scenarios = append(scenarios, sc)
		}
	}
	show := func(res bench.DossierResult) {
		if *asJSON {
			writeJSON(e.stdout, res)
			return
		}
		complete := fmt.Sprintf("%.0f s", res.CompleteSeconds)
		if res.Stopped {
			complete = fmt.Sprintf("%d/%d at %.0f s", res.Complete, res.Dossiers, res.CompleteSeconds)
		}
		live := "-"
		if res.LiveRecords > 0 {
			live = fmt.Sprintf("%.1f/%.1f s (chunk %.1f s)", res.LiveP50, res.LiveMax, res.ChunkSeconds)
		}
		fmt.Fprintf(tw, "%s\t%.1f s\t%s\t%.0f s\t%.0f s\t%.3f\t%.3f\t%d\t%.0f B\t%s\t%d\n", res.Scenario, res.RecordsSeconds, complete,
			res.UpSeconds, res.BoundSeconds, res.TimeOverBound, res.WireOverPayload, res.Cuts, res.SentAgainPerCut, live, res.Sessions)
		tw.Flush()
	}
	results, err := runDossierScenarios(e, cfg, scenarios, *parallel, show)
	if err != nil {
		return err
	}
	tw.Flush()
	if !*asJSON {
		for _, l := range bench.DossierSummary(results) {
			fmt.Fprintln(e.stdout, l)
		}
	}
	return nil
}

// runDossierScenarios runs each scenario in a directory of its own, one
// after another or all at once, and reports each result through report in
// the scenarios' order.
func runDossierScenarios(e *env, cfg bench.DossierConfig, scenarios []bench.DossierScenario, parallel bool,
	report func(bench.DossierResult)) ([]bench.DossierResult, error) {
	runOne := func(sc bench.DossierScenario) (bench.DossierResult, error) {
		dir, cleanup, err := benchDir()
		if err != nil {
			return bench.DossierResult{}, err
		}
		defer cleanup()
		return bench.Dossiers(dir, cfg, sc)
	}
	results := make([]bench.DossierResult, len(scenarios))
	if !parallel {
		for i, sc := range scenarios {
			res, err := runOne(sc)
			if err != nil {
				return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
			}
			results[i] = res
			report(res)
		}
		return results, nil
	}
	errs := make([]error, len(scenarios))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, sc := range scenarios {
		wg.Go(func() {
			results[i], errs[i] = runOne(sc)
			mu.Lock()
			defer mu.Unlock()
			if errs[i] == nil {
				writeJSON(e.stderr, results[i]) // a partial record if the run is stopped early
			}
		})
	}
	wg.Wait()
	for i, sc := range scenarios {
		if errs[i] != nil {
			return nil, fmt.Errorf("scenario %q: %w", sc.Name, errs[i])
		}
		report(results[i])
	}
	return results, nil
}
