package replication_test

import (
	"testing"

	"pgregory.net/rapid"

	"fieldsync/replication"
)

// genVector draws a small vector over a few origins, so merges collide.
func genVector(t *rapid.T, label string) replication.Vector {
	n := rapid.IntRange(0, 5).Draw(t, label+"-n")
	v := replication.Vector{}
	for i := 0; i < n; i++ {
		var o replication.OriginID
		o[0] = byte(rapid.IntRange(0, 6).Draw(t, label+"-o"))
		seq := rapid.Uint64Range(1, 20).Draw(t, label+"-s")
		var h replication.Hash
		h[0] = byte(seq) // hash a function of seq: equal seqs mean equal heads
		v[o] = replication.Head{Seq: seq, Hash: h}
	}
	return v
}

// naiveMerge is the oracle: per origin the maximum seq.
func naiveMerge(a, b replication.Vector) map[replication.OriginID]uint64 {
	out := map[replication.OriginID]uint64{}
	for _, v := range []replication.Vector{a, b} {
		for o, h := range v {
			out[o] = max(out[o], h.Seq)
		}
	}
	return out
}

func TestVectorMergeLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genVector(t, "a"), genVector(t, "b"), genVector(t, "c")
		ab := a.Clone().Merge(b)
		if !ab.Equal(b.Clone().Merge(a)) {
			t.Fatal("merge is not commutative")
		}
		if !ab.Clone().Merge(c).Equal(a.Clone().Merge(b.Clone().Merge(c))) {
			t.Fatal("merge is not associative")
		}
		if !ab.Clone().Merge(ab).Equal(ab) {
			t.Fatal("merge is not idempotent")
		}
		for o, seq := range naiveMerge(a, b) {
			if ab.Seq(o) != seq {
				t.Fatalf("origin %v: %d, oracle %d", o, ab.Seq(o), seq)
			}
		}
		if !ab.Covers(a) || !ab.Covers(b) {
			t.Fatal("a merge must cover both inputs")
		}
		if a.Equal(b) != (a.Digest() == b.Digest()) {
			t.Fatal("digest equality must match vector equality")
		}
	})
}
