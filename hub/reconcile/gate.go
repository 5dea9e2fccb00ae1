package reconcile

import (
	"bytes"
	"crypto/ed25519"
	"slices"
	"sort"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/roster"
)

// Rule 0 — authorization (package roster). With Config.Anchor set, the
// view takes an entry only if the province's roster allows it:
//
//   - roster and revoke entries of an origin whose genesis names the anchor
//     key make the roster; from anyone else they are quarantined;
//   - a genesis is identity, never quarantined;
//   - every other entry needs its origin's key on the roster with the role
//     (and a hub's tier) its genesis declares, a seq the key's revocation
//     keeps, a hub's key for a decision, and for a capture a commune inside
//     the key's scope (the commune itself, or a district or province that
//     holds it in the capture's code list).
//
// A quarantined entry stays in the log, is listed with its reason
// (Quarantine, Stats.Quarantined, the digest) and changes nothing else:
// no citizen, conflict, pair or decision. The verdict is a function of the
// entry set, so every hub quarantines the same entries. An entry is judged
// when it arrives; when the roster or a genesis that arrives later would
// change the verdict of an entry already judged, the reconciler turns
// Stale, and the caller rebuilds it with Replay (or, in a hub, from the
// log in the same order): geneses first, then the anchor's entries, then
// the rest — an order in which no verdict ever changes.

// Quarantined is an entry held out of the view by Rule 0.
type Quarantined struct {
	Entry  replication.EntryID  `json:"entry"`
	Kind   replication.Kind     `json:"kind"`
	Reason roster.Reason        `json:"reason"`
	Device replication.DeviceID `json:"device,omitempty"`
}

// gate is Rule 0's state.
type gate struct {
	anchor      ed25519.PublicKey
	state       *roster.State
	origins     map[replication.OriginID]genesisInfo
	devOrigins  map[replication.DeviceID][]replication.OriginID
	byOrigin    map[replication.OriginID]*originGate
	quarantined map[replication.EntryID]Quarantined
	stale       bool
}

type genesisInfo struct {
	genesis replication.Genesis
	device  replication.DeviceID
}

// originGate counts an origin's judged entries, to know whether a change
// of the roster or a late genesis could change a verdict already given.
type originGate struct {
	admitted, quarantined int
	maxAdmitted           uint64
}

func newGate(anchor ed25519.PublicKey) *gate {
	return &gate{anchor: anchor, state: roster.NewState(anchor), origins: map[replication.OriginID]genesisInfo{},
		devOrigins: map[replication.DeviceID][]replication.OriginID{}, byOrigin: map[replication.OriginID]*originGate{},
		quarantined: map[replication.EntryID]Quarantined{}}
}

// hold applies Rule 0 to an entry seen for the first time; it reports
// whether the entry is kept out of the citizen view (quarantined, or a
// roster entry, which is the roster's and nobody's citizen).
func (g *gate) hold(d *Decoded) bool {
	e := &d.entry
	switch e.Kind {
	case replication.KindGenesis:
		g.noteGenesis(e)
		return false
	case replication.KindRoster, replication.KindRevoke:
		info, ok := g.origins[e.Origin]
		switch {
		case !ok:
			g.quarantine(e, roster.ReasonNoGenesis, "")
		case !bytes.Equal(info.genesis.PublicKey, g.anchor):
			g.quarantine(e, roster.ReasonNotAnchor, info.device)
		default:
			if ch, err := g.state.Apply(*e); err == nil {
				g.changed(ch)
			}
		}
		return true
	}
	if reason, dev := g.verdict(d); reason != "" {
		g.quarantine(e, reason, dev)
		return true
	}
	og := g.originGate(e.Origin)
	og.admitted++
	og.maxAdmitted = max(og.maxAdmitted, e.Seq)
	return false
}

// verdict is Rule 0 for a data entry: "" admits it.
func (g *gate) verdict(d *Decoded) (roster.Reason, replication.DeviceID) {
	e := &d.entry
	info, ok := g.origins[e.Origin]
	if !ok {
		return roster.ReasonNoGenesis, ""
	}
	dev, reason := g.state.Admits(info.genesis, e.Origin, e.Seq, e.Kind)
	if reason != "" {
		return reason, info.device
	}
	if d.version != nil && !roster.InScope(dev.Units, d.version.Record.Capture.CommuneCode, parentIn(d.version.Record.Capture.CodeList)) {
		return roster.ReasonOutOfScope, info.device
	}
	return "", info.device
}

// parentIn returns the parent of a unit in a code list (both lists when
// the capture names none).
func parentIn(list string) func(string) string {
	lists := []string{list}
	if list == "" {
		lists = []string{enrollment.CodeList2023, enrollment.CodeList2025}
	}
	return func(code string) string {
		for _, l := range lists {
			if u, ok := enrollment.UnitByCode(l, code); ok {
				return u.Parent
			}
		}
		return ""
	}
}

func (g *gate) quarantine(e *replication.Entry, reason roster.Reason, dev replication.DeviceID) {
	g.quarantined[e.ID()] = Quarantined{Entry: e.ID(), Kind: e.Kind, Reason: reason, Device: dev}
	g.originGate(e.Origin).quarantined++
}

func (g *gate) originGate(o replication.OriginID) *originGate {
	og := g.byOrigin[o]
	if og == nil {
		og = &originGate{}
		g.byOrigin[o] = og
	}
	return og
}

// noteGenesis learns an origin's key; entries of it judged before (held
// for want of it) must be judged again.
func (g *gate) noteGenesis(e *replication.Entry) {
	gen, err := replication.DecodeGenesis(e.Payload)
	if err != nil {
		return
	}
	dev := replication.DeviceIDOf(gen.PublicKey)
	g.origins[e.Origin] = genesisInfo{genesis: gen, device: dev}
	g.devOrigins[dev] = append(g.devOrigins[dev], e.Origin)
	if og := g.byOrigin[e.Origin]; og != nil && og.quarantined > 0 {
		g.stale = true
	}
}

