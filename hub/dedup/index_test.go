package dedup

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"fieldsync/enrollment"
)

var orders = flag.Int("dedup.orders", 1000, "orders of arrival in TestOrderIndependence")

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
	return Record{Key: r.Key, Enrollment: &e, Keys: enrollment.Keys(&e), Region: "decoy"}
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
			if _, ok := ix.slotOf(recs[j].Key); ok {
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

// TestOrderIndependence: the same set of records, put in 1,000 random
// orders with replaced versions and deletions along the way, gives the
// same learnt model (byte for byte) and the same pairs, under the default
// block limit; and the same pairs with a limit of 2 that splits blocks
// all the time (100 orders). With -short, 20 orders each.
func TestOrderIndependence(t *testing.T) {
	recs := synthRecordsNoise(t, 700, 7, 0.35)
	tc := TrainConfig{RandomPairs: 10000, Iterations: 20}
	for _, cfg := range []Config{DefaultConfig(), {MaxBlock: 2}} {
		t.Run(fmt.Sprint("maxblock=", cfg.MaxBlock), func(t *testing.T) {
			ref := build(cfg, recs)
			model, err := ref.Train(tc)
			if err != nil {
				t.Fatal(err)
			}
			ref.SetModel(model)
			want, st := ref.Pairs(), ref.Stats()
			if len(want) < 60 || cfg.MaxBlock == 2 && st.Oversized == 0 {
				t.Fatalf("%v: the test needs more pairs, or blocks over the limit", st)
			}
			n := *orders
			if cfg.MaxBlock == 2 {
				n = min(n, 100)
			}
			if testing.Short() { // the race step: the same check, fewer orders
				n = min(n, 20)
			}
			for seed := range uint64(n) {
				ix := churn(cfg, recs, rand.New(rand.NewPCG(seed, 1)))
				checkInvariants(t, ix)
				m, err := ix.Train(tc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(m.Encode(), model.Encode()) {
					t.Fatalf("order %d: model %s, want %s", seed, m.ID(), model.ID())
				}
				ix.SetModel(m)
				if got := ix.Pairs(); !reflect.DeepEqual(got, want) {
					t.Fatalf("order %d: %d pairs, want %d; first difference %s", seed, len(got), len(want), firstDiff(got, want))
				}
			}
			t.Logf("model %s and %d pairs identical in %d orders: %v", model.ID(), len(want), n, st)
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

// TestBlockingRecall compares the Index with the quadratic oracle (every
// two records compared): blocking may lose a pair the model would accept
// only when both blocking keys of every family are broken (two errors in
// the key fields); it must find nearly all of them. It also checks the
// symmetry the Index relies on.
func TestBlockingRecall(t *testing.T) {
	recs := synthRecordsNoise(t, 1500, 3, 0.3)
	ix := build(DefaultConfig(), recs)
	slots := make([]int32, len(recs))
	for i, r := range recs {
		slots[i], _ = ix.slotOf(r.Key)
	}
	oracle, lost := 0, 0
	for i, s := range slots {
		for _, u := range slots[i+1:] {
			x, y := ix.prof(s), ix.prof(u)
			p, q := ix.cmp.compare(x, y), ix.cmp.compare(y, x)
			if p != q {
				t.Fatalf("asymmetric comparison %s/%s: %x, reversed %x", ix.keyOfSlot(s), ix.keyOfSlot(u), p, q)
			}
			a, b := ix.ordered(s, u)
			pts := ix.model.points(p, ix.prof(a), ix.toks)
			if pts != ix.model.points(p, ix.prof(b), ix.toks) {
				t.Fatalf("points depend on the side: %s/%s", ix.keyOfSlot(s), ix.keyOfSlot(u))
			}
			if pts < ix.model.ThresholdW16 || hardRule(x, y, p) != ruleNone {
				continue
			}
			oracle++
			if _, ok := ix.pairs[newPairKey(s, u)]; !ok {
				lost++
				pr, _, _ := ix.Compare(ix.keyOfSlot(s), ix.keyOfSlot(u))
				t.Logf("lost by blocking: %v", pr)
			}
		}
	}
	t.Logf("%d records: the oracle accepts %d pairs, blocking loses %d", len(recs), oracle, lost)
	if oracle < 100 || float64(lost) > 0.02*float64(oracle) {
		t.Fatalf("blocking loses %d of %d pairs the model accepts", lost, oracle)
	}
}

// TestDeleteAll: deleting every record in a random order leaves nothing
// behind; putting them back gives the same pairs.
func TestDeleteAll(t *testing.T) {
	recs := synthRecordsNoise(t, 1500, 5, 0.3)
	for _, cfg := range []Config{DefaultConfig(), {MaxBlock: 2}} {
		ix := build(cfg, recs)
		want := ix.Pairs()
		rng := rand.New(rand.NewPCG(1, 2))
		for _, i := range rng.Perm(len(recs)) {
			ix.Delete(recs[i].Key)
			ix.Delete(recs[i].Key) // twice: a no-op
		}
		checkInvariants(t, ix)
		blocks := 0
		for _, tb := range ix.blocks {
			blocks += tb.n
		}
		if ix.Len() != 0 || len(ix.pairs) != 0 || blocks != 0 || ix.byID.n != 0 || ix.byTail.n != 0 || len(ix.otherKeys) != 0 {
			t.Fatalf("after deleting all: %d records, %d pairs, %d block entries, %d ID entries", ix.Len(), len(ix.pairs), blocks, ix.byID.n)
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

// checkInvariants verifies the block structure against its definition:
// every record is in its level-0 block of each family, and in its level
// l+1 block exactly when its level-l block is over the limit; and every
// pair is between candidates.
func checkInvariants(t *testing.T, ix *Index) {
	t.Helper()
	want := make([]map[uint32][]int32, numFamilies)
	for f := range want {
		want[f] = map[uint32][]int32{}
	}
	for s := range ix.slots() {
		if ix.prof(s).flags == 0 {
			continue
		}
		chains := ix.keyChains(ix.prof(s))
		for f := range numFamilies {
			c := chains[f]
			for l := 0; l < int(c.n); l++ {
				want[f][c.keys[l]] = append(want[f][c.keys[l]], int32(s))
				if ix.blocks[f].count(c.keys[l]) <= ix.cfg.MaxBlock {
					break
				}
			}
		}
	}
	for f := range numFamilies {
		n := 0
		ix.blocks[f].keys(func(k uint32, count int) {
			n++
			got := ix.blocks[f].appendSlots(nil, k)
			w := want[f][k]
			slices.Sort(w)
			if !slices.Equal(got, w) {
				t.Fatalf("family %s block %x: members %v, want %v", familyNames[f], k, got, w)
			}
		})
		if n != len(want[f]) {
			t.Fatalf("family %s: %d blocks, want %d", familyNames[f], n, len(want[f]))
		}
	}
	for k := range ix.pairs {
		if !ix.candidates(k.lo, k.hi) {
			t.Fatalf("pair %s/%s is not between candidates", ix.keyOfSlot(k.lo), ix.keyOfSlot(k.hi))
		}
	}
}

// TestIDNeighbours checks the ID lookup against brute force: the
// neighbours of a number are exactly the numbers equal or one
// substitution or adjacent swap away, including swaps across the
// head/tail split.
func TestIDNeighbours(t *testing.T) {
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
	ix := NewIndex(DefaultConfig())
	for i, id := range ids {
		e := enrollment.Enrollment{PersonalID: id, FullName: fmt.Sprintf("Người %d", i)}
		ix.Put(Record{Key: fmt.Sprintf("k%04d", i), Enrollment: &e, Keys: enrollment.Keys(&e)})
	}
	for i, id := range ids {
		s, _ := ix.slotOf(fmt.Sprintf("k%04d", i))
		var got []int32
		ix.idNeighbours(s, func(t int32) { got = append(got, t) })
		slices.Sort(got)
		got = slices.Compact(got)
		var want []int32
		for j, other := range ids {
			if j != i && (other == id || oneTypoApart(idNumber(id), idNumber(other))) {
				u, _ := ix.slotOf(fmt.Sprintf("k%04d", j))
				want = append(want, u)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("neighbours of %s: %v, want %v", id, got, want)
		}
	}
}
