package dedup

import (
	"iter"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// view applies Changes to a map, as the hub's view stores pairs.
type view map[[2]string]Pair

func (v view) apply(cs []Change) {
	for _, c := range cs {
		if c.Withdrawn {
			delete(v, [2]string{c.A, c.B})
		} else {
			v[[2]string{c.A, c.B}] = c.Pair
		}
	}
}

func (v view) pairs() []Pair {
	out := make([]Pair, 0, len(v))
	for _, p := range v {
		out = append(out, p)
	}
	sortPairs(out)
	return out
}

// TestChangesKeepAViewInStep: a view that only applies Changes after each
// call holds exactly Pairs(), through random puts, replaced versions,
// deletions and a model change.
func TestChangesKeepAViewInStep(t *testing.T) {
	recs := synthRecordsNoise(t, 1500, 11, 0.3)
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 3))
		ix := NewIndex(DefaultConfig())
		ix.KeepJournal()
		v := view{}
		for i, j := range rng.Perm(len(recs)) {
			if rng.IntN(10) == 0 {
				ix.Put(decoy(recs[j], recs[rng.IntN(len(recs))]))
				if rng.IntN(2) == 0 {
					v.apply(ix.Changes())
				}
			}
			ix.Put(recs[j])
			if rng.IntN(15) == 0 {
				ix.Delete(recs[rng.IntN(len(recs))].Key)
			}
			if i%7 == 0 {
				v.apply(ix.Changes())
			}
		}
		v.apply(ix.Changes())
		if got, want := v.pairs(), ix.Pairs(); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: the view holds %d pairs, Pairs() %d; %s", seed, len(got), len(want), firstDiff(got, want))
		}
		ix.SetModel(TextbookModel())
		v.apply(ix.Changes())
		if got, want := v.pairs(), ix.Pairs(); !reflect.DeepEqual(got, want) || len(want) == 0 {
			t.Fatalf("seed %d, after a model change: the view holds %d pairs, Pairs() %d", seed, len(got), len(want))
		}
		if cs := ix.Changes(); len(cs) != 0 {
			t.Fatalf("seed %d: %d changes with nothing done", seed, len(cs))
		}
	}
}

// TestLoadIsPut: an Index loaded from stored profiles and its pairs is the
// Index putting the citizens built: same pairs now, and the same pairs
// after the same further calls (which re-read the blocks Load built).
func TestLoadIsPut(t *testing.T) {
	recs := synthRecordsNoise(t, 2000, 13, 0.3)
	for _, cfg := range []Config{DefaultConfig(), {MaxBlock: 3}} {
		put := build(cfg, recs[:1600])
		want := put.Pairs()
		stored := map[string]Stored{}
		for _, r := range recs[:1600] {
			stored[r.Key] = Stored{Profile: EncodeProfile(&r), Region: r.Region}
		}
		loaded := NewIndex(cfg)
		loaded.KeepJournal()
		err := loaded.Load(func(yield func(string, Stored) bool) {
			for _, r := range recs[:1600] { // in the view's order, not the puts'
				if !yield(r.Key, stored[r.Key]) {
					return
				}
			}
		}, storedPairs(want))
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, loaded)
		if got := loaded.Pairs(); !reflect.DeepEqual(got, want) || len(want) < 50 {
			t.Fatalf("maxblock %d: loaded %d pairs, put %d; %s", cfg.MaxBlock, len(got), len(want), firstDiff(got, want))
		}
		if got := loaded.Changes(); len(got) != 0 {
			t.Fatalf("maxblock %d: Changes after Load reports %d pairs, want none (the view holds them): %v", cfg.MaxBlock, len(got), got[0])
		}
		for i, r := range recs[1600:] {
			put.Put(r)
			loaded.Put(r)
			if i%3 == 0 {
				put.Delete(recs[i].Key)
				loaded.Delete(recs[i].Key)
			}
		}
		if got, want := loaded.Pairs(), put.Pairs(); !reflect.DeepEqual(got, want) {
			t.Fatalf("maxblock %d: after more calls, loaded %d pairs, put %d; %s", cfg.MaxBlock, len(got), len(want), firstDiff(got, want))
		}
	}
}