// changed marks the reconciler stale when a roster change could change a
// verdict already given: a revocation below an admitted seq; any other
// change of a device with entries judged (a first add admits what was
// held, a new scope or role may admit or hold anything).
func (g *gate) changed(ch roster.Change) {
	for _, o := range g.devOrigins[ch.Device] {
		og := g.byOrigin[o]
		switch {
		case og == nil:
		case ch.Revocation:
			if og.admitted > 0 && og.maxAdmitted > ch.After.Limit(o) {
				g.stale = true
			}
		case og.quarantined > 0:
			g.stale = true
		case og.admitted > 0 && !sameRecord(ch.Before, ch.After):
			g.stale = true
		}
	}
}

func sameRecord(a, b roster.Device) bool {
	return a.Role == b.Role && a.Tier == b.Tier && slices.Equal(a.Units, b.Units)
}

// list returns the quarantined entries sorted by entry.
func (g *gate) list() []Quarantined {
	out := make([]Quarantined, 0, len(g.quarantined))
	for _, q := range g.quarantined {
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return compareIDs(out[i].Entry, out[j].Entry) < 0 })
	return out
}

// Stale reports that an entry's Rule 0 verdict changed after it was given
// (the roster, or a genesis, arrived after entries it judges), or a Rule 8
// or 9 judgement did (see epochs): the view must be rebuilt with Replay. A
// hub fed in log order sees this only when a revocation or a fork notice
// arrives after entries it sets aside, or an original after its re-issue.
func (r *Reconciler) Stale() bool { return r.gate != nil && r.gate.stale || r.epochs.stale }

// Quarantine returns the entries Rules 0 and 8 hold out of the view, sorted.
func (r *Reconciler) Quarantine() []Quarantined {
	var out []Quarantined
	if r.gate != nil {
		out = r.gate.list()
	}
	if len(r.epochs.forked) == 0 {
		return out
	}
	for id, kind := range r.epochs.forked {
		out = append(out, Quarantined{Entry: id, Kind: kind, Reason: ReasonForked})
	}
	sort.Slice(out, func(i, j int) bool { return compareIDs(out[i].Entry, out[j].Entry) < 0 })
	return out
}

// ReasonForked quarantines the entries of a forked origin (Rule 8).
const ReasonForked roster.Reason = "forked"

// Roster returns the roster the view's Rule 0 applies (nil when open).
func (r *Reconciler) Roster() []roster.Device {
	if r.gate == nil {
		return nil
	}
	return r.gate.state.Devices()
}

// Replay builds a reconciler from entries in the order in which no
// judgement of Rules 0, 8 and 9 changes (ReplayOrder). Its view is the
// view of the set.
func Replay(cfg Config, entries []replication.Entry) *Reconciler {
	r := New(cfg)
	for _, e := range ReplayOrder(cfg.Anchor, entries) {
		r.Apply(e)
	}
	return r
}

// ReplayOrder sorts entries as Replay applies them (a stable reorder):
// geneses, then origins in OriginOrder.
func ReplayOrder(anchor ed25519.PublicKey, entries []replication.Entry) []replication.Entry {
	var geneses []replication.Entry
	for _, e := range entries {
		if e.Kind == replication.KindGenesis {
			geneses = append(geneses, e)
		}
	}
	rank := map[replication.OriginID]int{}
	for i, o := range OriginOrder(anchor, geneses) {
		rank[o] = i + 1
	}
	key := func(e *replication.Entry) int {
		if e.Kind == replication.KindGenesis {
			return 0
		}
		if k, ok := rank[e.Origin]; ok {
			return k
		}
		return len(rank) + 1 // no genesis: judged after everything
	}
	out := slices.Clone(entries)
	slices.SortStableFunc(out, func(a, b replication.Entry) int { return key(&a) - key(&b) })
	return out
}

// OriginOrder orders origins, given their geneses, so that applying every
// genesis first and then each origin's entries in this order gives every
// entry its final judgement at once: the roster's origins (their key is
// the anchor), then hubs' (decisions and fork notices), then laptops'
// that replace none, then each new epoch after the origin it replaces
// (its re-issues meet their originals). Ties keep the order given.
func OriginOrder(anchor ed25519.PublicKey, geneses []replication.Entry) []replication.OriginID {
	type ranked struct {
		origin replication.OriginID
		rank   int
	}
	prev := map[replication.OriginID]replication.OriginID{}
	var out []ranked
	for _, e := range geneses {
		g, err := replication.DecodeGenesis(e.Payload)
		rank := 2
		switch {
		case err != nil:
		case anchor != nil && bytes.Equal(g.PublicKey, anchor):
			rank = 0
		case g.Role == replication.RoleHub:
			rank = 1
		}
		if err == nil && g.PrevOrigin != nil {
			prev[e.Origin] = *g.PrevOrigin
		}
		out = append(out, ranked{e.Origin, rank})
	}
	for i := range out {
		if out[i].rank == 2 {
			out[i].rank += depth(prev, out[i].origin)
		}
	}
	slices.SortStableFunc(out, func(a, b ranked) int { return a.rank - b.rank })
	origins := make([]replication.OriginID, len(out))
	for i, x := range out {
		origins[i] = x.origin
	}
	return origins
}

// depth counts the epochs before o (bounded: a chain longer than this is
// ordered at the bound).
func depth(prev map[replication.OriginID]replication.OriginID, o replication.OriginID) int {
	n := 0
	for p, ok := prev[o]; ok && n < 64; p, ok = prev[p] {
		n++
	}
	return n
}
