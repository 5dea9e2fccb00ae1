package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["dedup"] = benchmark{"probable duplicates: the learnt model vs the current detector, exact match and textbook Fellegi–Sunter, on two generators (--scale: cost at a province's size)", benchDedup}
}

func benchDedup(e *env, args []string) error {
	fs := benchFlags(e, "dedup")
	n := fs.Int("n", 100000, "generated records per data set")
	noise := fs.Float64("noise", 0.05, "synth's share of noisy re-enrollments (altgen draws its own)")
	seeds := fs.String("seeds", "1,2,3", "generator seeds, comma-separated")
	gens := fs.String("gen", "synth,altgen", "generators: synth (the shipped one), altgen (an independent one in the bench harness)")
	scale := fs.Int("scale", 0, "instead: stream this many synth records into one index and measure time and memory per citizen and the learning step")
	verbose := fs.Bool("v", false, "print examples of false positives and negatives")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *scale > 0 {
		res, err := bench.DedupCostRun(*scale, *noise, 1)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, res)
		}
		printDedupCost(e.stdout, &res)
		return nil
	}
	cfg := bench.DedupConfig{N: *n, Noise: *noise, Generators: splitList(*gens)}
	for _, s := range splitList(*seeds) {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return usagef("--seeds: %q is not a number", s)
		}
		cfg.Seeds = append(cfg.Seeds, v)
	}
	res, err := bench.Dedup(cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	printDedup(e.stdout, &res, *verbose)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func printDedup(w io.Writer, res *bench.DedupResult, verbose bool) {
	for i := range res.Runs {
		r := &res.Runs[i]
		fmt.Fprintf(w, "dedup: %s seed %d: %d records (%d rejected by the validator), %d citizens (%d provisional), %d true pairs; look-alike pairs present: %s\n",
			r.Generator, r.Seed, r.Records, r.Rejected, r.Citizens, r.Provisional, r.TruePairs, counts(r.HardNegatives))
		fmt.Fprintf(w, "  %-22s %8s %8s %9s %7s %7s |%5s %5s %5s %5s %5s %5s | %s\n", "", "proposed", "correct", "precision", "recall", "F1",
			"twin", "sibl", "par-ch", "ns-day", "ns-yr", "other", "targets")
		for _, d := range r.Detectors {
			verdict := "no"
			if d.Meets() {
				verdict = "met"
			}
			fmt.Fprintf(w, "  %-22s %8d %8d %9.4f %7.4f %7.4f |%5d %5d %5d %5d %5d %5d | %s\n", d.Name, d.Proposed, d.Correct, d.Precision, d.Recall, d.F1,
				d.FalsePositives[bench.KindTwin], d.FalsePositives[bench.KindSibling], d.FalsePositives[bench.KindParentChild],
				d.FalsePositives[bench.KindNamesakeDay], d.FalsePositives[bench.KindNamesakeYear], d.FalsePositives[bench.KindOther], verdict)
		}
		for _, d := range r.Detectors[:1] {
			fmt.Fprintf(w, "  recall by noise kind (%s): %s\n", d.Name, recallByNoise(d.RecallByNoise))
		}
		for _, d := range r.Detectors {
			if d.Name == bench.DetCurrent {
				fmt.Fprintf(w, "  recall by noise kind (%s): %s\n", d.Name, recallByNoise(d.RecallByNoise))
			}
		}
		if r.ModelInfo != nil {
			fmt.Fprintf(w, "  model %s learnt from %d records, %d random pairs, %d candidate pairs (%.0f matches expected); put %.2f s, learn %.2f s, re-decide %.2f s, pairs %.3f s\n",
				r.Model, r.ModelInfo.Records, r.ModelInfo.RandomPairs, r.ModelInfo.CandidatePairs, r.ModelInfo.ExpectedMatches,
				r.PutSeconds, r.TrainSeconds, r.SetSeconds, r.PairsSeconds)
		}
		fmt.Fprintf(w, "  index: %s; generate and validate %.1f s\n", r.Index, r.GenSeconds)
		if verbose {
			for _, d := range r.Detectors[:1] {
				for _, s := range d.FPExamples {
					fmt.Fprintln(w, "  FP", s)
				}
				for _, s := range d.FNExamples {
					fmt.Fprintln(w, "  FN", s)
				}
			}
		}
	}
	printDedupSummary(w, res)
	fmt.Fprintf(w, "reference: %s\n", res.Splink)
}

// printDedupSummary gives each detector's worst precision and recall over
// the seeds of each generator, and whether the targets hold on every one.
func printDedupSummary(w io.Writer, res *bench.DedupResult) {
	type key struct{ gen, det string }
	type agg struct {
		minP, minR float64
		twins      int
		all        bool
		n          int
	}
	byKey := map[key]*agg{}
	var order []key
	for _, r := range res.Runs {
		for _, d := range r.Detectors {
			k := key{r.Generator, d.Name}
			a := byKey[k]
			if a == nil {
				a = &agg{minP: 1, minR: 1, all: true}
				byKey[k] = a
				order = append(order, k)
			}
			a.minP, a.minR = min(a.minP, d.Precision), min(a.minR, d.Recall)
			a.twins += d.FalsePositives[bench.KindTwin]
			a.all = a.all && d.Meets()
			a.n++
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].gen < order[j].gen })
	fmt.Fprintf(w, "summary (worst of the seeds; targets: precision ≥ %.3f, recall ≥ %.2f, twins flagged 0, on every seed):\n", bench.TargetPrecision, bench.TargetRecall)
	for _, k := range order {
		a := byKey[k]
		verdict := "not met"
		if a.all {
			verdict = "met"
		}
		fmt.Fprintf(w, "  %-7s %-22s precision ≥ %.4f  recall ≥ %.4f  twins flagged %d  (%d seeds): %s\n", k.gen, k.det, a.minP, a.minR, a.twins, a.n, verdict)
	}
}

// recallByNoise renders found/pairs per noise kind, in key order.
func recallByNoise(m map[string]bench.Recall) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		r := m[k]
		parts = append(parts, fmt.Sprintf("%s=%d/%d", k, r.Found, r.Pairs))
	}
	return strings.Join(parts, " ")
}

func printDedupCost(w io.Writer, r *bench.DedupCost) {
	fmt.Fprintf(w, "dedup cost: %d synth records, %d citizens: put %.0f ns/record, heap %.0f B/citizen (index's own estimate %.0f B), pairs() %.3f s for %d pairs; learning %.1f s, re-deciding every candidate pair %.1f s; generating %.0f s\n",
		r.Records, r.Citizens, r.PutNsPerRecord, r.HeapPerCitizen, float64(r.IndexBytes)/float64(max(1, r.Citizens)),
		r.PairsSeconds, r.Pairs, r.TrainSeconds, r.SetModelSeconds, r.GenerateSeconds)
	if r.Model != nil {
		fmt.Fprintf(w, "  learnt from %d random pairs and %d candidate pairs (%.0f matches expected)\n", r.Model.RandomPairs, r.Model.CandidatePairs, r.Model.ExpectedMatches)
	}
	fmt.Fprintf(w, "  as a hub's view keeps it: profile encoded %.0f ns/record, %.0f B stored per record; Index rebuilt from the stored profiles and pairs (restart, learning) %.1f s, heap %.0f B/citizen\n",
		r.EncodeNsPerRecord, r.ProfileBytes, r.LoadSeconds, r.LoadHeapPerCitizen)
	fmt.Fprintf(w, "  index: %s\n", r.Stats)
}

// counts renders a count map in key order.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	return joinCounts(m, "%s=%d", " ")
}
