package main

import (
	"fmt"
	"io"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["dedup"] = benchmark{"probable-duplicate precision/recall on generated records vs exact name+DOB+sex", benchDedup}
}

func benchDedup(e *env, args []string) error {
	fs := benchFlags(e, "dedup")
	n := fs.Int("n", 100000, "generated records")
	noise := fs.Float64("noise", 0.05, "share of noisy re-enrollments")
	seed := fs.Uint64("seed", 1, "generator seed")
	verbose := fs.Bool("v", false, "print examples of false positives and negatives")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	res, err := bench.Dedup(*n, *noise, *seed)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	printDedup(e.stdout, &res, *verbose)
	return nil
}

func printDedup(w io.Writer, res *bench.DedupResult, verbose bool) {
	fmt.Fprintf(w, "dedup: %d records, noise %.3f, seed %d: %d rejected by the validator (noise kinds: %s); %d citizens (%d provisional)\n",
		res.N, res.Noise, res.Seed, res.Rejected, counts(res.RejectedByNoise), res.Citizens, res.Provisional)
	fmt.Fprintf(w, "  %-28s %9s %9s %9s %9s %9s %7s\n", "", "proposed", "true", "correct", "precision", "recall", "F1")
	for _, q := range []struct {
		name string
		q    bench.Quality
	}{{"hub/dedup", res.Detector}, {"hub/dedup, no family fields", res.WithoutFamily},
		{"exact NameKey+DOB+sex", res.Baseline}, {"exact raw name+DOB+sex", res.BaselineRaw}} {
		fmt.Fprintf(w, "  %-28s %9d %9d %9d %9.4f %9.4f %7.4f\n", q.name, q.q.Proposed, q.q.True, q.q.Correct, q.q.Precision, q.q.Recall, q.q.F1)
	}
	fmt.Fprintf(w, "  false positives by kind: %s\n", counts(res.FalsePositives))
	fmt.Fprintf(w, "  false negatives by noise: %s\n", counts(res.FalseNegatives))
	fmt.Fprintf(w, "  index: %.2f s for %d citizens, %.0f ns/record (Pairs %.3f s); %s\n",
		res.IndexSeconds, res.Citizens, res.NsPerRecord, res.PairsSeconds, res.Index)
	fmt.Fprintf(w, "  wall: %.1f s (generate and validate %.1f s)\n", res.WallSeconds, res.GenSeconds)
	if verbose {
		for _, s := range res.FPExamples {
			fmt.Fprintln(w, "  FP", s)
		}
		for _, s := range res.FNExamples {
			fmt.Fprintln(w, "  FN", s)
		}
	}
}

// counts renders a count map in key order.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	return joinCounts(m, "%s=%d", " ")
}
