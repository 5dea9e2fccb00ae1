package dedup

// The journal records which pairs changed, for a caller that keeps the
// pairs elsewhere (the hub's view stores them): Changes lists them once.

// change is a pair's state at the end of a call: present (a copy) or gone.
type change struct {
	a, b string
	p    *Pair // nil: withdrawn
}

// Changes returns the pairs proposed or re-scored (Withdrawn false) and
// withdrawn (Withdrawn true) since the last call, sorted by (A, B), and
// forgets them. With no journal kept it returns nil.
func (ix *Index) Changes() []Change {
	if len(ix.journal) == 0 {
		return nil
	}
	out := make([]Change, 0, len(ix.journal))
	for k, c := range ix.journal {
		if c.p == nil {
			out = append(out, Change{Pair: Pair{A: k[0], B: k[1]}, Withdrawn: true})
		} else {
			out = append(out, Change{Pair: clonePair(c.p)})
		}
	}
	clear(ix.journal)
	sortChanges(out)
	return out
}

// Change is a pair as Changes reports it.
type Change struct {
	Pair
	Withdrawn bool
}

// KeepJournal makes the Index record pair changes for Changes.
func (ix *Index) KeepJournal() {
	if ix.journal == nil {
		ix.journal = map[[2]string]change{}
	}
}

func (ix *Index) noteSet(p *Pair) {
	if ix.journal != nil {
		ix.journal[[2]string{p.A, p.B}] = change{a: p.A, b: p.B, p: p}
	}
}

func (ix *Index) noteGone(p *Pair) {
	if ix.journal != nil {
		ix.journal[[2]string{p.A, p.B}] = change{a: p.A, b: p.B}
	}
}

func sortChanges(cs []Change) {
	ps := make([]Pair, len(cs))
	idx := map[[2]string]Change{}
	for i, c := range cs {
		ps[i] = c.Pair
		idx[[2]string{c.A, c.B}] = c
	}
	sortPairs(ps)
	for i, p := range ps {
		cs[i] = idx[[2]string{p.A, p.B}]
	}
}
