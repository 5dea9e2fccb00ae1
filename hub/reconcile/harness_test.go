package reconcile_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"fieldsync/enrollment"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
)

// world builds signed entries from named origins, for tests.
type world struct {
	names   map[replication.OriginID]string
	origins map[string]*origin
	entries []replication.Entry
	writers []string // who wrote each entry (an origin's name, or a branch's)
	order   []string // origin names in creation order
	// anchor, when set, is the roster key (Rule 0; gate_test.go).
	anchor ed25519.PublicKey
	// branches are second writers of an origin (epochs_test.go); a hub
	// holds one branch of each origin, the first writer's unless told.
	branches map[string]branch
	// matcher, when set, makes each hub's duplicate detector (default: the
	// test matcher below).
	matcher func() reconcile.Matcher
}

type origin struct {
	name   string
	signer *replication.KeySigner
	seq    uint64
	prev   replication.Hash
	clock  int64 // HLC wall millis, per origin: clocks need not agree
}

func newWorld() *world {
	return &world{names: map[replication.OriginID]string{}, origins: map[string]*origin{}}
}

// addOrigin creates an origin and its genesis entry.
func (w *world) addOrigin(name string, role replication.Role, tier string, seed uint64, clock int64) {
	o := &origin{name: name, signer: oplogtest.NewSigner(seed), clock: clock}
	w.origins[name], w.names[o.signer.Origin()] = o, name
	w.order = append(w.order, name)
	g := replication.NewGenesis(o.signer, role, tier, "42")
	p, _ := json.Marshal(g)
	w.add(name, replication.KindGenesis, p)
}

func (w *world) add(name string, kind replication.Kind, payload []byte) replication.EntryID {
	o := w.origins[name]
	o.clock += 1000
	e := replication.Seal(o.signer, replication.Draft{Kind: kind, Schema: 1, Payload: payload, HLC: replication.MakeHLC(o.clock, 0)}, o.seq+1, o.prev)
	o.seq, o.prev = e.Seq, e.Hash()
	w.entries, w.writers = append(w.entries, e), append(w.writers, name)
	return e.ID()
}

// ref renders an entry ID as "name:seq".
func (w *world) ref(id replication.EntryID) string {
	return fmt.Sprintf("%s:%d", w.names[id.Origin], id.Seq)
}

// parseRef turns "name:seq" into an entry ID.
func (w *world) parseRef(s string) replication.EntryID {
	name, seq, _ := strings.Cut(s, ":")
	var n uint64
	fmt.Sscan(seq, &n)
	return replication.EntryID{Origin: w.origins[name].signer.Origin(), Seq: n}
}

// record is a valid enrollment with the given overrides.
func record(over map[string]string) enrollment.Enrollment {
	e := enrollment.Enrollment{
		PersonalID: "042085000123", FullName: "Nguyễn Văn An",
		DateOfBirth: enrollment.Date{Year: 1985, Month: 3, Day: 12}, Sex: enrollment.Male,
		EthnicityCode: "01", Religion: "Không", Nationality: []string{"Việt Nam"},
		BirthRegistration:  enrollment.Place{UnitCode: "42", CodeList: enrollment.CodeList2023, Text: "Tỉnh Hà Tĩnh"},
		Hometown:           enrollment.Place{UnitCode: "18586", CodeList: enrollment.CodeList2023, Text: "Xã Thạch Kênh"},
		PermanentResidence: enrollment.Place{UnitCode: "18586", CodeList: enrollment.CodeList2023, Text: "Xã Thạch Kênh"},
		Capture: enrollment.Capture{CommuneCode: "18586", CodeList: enrollment.CodeList2023, Officer: "CA-1", Device: "dev-1",
			CapturedAt: time.Date(2023, 3, 1, 8, 0, 0, 0, time.UTC)},
	}
	for k, v := range over {
		v = strings.ReplaceAll(v, "_", " ") // golden files write spaces in names as _
		switch k {
		case "id":
			e.PersonalID = v
		case "name":
			e.FullName = v
		case "dob":
			e.DateOfBirth, _ = enrollment.ParseDate(v)
		case "sex":
			e.Sex = enrollment.Sex(v)
		case "father":
			e.Father = &enrollment.Relative{FullName: v}
		case "residence":
			e.CurrentResidence = &enrollment.Place{UnitCode: v, CodeList: enrollment.CodeList2023, Text: "Xã " + v}
		case "occupation":
			e.Occupation = v
		case "commune":
			e.Capture.CommuneCode = v
		}
	}
	return e
}

