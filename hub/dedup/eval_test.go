package dedup_test

import (
	"testing"

	"fieldsync/internal/bench"
)

// TestEvaluation runs the end-to-end evaluation of `fieldsync bench dedup`
// on a small generated population, so that a regression in precision or
// recall fails CI. BENCHMARKS.md has the figures at 100,000 records.
func TestEvaluation(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		res, err := bench.Dedup(5000, 0.05, seed)
		if err != nil {
			t.Fatal(err)
		}
		q := res.Detector
		t.Logf("seed %d: %d true pairs, %d proposed: precision %.4f recall %.4f (baseline %.4f / %.4f); FP %v FN %v",
			seed, q.True, q.Proposed, q.Precision, q.Recall, res.Baseline.Precision, res.Baseline.Recall, res.FalsePositives, res.FalseNegatives)
		if q.True < 50 || q.Precision < 0.98 || q.Recall < 0.97 {
			t.Errorf("seed %d: precision %.4f, recall %.4f on %d true pairs; want ≥ 0.98 and ≥ 0.97\nFP: %q\nFN: %q",
				seed, q.Precision, q.Recall, q.True, res.FPExamples, res.FNExamples)
		}
	}
}
