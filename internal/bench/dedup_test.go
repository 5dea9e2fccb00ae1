package bench

import (
	"testing"

	"fieldsync/enrollment/synth"
)

// TestDedupAccounting checks the evaluation's bookkeeping on a small run:
// only the defect meant to be rejected is rejected, citizens and truth
// are consistent, and the baseline is measured on the same truth.
func TestDedupAccounting(t *testing.T) {
	res, err := Dedup(3000, 0.1, 4)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != res.RejectedByNoise[synth.NoiseIDDigitDropped] || res.RejectedByNoise["original"] != 0 {
		t.Errorf("rejected %d: %v; want id_digit_dropped re-enrollments only", res.Rejected, res.RejectedByNoise)
	}
	if res.Citizens == 0 || res.Provisional == 0 || res.Citizens > 3000-res.Rejected {
		t.Errorf("%d citizens (%d provisional) from %d accepted records", res.Citizens, res.Provisional, 3000-res.Rejected)
	}
	d, b := res.Detector, res.Baseline
	if d.True == 0 || d.True != b.True || d.Correct > d.Proposed || d.Correct > d.True {
		t.Errorf("detector %+v, baseline %+v", d, b)
	}
	fp := 0
	for _, n := range res.FalsePositives {
		fp += n
	}
	if fp != d.Proposed-d.Correct {
		t.Errorf("false positives by kind sum to %d, want %d", fp, d.Proposed-d.Correct)
	}
}

// TestDedupQuality holds the detector to its targets on a small run (the
// 100,000-record figures are in BENCHMARKS.md).
func TestDedupQuality(t *testing.T) {
	res, err := Dedup(5000, 0.05, 1)
	if err != nil {
		t.Fatal(err)
	}
	q := res.Detector
	// recall 0.97 before synth's noise widened (#12); the probabilistic
	// model of #12 brings it back above 0.99.
	if q.Precision < 0.98 || q.Recall < 0.85 {
		t.Errorf("precision %.4f, recall %.4f; want ≥ 0.98 and ≥ 0.85\nFP: %q\nFN: %q", q.Precision, q.Recall, res.FPExamples, res.FNExamples)
	}
}
