package dedup

import (
	"testing"
)

// TestQuality is a small end-to-end evaluation in the default test run,
// so that a regression in precision or recall fails CI: generated records
// (5% noisy re-enrollments), keyed as a hub keys them, the model learnt
// from them, against the truth (two keys holding records of one synth
// person). `fieldsync bench dedup` measures the same at 100,000 records
// on two generators, with the errors classified.
func TestQuality(t *testing.T) {
	seeds := []uint64{1, 2}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		recs, persons := synthPopulation(t, 8000, seed, 0.05)
		truth := truePairs(persons)
		ix := NewIndex(Config{Model: TextbookModel()})
		for _, r := range recs {
			ix.Put(r)
		}
		m, err := ix.Train(TrainConfig{})
		if err != nil {
			t.Fatal(err)
		}
		ix.SetModel(m)
		got := ix.Pairs()
		correct := 0
		for _, p := range got {
			if truth[[2]string{p.A, p.B}] {
				correct++
			} else {
				t.Logf("FP %v", p)
			}
		}
		precision, recall := float64(correct)/float64(len(got)), float64(correct)/float64(len(truth))
		t.Logf("seed %d: %d true pairs, %d proposed, %d correct: precision %.4f, recall %.4f; model %+v", seed, len(truth), len(got), correct, precision, recall, *m.Trained)
		if len(truth) < 50 || precision < 0.98 || recall < 0.97 {
			t.Errorf("seed %d: precision %.4f, recall %.4f on %d true pairs; want ≥ 0.98 and ≥ 0.97", seed, precision, recall, len(truth))
		}
	}
}

// truePairs lists the key pairs (in order) that share a person.
func truePairs(persons map[string][]string) map[[2]string]bool {
	keysOf := map[string][]string{}
	for key, ps := range persons {
		for _, p := range ps {
			keysOf[p] = append(keysOf[p], key)
		}
	}
	out := map[[2]string]bool{}
	for _, keys := range keysOf {
		for i, a := range keys {
			for _, b := range keys[i+1:] {
				if b < a {
					a, b = b, a
				}
				out[[2]string{a, b}] = true
			}
		}
	}
	return out
}
