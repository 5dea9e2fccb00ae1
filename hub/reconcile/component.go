package reconcile

import (
	"fmt"

	"fieldsync/replication"
	"fieldsync/storage/kv"
)

// Component is a part of the view kept beside the citizens by another
// feature (a census of resident lists, dossier completeness, a learnt
// duplicate model): it follows the same entries through the same rules,
// in the same transactions, and keeps its state in the view's store
// under its own prefix. A component must keep its state a function of
// what it was given (Admit and Retract are exact inverses), or what it
// shows will depend on the order entries came in.
type Component interface {
	// Name is its prefix in the store: its keys live under "x/NAME/".
	Name() string
	// Admit is called for every entry Rules 0, 8 and 9 let into the view
	// (any kind, the ones the view itself ignores included).
	Admit(tx ComponentTx, e *Admitted)
	// Retract is Admit's inverse: a later judgement (a revocation, a fork
	// notice) takes the entry out again.
	Retract(tx ComponentTx, e *Admitted)
	// CitizenChanged is called when a citizen was derived again: before
	// is nil for a new citizen, after nil for one gone.
	CitizenChanged(tx ComponentTx, key string, before, after *CitizenSummary)
}

// Admitted is an entry as a component sees it.
type Admitted struct {
	ID   replication.EntryID
	Kind replication.Kind // as written
	// Meaning is what it means (a re-issue's original kind).
	Meaning replication.Kind
	Hash    replication.Hash
	HLC     replication.HLC
	// Payload is the payload of kinds the view keeps whole (decisions,
	// notices, roster entries, duplicate models); for others,
	// Config.Entries (or the view's own copy) reads the entry.
	Payload []byte
	// Tier is the writer's hub tier as its genesis says when the entry is
	// admitted ("" for a device, or a genesis not held yet: when it comes,
	// the origin's entries are retracted and admitted again).
	Tier string
}

// ComponentLoader is a Component with state in memory as well (a matcher's
// model): Load is called when the view is opened, with the component's
// keys as stored, before the matcher is loaded.
type ComponentLoader interface {
	Component
	Load(r kv.Reader) error
}

// MatcherComponents is a Matcher that also follows entries other than
// captures (a published duplicate model, Rule 10) through components of
// its own: the reconciler registers them after Config.Components.
type MatcherComponents interface {
	Components() []Component
}

// components lists the components in the order they are told.
func (cfg *Config) components() []Component {
	mc, ok := cfg.Matcher.(MatcherComponents)
	if !ok {
		return cfg.Components
	}
	return append(cfg.Components[:len(cfg.Components):len(cfg.Components)], mc.Components()...)
}

// loadComponents hands each ComponentLoader its stored keys.
func (r *Reconciler) loadComponents(s kv.Reader) error {
	for _, c := range r.comps {
		if l, ok := c.(ComponentLoader); ok {
			if err := l.Load(prefixReader{s, componentPrefix(c.Name())}); err != nil {
				return fmt.Errorf("reconcile: load component %s: %w", c.Name(), err)
			}
		}
	}
	return nil
}

// CitizenSummary is what the view derived of a citizen.
type CitizenSummary struct {
	Versions []replication.EntryID
	Shown    replication.EntryID
	Region   string
	Commune  string
	CodeList string
	Conflict bool
	Linked   []string
}

// ComponentTx is a component's access to the round's transaction: keys
// are relative to its prefix.
type ComponentTx interface {
	kv.Txn
	// DigestItem adds (sign 1) or removes (sign -1) a line about subject
	// in the view's digest: only for what every hub holding the same
	// entries holds the same (local state, blob presence, stays out).
	DigestItem(subject, line string, sign int)
	// Entry reads an entry the view holds (Config.Entries, or the view's
	// own copy), for a component that needs a payload the view does not
	// keep whole.
	Entry(id replication.EntryID) (replication.Entry, error)
	// Fail makes the round fail with err (nothing of it is committed): a
	// component's store error.
	Fail(err error)
}

type componentTx struct {
	r      *Reconciler
	prefix []byte
}

func (t componentTx) key(k []byte) []byte { return append(append([]byte(nil), t.prefix...), k...) }

