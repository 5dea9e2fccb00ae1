package reconcile

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sort"
	"sync/atomic"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/roster"
	"fieldsync/storage/kv"
)

// maxLineage bounds walks along amend chains (a limit on everything: a
// chain of more corrections than this is treated as broken at that depth).
const maxLineage = 1000

// MaxAmendWalk bounds the versions refresh re-places under one amended
// version (its subtree of amends). A subtree larger than this is cut
// there — versions past it keep their old place — and counted
// (AmendWalksCut): no honest history comes near it.
const MaxAmendWalk = maxLineage * 10

// amendWalk is MaxAmendWalk (a test lowers it).
var amendWalk = MaxAmendWalk

// Matcher finds probable duplicates among citizens (package dedup, adapted
// by the hub). What it proposes must be a function of the set of citizens
// put (key, profile, region), whatever the order of calls.
type Matcher interface {
	// Profile derives what the matcher keeps of a record: compact bytes
	// the view stores with the version and hands back to Put. It must be
	// pure and safe for concurrent use (decoding runs it on every core).
	// keys is enrollment.Keys(rec).
	Profile(rec *enrollment.Enrollment, keys enrollment.MatchKeys) []byte
	// Put adds the citizen key, or replaces what it held of it: the
	// profile of the version the view shows, and the citizen's region.
	Put(key string, profile []byte, region string)
	// Delete removes the citizen key.
	Delete(key string)
	// Changes returns every pair proposed, re-scored or withdrawn
	// (Withdrawn) since the last call, and forgets them. The view keeps
	// the pairs (their queue, counts and digest) from these alone.
	Changes() []MatchPair
	// Load rebuilds the matcher from what the view stored — every
	// citizen's profile and region, every pair — without scoring: a
	// restart must not cost a comparison per citizen.
	Load(profiles iter.Seq2[string, Profiled], pairs iter.Seq[MatchPair]) error
}

// Explainer is a Matcher that explains the pairs it proposes from what it
// keeps with them (MatchPair.Extra): the readers call it on every pair
// they show, from any goroutine, so it must be pure.
type Explainer interface {
	Explain(extra []byte) (model string, evidence []Evidence)
}

// Evidence is one line of a pair's explanation: what agrees or disagrees,
// its weight in bits (log2 of the likelihood ratio), whether it counts in
// the score, and the sentence in Vietnamese and English.
type Evidence struct {
	Code    string  `json:"code"`
	Weight  float64 `json:"weight"`
	Counted bool    `json:"counted"`
	VI      string  `json:"vi"`
	EN      string  `json:"en"`
}

// Profiled is a citizen as the matcher was given it.
type Profiled struct {
	Profile []byte
	Region  string
}

// MatchPair is a probable duplicate the matcher proposes.
type MatchPair struct {
	A, B    string // A < B
	Score   float64
	Reasons []string
	// Extra is the matcher's own (the model that judged it, its
	// evidence): kept with the pair, handed back by Load.
	Extra []byte
	// Withdrawn reports, in Changes, a pair proposed before that no
	// longer is.
	Withdrawn bool
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
	// Entries reads an entry the view holds, for what is shown in full
	// (Citizen, the review queues): the hub passes its log's Get. Nil
	// keeps every entry in the view's own store (tests, small sets).
	Entries func(id replication.EntryID) (replication.Entry, error)
	// Components follow the view as entries apply (component.go).
	Components []Component
}

// DefaultTiers ranks district below province.
func DefaultTiers() map[string]int { return map[string]int{"district": 1, "province": 2} }

// Reconciler builds the citizen view from a set of entries, in a kv store.
// Apply entries in any order, with duplicates: the view depends only on
// the set. One goroutine applies; any number read (Citizen, the queues,
// Stats, Digest), each from a consistent snapshot, never waiting for the
// one that applies.
type Reconciler struct {
	cfg   Config
	db    kv.DB
	comps []Component // Config.Components, then the matcher's

	// What the writer keeps in memory between rounds: small tables, loaded
	// from the store at Open and written back at the end of each round.
	origins    map[replication.OriginID]*originInfo
	devOrigins map[replication.DeviceID][]replication.OriginID
	roster     *roster.State // Rule 0's roster fold; nil when open
	counts     counts
	communes   map[string]*communeCount
	digest     *digest
	rejudged   int // origins judged again (see judge.go)
	walksCut   int // amend subtrees cut at MaxAmendWalk (refresh)
	broken     error

	// The round in progress (store.go).
	b             *kv.Batch
	err           error
	recs          map[replication.EntryID]*entryRec
	rows          map[string]*citizenRow
	dirty         map[string]bool // citizens to derive again
	dirtyPairs    map[string]bool // pairs whose decisions changed
	dirtyOrigins  map[replication.OriginID]bool
	dirtyCommunes map[string]bool
	rejudge       map[replication.OriginID]bool

	pub atomic.Pointer[summary] // what readers see of the counters
}