// applyAll applies the world's entries to a fresh reconciler in an order.
func (w *world) applyAll(order string, seed uint64) *reconcile.Reconciler {
	return w.applyBranch(order, seed, "")
}

// applyBranch is applyAll for a hub holding branch keep of forked origins.
func (w *world) applyBranch(order string, seed uint64, keep string) *reconcile.Reconciler {
	var es []replication.Entry
	for i, e := range w.entries {
		if w.holds(i, keep) {
			es = append(es, e)
		}
	}
	switch order {
	case "reverse":
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			es[i], es[j] = es[j], es[i]
		}
	case "shuffle":
		rand.New(rand.NewPCG(seed, 3)).Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
	}
	return w.apply(es)
}

// apply applies es in order to a fresh reconciler (which judges origins
// again when a late entry changes a judgement, as a hub's view does).
func (w *world) apply(es []replication.Entry) *reconcile.Reconciler {
	cfg := func() reconcile.Config {
		if w.matcher != nil {
			return reconcile.Config{Matcher: w.matcher(), Anchor: w.anchor}
		}
		return reconcile.Config{Matcher: newTestMatcher(), Anchor: w.anchor}
	}
	r := reconcile.New(cfg())
	for _, e := range es {
		if err := r.Apply(e); err != nil {
			panic(err)
		}
	}
	return r
}

// applyInRounds is apply with the entries cut into rounds of random sizes
// (a hub's view applies what its log took in since the last round, in one
// transaction): where the rounds end must not matter.
func (w *world) applyInRounds(es []replication.Entry, rng *rand.Rand) *reconcile.Reconciler {
	cfg := reconcile.Config{Matcher: newTestMatcher(), Anchor: w.anchor}
	if w.matcher != nil {
		cfg.Matcher = w.matcher()
	}
	r := reconcile.New(cfg)
	for len(es) > 0 {
		n := 1 + rng.IntN(len(es))
		if err := r.Apply(es[:n]...); err != nil {
			panic(err)
		}
		es = es[n:]
	}
	return r
}

// describe prints the view deterministically.
func (w *world) describe(r *reconcile.Reconciler) string {
	var b strings.Builder
	for _, k := range r.Keys() {
		c, err := r.Citizen(k)
		if err != nil || c == nil {
			panic(fmt.Sprintf("citizen %s: %v", k, err))
		}
		key := c.Key
		if strings.HasPrefix(key, "prov:") {
			id, _ := replication.ParseEntryID(strings.TrimPrefix(key, "prov:"))
			key = "prov:" + w.ref(id)
		}
		var vs []string
		for _, v := range c.Versions {
			vs = append(vs, w.ref(v.ID))
		}
		fmt.Fprintf(&b, "citizen %s: shown %s of [%s] region %s\n", key, w.ref(c.Shown), strings.Join(vs, " "), c.Region)
		fmt.Fprintf(&b, "  %s, %s, %s", c.Record.FullName, c.Record.DateOfBirth, c.Record.Sex)
		if c.Record.CurrentResidence != nil {
			fmt.Fprintf(&b, ", lives in %s", c.Record.CurrentResidence.UnitCode)
		}
		if c.Record.Occupation != "" {
			fmt.Fprintf(&b, ", %s", c.Record.Occupation)
		}
		b.WriteString("\n")
		if cf := c.Conflict; cf != nil {
			fmt.Fprintf(&b, "  conflict on %s (%s): %s\n", strings.Join(cf.Fields, ","), cf.Level, w.decision(cf.Resolved))
		}
		for _, f := range sortedKeys(c.History) {
			var steps []string
			for _, h := range c.History[f] {
				mark := ""
				if h.Concurrent {
					mark = " (concurrent)"
				}
				steps = append(steps, fmt.Sprintf("%s@%s%s", strings.ReplaceAll(strings.TrimSpace(h.Value), " ", "_"), w.ref(h.Entry), mark))
			}
			fmt.Fprintf(&b, "  history %s: %s\n", f, strings.Join(steps, " -> "))
		}
		for _, cl := range c.Cleaning {
			fmt.Fprintf(&b, "  cleaned %s: %q -> %q (%s)\n", cl.Field, cl.From, cl.To, cl.Rule)
		}
		for _, l := range c.Linked {
			fmt.Fprintf(&b, "  same person as %s\n", l)
		}
	}
	pairs, err := r.Pairs()
	if err != nil {
		panic(err)
	}
	for _, p := range pairs {
		fmt.Fprintf(&b, "pair %s ~ %s (%s) score %.2f [%s]: %s\n", p.A, p.B, p.Level, p.Score, strings.Join(p.Reasons, ","), w.decision(p.Resolved))
	}
	for _, q := range r.Quarantine() {
		fmt.Fprintf(&b, "quarantined %s (%s): %s\n", w.ref(q.Entry), q.Kind, q.Reason)
	}
	st := r.Stats()
	fmt.Fprintf(&b, "stats: citizens=%d versions=%d conflicts=%d open=%d pairs=%d open=%d decisions=%d invalid=%d\n",
		st.Citizens, st.Versions, st.Conflicts, st.OpenConflicts, st.Pairs, st.OpenPairs, st.Decisions, st.Invalid)
	return b.String()
}

