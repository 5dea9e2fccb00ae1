package reconcile

import (
	"fieldsync/replication"
)

// ModelMatcher is a Matcher whose duplicate model can be replaced by one a
// hub published (package dedup: a learnt Fellegi–Sunter model, as the
// payload of a KindDedupModel entry). The reconciler chooses the model in
// force from the set of model entries (Rule 10) and hands it over; every
// pair is then judged by it, so pairs stay a function of the set of
// entries whatever the order they arrived in.
type ModelMatcher interface {
	Matcher
	// CheckModel reports whether payload is a model this matcher can use
	// (pure and cheap: decoding only).
	CheckModel(payload []byte) error
	// UseModel makes the model in payload judge every pair (nil: the
	// matcher's built-in default). entry names the entry it came from
	// ("" for the default).
	UseModel(entry string, payload []byte)
	// ModelID names the model judging the pairs now.
	ModelID() string
}

// modelEntry is a published model.
type modelEntry struct {
	id      replication.EntryID
	hlc     replication.HLC
	hash    replication.Hash
	payload []byte
	valid   bool
}

// Rule 10 — the duplicate model in force. Among the model entries whose
// payload the matcher can use, from hub origins (known by their genesis),
// the highest tier's wins; among equals the newest by the hub's clock
// (HLC), then the lowest entry hash. Entries from devices are never
// admitted (the roster refuses them; without a roster they are ignored
// here). No model entry: the matcher's default.
func (r *Reconciler) applyModel(e replication.Entry) {
	m := &modelEntry{id: e.ID(), hlc: e.HLC, hash: e.Hash(), payload: e.Payload}
	if mm, ok := r.cfg.Matcher.(ModelMatcher); ok {
		m.valid = mm.CheckModel(e.Payload) == nil
	}
	if !m.valid {
		r.invalid++
	}
	r.models = append(r.models, m)
	r.chooseModel()
}

// chooseModel finds the model in force and hands it to the matcher when
// it changed.
func (r *Reconciler) chooseModel() {
	mm, ok := r.cfg.Matcher.(ModelMatcher)
	if !ok {
		return
	}
	var win *modelEntry
	for _, m := range r.models {
		tier, isHub := r.tiers[m.id.Origin]
		if !m.valid || !isHub {
			continue
		}
		if win == nil || r.modelOutranks(m, tier, win) {
			win = m
		}
	}
	if win == r.model {
		return
	}
	r.model = win
	if win == nil {
		mm.UseModel("", nil)
	} else {
		mm.UseModel(win.id.String(), win.payload)
	}
}

func (r *Reconciler) modelOutranks(a *modelEntry, tierA string, b *modelEntry) bool {
	if ra, rb := r.cfg.Tiers[tierA], r.cfg.Tiers[r.tiers[b.id.Origin]]; ra != rb {
		return ra > rb
	}
	if a.hlc != b.hlc {
		return a.hlc > b.hlc
	}
	return string(a.hash[:]) < string(b.hash[:])
}

// ModelEntry names the entry of the model in force ("" when the matcher's
// default judges).
func (r *Reconciler) ModelEntry() string {
	if r.model == nil {
		return ""
	}
	return r.model.id.String()
}

// Matcher returns the reconciler's matcher (nil without one).
func (r *Reconciler) Matcher() Matcher { return r.cfg.Matcher }