func (t componentTx) Get(k []byte) ([]byte, error) { return t.r.b.Get(t.key(k)) }
func (t componentTx) Set(k, v []byte) error        { return t.r.b.Set(t.key(k), v) }
func (t componentTx) Delete(k []byte) error        { return t.r.b.Delete(t.key(k)) }
func (t componentTx) Scan(prefix, from []byte, fn func(k, v []byte) bool) error {
	var f []byte
	if from != nil {
		f = t.key(from)
	}
	n := len(t.prefix)
	return t.r.b.Scan(t.key(prefix), f, func(k, v []byte) bool { return fn(k[n:], v) })
}
func (t componentTx) DigestItem(subject, line string, sign int) {
	t.r.digest.item("x/"+subject, line, sign)
}

func (t componentTx) Entry(id replication.EntryID) (replication.Entry, error) {
	if t.r.cfg.Entries != nil {
		return t.r.cfg.Entries(id)
	}
	v, ok := t.r.get(idKey(tPayload, id))
	if !ok {
		return replication.Entry{}, fmt.Errorf("reconcile: entry %s is not in the view", id)
	}
	return replication.DecodeEntry(v)
}
func (t componentTx) Fail(err error) { t.r.fail(err) }

// ReadComponent runs fn on a snapshot of the keys of the component named
// name (relative to its prefix), for its readers.
func (r *Reconciler) ReadComponent(name string, fn func(s kv.Reader) error) error {
	prefix := componentPrefix(name)
	return r.db.View(func(s kv.Reader) error { return fn(prefixReader{s, prefix}) })
}

// prefixReader reads the keys under prefix, without it.
type prefixReader struct {
	s      kv.Reader
	prefix []byte
}

func (p prefixReader) key(k []byte) []byte          { return append(append([]byte(nil), p.prefix...), k...) }
func (p prefixReader) Get(k []byte) ([]byte, error) { return p.s.Get(p.key(k)) }
func (p prefixReader) Scan(prefix, from []byte, fn func(k, v []byte) bool) error {
	var f []byte
	if from != nil {
		f = p.key(from)
	}
	n := len(p.prefix)
	return p.s.Scan(p.key(prefix), f, func(k, v []byte) bool { return fn(k[n:], v) })
}

func componentPrefix(name string) []byte { return []byte(string([]byte{tComponent, '/'}) + name + "/") }

func (r *Reconciler) componentTx(c Component) componentTx {
	return componentTx{r: r, prefix: componentPrefix(c.Name())}
}

func (r *Reconciler) admittedOf(e *entryRec) *Admitted {
	a := &Admitted{ID: e.ID, Kind: e.Kind, Meaning: e.MKind, Hash: e.Hash, HLC: e.HLC, Payload: e.Payload}
	if o := r.origins[e.ID.Origin]; o != nil && o.isHub() {
		a.Tier = o.Genesis.Tier
	}
	return a
}

// admitted tells the components of an entry let into the view.
func (r *Reconciler) admitted(e *entryRec) {
	if len(r.comps) == 0 || e.State != stateApplied {
		return
	}
	a := r.admittedOf(e)
	for _, c := range r.comps {
		c.Admit(r.componentTx(c), a)
	}
}

// retracted tells the components of an entry taken out again.
func (r *Reconciler) retracted(e *entryRec) {
	if len(r.comps) == 0 {
		return
	}
	a := r.admittedOf(e)
	for _, c := range r.comps {
		c.Retract(r.componentTx(c), a)
	}
}

func (r *Reconciler) citizenChanged(key string, before, after *citizenRow) {
	if len(r.comps) == 0 {
		return
	}
	b, a := summaryOf(before), summaryOf(after)
	if b == nil && a == nil {
		return
	}
	for _, c := range r.comps {
		c.CitizenChanged(r.componentTx(c), key, b, a)
	}
}

func summaryOf(c *citizenRow) *CitizenSummary {
	// A row whose last version just left still had a line: it existed.
	if c == nil || c.Line.IsZero() {
		return nil
	}
	return &CitizenSummary{Versions: append([]replication.EntryID(nil), c.Members...), Shown: c.Shown, Region: c.Region,
		Commune: c.Commune, CodeList: c.CodeList, Conflict: c.Conflict != nil, Linked: c.Linked}
}
