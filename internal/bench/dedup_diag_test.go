package bench

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"

	"fieldsync/hub/dedup"
)

func TestDedupDiag(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DIAG_N"))
	if n == 0 {
		t.Skip()
	}
	seed, _ := strconv.Atoi(os.Getenv("DIAG_SEED"))
	ev := &dedupEval{cfg: dedup.Config{Threshold: 1e-9, MaxBlock: 64}, res: DedupResult{RejectedByNoise: map[string]int{},
		FalsePositives: map[string]int{}, FalseNegatives: map[string]int{}},
		byKey: map[string]*citizen{}, similar: map[string]similarity{}, person: map[int]string{}}
	if err := ev.generate(n, 0.05, uint64(seed)); err != nil {
		t.Fatal(err)
	}
	ev.buildTruth()
	pairs := ev.runDetector()
	hist := map[int][2]int{}
	for _, p := range pairs {
		h := hist[p.Points]
		if ev.truth[[2]string{p.A, p.B}] {
			h[0]++
			if p.Points < 2 {
				fmt.Println("LOWTRUE", ev.describe(ev.byKey[p.A], ev.byKey[p.B]), ev.records[ev.byKey[p.A].shown].rec.Noise, ev.records[ev.byKey[p.B].shown].rec.Noise)
			}
		} else {
			h[1]++
			if p.Points >= -3 {
				a, b := ev.byKey[p.A], ev.byKey[p.B]
				ev.falsePositive(p)
				_ = a
				_ = b
			}
		}
		hist[p.Points] = h
	}
	var ks []int
	for k := range hist {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	for _, k := range ks {
		fmt.Printf("%4d true %6d false %6d\n", k, hist[k][0], hist[k][1])
	}
	found := map[[2]string]bool{}
	for _, p := range pairs {
		found[[2]string{p.A, p.B}] = true
	}
	ev.falseNegatives(found)
	fmt.Println("never candidates:", ev.res.FalseNegatives)
	for _, s := range ev.res.FNExamples {
		fmt.Println("FN", s)
	}
	fmt.Println(ev.res.FalsePositives)
	for _, s := range ev.res.FPExamples {
		fmt.Println("FP", s)
	}
}
