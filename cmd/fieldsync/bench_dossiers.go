package main

import (
	"fmt"
	"slices"
	"strings"
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
	var results []bench.DossierResult
	for _, sc := range bench.DossierScenarios() {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), sc.Name) {
			continue
		}
		dir, cleanup, err := benchDir()
		if err != nil {
			return err
		}
		res, err := bench.Dossiers(dir, cfg, sc)
		cleanup()
		if err != nil {
			return err
		}
		results = append(results, res)
		if *asJSON {
			writeJSON(e.stdout, res)
			continue
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
	tw.Flush()
	if !*asJSON {
		for _, l := range bench.DossierSummary(results) {
			fmt.Fprintln(e.stdout, l)
		}
	}
	return nil
}
