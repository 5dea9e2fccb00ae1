package reconcile

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"sort"

	"fieldsync/enrollment"
	"fieldsync/replication"
)

// maxLineage bounds walks along amend chains (a limit on everything: a
// chain of more corrections than this is treated as broken at that depth).
const maxLineage = 1000

// Matcher finds probable duplicates among citizens (package dedup, adapted
// by the hub). Pairs must be a function of the set of citizens put.
type Matcher interface {
	Put(key string, rec *enrollment.Enrollment, keys enrollment.MatchKeys, region string)
	Delete(key string)
	Pairs() []MatchPair
}

// MatchPair is a probable duplicate the matcher proposes.
type MatchPair struct {
	A, B    string // A < B
	Score   float64
	Reasons []string
}

// Config configures a Reconciler.
type Config struct {
	// Tiers ranks hub tiers: a decision from a higher rank outranks one
	// from a lower. Every hub of a deployment must use the same ranks.
	Tiers   map[string]int
	Matcher Matcher
	// Anchor is the province's roster key: with it, Rule 0 (gate.go)
	// quarantines what the roster does not allow. Nil means open: every
	// entry counts.
	Anchor ed25519.PublicKey
}

// DefaultTiers ranks district below province.
func DefaultTiers() map[string]int { return map[string]int{"district": 1, "province": 2} }

// Reconciler builds the citizen view from a set of entries. Apply entries
// in any order, with duplicates: the view depends only on the set.
type Reconciler struct {
	cfg Config

	seen     map[replication.EntryID]bool
	tiers    map[replication.OriginID]string // hub origins' tiers, from genesis
	versions map[replication.EntryID]*Version
	parentOf map[replication.EntryID]replication.EntryID   // amend → target
	amendsOf map[replication.EntryID][]replication.EntryID // target → amends
	voided   map[replication.EntryID]int                   // target → voids
	current  map[replication.EntryID]string                // current version → citizen key
	members  map[string]map[replication.EntryID]bool       // citizen key → current versions

	citizens  map[string]*Citizen
	decisions map[string][]*Decision            // subject → every decision
	byOrigin  map[replication.OriginID][]string // decision origin → subjects
	pairDecs  map[string][]string               // citizen key → decided pair subjects
	dirty     map[string]bool                   // citizen keys to derive again
	invalid   int                               // entries whose payload did not decode
	gate      *gate                             // Rule 0; nil when open
	epochs    *epochs                           // Rules 8 and 9
}

// New returns an empty reconciler.
func New(cfg Config) *Reconciler {
	if cfg.Tiers == nil {
		cfg.Tiers = DefaultTiers()
	}
	var g *gate
	if cfg.Anchor != nil {
		g = newGate(cfg.Anchor)
	}
	return &Reconciler{gate: g, epochs: newEpochs(),
		cfg: cfg, seen: map[replication.EntryID]bool{}, tiers: map[replication.OriginID]string{},
		versions: map[replication.EntryID]*Version{}, parentOf: map[replication.EntryID]replication.EntryID{},
		amendsOf: map[replication.EntryID][]replication.EntryID{}, voided: map[replication.EntryID]int{},
		current: map[replication.EntryID]string{}, members: map[string]map[replication.EntryID]bool{},
		citizens: map[string]*Citizen{}, decisions: map[string][]*Decision{},
		byOrigin: map[replication.OriginID][]string{}, pairDecs: map[string][]string{}, dirty: map[string]bool{},
	}
}

// Apply adds one entry to the set. Applying an entry twice is a no-op. An
// entry whose payload does not decode is counted (Stats.Invalid) and left
// out of the view: it is still in the log, as evidence.
func (r *Reconciler) Apply(e replication.Entry) {
	if r.seen[e.ID()] {
		return
	}
	r.ApplyDecoded(Decode(e))
}

