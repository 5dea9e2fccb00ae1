package hub

import (
	"iter"
	"sync/atomic"

	"fieldsync/enrollment"
	"fieldsync/hub/dedup"
	"fieldsync/hub/reconcile"
)

// NewMatcher returns the probable-duplicate detector (package dedup) as the
// reconciler's Matcher. It judges with dedup's default model until the view
// holds a published model entry that outranks it (Rule 10, model.go): its
// component follows those entries.
func NewMatcher() reconcile.Matcher {
	m := &dedupMatcher{ix: dedup.NewIndex(dedup.DefaultConfig())}
	m.ix.KeepJournal()
	m.inForce.Store(&modelChoice{model: m.ix.Model()})
	return m
}

// dedupMatcher adapts dedup.Index to the view. The profile the view stores
// is dedup.EncodeProfile's (~40-90 bytes: what the model reads of a
// record, derived once on a decode worker); what it keeps with a pair is
// dedup's Pair.Extra (the model, the points, each comparison's level and
// weight), which Explain renders for the readers.
type dedupMatcher struct {
	ix *dedup.Index
	// pending is the model Rule 10 chose that the Index does not judge
	// with yet: applied at the next call, so that a round which takes a
	// model out and admits it again (an origin judged again) re-decides
	// nothing, and one that admits several models re-decides once.
	pending *modelChoice
	// inForce is the model judging, for readers on other goroutines.
	inForce atomic.Pointer[modelChoice]
}

// modelChoice is a model and the entry it came from ("" for the default).
type modelChoice struct {
	entry string
	model *dedup.Model
}

func (m *dedupMatcher) Profile(rec *enrollment.Enrollment, keys enrollment.MatchKeys) []byte {
	return dedup.EncodeProfile(&dedup.Record{Enrollment: rec, Keys: keys})
}

func (m *dedupMatcher) Put(key string, profile []byte, region string) {
	m.sync()
	if err := m.ix.PutProfile(key, profile, region); err != nil {
		m.ix.Delete(key) // a stored profile that does not decode: nothing to match on
	}
}

func (m *dedupMatcher) Delete(key string) {
	m.sync()
	m.ix.Delete(key)
}

func (m *dedupMatcher) Changes() []reconcile.MatchPair {
	m.sync()
	cs := m.ix.Changes()
	out := make([]reconcile.MatchPair, len(cs))
	for i, c := range cs {
		out[i] = reconcile.MatchPair{A: c.A, B: c.B, Score: c.Score, Reasons: c.Reasons, Extra: c.Extra, Withdrawn: c.Withdrawn}
	}
	return out
}

// Load rebuilds the Index from the view's profiles and pairs without
// comparing every citizen again (dedup.Index.Load); the model comes first,
// from Rule 10's component (ComponentLoader), which the view loads before.
func (m *dedupMatcher) Load(profiles iter.Seq2[string, reconcile.Profiled], pairs iter.Seq[reconcile.MatchPair]) error {
	m.sync()
	citizens := func(yield func(string, dedup.Stored) bool) {
		for k, p := range profiles {
			if !yield(k, dedup.Stored{Profile: p.Profile, Region: p.Region}) {
				return
			}
		}
	}
	stored := func(yield func(dedup.StoredPair) bool) {
		for p := range pairs {
			if !yield(dedup.StoredPair{A: p.A, B: p.B, Extra: p.Extra}) {
				return
			}
		}
	}
	return m.ix.Load(citizens, stored)
}

// Explain renders what the matcher keeps with a pair (reconcile.Explainer).
func (m *dedupMatcher) Explain(extra []byte) (string, []reconcile.Evidence) {
	x, err := dedup.DecodeExtra(extra)
	if err != nil {
		return "", nil
	}
	return x.Model, evidenceOf(x.Evidence)
}

func evidenceOf(es []dedup.Evidence) []reconcile.Evidence {
	out := make([]reconcile.Evidence, len(es))
	for i, e := range es {
		out[i] = reconcile.Evidence{Code: e.Code, Weight: e.Weight, Counted: e.Counted, VI: e.VI, EN: e.EN}
	}
	return out
}

// Components is Rule 10's component, bound to this matcher
// (reconcile.MatcherComponents).
func (m *dedupMatcher) Components() []reconcile.Component { return []reconcile.Component{modelRule{m}} }

// use makes model (from entry; "" for the default) the one to judge with.
func (m *dedupMatcher) use(entry string, model *dedup.Model) {
	m.pending = &modelChoice{entry: entry, model: model}
}

// sync applies a pending model: every candidate pair decided again, the
// changes reported by the next Changes.
func (m *dedupMatcher) sync() {
	p := m.pending
	if p == nil {
		return
	}
	m.pending = nil
	if p.model.ID() != m.ix.Model().ID() {
		m.ix.SetModel(p.model)
	}
	m.inForce.Store(p)
}

// modelInForce is the model judging now and its entry.
func (m *dedupMatcher) modelInForce() *modelChoice { return m.inForce.Load() }
