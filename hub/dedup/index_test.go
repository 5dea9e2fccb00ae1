package dedup

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"fieldsync/enrollment"
)

// build puts recs in order into a new Index.
func build(cfg Config, recs []Record) *Index {
	ix := NewIndex(cfg)
	for _, r := range recs {
		ix.Put(r)
	}
	return ix
}

// decoy is another version of r (same key): someone else's name and date
// of birth, so that it lands in other blocks and pairs.
func decoy(r, other Record) Record {
	e := *r.Enrollment
	e.FullName, e.DateOfBirth = other.Enrollment.FullName, other.Enrollment.DateOfBirth
	d := Record{Key: r.Key, Enrollment: &e, Keys: enrollment.Keys(&e), Region: "decoy"}
	return d
}

// churn puts recs into a new Index in a random order, with replaced
// versions and deletions along the way; at the end every record of recs
// is present in its own version.
func churn(cfg Config, recs []Record, rng *rand.Rand) *Index {
	ix := NewIndex(cfg)
	order := rng.Perm(len(recs))
	var deleted []int
	for _, i := range order {
		if rng.IntN(10) == 0 { // a displayed version that is later replaced
			ix.Put(decoy(recs[i], recs[rng.IntN(len(recs))]))
		}
		ix.Put(recs[i])
		if rng.IntN(20) == 0 { // a deletion of something present, re-put later
			j := order[rng.IntN(len(order))]
			if _, ok := ix.byKey[recs[j].Key]; ok {
				ix.Delete(recs[j].Key)
				deleted = append(deleted, j)
			}
		}
		if len(deleted) > 0 && rng.IntN(10) == 0 {
			ix.Put(recs[deleted[0]])
			deleted = deleted[1:]
		}
	}
	for _, j := range deleted {
		ix.Put(recs[j])
	}
	return ix
}

// TestOrderIndependence: the same set of records, inserted in 100 random
// orders with replacements and deletions, gives identical Pairs(), with
// the default block limit and with a tiny one that splits blocks all the
// time.
func TestOrderIndependence(t *testing.T) {
	recs := synthRecordsNoise(t, 2500, 7, 0.3)
	for _, cfg := range []Config{DefaultConfig(), {Threshold: DefaultThreshold, MaxBlock: 2}} {
		t.Run(fmt.Sprint("maxblock=", cfg.MaxBlock), func(t *testing.T) {
			ref := build(cfg, recs)
			want, st := ref.Pairs(), ref.Stats()
			if len(want) < 100 || cfg.MaxBlock == 2 && st.Oversized == 0 {
				t.Fatalf("%v: the test needs more pairs, or blocks over the limit", st)
			}
			for seed := range uint64(100) {
				ix := churn(cfg, recs, rand.New(rand.NewPCG(seed, 1)))
				checkInvariants(t, ix)
				if got := ix.Pairs(); !reflect.DeepEqual(got, want) {
					t.Fatalf("order %d: %d pairs, want %d; first difference %s", seed, len(got), len(want), firstDiff(got, want))
				}
			}
			t.Logf("identical in 100 orders: %v", st)
		})
	}
}

func firstDiff(got, want []Pair) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("got %v, want %v", got[i], want[i])
		}
	}
	return "in length"
}