// New returns an empty reconciler over an in-memory store.
func New(cfg Config) *Reconciler {
	r, err := Open(cfg, kv.NewMem())
	if err != nil {
		panic(err) // an empty in-memory store always opens
	}
	return r
}

// Open returns the reconciler whose view db holds (empty if new): the
// in-memory tables are read back and the matcher rebuilt with Load.
func Open(cfg Config, db kv.DB) (*Reconciler, error) {
	if cfg.Tiers == nil {
		cfg.Tiers = DefaultTiers()
	}
	// The census is always there (census.go): a view with no resident
	// list holds nothing of it.
	cfg.Components = append([]Component{censusComponent{}}, cfg.Components...)
	r := &Reconciler{cfg: cfg, db: db, comps: cfg.components(), origins: map[replication.OriginID]*originInfo{},
		devOrigins: map[replication.DeviceID][]replication.OriginID{}, communes: map[string]*communeCount{}, digest: newDigest()}
	if cfg.Anchor != nil {
		r.roster = roster.NewState(cfg.Anchor)
	}
	if err := r.load(); err != nil {
		return nil, err
	}
	r.publish()
	return r, nil
}

// Meta is a key and value the caller writes in the same transaction as a
// round of entries (the hub's watermark).
type Meta struct {
	Key   string
	Value []byte
}

// Apply adds entries to the set, in one transaction. Applying an entry
// twice is a no-op. An entry whose payload does not decode is counted
// (Stats.Invalid) and left out of the view: it is still in the log, as
// evidence.
func (r *Reconciler) Apply(es ...replication.Entry) error {
	ds := make([]*Decoded, len(es))
	for i := range es {
		ds[i] = r.Decode(es[i])
	}
	return r.ApplyDecoded(ds)
}

// ApplyDecoded applies entries decoded with Decode, in order, and writes
// meta with them, in one transaction. On an error nothing of it is in the
// store, and the reconciler refuses every later call (its memory is ahead
// of its store): open it again.
func (r *Reconciler) ApplyDecoded(ds []*Decoded, meta ...Meta) error {
	return r.round(func() {
		for _, d := range ds {
			r.applyNew(d)
			if r.err != nil {
				return
			}
		}
	}, meta)
}

// ErrBroken is returned by every call after a round failed to commit.
var ErrBroken = errors.New("reconcile: a round failed; open the view again")

func (r *Reconciler) round(fn func(), meta []Meta) error {
	if r.broken != nil {
		return r.broken
	}
	err := r.db.View(func(base kv.Reader) error {
		r.begin(base)
		fn()
		r.derive()
		r.flush(meta)
		if r.err != nil {
			return r.err
		}
		return r.commit()
	})
	r.end()
	if err != nil {
		r.broken = fmt.Errorf("%w: %w", ErrBroken, err)
		return err
	}
	r.publish()
	return nil
}

func (r *Reconciler) begin(base kv.Reader) {
	r.b, r.err = kv.NewBatch(base), nil
	r.recs, r.rows = map[replication.EntryID]*entryRec{}, map[string]*citizenRow{}
	r.dirty, r.dirtyPairs = map[string]bool{}, map[string]bool{}
	r.dirtyOrigins, r.dirtyCommunes = map[replication.OriginID]bool{}, map[string]bool{}
	r.rejudge = map[replication.OriginID]bool{}
}

func (r *Reconciler) end() {
	r.b, r.recs, r.rows = nil, nil, nil
	r.dirty, r.dirtyPairs, r.dirtyOrigins, r.dirtyCommunes, r.rejudge = nil, nil, nil, nil, nil
}

// maxCommitBytes is the most one store transaction is given: a round that
// wrote more (a judgement change over a big origin) is committed in parts,
// bracketed by a torn marker (commit).
const maxCommitBytes = 4 << 20

// ErrTorn is returned by Open when a round committed in parts was cut
// between them: the store is inconsistent and the view must be rebuilt.
var ErrTorn = errors.New("reconcile: the view store was cut in the middle of a round; rebuild it")

var tornKey = strKey(tMeta, "torn")

