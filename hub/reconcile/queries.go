package reconcile

import (
	"slices"
	"sort"
)

func sortedSubjects(m map[string][]*Decision) []string {
	out := make([]string, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func sortedDecisions(ds []*Decision) []*Decision {
	out := slices.Clone(ds)
	slices.SortFunc(out, func(a, b *Decision) int { return compareIDs(a.Entry, b.Entry) })
	return out
}

// Decisions returns every decision held on subject, sorted by entry.
func (r *Reconciler) Decisions(subject string) []Decision {
	var out []Decision
	for _, d := range sortedDecisions(r.decisions[subject]) {
		c := *d
		c.Tier = r.tiers[d.Entry.Origin]
		out = append(out, c)
	}
	return out
}

// Pair returns the pair with id, if the matcher proposes it.
func (r *Reconciler) Pair(id string) (Pair, bool) {
	for _, p := range r.Pairs() {
		if p.ID == id {
			return p, true
		}
	}
	return Pair{}, false
}
