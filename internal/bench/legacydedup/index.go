package legacydedup

import (
	"fmt"
	"slices"
	"strings"

	"fieldsync/enrollment"
)

// Index holds the current citizens of a hub's view and their probable
// duplicate pairs, maintained incrementally: Put and Delete re-score only
// the pairs whose blocks they change. What it outputs (Pairs, PairsOf,
// Stats except Comparisons) is a function of the set of records present,
// whatever the order of calls. It is not safe for concurrent use.
type Index struct {
	cfg       Config
	slots     []*entry // by slot; nil when free
	free      []int32
	byKey     map[string]int32
	byID      idTable            // ID number → slots
	blocks    map[uint64][]int32 // block key → member slots (see add)
	pairs     map[pairKey]*Pair
	work      []workItem // scratch: pairs to re-score
	resplit   bool       // a block crossed MaxBlock during this call: "meet" is stale
	minPoints int        // the fewest points that reach cfg.Threshold
	compares  int64
}

// entry is one record in the Index.
type entry struct {
	p        profile
	partners []int32 // slots it currently forms a pair with
}

// chainsOf derives e's block keys (not stored: cheaper to recompute in the
// rare calls that need another record's keys than to hold 160 bytes per
// record).
func chainsOf(e *entry) [numFamilies]chain { return keyChains(&e.p) }

// pairKey is a pair of slots, lo < hi.
type pairKey struct{ lo, hi int32 }

// workItem is a pair to re-decide; meet says it was queued from a shared
// effective block or as ID neighbours, so it is a candidate pair unless a
// block was split or merged later in the same call (Index.resplit); else
// candidacy is checked.
type workItem struct {
	k    pairKey
	meet bool
}

func newPairKey(x, y int32) pairKey {
	if y < x {
		x, y = y, x
	}
	return pairKey{x, y}
}

// NewIndex returns an empty Index. Zero fields of cfg take their defaults;
// it panics on a cfg that Config.Validate rejects (a programming error).
func NewIndex(cfg Config) *Index {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Index{cfg: cfg, minPoints: minPoints(cfg.Threshold), byKey: map[string]int32{}, byID: newIDTable(),
		blocks: map[uint64][]int32{}, pairs: map[pairKey]*Pair{}}
}

// Len returns the number of records.
func (ix *Index) Len() int { return len(ix.byKey) }

// Put adds r, or replaces the record with the same Key (the view's
// displayed version of a citizen can change). r.Keys must be
// enrollment.Keys(r.Enrollment). Put keeps no reference to r itself.
func (ix *Index) Put(r Record) {
	if _, ok := ix.byKey[r.Key]; ok {
		ix.Delete(r.Key)
	}
	e := &entry{p: makeProfile(&r)}
	p := &e.p
	chains := keyChains(p)
	s := ix.alloc(e)
	ix.byKey[r.Key] = s
	ix.work = ix.work[:0]
	if p.id != "" {
		ix.byID.add(p.idNum, s)
		ix.idNeighbours(s)
	}
	for f := range numFamilies {
		if chains[f].n > 0 {
			ix.add(s, &chains[f], f, 0)
		}
	}
	ix.rescore()
}

// Delete removes the record with key, if any, and its pairs.
func (ix *Index) Delete(key string) {
	s, ok := ix.byKey[key]
	if !ok {
		return
	}
	e := ix.slots[s]
	for len(e.partners) > 0 {
		ix.unpair(newPairKey(s, e.partners[len(e.partners)-1]))
	}
	if e.p.id != "" {
		ix.byID.remove(e.p.idNum, s)
	}
	ix.work = ix.work[:0]
	chains := chainsOf(e)
	for f := range numFamilies {
		if chains[f].n > 0 {
			ix.remove(s, &chains[f], f, 0)
		}
	}
	delete(ix.byKey, key)
	ix.slots[s] = nil
	ix.free = append(ix.free, s)
	ix.rescore()
}

// alloc stores e in a free slot.
func (ix *Index) alloc(e *entry) int32 {
	if n := len(ix.free); n > 0 {
		s := ix.free[n-1]
		ix.free = ix.free[:n-1]
		ix.slots[s] = e
		return s
	}
	ix.slots = append(ix.slots, e)
	return int32(len(ix.slots) - 1)
}

