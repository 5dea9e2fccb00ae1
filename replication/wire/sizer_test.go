package wire

import (
	"math/rand/v2"
	"testing"

	"fieldsync/replication"
)

// TestBatchSizer adds entries one by one and compares the sizer with the
// encoded body after every step.
func TestBatchSizer(t *testing.T) {
	c := mustCodec(t, Limits{})
	var chains [][]replication.Entry
	for seed := range uint64(4) {
		_, es := testChain(t, 50+seed, 40, seed%2 == 0)
		chains = append(chains, es)
	}
	sortChains := func() {
		for i := 1; i < len(chains); i++ {
			for j := i; j > 0 && chains[j][0].Origin.Less(chains[j-1][0].Origin); j-- {
				chains[j], chains[j-1] = chains[j-1], chains[j]
			}
		}
	}
	sortChains()
	for _, tc := range []struct {
		name string
		id   uint64
		take func(r *rand.Rand, es []replication.Entry) []replication.Entry
	}{
		{"whole chains", 0, func(_ *rand.Rand, es []replication.Entry) []replication.Entry { return es }},
		{"tails, big id", 1<<64 - 1, func(r *rand.Rand, es []replication.Entry) []replication.Entry { return es[r.IntN(len(es)):] }},
		{"middles", 300, func(r *rand.Rand, es []replication.Entry) []replication.Entry {
			i := r.IntN(len(es))
			return es[i : i+1+r.IntN(len(es)-i)]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, tc.id))
			s := NewBatchSizer(tc.id)
			b := &Batch{ID: tc.id}
			if got, want := s.Size(), len(mustBody(t, c, b)); got != want {
				t.Fatalf("empty: sizer %d, body %d", got, want)
			}
			for _, es := range chains {
				part := tc.take(r, es)
				b.Ranges = append(b.Ranges, Range{Origin: part[0].Origin, Prev: part[0].Prev})
				rg := &b.Ranges[len(b.Ranges)-1]
				for i := range part {
					with := s.SizeWith(&part[i])
					if got := s.Add(&part[i]); got != with {
						t.Fatalf("SizeWith %d, Add %d", with, got)
					}
					rg.Entries = part[:i+1]
					if got, want := s.Size(), len(mustBody(t, c, b)); got != want {
						t.Fatalf("after seq %d: sizer %d, body %d", part[i].Seq, got, want)
					}
				}
			}
			if s.Ranges() != len(b.Ranges) || s.Entries() != b.Entries() {
				t.Fatalf("sizer counts %d ranges %d entries, batch %d %d", s.Ranges(), s.Entries(), len(b.Ranges), b.Entries())
			}
		})
	}
}

// TestBatchSizerManyRanges crosses the 1-to-2-byte boundary of the range
// count and of a range's entry count.
func TestBatchSizerManyRanges(t *testing.T) {
	c := mustCodec(t, Limits{})
	s := NewBatchSizer(1)
	b := &Batch{ID: 1}
	for i := range 130 {
		var o replication.OriginID
		o[0], o[1] = byte(i>>8), byte(i)
		e := replication.Entry{Origin: o, Seq: 1, Kind: replication.KindEnroll, HLC: replication.HLC(i)}
		s.Add(&e)
		b.Ranges = append(b.Ranges, Range{Origin: o, Entries: []replication.Entry{e}})
	}
	// One long range at the end: 130 entries chained.
	var o replication.OriginID
	o[0] = 0xff
	prev := replication.Hash{}
	rg := Range{Origin: o}
	for i := range 130 {
		e := replication.Entry{Origin: o, Seq: uint64(i + 1), Prev: prev, Kind: replication.KindEnroll, HLC: replication.HLC(1000 - i)}
		s.Add(&e)
		rg.Entries = append(rg.Entries, e)
		prev = e.Hash()
	}
	b.Ranges = append(b.Ranges, rg)
	if got, want := s.Size(), len(mustBody(t, c, b)); got != want {
		t.Fatalf("sizer %d, body %d", got, want)
	}
}