// TestBlockingLosesNothing compares the Index with the quadratic oracle
// (the score of every two records): blocking must not lose a pair the
// scoring accepts. It also checks what the Index relies on: the evidence
// is symmetric, and never above idBound.
func TestBlockingLosesNothing(t *testing.T) {
	recs := synthRecordsNoise(t, 1500, 3, 0.3)
	profiles := make([]*profile, len(recs))
	for i := range recs {
		profiles[i] = newProfile(&recs[i])
	}
	var want []Pair
	for i, a := range profiles {
		for _, b := range profiles[i+1:] {
			p := scorePair(a, b)
			if pts, rs := evidence(b, a); pts != p.Points || !slices.Equal(rs.codes(), p.Reasons) {
				t.Fatalf("asymmetric evidence: %v, reversed %+d %v", p, pts, rs.codes())
			}
			if bound := idBound(a, b); p.Points > bound {
				t.Fatalf("%v: over the bound %+d", p, bound)
			}
			if p.Score >= DefaultThreshold {
				want = append(want, p)
			}
		}
	}
	sortPairs(want)
	got := build(DefaultConfig(), recs).Pairs()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("index %d pairs, oracle %d; first difference %s", len(got), len(want), firstDiff(got, want))
	}
	t.Logf("%d records: %d pairs, as the oracle", len(recs), len(got))
}

// TestDeleteAll: deleting every record in a random order leaves nothing
// behind; putting them back gives the same pairs.
func TestDeleteAll(t *testing.T) {
	recs := synthRecordsNoise(t, 1500, 5, 0.3)
	for _, cfg := range []Config{DefaultConfig(), {Threshold: DefaultThreshold, MaxBlock: 2}} {
		ix := build(cfg, recs)
		want := ix.Pairs()
		rng := rand.New(rand.NewPCG(1, 2))
		for _, i := range rng.Perm(len(recs)) {
			ix.Delete(recs[i].Key)
			ix.Delete(recs[i].Key) // twice: a no-op
		}
		checkInvariants(t, ix)
		if ix.Len() != 0 || len(ix.pairs) != 0 || len(ix.blocks) != 0 || len(ix.byID.heads) != 0 || len(ix.byID.tails) != 0 {
			t.Fatalf("after deleting all: %d records, %d pairs, %d blocks, %d ID heads", ix.Len(), len(ix.pairs), len(ix.blocks), len(ix.byID.heads))
		}
		for _, i := range rng.Perm(len(recs)) {
			ix.Put(recs[i])
		}
		if got := ix.Pairs(); !reflect.DeepEqual(got, want) {
			t.Fatalf("maxblock %d: after re-putting: %d pairs, want %d", cfg.MaxBlock, len(got), len(want))
		}
	}
}

// TestPairsOf: PairsOf(key) is Pairs() restricted to key.
func TestPairsOf(t *testing.T) {
	recs := synthRecordsNoise(t, 1000, 9, 0.3)
	ix := build(DefaultConfig(), recs)
	all := ix.Pairs()
	for _, r := range recs {
		var want []Pair
		for _, p := range all {
			if p.A == r.Key || p.B == r.Key {
				want = append(want, p)
			}
		}
		if got := ix.PairsOf(r.Key); !reflect.DeepEqual(got, want) {
			t.Fatalf("PairsOf(%s) = %v, want %v", r.Key, got, want)
		}
	}
	if ix.PairsOf("nobody") != nil {
		t.Fatal("PairsOf of an unknown key")
	}
}

// TestBlockCap: a block over MaxBlock is split by the finer key; records
// whose finest block is still too big meet no one in that family, are
// counted, and meet again once the block shrinks.
func TestBlockCap(t *testing.T) {
	cfg := Config{Threshold: DefaultThreshold, MaxBlock: 4}
	var recs []Record
	for i := range 5 { // five provisional captures of one man: every block the same
		e := with(noID)
		r := record(e)
		r.Key = fmt.Sprintf("prov:%d", i)
		recs = append(recs, *r)
	}
	ix := build(cfg, recs)
	st := ix.Stats()
	if len(ix.Pairs()) != 0 || st.Oversized == 0 || st.Skipped["name-middle-year"] != 5 {
		t.Fatalf("5 identical records, limit 4: want no pair and 5 skipped, got %d pairs, %v", len(ix.Pairs()), st)
	}
	ix.Delete("prov:4")
	if got := len(ix.Pairs()); got != 6 { // 4 choose 2
		t.Fatalf("4 identical records, limit 4: %d pairs, want 6", got)
	}
	// Ten records of one name, year and hometown with different dates of
	// birth: the name blocks split by day/month, and no one is skipped
	// there (they all have the same parents, whose block has no finer key).
	ix = NewIndex(cfg)
	for i := range 10 {
		e := with(noID, func(e *enrollment.Enrollment) { e.DateOfBirth.Day = 1 + i })
		r := record(e)
		r.Key = fmt.Sprintf("prov:%02d", i)
		ix.Put(*r)
	}
	checkInvariants(t, ix)
	if st := ix.Stats(); st.Oversized == 0 || st.Skipped["name-middle-year"]+st.Skipped["name-year-hometown"] != 0 {
		t.Fatalf("ten namesakes: want split blocks, none skipped: %v", st)
	}
}