// idNeighbours queues the pairs of s with every record whose ID number is
// equal or one typo away (see idTable; at most 119 numbers, so it needs no
// cap).
func (ix *Index) idNeighbours(s int32) {
	p := ix.slots[s].p
	if len(p.id) != enrollment.PersonalIDLen {
		return
	}
	ix.byID.neighbours(p.idNum, func(t int32) {
		if t != s {
			ix.work = append(ix.work, workItem{newPairKey(s, t), true})
		}
	})
}

// add inserts slot s, whose family-f keys are c, into its block at level
// l. A block of at most MaxBlock members is where its members meet; a
// bigger one is split: its members go one level down, to the finer key.
// So which block is a record's "effective" one depends only on the set of
// records.
func (ix *Index) add(s int32, c *chain, f, l int) {
	k := c.keys[l]
	b := append(ix.blocks[k], s)
	ix.blocks[k] = b
	switch max := ix.cfg.MaxBlock; {
	case len(b) <= max: // effective: meet the members
		ix.queueWith(s, b)
	case len(b) == max+1: // just crossed: everyone leaves for a finer block
		ix.resplit = true
		ix.queueAmong(b)
		for _, m := range b {
			if cm := chainsOf(ix.slots[m])[f]; l+1 < int(cm.n) {
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
	k := c.keys[l]
	b := removeSlot(ix.blocks[k], s)
	max := ix.cfg.MaxBlock
	if len(b) >= max && l+1 < int(c.n) { // it was split, s went down
		ix.remove(s, c, f, l+1)
	}
	if len(b) == max { // whole again
		ix.resplit = true
		for _, m := range b {
			ix.dropBelow(m, f, l+1)
		}
		ix.queueAmong(b)
	}
	if len(b) == 0 {
		delete(ix.blocks, k)
	} else {
		ix.blocks[k] = b
	}
}

// dropBelow removes slot m from its family-f blocks at level l and finer,
// wherever it is a member.
func (ix *Index) dropBelow(m int32, f, l int) {
	c := chainsOf(ix.slots[m])[f]
	for ; l < int(c.n); l++ {
		k := c.keys[l]
		b, ok := ix.blocks[k]
		if !ok || !slices.Contains(b, m) {
			return
		}
		b = removeSlot(b, m)
		if len(b) == 0 {
			delete(ix.blocks, k)
		} else {
			ix.blocks[k] = b
		}
	}
}

// removeSlot removes one occurrence of s (order is not kept).
func removeSlot(b []int32, s int32) []int32 {
	i := slices.Index(b, s)
	if i < 0 {
		return b
	}
	b[i] = b[len(b)-1]
	return b[:len(b)-1]
}

// queueWith queues s with the members of its effective block b.
func (ix *Index) queueWith(s int32, b []int32) {
	for _, m := range b {
		if m != s {
			ix.work = append(ix.work, workItem{newPairKey(s, m), true})
		}
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

// rescore re-decides every queued pair from scratch: a pair exists when
// the two records are candidates (share an effective block or are ID
// neighbours) and score at least Threshold.
func (ix *Index) rescore() {
	w := ix.work
	slices.SortFunc(w, compareWork)
	w = slices.CompactFunc(w, func(a, b workItem) bool { return a.k == b.k })
	for _, it := range w {
		ix.decide(it)
	}
	ix.work, ix.resplit = w[:0], false
}

// decide makes the pair it.k exist or not.
func (ix *Index) decide(it workItem) {
	x, y := ix.slots[it.k.lo], ix.slots[it.k.hi]
	if !(it.meet && !ix.resplit) && !ix.candidates(x, y) {
		ix.unpair(it.k)
		return
	}
	ix.compares++
	if idBound(&x.p, &y.p) < ix.minPoints { // two card numbers far apart
		ix.unpair(it.k)
		return
	}
	points, reasons := evidence(&x.p, &y.p) // symmetric (tested)
	if points < ix.minPoints {
		ix.unpair(it.k)
		return
	}
	a, b := ordered(&x.p, &y.p)
	p := newPair(a, b, points, reasons)
	ix.setPair(it.k, &p)
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

// candidates reports whether x and y meet: ID numbers equal or one typo
// apart, or the same effective block in some family.
func (ix *Index) candidates(x, y *entry) bool {
	if x.p.id != "" && y.p.id != "" && (x.p.idNum == y.p.idNum || idNeighbours(x.p.digits, y.p.digits)) {
		return true
	}
	cx, cy := chainsOf(x), chainsOf(y)
	for f := range numFamilies {
		kx, okx := ix.effective(&cx[f])
		ky, oky := ix.effective(&cy[f])
		if okx && oky && kx == ky {
			return true
		}
	}
	return false
}

func idNeighbours(a, b idDigits) bool {
	k, _ := idEdit(a, b)
	return k != editNone
}

// effective returns the key of the effective block of a record whose
// keys in a family are c: the coarsest of its blocks with at most MaxBlock
// members; false when the family does not apply or even the finest block
// is too big.
func (ix *Index) effective(c *chain) (uint64, bool) {
	for l := 0; l < int(c.n); l++ {
		if len(ix.blocks[c.keys[l]]) <= ix.cfg.MaxBlock {
			return c.keys[l], true
		}
	}
	return 0, false
}

func (ix *Index) setPair(k pairKey, p *Pair) {
	if _, ok := ix.pairs[k]; !ok {
		ix.slots[k.lo].partners = append(ix.slots[k.lo].partners, k.hi)
		ix.slots[k.hi].partners = append(ix.slots[k.hi].partners, k.lo)
	}
	ix.pairs[k] = p
}

func (ix *Index) unpair(k pairKey) {
	if len(ix.slots[k.lo].partners) == 0 {
		return // the common case: no lookup
	}
	if _, ok := ix.pairs[k]; !ok {
		return
	}
	delete(ix.pairs, k)
	ix.slots[k.lo].partners = removeSlot(ix.slots[k.lo].partners, k.hi)
	ix.slots[k.hi].partners = removeSlot(ix.slots[k.hi].partners, k.lo)
}

// Pairs returns every current pair, sorted by (A, B). The slice and its
// pairs are the caller's.
func (ix *Index) Pairs() []Pair {
	out := make([]Pair, 0, len(ix.pairs))
	for _, p := range ix.pairs {
		out = append(out, clonePair(p))
	}
	sortPairs(out)
	return out
}

// PairsOf returns the current pairs involving key, sorted by (A, B).
func (ix *Index) PairsOf(key string) []Pair {
	s, ok := ix.byKey[key]
	if !ok {
		return nil
	}
	var out []Pair
	for _, t := range ix.slots[s].partners {
		out = append(out, clonePair(ix.pairs[newPairKey(s, t)]))
	}
	sortPairs(out)
	return out
}

func clonePair(p *Pair) Pair {
	c := *p
	c.Reasons = slices.Clone(p.Reasons)
	return c
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
	// Blocks counts the blocks held (split ones and their parts);
	// Oversized the blocks bigger than MaxBlock (split, or skipped at the
	// finest level).
	Blocks    int `json:"blocks"`
	Oversized int `json:"oversized"`
	// Skipped counts, per family, the records whose finest block is still
	// over MaxBlock: they meet no one in that family.
	Skipped map[string]int `json:"skipped"`
	// Comparisons is the number of pair scorings done so far (work, not
	// state: it depends on the order of calls).
	Comparisons int64 `json:"comparisons"`
}

// Stats returns the current figures. It walks every record: O(n).
func (ix *Index) Stats() Stats {
	st := Stats{Records: ix.Len(), Pairs: len(ix.pairs), Blocks: len(ix.blocks),
		Skipped: map[string]int{}, Comparisons: ix.compares}
	for _, b := range ix.blocks {
		if len(b) > ix.cfg.MaxBlock {
			st.Oversized++
		}
	}
	for _, e := range ix.slots {
		if e == nil {
			continue
		}
		chains := chainsOf(e)
		for f := range numFamilies {
			if _, ok := ix.effective(&chains[f]); !ok && chains[f].n > 0 {
				st.Skipped[familyNames[f]]++
			}
		}
	}
	return st
}

// String summarises the Stats on one line.
func (st Stats) String() string {
	return fmt.Sprintf("%d records, %d pairs, %d blocks (%d oversized), skipped %v, %d comparisons",
		st.Records, st.Pairs, st.Blocks, st.Oversized, st.Skipped, st.Comparisons)
}