func storedPairs(ps []Pair) iter.Seq[StoredPair] {
	return func(yield func(StoredPair) bool) {
		for _, p := range ps {
			if !yield(StoredPair{A: p.A, B: p.B, Extra: p.Extra}) {
				return
			}
		}
	}
}

// TestLoadReportsWhatTheViewLacks: Load from a view out of step (a pair
// that does not hold, a pair stored as another model judged it, an Extra
// that does not decode) reports exactly what puts the view right. (A pair
// missing from the view with both its citizens in no stored pair is not
// found: finding it would mean comparing everyone, which Load is there to
// avoid.)
func TestLoadReportsWhatTheViewLacks(t *testing.T) {
	recs := synthRecordsNoise(t, 1500, 29, 0.3)
	put := build(DefaultConfig(), recs)
	want := put.Pairs()
	if len(want) < 10 {
		t.Fatalf("only %d pairs", len(want))
	}
	stale := slices.Clone(want)
	stale[0].Extra = []byte{9} // does not decode
	other := put.pairOf(mustKey(t, put, stale[1]), rawPair{points: stale[1].Points16 + 16, pat: mustPat(t, stale[1])})
	stale[1].Extra = other.Extra // judged otherwise
	bogus := Pair{A: recs[0].Key, B: recs[1].Key}
	if recs[1].Key < recs[0].Key {
		bogus.A, bogus.B = bogus.B, bogus.A
	}
	if _, proposed, _ := put.Compare(bogus.A, bogus.B); proposed {
		t.Fatal("the bogus pair is proposed")
	}
	stale = append(stale, bogus)
	loaded := NewIndex(DefaultConfig())
	loaded.KeepJournal()
	err := loaded.Load(func(yield func(string, Stored) bool) {
		for _, r := range recs {
			if !yield(r.Key, Stored{Profile: EncodeProfile(&r), Region: r.Region}) {
				return
			}
		}
	}, storedPairs(stale))
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]bool{}
	for _, c := range loaded.Changes() {
		got[[2]string{c.A, c.B}] = c.Withdrawn
	}
	wantCh := map[[2]string]bool{{stale[0].A, stale[0].B}: false,
		{stale[1].A, stale[1].B}: false, {bogus.A, bogus.B}: true}
	if !reflect.DeepEqual(got, wantCh) {
		t.Fatalf("changes after Load %v, want %v", got, wantCh)
	}
}

func mustKey(t *testing.T, ix *Index, p Pair) pairKey {
	s, ok1 := ix.slotOf(p.A)
	u, ok2 := ix.slotOf(p.B)
	if !ok1 || !ok2 {
		t.Fatal("unknown key")
	}
	return newPairKey(s, u)
}

func mustPat(t *testing.T, p Pair) pattern {
	x, err := DecodeExtra(p.Extra)
	if err != nil {
		t.Fatal(err)
	}
	return x.pat
}

// TestProfileRoundTrip: PutProfile of EncodeProfile is Put; a damaged
// profile is refused, never half-indexed.
func TestProfileRoundTrip(t *testing.T) {
	recs := synthRecordsNoise(t, 800, 17, 0.3)
	a, b := NewIndex(DefaultConfig()), NewIndex(DefaultConfig())
	for _, r := range recs {
		a.Put(r)
		if err := b.PutProfile(r.Key, EncodeProfile(&r), r.Region); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := b.Pairs(), a.Pairs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("PutProfile: %d pairs, Put %d", len(got), len(want))
	}
	p := EncodeProfile(&recs[0])
	for _, bad := range [][]byte{nil, {9}, p[:len(p)-1], append(append([]byte(nil), p...), 0)} {
		if err := b.PutProfile("x", bad, ""); err == nil {
			t.Errorf("profile %x accepted", bad)
		}
	}
	if _, ok := b.slotOf("x"); ok {
		t.Error("a refused profile was indexed")
	}
}