// checkInvariants verifies the block structure against its definition:
// every record is in its level-0 block of each family, and in its level
// l+1 block exactly when its level-l block is over the limit; no block is
// empty; pairs and partner lists agree.
func checkInvariants(t *testing.T, ix *Index) {
	t.Helper()
	want := map[uint64][]int32{}
	for s, e := range ix.slots {
		if e == nil {
			continue
		}
		chains := chainsOf(e)
		for f := range numFamilies {
			c := chains[f]
			for l := 0; l < int(c.n); l++ {
				want[c.keys[l]] = append(want[c.keys[l]], int32(s))
				if len(ix.blocks[c.keys[l]]) <= ix.cfg.MaxBlock {
					break
				}
			}
		}
	}
	if len(want) != len(ix.blocks) {
		t.Fatalf("%d blocks, want %d", len(ix.blocks), len(want))
	}
	for k, w := range want {
		got := slices.Sorted(slices.Values(ix.blocks[k]))
		if !slices.Equal(got, w) {
			t.Fatalf("block %x: members %v, want %v", k, got, w)
		}
	}
	n := 0
	for s, e := range ix.slots {
		if e == nil {
			continue
		}
		for _, o := range e.partners {
			if ix.pairs[newPairKey(int32(s), o)] == nil {
				t.Fatalf("slot %d lists partner %d without a pair", s, o)
			}
			n++
		}
	}
	if n != 2*len(ix.pairs) {
		t.Fatalf("%d partner entries for %d pairs", n, len(ix.pairs))
	}
}

// TestIDTableNeighbours checks the ID lookup against brute force: the
// neighbours of a number are exactly the numbers equal or one
// substitution or adjacent swap away, including swaps across the
// head/tail split.
func TestIDTableNeighbours(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ids []string
	for range 300 {
		id := fmt.Sprintf("04%d%d%02d%06d", 1+rng.IntN(2), rng.IntN(4), rng.IntN(100), rng.IntN(1_000_000))
		ids = append(ids, id)
		for range 5 { // plant some neighbours: a substitution or a swap anywhere
			b := []byte(id)
			i := rng.IntN(len(b) - 1)
			if rng.IntN(2) == 0 {
				b[i] = byte('0' + rng.IntN(10))
			} else {
				b[i], b[i+1] = b[i+1], b[i]
			}
			ids = append(ids, string(b))
		}
	}
	tab := newIDTable()
	for s, id := range ids {
		tab.add(idNumber(id), int32(s))
	}
	for s, id := range ids {
		var got []int32
		tab.neighbours(idNumber(id), func(t int32) { got = append(got, t) })
		slices.Sort(got)
		var want []int32
		for u, other := range ids {
			if other == id || idNeighbours(toDigits(id), toDigits(other)) {
				want = append(want, int32(u))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("neighbours of %s (slot %d): %v, want %v", id, s, got, want)
		}
	}
	for s, id := range ids {
		tab.remove(idNumber(id), int32(s))
	}
	if len(tab.heads) != 0 || len(tab.tails) != 0 {
		t.Fatal("table not empty after removing everything")
	}
}