// ApplyDecoded is Apply of an entry decoded with Decode.
func (r *Reconciler) ApplyDecoded(d *Decoded) {
	e := &d.entry
	if r.seen[e.ID()] {
		return
	}
	r.seen[e.ID()] = true
	if r.gate != nil && r.gate.hold(d) { // Rule 0
		return
	}
	if r.epochs.setAside(e) { // Rule 8
		return
	}
	if d.invalid {
		r.invalid++
		return
	}
	switch d.kind {
	case replication.KindGenesis:
		r.applyGenesis(*e)
	case replication.KindEnroll, replication.KindAmend:
		if d.reissue != nil && !r.epochs.reissue(e.ID(), d.reissue.Of, d.reissue.Hash, r.versions[d.reissue.Of]) {
			break // Rule 9: the original is in the view
		}
		r.addVersion(d.version, r.targetOf(d))
	case replication.KindVoid:
		t := *r.targetOf(d)
		r.voided[t]++
		r.refresh(t)
	case replication.KindResolve:
		r.applyResolve(*e)
	case replication.KindFork:
		r.epochs.noteNotice(e.Origin, *d.notice)
	}
	r.derive()
}

// targetOf is the entry an amend or void means (Rule 9), or nil.
func (r *Reconciler) targetOf(d *Decoded) *replication.EntryID {
	if d.target == nil {
		return nil
	}
	t := r.epochs.target(d.entry.Origin, *d.target)
	return &t
}

func (r *Reconciler) applyGenesis(e replication.Entry) {
	g, err := replication.DecodeGenesis(e.Payload)
	if err != nil {
		r.invalid++
		return
	}
	r.epochs.noteGenesis(&e)
	if g.Role != replication.RoleHub {
		return
	}
	r.tiers[e.Origin] = g.Tier
	for _, subject := range r.byOrigin[e.Origin] { // its decisions' rank is known now
		r.markSubject(subject)
	}
}

func (r *Reconciler) addVersion(v *Version, target *replication.EntryID) {
	r.versions[v.ID] = v
	if target != nil {
		r.parentOf[v.ID] = *target
		r.amendsOf[*target] = append(r.amendsOf[*target], v.ID)
		r.refresh(*target)
	}
	r.refresh(v.ID)
}

// refresh recomputes, for id and every version that amends it (its
// subtree), whether it is current and under which citizen key.
func (r *Reconciler) refresh(id replication.EntryID) {
	stack := []replication.EntryID{id}
	for n := 0; len(stack) > 0 && n < maxLineage*10; n++ {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		r.place(v)
		stack = append(stack, r.amendsOf[v]...)
	}
}

// place puts a version under its citizen key if it is current, and takes
// it out of its old one otherwise (Rules 1-2 of the package doc).
func (r *Reconciler) place(id replication.EntryID) {
	old, was := r.current[id]
	v, ok := r.versions[id]
	key, isCurrent := "", false
	if ok && len(r.amendsOf[id]) == 0 && !r.lineageVoided(id) {
		key, isCurrent = r.citizenKey(v), true
	}
	if was && (!isCurrent || old != key) {
		delete(r.members[old], id)
		delete(r.current, id)
		r.dirty[old] = true
	}
	if isCurrent && (!was || old != key) {
		if r.members[key] == nil {
			r.members[key] = map[replication.EntryID]bool{}
		}
		r.members[key][id] = true
		r.current[id] = key
		r.dirty[key] = true
	}
}

// lineageVoided reports whether id or any version it amends was voided.
func (r *Reconciler) lineageVoided(id replication.EntryID) bool {
	for n := 0; n < maxLineage; n++ {
		if r.voided[id] > 0 {
			return true
		}
		p, ok := r.parentOf[id]
		if !ok {
			return false
		}
		id = p
	}
	return false
}

// root returns the first capture of id's lineage, as far as it is known.
func (r *Reconciler) root(id replication.EntryID) replication.EntryID {
	for n := 0; n < maxLineage; n++ {
		p, ok := r.parentOf[id]
		if !ok {
			return id
		}
		id = p
	}
	return id
}

