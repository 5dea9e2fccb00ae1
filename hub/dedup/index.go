package dedup

import (
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// Index holds the current citizens of a hub's view and their probable
// duplicate pairs, maintained incrementally: Put and Delete re-score only
// the pairs whose blocks they change. What it outputs (Pairs, PairsOf,
// Stats except Comparisons, Train) is a function of the set of records
// present and the model, whatever the order of calls. It is not safe for
// concurrent use.
type Index struct {
	cfg   Config
	model *Model
	toks  *tokenTable
	cmp   comparer

	pages     [][]profile // profiles by slot, in pages of pageSize; flags 0 when free
	nslots    int32
	free      []int32
	live      int
	byID      *slotTable       // idKey → slots with an ID number
	byTail    *slotTable       // tailKey → slots with an ID number
	idFilter  idFilter         // which ID numbers may be held: most of a number's 60 neighbours are not
	otherKeys map[string]int32 // citizen keys that are not the record's own ID number
	keyOf     map[int32]string // slot → such a key
	blocks    [numFamilies]*slotTable
	pairs     map[pairKey]rawPair // candidates that pass the threshold and no rule

	regions   []string
	regionNum map[string]uint16
	cache     derived

	journal  *journal   // what Changes reports, when kept (journal.go)
	work     []workItem // scratch: pairs to re-decide
	resplit  bool       // a block crossed MaxBlock during this call: "meet" is stale
	compares int64
}

// rawPair is a pair as decided: its points and comparison vector.
type rawPair struct {
	points int32
	pat    pattern
}

// pairKey is a pair of slots, lo < hi.
type pairKey struct{ lo, hi int32 }

func newPairKey(x, y int32) pairKey {
	if y < x {
		x, y = y, x
	}
	return pairKey{x, y}
}

// workItem is a pair to re-decide; meet says it was queued from a shared
// effective block or as ID neighbours, so it is a candidate pair unless a
// block was split or merged later in the same call.
type workItem struct {
	k    pairKey
	meet bool
}

// NewIndex returns an empty Index. Zero fields of cfg take their defaults;
// it panics on a cfg that Config.Validate rejects (a programming error).
func NewIndex(cfg Config) *Index {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	ix := &Index{cfg: cfg, model: cfg.Model, toks: newTokenTable(), byID: newSlotTable(), byTail: newSlotTable(),
		otherKeys: map[string]int32{}, keyOf: map[int32]string{}, pairs: map[pairKey]rawPair{},
		regionNum: map[string]uint16{"": 0}, regions: []string{""}, cache: derived{}}
	ix.cmp = comparer{ix.toks}
	for f := range ix.blocks {
		ix.blocks[f] = newSlotTable()
	}
	return ix
}

// Len returns the number of records.
func (ix *Index) Len() int { return ix.live }

// Model returns the model judging the pairs.
func (ix *Index) Model() *Model { return ix.model }

// regionNumber interns a region (a few hundred districts at most; more
// distinct regions share the last number and lose their name).
func (ix *Index) regionNumber(r string) uint16 {
	if n, ok := ix.regionNum[r]; ok {
		return n
	}
	if len(ix.regions) >= 1<<16-1 {
		return uint16(len(ix.regions) - 1)
	}
	n := uint16(len(ix.regions))
	ix.regions = append(ix.regions, r)
	ix.regionNum[r] = n
	return n
}

// Put adds r, or replaces the record with the same Key. r.Keys must be
// enrollment.Keys(r.Enrollment). Put keeps no reference to r.
func (ix *Index) Put(r Record) {
	if _, ok := ix.slotOf(r.Key); ok {
		ix.Delete(r.Key)
	}
	ix.put(r.Key, ix.makeProfile(&r))
}

// put adds a citizen (its key not present) with profile p.
func (ix *Index) put(key string, p profile) {
	if _, ok := ix.slotOf(key); ok {
		ix.Delete(key)
	}
	s := ix.alloc(p)
	ix.touch(key)
	if p.flags&flagKeyIsID == 0 {
		ix.otherKeys[key] = s
		ix.keyOf[s] = key
	}
	ix.work = ix.work[:0]
	if p.id != 0 {
		ix.addID(p.id, s)
		ix.idNeighbours(s, func(t int32) { ix.work = append(ix.work, workItem{newPairKey(s, t), true}) })
	}
	chains := ix.keyChains(ix.prof(s))
	for f := range numFamilies {
		if chains[f].n > 0 {
			ix.add(s, &chains[f], f, 0)
		}
	}
	ix.rescore()
}

// Delete removes the record with key, if any, and its pairs.
func (ix *Index) Delete(key string) {
	s, ok := ix.slotOf(key)
	if !ok {
		return
	}
	ix.touch(key)
	ix.eachCandidate(s, func(t int32) { ix.unpair(newPairKey(s, t)) })
	p := ix.prof(s)
	if p.id != 0 {
		ix.byID.remove(idKey(p.id), s)
		ix.byTail.remove(tailKey(p.id), s)
	}
	ix.work = ix.work[:0]
	chains := ix.keyChains(p)
	for f := range numFamilies {
		if chains[f].n > 0 {
			ix.remove(s, &chains[f], f, 0)
		}
	}
	if p.flags&flagKeyIsID == 0 {
		delete(ix.otherKeys, key)
		delete(ix.keyOf, s)
	}
	*ix.prof(s) = profile{}
	ix.free = append(ix.free, s)
	ix.live--
	ix.rescore()
}

// slotOf finds the slot of a citizen key.
func (ix *Index) slotOf(key string) (int32, bool) {
	if s, ok := ix.otherKeys[key]; ok {
		return s, true
	}
	if !isIDDigits(key) {
		return 0, false
	}
	v := idNumber(key)
	found, slot := false, int32(0)
	ix.byID.each(idKey(v), func(t int32) {
		if p := ix.prof(t); p.id == v && p.flags&flagKeyIsID != 0 {
			found, slot = true, t
		}
	})
	return slot, found
}

// keyOfSlot returns the citizen key of slot s.
func (ix *Index) keyOfSlot(s int32) string {
	if p := ix.prof(s); p.flags&flagKeyIsID != 0 {
		return formatID(p.id)
	}
	return ix.keyOf[s]
}

func (ix *Index) alloc(p profile) int32 {
	ix.live++
	if n := len(ix.free); n > 0 {
		s := ix.free[n-1]
		ix.free = ix.free[:n-1]
		*ix.prof(s) = p
		return s
	}
	if int(ix.nslots) >= MaxRecords {
		panic("dedup: index full")
	}
	s := ix.nslots
	if int(s)%pageSize == 0 {
		ix.pages = append(ix.pages, make([]profile, pageSize))
	}
	ix.nslots++
	*ix.prof(s) = p
	return s
}

// Profiles live in fixed pages: no slice of all of them is ever copied
// to grow (a 10-million-citizen index would hold twice its profiles for a
// moment), and no more than a page is allocated ahead.
const pageSize = 1 << 14

// prof returns slot s's profile.
func (ix *Index) prof(s int32) *profile { return &ix.pages[s/pageSize][s%pageSize] }

// slots ranges over every slot ever allocated (free ones have flags 0).
func (ix *Index) slots() func(func(int32) bool) {
	return func(yield func(int32) bool) {
		for s := int32(0); s < ix.nslots; s++ {
			if !yield(s) {
				return
			}
		}
	}
}

// idNeighbours calls f with every other record whose ID number is equal to
// s's or one typo away.
func (ix *Index) idNeighbours(s int32, f func(int32)) {
	v := ix.prof(s).id
	check := func(t int32) {
		if t != s {
			if u := ix.prof(t).id; u == v || oneTypoApart(u, v) {
				f(t)
			}
		}
	}
	ix.byID.each(idKey(v), check)
	idVariants(v, func(u uint64) {
		if ix.idFilter.mayHold(u) {
			ix.byID.each(idKey(u), check)
		}
	})
	head := v / idTailMod
	ix.byTail.each(tailKey(v), func(t int32) {
		if ix.prof(t).id/idTailMod != head {
			check(t)
		}
	})
}

// addID indexes slot s under its ID number v.
func (ix *Index) addID(v uint64, s int32) {
	ix.byID.add(idKey(v), s)
	ix.byTail.add(tailKey(v), s)
	if ix.byID.n > 8*len(ix.idFilter) { // under 8 bits per number: rebuild twice as big
		ix.idFilter = make(idFilter, max(1024, 2*len(ix.idFilter)))
		for t := range ix.slots() {
			if id := ix.prof(t).id; id != 0 && ix.prof(t).flags != 0 {
				ix.idFilter.add(id)
			}
		}
	}
	ix.idFilter.add(v)
}

// idFilter is a one-hash Bloom filter of the ID numbers held (bits never
// cleared: a deleted number is a false positive, which costs a look-up,
// never a result).
type idFilter []uint64

func (f idFilter) bit(v uint64) (int, uint64) {
	h := v * 0x9E3779B97F4A7C15
	i := int(h>>32) % (len(f) * 64)
	return i / 64, 1 << (i % 64)
}

func (f idFilter) add(v uint64) {
	if len(f) > 0 {
		w, b := f.bit(v)
		f[w] |= b
	}
}

func (f idFilter) mayHold(v uint64) bool {
	if len(f) == 0 {
		return true
	}
	w, b := f.bit(v)
	return f[w]&b != 0
}

// oneTypoApart: one substitution or adjacent transposition apart.
func oneTypoApart(u, v uint64) bool {
	k, _ := idEdit(digitsOf(u), digitsOf(v))
	return k != editNone
}

// add inserts slot s, whose family-f keys are c, into its block at level
// l. A block of at most MaxBlock members is where its members meet; a
// bigger one is split: its members go one level down, to the finer key.
// So which block is a record's "effective" one depends only on the set of
// records.
func (ix *Index) add(s int32, c *chain, f, l int) {
	t := ix.blocks[f]
	k := c.keys[l]
	t.add(k, s)
	switch n, max := t.count(k), ix.cfg.MaxBlock; {
	case n <= max: // effective: meet the members
		t.each(k, func(m int32) {
			if m != s {
				ix.work = append(ix.work, workItem{newPairKey(s, m), true})
			}
		})
	case n == max+1: // just crossed: everyone leaves for a finer block
		ix.resplit = true
		members := t.appendSlots(nil, k)
		ix.queueAmong(members)
		for _, m := range members {
			if cm := ix.keyChains(ix.prof(m))[f]; l+1 < int(cm.n) {
				ix.add(m, &cm, f, l+1)
			}
		}
	case l+1 < int(c.n): // already split
		ix.add(s, c, f, l+1)
	}
}

// remove takes slot s, whose family-f keys are c, out of its block at
// level l (and below, where it went down). A block back at MaxBlock
// members is whole again: its finer blocks are dropped.
func (ix *Index) remove(s int32, c *chain, f, l int) {
	t := ix.blocks[f]
	k := c.keys[l]
	t.remove(k, s)
	n, max := t.count(k), ix.cfg.MaxBlock
	if n >= max && l+1 < int(c.n) { // it was split, s went down
		ix.remove(s, c, f, l+1)
	}
	if n == max { // whole again
		ix.resplit = true
		members := t.appendSlots(nil, k)
		for _, m := range members {
			ix.dropBelow(m, f, l+1)
		}
		ix.queueAmong(members)
	}
}

// dropBelow removes slot m from its family-f blocks at level l and finer,
// wherever it is a member.
func (ix *Index) dropBelow(m int32, f, l int) {
	c := ix.keyChains(ix.prof(m))[f]
	t := ix.blocks[f]
	for ; l < int(c.n); l++ {
		if !t.has(c.keys[l], m) {
			return
		}
		t.remove(c.keys[l], m)
	}
}

// queueAmong queues every pair of b's members, whose blocks changed.
func (ix *Index) queueAmong(b []int32) {
	for i, x := range b {
		for _, y := range b[i+1:] {
			ix.work = append(ix.work, workItem{newPairKey(x, y), false})
		}
	}
}

// rescore re-decides every queued pair from scratch.
func (ix *Index) rescore() {
	w := ix.work
	slices.SortFunc(w, compareWork)
	w = slices.CompactFunc(w, func(a, b workItem) bool { return a.k == b.k })
	for _, it := range w {
		ix.decide(it.k, it.meet && !ix.resplit)
	}
	ix.work, ix.resplit = w[:0], false
}

// compareWork orders work items by pair, a known candidate first.
func compareWork(a, b workItem) int {
	switch {
	case a.k.lo != b.k.lo:
		return int(a.k.lo - b.k.lo)
	case a.k.hi != b.k.hi:
		return int(a.k.hi - b.k.hi)
	case a.meet == b.meet:
		return 0
	case a.meet:
		return -1
	}
	return 1
}

// decide makes the pair k exist or not: it exists when the two records are
// candidates (known, or checked) and score at least the threshold with no
// rule holding them apart.
func (ix *Index) decide(k pairKey, known bool) {
	x, y := ix.prof(k.lo), ix.prof(k.hi)
	if !known && !ix.candidates(k.lo, k.hi) {
		ix.unpair(k)
		return
	}
	ix.compares++
	pat := ix.cmp.compare(x, y)
	a, _ := ix.ordered(k.lo, k.hi)
	pts := ix.model.points(pat, ix.prof(a), ix.toks)
	if pts < ix.model.ThresholdW16 || !ix.cfg.NoRules && hardRule(x, y, pat) != ruleNone {
		ix.unpair(k)
		return
	}
	rp := rawPair{points: pts, pat: pat}
	if old, ok := ix.pairs[k]; !ok || old != rp {
		ix.pairs[k] = rp
		ix.touchPair(k)
	}
}

// unpair removes the pair k if it exists.
func (ix *Index) unpair(k pairKey) {
	if _, ok := ix.pairs[k]; ok {
		delete(ix.pairs, k)
		ix.touchPair(k)
	}
}

// ordered returns the slots of a pair in citizen-key order (the points
// read the first record's term frequencies, which are the same for any
// agreeing part; ordering keeps even that independent of slots).
func (ix *Index) ordered(s, t int32) (int32, int32) {
	if ix.keyOfSlot(t) < ix.keyOfSlot(s) {
		return t, s
	}
	return s, t
}

// candidates reports whether two slots meet: ID numbers equal or one typo
// apart, or the same effective block in some family.
func (ix *Index) candidates(s, t int32) bool {
	x, y := ix.prof(s), ix.prof(t)
	if x.id != 0 && y.id != 0 && (x.id == y.id || oneTypoApart(x.id, y.id)) {
		return true
	}
	cx, cy := ix.keyChains(x), ix.keyChains(y)
	for f := range numFamilies {
		kx, okx := ix.effective(&cx[f], f)
		ky, oky := ix.effective(&cy[f], f)
		if okx && oky && kx == ky {
			return true
		}
	}
	return false
}

// effective returns the key of the effective block of a record whose keys
// in family f are c: the coarsest of its blocks with at most MaxBlock
// members; false when the family does not apply or even the finest block
// is too big.
func (ix *Index) effective(c *chain, f int) (uint32, bool) {
	for l := 0; l < int(c.n); l++ {
		if ix.blocks[f].count(c.keys[l]) <= ix.cfg.MaxBlock {
			return c.keys[l], true
		}
	}
	return 0, false
}

// eachCandidate calls f with every slot s meets (possibly more than once).
func (ix *Index) eachCandidate(s int32, f func(int32)) {
	if ix.prof(s).id != 0 {
		ix.idNeighbours(s, f)
	}
	chains := ix.keyChains(ix.prof(s))
	for fam := range numFamilies {
		if k, ok := ix.effective(&chains[fam], fam); ok {
			ix.blocks[fam].each(k, func(t int32) {
				if t != s {
					f(t)
				}
			})
		}
	}
}

// effKeys are a slot's effective block keys, one per family (mask: the
// families where it has one).
type effKeys struct {
	keys [numFamilies]uint32
	mask uint8
}

// effectiveKeys computes every slot's effective block keys (28 bytes a
// slot, for the length of a bulk pass: SetModel and Train).
func (ix *Index) effectiveKeys() []effKeys {
	out := make([]effKeys, ix.nslots)
	for s := range ix.slots() {
		if ix.prof(s).flags == 0 {
			continue
		}
		chains := ix.keyChains(ix.prof(s))
		for f := range numFamilies {
			if k, ok := ix.effective(&chains[f], f); ok {
				out[s].keys[f], out[s].mask = k, out[s].mask|1<<f
			}
		}
	}
	return out
}

// meetIn returns the first family where two slots share an effective
// block, or numFamilies.
func meetIn(a, b *effKeys) int {
	for f := range numFamilies {
		if a.mask&b.mask&(1<<f) != 0 && a.keys[f] == b.keys[f] {
			return f
		}
	}
	return numFamilies
}

// eachCandidatePair calls f with every candidate pair (lo < hi), family by
// family, then the ID neighbours; a pair meeting in several families comes
// once per family, first telling whether fam is the first of them (the ID
// neighbours, numFamilies, come last).
func (ix *Index) eachCandidatePair(f func(lo, hi int32, fam int, first bool)) {
	eff := ix.effectiveKeys()
	entries := make([]uint64, 0, ix.live)
	for fam := range numFamilies {
		entries = entries[:0]
		for s := range eff {
			if eff[s].mask&(1<<fam) != 0 {
				entries = append(entries, entryOf(eff[s].keys[fam], int32(s)))
			}
		}
		slices.Sort(entries)
		for i := 0; i < len(entries); {
			j := i + 1
			for j < len(entries) && entries[j]>>32 == entries[i]>>32 {
				j++
			}
			for x := i; x < j; x++ {
				for y := x + 1; y < j; y++ {
					lo, hi := int32(uint32(entries[x])), int32(uint32(entries[y]))
					f(lo, hi, fam, meetIn(&eff[lo], &eff[hi]) == fam)
				}
			}
			i = j
		}
	}
	for s := range ix.slots() {
		if ix.prof(s).id == 0 || ix.prof(s).flags == 0 {
			continue
		}
		ix.idNeighbours(s, func(t int32) {
			if t > s {
				f(s, t, numFamilies, meetIn(&eff[s], &eff[t]) == numFamilies)
			}
		})
	}
}

// SetModel makes m judge the pairs: every candidate pair is decided again.
func (ix *Index) SetModel(m *Model) {
	ix.model = m
	ix.toks.retf(m)
	clear(ix.pairs)
	if ix.journal != nil && (ix.live > 0 || len(ix.journal.reported) > 0) {
		ix.journal.touchAll = true
	}
	ix.eachCandidatePair(func(lo, hi int32, _ int, first bool) {
		if first {
			ix.decide(pairKey{lo, hi}, true)
		}
	})
}

// Pairs returns every current pair, sorted by (A, B). A pair is left out
// when one of its records has a better-scoring pair with a third record
// that a rule holds apart from the other (twins: a record of one twin
// matches both, the better match is kept). The slice is the caller's.
func (ix *Index) Pairs() []Pair {
	adj := ix.adjacency()
	out := make([]Pair, 0, len(ix.pairs))
	for k, rp := range ix.pairs {
		if ix.excluded(k, rp, adj) {
			continue
		}
		out = append(out, ix.pairOf(k, rp))
	}
	sortPairs(out)
	return out
}

// PairsOf returns the current pairs involving key, sorted by (A, B).
func (ix *Index) PairsOf(key string) []Pair {
	s, ok := ix.slotOf(key)
	if !ok {
		return nil
	}
	partnersOf := ix.partnersNear()
	var out []Pair
	seen := map[int32]bool{}
	ix.eachCandidate(s, func(t int32) {
		k := newPairKey(s, t)
		if rp, ok := ix.pairs[k]; ok && !seen[t] && !ix.excludedBy(k, rp, partnersOf) {
			seen[t] = true
			out = append(out, ix.pairOf(k, rp))
		}
	})
	sortPairs(out)
	return out
}

// Compare explains two citizens of the Index whether or not they pair:
// their Pair with the evidence under the current model (a rule holding
// them apart comes first, weighing nothing) and whether it is proposed.
// ok is false when a key is unknown.
func (ix *Index) Compare(keyA, keyB string) (p Pair, proposed, ok bool) {
	s, okA := ix.slotOf(keyA)
	t, okB := ix.slotOf(keyB)
	if !okA || !okB || s == t {
		return Pair{}, false, false
	}
	k := newPairKey(s, t)
	x, y := ix.prof(k.lo), ix.prof(k.hi)
	pat := ix.cmp.compare(x, y)
	a, _ := ix.ordered(k.lo, k.hi)
	p = ix.pairOf(k, rawPair{points: ix.model.points(pat, ix.prof(a), ix.toks), pat: pat})
	if r := hardRule(x, y, pat); r != ruleNone && !ix.cfg.NoRules {
		t := ruleTexts[r]
		p.Evidence = append([]Evidence{{Code: t.code, VI: t.vi, EN: t.en}}, p.Evidence...)
		p.Reasons = append([]string{t.code}, p.Reasons...)
	}
	rp, paired := ix.pairs[k]
	proposed = paired && !ix.excludedBy(k, rp, ix.partnersNear())
	if paired && !proposed {
		p.Evidence = append([]Evidence{{Code: betterMatchText.code, VI: betterMatchText.vi, EN: betterMatchText.en}}, p.Evidence...)
		p.Reasons = append([]string{betterMatchText.code}, p.Reasons...)
	}
	return p, proposed, true
}

// adjacency lists each paired slot's partners with the pair's points.
func (ix *Index) adjacency() map[int32][]partner {
	adj := map[int32][]partner{}
	for k, rp := range ix.pairs {
		adj[k.lo] = append(adj[k.lo], partner{k.hi, rp.points})
		adj[k.hi] = append(adj[k.hi], partner{k.lo, rp.points})
	}
	return adj
}

// partnersNear returns a function listing one slot's partners, found
// through its blocks and memoised: the cost of a question about a few
// records stays in their neighbourhood (adjacency walks every pair).
func (ix *Index) partnersNear() func(int32) []partner {
	adj := map[int32][]partner{}
	return func(s int32) []partner {
		if ps, ok := adj[s]; ok {
			return ps
		}
		var ps []partner
		ix.eachCandidate(s, func(t int32) {
			if rp, ok := ix.pairs[newPairKey(s, t)]; ok && !slices.ContainsFunc(ps, func(p partner) bool { return p.slot == t }) {
				ps = append(ps, partner{t, rp.points})
			}
		})
		adj[s] = ps
		return ps
	}
}

type partner struct {
	slot   int32
	points int32
}

// excluded: x (or y) has a strictly better pair with a third record z
// that a rule holds apart from y (or x). z cannot be the same person as
// both, and the better match is kept.
func (ix *Index) excluded(k pairKey, rp rawPair, adj map[int32][]partner) bool {
	return ix.excludedBy(k, rp, func(s int32) []partner { return adj[s] })
}

// excludedBy is excluded with the partners of a slot given by a function.
func (ix *Index) excludedBy(k pairKey, rp rawPair, partnersOf func(int32) []partner) bool {
	if ix.cfg.NoRules {
		return false
	}
	for _, side := range [2][2]int32{{k.lo, k.hi}, {k.hi, k.lo}} {
		x, y := side[0], side[1]
		for _, z := range partnersOf(x) {
			if z.slot != y && z.points > rp.points && ix.distinct(y, z.slot) {
				return true
			}
		}
	}
	return false
}

// distinct reports whether a rule holds two records apart.
func (ix *Index) distinct(s, t int32) bool {
	x, y := ix.prof(s), ix.prof(t)
	return hardRule(x, y, ix.cmp.compare(x, y)) != ruleNone
}

// pairOf renders a raw pair.
func (ix *Index) pairOf(k pairKey, rp rawPair) Pair {
	a, b := ix.ordered(k.lo, k.hi)
	p := Pair{A: ix.keyOfSlot(a), B: ix.keyOfSlot(b), Score: scoreOf(rp.points), Points16: rp.points,
		Model: ix.model.ID(), RegionA: ix.regions[ix.prof(a).region], RegionB: ix.regions[ix.prof(b).region]}
	w := ix.model.contributions(rp.pat, ix.prof(a), ix.toks)
	use := counted(&w)
	p.Evidence = evidence(rp.pat, &w, &use)
	p.Reasons = make([]string, len(p.Evidence))
	for i, e := range p.Evidence {
		p.Reasons[i] = e.Code
	}
	p.Extra = encodeExtra(p.Model, rp.points, rp.pat, &w, &use)
	return p
}

// evidence lists the known comparison levels of pattern pat with their
// weights w (term-frequency adjusted), in comparison order, and whether
// each counts (use, see groupOf).
func evidence(pat pattern, w *[numCmp]int32, use *[numCmp]bool) []Evidence {
	out := make([]Evidence, 0, numCmp)
	for c := 0; c < numCmp; c++ {
		l := pat.level(c)
		t := levelTexts[c][l]
		if l == 0 || t.code == "" {
			continue
		}
		out = append(out, Evidence{Code: t.code, Weight: float64(w[c]) / 16, Counted: use[c], VI: t.vi, EN: t.en})
	}
	return out
}

func sortPairs(ps []Pair) {
	slices.SortFunc(ps, func(a, b Pair) int {
		if c := strings.Compare(a.A, b.A); c != 0 {
			return c
		}
		return strings.Compare(a.B, b.B)
	})
}

// Stats describes the Index: everything but Comparisons is a function of
// the records present.
type Stats struct {
	Records int `json:"records"`
	Pairs   int `json:"pairs"`
	// Blocks counts the blocks held (split ones and their parts) and
	// Oversized those bigger than MaxBlock.
	Blocks    int `json:"blocks"`
	Oversized int `json:"oversized"`
	// Skipped counts, per family, the records whose finest block is still
	// over MaxBlock: they meet no one in that family.
	Skipped map[string]int `json:"skipped"`
	// Bytes is the memory the Index holds (profiles, tables, name parts,
	// pairs), an estimate from its sizes.
	Bytes int64 `json:"bytes"`
	// Comparisons is the number of pair scorings done so far (work, not
	// state: it depends on the order of calls).
	Comparisons int64 `json:"comparisons"`
}

// Stats returns the current figures. It walks every record: O(n).
func (ix *Index) Stats() Stats {
	st := Stats{Records: ix.live, Pairs: len(ix.Pairs()), Skipped: map[string]int{}, Comparisons: ix.compares,
		Bytes: ix.bytes()}
	for f := range numFamilies {
		ix.blocks[f].keys(func(_ uint32, n int) {
			st.Blocks++
			if n > ix.cfg.MaxBlock {
				st.Oversized++
			}
		})
	}
	for s := range ix.slots() {
		if ix.prof(s).flags == 0 {
			continue
		}
		chains := ix.keyChains(ix.prof(s))
		for f := range numFamilies {
			if _, ok := ix.effective(&chains[f], f); !ok && chains[f].n > 0 {
				st.Skipped[familyNames[f]]++
			}
		}
	}
	return st
}

// bytes estimates the memory the Index holds.
func (ix *Index) bytes() int64 {
	n := int64(len(ix.pages)*pageSize)*int64(unsafe.Sizeof(profile{})) + int64(4*cap(ix.free))
	n += int64(ix.byID.bytes() + ix.byTail.bytes())
	for _, t := range ix.blocks {
		n += int64(t.bytes())
	}
	for _, t := range ix.toks.toks {
		n += int64(unsafe.Sizeof(t)) + int64(len(t.key)+len(t.fold)+len(t.toneless)+len(t.tones)+len(t.regional)+len(t.class)+len(t.classReg)) + 48
	}
	n += int64(len(ix.pairs)) * 64
	for k := range ix.otherKeys {
		n += int64(len(k))*2 + 100
	}
	return n
}

// String summarises the Stats on one line.
func (st Stats) String() string {
	return fmt.Sprintf("%d records, %d pairs, %d blocks (%d oversized), skipped %v, %.1f MB, %d comparisons",
		st.Records, st.Pairs, st.Blocks, st.Oversized, st.Skipped, float64(st.Bytes)/1e6, st.Comparisons)
}
