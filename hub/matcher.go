package hub

import (
	"fieldsync/enrollment"
	"fieldsync/hub/dedup"
	"fieldsync/hub/reconcile"
)

// NewMatcher returns the probable-duplicate detector (package dedup) as the
// reconciler's Matcher.
func NewMatcher() reconcile.Matcher { return dedupMatcher{dedup.NewIndex(dedup.DefaultConfig())} }

type dedupMatcher struct{ ix *dedup.Index }

func (m dedupMatcher) Put(key string, rec *enrollment.Enrollment, keys enrollment.MatchKeys, region string) {
	m.ix.Put(dedup.Record{Key: key, Enrollment: rec, Keys: keys, Region: region})
}

func (m dedupMatcher) Delete(key string) { m.ix.Delete(key) }

func (m dedupMatcher) Pairs() []reconcile.MatchPair {
	ps := m.ix.Pairs()
	out := make([]reconcile.MatchPair, len(ps))
	for i, p := range ps {
		out[i] = reconcile.MatchPair{A: p.A, B: p.B, Score: p.Score, Reasons: p.Reasons}
	}
	return out
}