// citizenKey is Rule 1: the normalized 12-digit ID number when present and
// well-formed; otherwise a provisional key naming the lineage's first
// capture, so corrections stay with it. A hub never invents an ID number.
func (r *Reconciler) citizenKey(v *Version) string {
	if pid := v.keys.PersonalID; len(pid) == 12 && isDigits(pid) {
		return pid
	}
	return "prov:" + r.root(v.ID).String()
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (r *Reconciler) applyResolve(e replication.Entry) {
	var res Resolution
	if err := json.Unmarshal(e.Payload, &res); err != nil || res.Subject == "" {
		r.invalid++
		return
	}
	d := &Decision{Entry: e.ID(), Resolution: res}
	d.hash = e.Hash()
	r.decisions[res.Subject] = append(r.decisions[res.Subject], d)
	r.byOrigin[e.Origin] = append(r.byOrigin[e.Origin], res.Subject)
	r.markSubject(res.Subject)
}

// markSubject marks the citizens a decision's subject concerns.
func (r *Reconciler) markSubject(subject string) {
	if a, b, ok := parsePairID(subject); ok {
		r.pairDecs[a] = appendUnique(r.pairDecs[a], subject)
		r.pairDecs[b] = appendUnique(r.pairDecs[b], subject)
		r.dirty[a], r.dirty[b] = true, true
		return
	}
	if key, ok := parseConflictID(subject); ok {
		r.dirty[key] = true
	}
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Stats counts what the view holds.
type Stats struct {
	Entries       int `json:"entries"`
	Citizens      int `json:"citizens"`
	Versions      int `json:"versions"`
	OpenConflicts int `json:"open_conflicts"`
	Conflicts     int `json:"conflicts"`
	OpenPairs     int `json:"open_pairs"`
	Pairs         int `json:"pairs"`
	Decisions     int `json:"decisions"`
	Invalid       int `json:"invalid"`
	// Quarantined counts the entries Rule 0 holds out, by reason.
	Quarantined map[string]int `json:"quarantined,omitempty"`
}

// Stats returns the view's counts.
func (r *Reconciler) Stats() Stats {
	st := Stats{Entries: len(r.seen), Citizens: len(r.citizens), Versions: len(r.current), Invalid: r.invalid}
	for _, q := range r.Quarantine() {
		if st.Quarantined == nil {
			st.Quarantined = map[string]int{}
		}
		st.Quarantined[string(q.Reason)]++
	}
	for _, c := range r.citizens {
		if c.Conflict != nil {
			st.Conflicts++
			if c.Conflict.Resolved == nil {
				st.OpenConflicts++
			}
		}
	}
	for _, p := range r.Pairs() {
		st.Pairs++
		if p.Resolved == nil {
			st.OpenPairs++
		}
	}
	for _, ds := range r.decisions {
		st.Decisions += len(ds)
	}
	return st
}

// Citizen returns the citizen with key, or nil.
func (r *Reconciler) Citizen(key string) *Citizen { return r.citizens[key] }

// Keys returns every citizen key, sorted.
func (r *Reconciler) Keys() []string {
	out := make([]string, 0, len(r.citizens))
	for k := range r.citizens {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Conflicts returns the citizens with a conflict, sorted by key.
func (r *Reconciler) Conflicts() []*Citizen {
	var out []*Citizen
	for _, k := range r.Keys() {
		if c := r.citizens[k]; c.Conflict != nil {
			out = append(out, c)
		}
	}
	return out
}

// Pairs returns the probable duplicates, decided or open, sorted by ID.
func (r *Reconciler) Pairs() []Pair {
	if r.cfg.Matcher == nil {
		return nil
	}
	mps := r.cfg.Matcher.Pairs()
	out := make([]Pair, 0, len(mps))
	for _, mp := range mps {
		a, b := r.citizens[mp.A], r.citizens[mp.B]
		if a == nil || b == nil {
			continue
		}
		p := Pair{ID: PairID(mp.A, mp.B), A: mp.A, B: mp.B, Keys: []string{mp.A, mp.B}, Score: mp.Score, Reasons: mp.Reasons, Level: level(a.Region, b.Region)}
		p.Resolved = r.best(r.decisions[p.ID], nil)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func level(regions ...string) string {
	for _, x := range regions[1:] {
		if x != regions[0] {
			return "province"
		}
	}
	if regions[0] == "" {
		return "province"
	}
	return "district:" + regions[0]
}

func countWarnings(fs enrollment.Findings) int {
	n := 0
	for _, f := range fs {
		if f.Severity >= enrollment.Warn {
			n++
		}
	}
	return n
}

func parsePairID(s string) (string, string, bool) {
	var a, b string
	const p = "pair:"
	if len(s) <= len(p) || s[:len(p)] != p {
		return "", "", false
	}
	for i := len(p); i < len(s); i++ {
		if s[i] == '|' {
			a, b = s[len(p):i], s[i+1:]
			return a, b, a != "" && b != "" && a < b
		}
	}
	return "", "", false
}

func parseConflictID(s string) (string, bool) {
	const p = "conflict:"
	if len(s) <= len(p) || s[:len(p)] != p {
		return "", false
	}
	return s[len(p):], true
}

var _ = fmt.Sprint
