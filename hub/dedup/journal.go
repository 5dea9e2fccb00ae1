package dedup

import (
	"slices"
	"strings"
)

// The journal tells a caller that keeps the pairs elsewhere (the hub's
// view stores them) which pairs to store or drop: Changes lists, since its
// last call, every pair proposed or re-judged and every pair withdrawn —
// including the knock-on of the better-match exclusion (a new pair of one
// twin's record can withdraw its pair with the other twin). What it
// reports is a function of the calls' outcomes, not of their order:
// Changes compares the pairs now with the pairs it last reported.

// Change is a pair as Changes reports it.
type Change struct {
	Pair
	Withdrawn bool
}

// published is what Changes last reported of a pair.
type published struct {
	points int32
	pat    pattern
	model  string
}

// journal is the state of KeepJournal.
type journal struct {
	touched  map[string]bool // citizens whose raw pairs changed since Changes
	touchAll bool            // every citizen (a model change, a Load)
	reported map[[2]string]published
	by       map[string][]string // citizen → partners in reported
}

// KeepJournal makes the Index record what Changes reports. Call it on an
// empty Index (or before Load).
func (ix *Index) KeepJournal() {
	if ix.journal == nil {
		ix.journal = &journal{touched: map[string]bool{}, reported: map[[2]string]published{}, by: map[string][]string{}}
	}
}

// reportedAtLoad takes a stored pair as reported: as its Extra says it
// was judged (a zero judgement when it does not decode, so that it is
// reported again or withdrawn). Its keys are touched by Load.
func (j *journal) reportedAtLoad(sp StoredPair) {
	ab := [2]string{min(sp.A, sp.B), max(sp.A, sp.B)}
	if _, dup := j.reported[ab]; dup || ab[0] == ab[1] {
		return
	}
	var pub published
	if x, err := DecodeExtra(sp.Extra); err == nil {
		pub = published{x.Points16, x.pat, x.Model}
	}
	j.reported[ab] = pub
	j.by[ab[0]] = append(j.by[ab[0]], ab[1])
	j.by[ab[1]] = append(j.by[ab[1]], ab[0])
	j.touched[ab[0]], j.touched[ab[1]] = true, true
}

func (ix *Index) touch(key string) {
	if ix.journal != nil {
		ix.journal.touched[key] = true
	}
}

func (ix *Index) touchPair(k pairKey) {
	if ix.journal != nil {
		ix.journal.touched[ix.keyOfSlot(k.lo)] = true
		ix.journal.touched[ix.keyOfSlot(k.hi)] = true
	}
}

// Changes returns the pairs proposed or re-judged (Withdrawn false) and
// withdrawn (Withdrawn true) since the last call, sorted by (A, B). With
// no journal kept it returns nil.
func (ix *Index) Changes() []Change {
	j := ix.journal
	if j == nil {
		return nil
	}
	var keys []string
	if j.touchAll {
		for s := range ix.slots() {
			if ix.prof(s).flags != 0 {
				keys = append(keys, ix.keyOfSlot(s))
			}
		}
		for k := range j.by {
			keys = append(keys, k)
		}
	} else {
		for k := range j.touched {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	partnersOf := ix.partnersNear()
	changed := map[[2]string]Change{}
	for _, k := range keys {
		partners := slices.Clone(j.by[k])
		if s, ok := ix.slotOf(k); ok {
			for _, p := range partnersOf(s) {
				partners = append(partners, ix.keyOfSlot(p.slot))
			}
		}
		for _, o := range partners {
			ab := [2]string{min(k, o), max(k, o)}
			if _, done := changed[ab]; done {
				continue
			}
			cur, present := ix.currentPair(ab, partnersOf)
			prev, was := j.reported[ab]
			switch {
			case present && (!was || prev != published{cur.Points16, cur.pat.known(), cur.Model}):
				changed[ab] = Change{Pair: cur.Pair}
				if !was {
					j.by[ab[0]] = append(j.by[ab[0]], ab[1])
					j.by[ab[1]] = append(j.by[ab[1]], ab[0])
				}
				j.reported[ab] = published{cur.Points16, cur.pat.known(), cur.Model}
			case !present && was:
				changed[ab] = Change{Pair: Pair{A: ab[0], B: ab[1]}, Withdrawn: true}
				delete(j.reported, ab)
				j.by[ab[0]] = removeKey(j.by[ab[0]], ab[1])
				j.by[ab[1]] = removeKey(j.by[ab[1]], ab[0])
				if len(j.by[ab[0]]) == 0 {
					delete(j.by, ab[0])
				}
				if len(j.by[ab[1]]) == 0 {
					delete(j.by, ab[1])
				}
			}
		}
	}
	clear(j.touched)
	j.touchAll = false
	out := make([]Change, 0, len(changed))
	for _, c := range changed {
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y Change) int {
		if c := strings.Compare(x.A, y.A); c != 0 {
			return c
		}
		return strings.Compare(x.B, y.B)
	})
	return out
}

// pairNow is a pair as it stands, with its pattern.
type pairNow struct {
	Pair
	pat pattern
}

// currentPair returns the pair of two citizens if it is proposed now.
func (ix *Index) currentPair(ab [2]string, partnersOf func(int32) []partner) (pairNow, bool) {
	s, okA := ix.slotOf(ab[0])
	t, okB := ix.slotOf(ab[1])
	if !okA || !okB {
		return pairNow{}, false
	}
	k := newPairKey(s, t)
	rp, ok := ix.pairs[k]
	if !ok || ix.excludedBy(k, rp, partnersOf) {
		return pairNow{}, false
	}
	return pairNow{ix.pairOf(k, rp), rp.pat}, true
}

func removeKey(ks []string, k string) []string {
	if i := slices.Index(ks, k); i >= 0 {
		ks[i] = ks[len(ks)-1]
		return ks[:len(ks)-1]
	}
	return ks
}