// commit writes the round: one transaction, or, past maxCommitBytes, parts
// under a torn marker that only the last part removes.
func (r *Reconciler) commit() error {
	if r.b.Size() <= maxCommitBytes {
		err := r.db.Update(func(t kv.Txn) error { return r.b.WriteTo(t) })
		if !errors.Is(err, kv.ErrTooBig) {
			return err
		}
	}
	if err := r.db.Update(func(t kv.Txn) error { return t.Set(tornKey, []byte{1}) }); err != nil {
		return err
	}
	var part []func(kv.Txn) error
	size := 0
	flush := func() error {
		err := r.db.Update(func(t kv.Txn) error {
			for _, w := range part {
				if err := w(t); err != nil {
					return err
				}
			}
			return nil
		})
		part, size = part[:0], 0
		return err
	}
	var err error
	r.b.Each(func(key, value []byte, deleted bool) bool {
		if deleted {
			part = append(part, func(t kv.Txn) error { return t.Delete(key) })
		} else {
			part = append(part, func(t kv.Txn) error { return t.Set(key, value) })
		}
		if size += len(key) + len(value); size >= maxCommitBytes/2 {
			err = flush()
		}
		return err == nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	return r.db.Update(func(t kv.Txn) error { return t.Delete(tornKey) })
}

// applyNew applies an entry seen for the first time.
func (r *Reconciler) applyNew(d *Decoded) {
	if r.rec(d.rec.ID) != nil {
		return
	}
	r.counts.Entries++
	if r.cfg.Entries == nil {
		if b, err := d.entry.MarshalBinary(); err == nil {
			r.set(idKey(tPayload, d.rec.ID), b)
		}
	}
	e := d.rec.clone()
	r.applyRec(e)
	r.judgeAgain()
}

// applyRec applies the rules to an entry (first seen, or judged again).
func (r *Reconciler) applyRec(e *entryRec) {
	o := r.origin(e.ID.Origin)
	if e.Kind == replication.KindGenesis {
		r.applyGenesis(e, o)
		return
	}
	o.Judged++
	o.MaxSeen = max(o.MaxSeen, e.ID.Seq)
	r.touch(e.ID.Origin)
	if r.roster != nil && r.gate(e, o) { // Rule 0
		r.putRec(e)
		return
	}
	if o.ForkFrom != 0 && e.ID.Seq >= o.ForkFrom { // Rule 8
		e.State = stateForked
		r.putRec(e)
		r.listHeld(e, ReasonForked, "", false)
		return
	}
	o.MaxApplied = max(o.MaxApplied, e.ID.Seq)
	r.originArrived(e)
	if e.invalid() {
		e.State = stateInvalid
		r.putRec(e)
		r.counts.Invalid++
		return
	}
	e.State = stateApplied
	switch e.MKind {
	case replication.KindEnroll, replication.KindAmend:
		if e.Of != nil && !r.reissueStands(e) { // Rule 9
			e.State = stateAliased
			r.putRec(e)
			break
		}
		if e.Target != nil {
			p := r.target(e.ID.Origin, *e.Target)
			e.Parent = &p
		}
		r.putRec(e)
		r.addVersion(e)
	case replication.KindVoid:
		t := r.target(e.ID.Origin, *e.Target)
		e.Parent = &t
		r.putRec(e)
		r.addCount(idKey(tVoids, t), 1)
		r.refresh(t)
	case replication.KindResolve:
		r.putRec(e)
		r.applyResolve(e, o)
	case replication.KindFork:
		r.putRec(e)
		r.applyNotice(e, 1)
	default:
		r.putRec(e)
	}
	r.admitted(e)
}

func (r *Reconciler) applyGenesis(e *entryRec, o *originInfo) {
	g, err := replication.DecodeGenesis(e.Payload)
	if err != nil {
		e.State = stateInvalid
		r.putRec(e)
		r.counts.Invalid++
		return
	}
	e.State = stateApplied
	r.putRec(e)
	o.Genesis = &g
	o.Device = replication.DeviceIDOf(g.PublicKey)
	r.devOrigins[o.Device] = append(r.devOrigins[o.Device], e.ID.Origin)
	o.MaxApplied = max(o.MaxApplied, 1)
	r.touch(e.ID.Origin)
	if o.Judged > 0 {
		// Entries of the origin were judged without its genesis: its key
		// (Rule 0), its tier (the rank of its decisions, whether its fork
		// notices count) and what it re-issues (Rule 9) were unknown.
		r.rejudge[e.ID.Origin] = true
	}
}

// addVersion adds a capture to the view (Rules 1-2).
func (r *Reconciler) addVersion(e *entryRec) {
	if e.Parent != nil {
		r.set(appendID(idKey(tAmends, *e.Parent), e.ID), nil)
		r.addCount(idKey(tAmendCount, *e.Parent), 1)
		r.refresh(*e.Parent)
	}
	r.refresh(e.ID)
}

// refresh recomputes, for id and every version that amends it (its
// subtree), whether it is current and under which citizen key: at most
// MaxAmendWalk versions; a larger subtree is cut and counted.
func (r *Reconciler) refresh(id replication.EntryID) {
	stack := []replication.EntryID{id}
	for n := 0; len(stack) > 0; n++ {
		if n == amendWalk {
			r.walksCut++
			return
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		r.place(v)
		stack = append(stack, r.amendsOf(v)...)
	}
}

// AmendWalksCut returns how many amend subtrees this reconciler cut at
// MaxAmendWalk since it was opened (as of the last round).
func (r *Reconciler) AmendWalksCut() int { return r.pub.Load().walksCut }

// amendsOf lists the current amends that name id.
func (r *Reconciler) amendsOf(id replication.EntryID) []replication.EntryID {
	if r.count(idKey(tAmendCount, id)) == 0 {
		return nil
	}
	var out []replication.EntryID
	prefix := idKey(tAmends, id)
	r.scan(prefix, func(k, _ []byte) {
		if len(k) == len(prefix)+idSize {
			out = append(out, readID(k[len(prefix):]))
		}
	})
	return out
}

// place puts a version under its citizen key if it is current, and takes
// it out of its old one otherwise (Rules 1-2 of the package doc).
func (r *Reconciler) place(id replication.EntryID) {
	e := r.rec(id)
	if e == nil {
		return
	}
	key, isCurrent := "", false
	if e.isVersion() && r.count(idKey(tAmendCount, id)) == 0 && !r.lineageVoided(id) {
		key, isCurrent = r.citizenKey(e), true
	}
	if e.Key != "" && (!isCurrent || e.Key != key) {
		r.placeOut(e)
	}
	if isCurrent && e.Key != key {
		r.row(key, true).addMember(id)
		r.dirty[key] = true
		e.Key = key
		r.putRec(e)
		r.counts.Versions++
	}
}

// placeOut takes a version out of the citizen it is current under.
func (r *Reconciler) placeOut(e *entryRec) {
	if c := r.row(e.Key, false); c != nil {
		c.removeMember(e.ID)
	}
	r.dirty[e.Key] = true
	e.Key = ""
	r.putRec(e)
	r.counts.Versions--
}

// parentOf returns the version id amends, if id is a version with one.
func (r *Reconciler) parentOf(id replication.EntryID) (replication.EntryID, bool) {
	e := r.rec(id)
	if e == nil || !e.isVersion() || e.Parent == nil {
		return replication.EntryID{}, false
	}
	return *e.Parent, true
}

// lineageVoided reports whether id or any version it amends was voided.
func (r *Reconciler) lineageVoided(id replication.EntryID) bool {
	for n := 0; n < maxLineage; n++ {
		if r.count(idKey(tVoids, id)) > 0 {
			return true
		}
		p, ok := r.parentOf(id)
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
		p, ok := r.parentOf(id)
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
func (r *Reconciler) citizenKey(e *entryRec) string {
	if pid := e.Version.PersonalID; len(pid) == 12 && isDigits(pid) {
		return pid
	}
	return "prov:" + r.root(e.ID).String()
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// applyResolve adds a decision (Rule 6). The rank of its writer is read
// now; if the writer's genesis comes later, the origin is judged again.
func (r *Reconciler) applyResolve(e *entryRec, o *originInfo) {
	var res Resolution
	json.Unmarshal(e.Payload, &res) // checked by Decode
	tier := ""
	if o.Genesis != nil && o.Genesis.Role == replication.RoleHub {
		tier = o.Genesis.Tier
	}
	row := &decisionRow{Tier: tier, Hash: e.Hash, Resolution: e.Payload}
	r.set(decisionKey(res.Subject, e.ID), row.encode())
	r.counts.Decisions++
	r.digest.item(res.Subject, decisionLine(res.Subject, e.ID), 1)
	r.markSubject(res.Subject)
}

func decisionKey(subject string, id replication.EntryID) []byte {
	return appendID(append(strKey(tDecision, subject), 0), id)
}

// markSubject marks the citizens and the pair a decision's subject concerns.
func (r *Reconciler) markSubject(subject string) {
	if a, b, ok := parsePairID(subject); ok {
		for _, k := range []string{a, b} {
			key := strKey(tPairDecs, k, subject)
			if _, held := r.get(key); !held {
				r.set(key, nil)
				r.addCount(strKey(tPairDecN, k), 1)
			}
			r.dirty[k] = true
		}
		r.dirtyPairs[subject] = true
		return
	}
	if key, ok := parseConflictID(subject); ok {
		r.dirty[key] = true
	}
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
	// Quarantined counts the entries Rules 0 and 8 hold out, by reason.
	Quarantined map[string]int `json:"quarantined,omitempty"`
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

func parsePairID(s string) (string, string, bool) {
	const p = "pair:"
	if len(s) <= len(p) || s[:len(p)] != p {
		return "", "", false
	}
	for i := len(p); i < len(s); i++ {
		if s[i] == '|' {
			a, b := s[len(p):i], s[i+1:]
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

func sortedStrings(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