func (w *world) decision(d *reconcile.Decision) string {
	if d == nil {
		return "open"
	}
	what := d.Choose
	if what != "" {
		what = "shows " + w.ref(mustParse(what))
	} else {
		what = d.Verdict
	}
	return fmt.Sprintf("settled by %s (%s) %s", w.ref(d.Entry), d.Tier, what)
}

func mustParse(s string) replication.EntryID {
	id, err := replication.ParseEntryID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// testMatcher pairs citizens whose shown records share the folded name and
// the birth year: enough to exercise the reconciler's handling of pairs
// (the real detector, package dedup, has its own tests). It finds its
// changes by comparing every pair with the last call's.
type testMatcher struct {
	recs map[string]enrollment.MatchKeys
	last map[[2]string]bool
}

func newTestMatcher() *testMatcher {
	return &testMatcher{recs: map[string]enrollment.MatchKeys{}, last: map[[2]string]bool{}}
}

func (m *testMatcher) Profile(_ *enrollment.Enrollment, k enrollment.MatchKeys) []byte {
	b, _ := json.Marshal(k)
	return b
}

func (m *testMatcher) Put(key string, profile []byte, _ string) {
	var k enrollment.MatchKeys
	json.Unmarshal(profile, &k)
	m.recs[key] = k
}

func (m *testMatcher) Delete(key string) { delete(m.recs, key) }

func (m *testMatcher) pairs() map[[2]string]bool {
	keys := sortedKeys(m.recs)
	out := map[[2]string]bool{}
	for i, a := range keys {
		for _, b := range keys[i+1:] {
			ka, kb := m.recs[a], m.recs[b]
			if ka.NameFold == kb.NameFold && len(ka.DateOfBirth) >= 4 && len(kb.DateOfBirth) >= 4 && ka.DateOfBirth[:4] == kb.DateOfBirth[:4] {
				out[[2]string{a, b}] = true
			}
		}
	}
	return out
}

func (m *testMatcher) Changes() []reconcile.MatchPair {
	now := m.pairs()
	var out []reconcile.MatchPair
	for p := range now {
		if !m.last[p] {
			out = append(out, reconcile.MatchPair{A: p[0], B: p[1], Score: 0.9, Reasons: []string{"name-fold-equal", "birth-year-equal"}})
		}
	}
	for p := range m.last {
		if !now[p] {
			out = append(out, reconcile.MatchPair{A: p[0], B: p[1], Withdrawn: true})
		}
	}
	m.last = now
	sort.Slice(out, func(i, j int) bool { return out[i].A+"|"+out[i].B < out[j].A+"|"+out[j].B })
	return out
}

func (m *testMatcher) Load(profiles iter.Seq2[string, reconcile.Profiled], _ iter.Seq[reconcile.MatchPair]) error {
	for k, p := range profiles {
		m.Put(k, p.Profile, p.Region)
	}
	m.last = m.pairs()
	return nil
}
