package dedup

import (
	"flag"
	"os"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
)

var scale = flag.Int("dedup.scale", 0, "TestScale: records to stream from synth (0: skip)")

// TestScale (behind -dedup.scale=N) streams N synth records into an
// Index and reports, per blocking family, the blocks and what a Put
// meets, then learns a model and writes it to $DEDUP_MODEL_OUT if set.
func TestScale(t *testing.T) {
	if *scale == 0 {
		t.Skip("-dedup.scale=N to run")
	}
	g, err := synth.New(synth.Config{Count: *scale, Seed: 1, Noise: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(DefaultConfig())
	var put time.Duration
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		e := rec.Enrollment
		k := enrollment.Keys(&e)
		key := k.PersonalID
		if key == "" {
			key = "prov:" + string(rune('a'+rec.Line%26)) + time.Duration(rec.Line).String()
		}
		t0 := time.Now()
		ix.Put(Record{Key: key, Enrollment: &e, Keys: k})
		put += time.Since(t0)
	}
	t.Logf("%d citizens, %.1f µs/put, %d comparisons (%.1f per put)", ix.Len(), float64(put.Microseconds())/float64(ix.Len()),
		ix.compares, float64(ix.compares)/float64(ix.Len()))
	for f := range numFamilies {
		blocks, members, sq, over := 0, 0, 0, 0
		ix.blocks[f].keys(func(_ uint32, n int) {
			blocks++
			members += n
			sq += n * n
			if n > ix.cfg.MaxBlock {
				over++
			}
		})
		t.Logf("%-15s %8d blocks, %8d entries, members-weighted size %.1f, %d oversized", familyNames[f], blocks, members,
			float64(sq)/float64(max(1, members)), over)
	}
	t0 := time.Now()
	m, err := ix.Train(TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("learnt in %v: %+v", time.Since(t0), *m.Trained)
	t1 := time.Now()
	ix.SetModel(m)
	t.Logf("set in %v: %d pairs", time.Since(t1), len(ix.Pairs()))
	if out := os.Getenv("DEDUP_MODEL_OUT"); out != "" {
		os.WriteFile(out, m.Encode(), 0o644)
	}
}
