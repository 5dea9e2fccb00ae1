package syncproto_test

import (
	"math/rand/v2"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

func mustEqualVectors(t *testing.T, a, b *replica) {
	t.Helper()
	va, _ := a.log.Vector()
	vb, _ := b.log.Vector()
	if !va.Equal(vb) {
		t.Fatalf("%s %v != %s %v", a.name, va, b.name, vb)
	}
}

func TestBacklogReachesTheHub(t *testing.T) {
	l, h := newReplica("l1", replication.RoleNode, 1), newReplica("h1", replication.RoleHub, 2)
	l.capture(t, 3000)
	sl, sh := l.session(t), h.session(t)
	st := pump(t, l, h, sl, sh, nil)
	lv, _ := l.log.Vector()
	hv, _ := h.log.Vector()
	if hv[l.signer.Origin()] != lv[l.signer.Origin()] {
		t.Fatalf("hub holds %v of the laptop's %v", hv[l.signer.Origin()], lv[l.signer.Origin()])
	}
	if rep, _ := oplogVerify(h); !rep {
		t.Fatal("hub's copy does not verify")
	}
	// The hub's own genesis is a hub origin: it goes down to the laptop.
	if lv[h.signer.Origin()].Seq != 1 {
		t.Fatal("hub-authored entries must reach the laptop")
	}
	if s := sh.Stats(); s.EntriesApplied != 3001 || s.EntriesDuplicate != 0 || s.EntriesRefused != 0 {
		t.Fatalf("hub stats %+v", s)
	}
	t.Logf("3000 entries: %d frames, %d bytes on the wire (%.1f B/entry before TCP)", st.frames, st.bytes, float64(st.bytes)/3000)
}

func TestInSyncPairExchangesOriginsNotEntries(t *testing.T) {
	a, b := newReplica("a", replication.RoleHub, 3), newReplica("b", replication.RoleHub, 4)
	for i := range 50 { // 50 more origins with 100 entries each, held by both
		o := newReplica("o", replication.RoleNode, uint64(100+i))
		o.capture(t, 100)
		chain := scanAll(t, o)
		for _, r := range []*replica{a, b} {
			if _, err := r.log.Ingest(chain, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	pump(t, a, b, a.session(t), b.session(t), nil) // exchange the two hub geneses
	st := pump(t, a, b, a.session(t), b.session(t), nil)
	perOrigin := float64(st.bytes) / 2 / 52
	if st.frames != 4 || perOrigin > 60 {
		t.Fatalf("in-sync exchange: %d frames, %d bytes (%.0f per origin per direction); want hello+summary each way, ~51 B per origin", st.frames, st.bytes, perOrigin)
	}
}

func TestCutMidTransferResumesLosingAtMostTheBatchesInFlight(t *testing.T) {
	l, h := newReplica("l", replication.RoleNode, 5), newReplica("h", replication.RoleHub, 6)
	l.capture(t, 4000)
	cl, ch := cloneReplica(t, l), cloneReplica(t, h)
	full := pump(t, cl, ch, cl.session(t), ch.session(t), nil)
	first := pump(t, l, h, l.session(t), h.session(t), &faults{cutAfterBytes: full.bytes / 2})
	if !first.cut {
		t.Fatal("the link was not cut")
	}
	second := pump(t, l, h, l.session(t), h.session(t), nil)
	mustEqualVectors(t, l, h)
	resent := first.bytes + second.bytes - full.bytes
	maxBatch := 2 * 80_000 // window × a compressed batch, generously
	if resent > maxBatch {
		t.Fatalf("resumed transfer re-sent %d bytes, more than the window", resent)
	}
	t.Logf("one pass %d B; cut after %d B, resumed with %d B: %d B re-sent", full.bytes, first.bytes, second.bytes, resent)
}

func TestLaptopCarriesAColleaguesEntriesToTheHub(t *testing.T) {
	l1, l2, h := newReplica("l1", replication.RoleNode, 7), newReplica("l2", replication.RoleNode, 8), newReplica("h", replication.RoleHub, 9)
	l2.capture(t, 200)
	pump(t, l2, l1, l2.session(t), l1.session(t), nil) // they meet on the commune LAN
	pump(t, l1, h, l1.session(t), h.session(t), nil)   // l1 reaches the hub
	hv, _ := h.log.Vector()
	l2v, _ := l2.log.Vector()
	if hv[l2.signer.Origin()] != l2v[l2.signer.Origin()] {
		t.Fatalf("hub holds %v of l2's %v", hv[l2.signer.Origin()], l2v[l2.signer.Origin()])
	}
}

func TestHubSendsLaptopsOnlyHubEntries(t *testing.T) {
	l1, l2, h := newReplica("l1", replication.RoleNode, 10), newReplica("l2", replication.RoleNode, 11), newReplica("h", replication.RoleHub, 12)
	l1.capture(t, 50)
	pump(t, l1, h, l1.session(t), h.session(t), nil)
	pump(t, l2, h, l2.session(t), h.session(t), nil)
	v, _ := l2.log.Vector()
	if v.Seq(l1.signer.Origin()) != 0 || v.Seq(h.signer.Origin()) != 1 {
		t.Fatalf("l2 holds %v: want the hub's entries and not l1's", v)
	}
}

func TestLossDuplicationAndReorderingConverge(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		l, h := newReplica("l", replication.RoleNode, 13), newReplica("h", replication.RoleHub, 14)
		l.capture(t, 1500)
		f := &faults{rng: rand.New(rand.NewPCG(seed, 0)), drop: 0.2, dup: 0.2, reorder: 0.3}
		pump(t, l, h, l.session(t), h.session(t), f)
		lv, _ := l.log.Vector()
		hv, _ := h.log.Vector()
		if hv[l.signer.Origin()] != lv[l.signer.Origin()] {
			t.Fatalf("seed %d: hub holds %v of %v", seed, hv[l.signer.Origin()], lv[l.signer.Origin()])
		}
	}
}

func TestTamperedEntryIsRefusedWhole(t *testing.T) {
	l, h := newReplica("l", replication.RoleNode, 15), newReplica("h", replication.RoleHub, 16)
	l.capture(t, 10)
	chain := scanAll(t, l)
	chain[5].Payload = []byte(`{"full_name":"forged"}`)
	sh := h.session(t)
	mustStep(t, sh, &wire.Hello{Version: 1, Role: "node", Node: "evil"})
	mustStep(t, sh, &wire.Summary{})
	mustStep(t, sh, &wire.Batch{ID: 1, Ranges: []wire.Range{{Origin: l.signer.Origin(), Entries: chain}}})
	rd, err := sh.Ready()
	if err != nil || rd.Persist != nil {
		t.Fatalf("a tampered range must not be persisted: %v %+v", err, rd.Persist)
	}
	ack := lastAck(rd.Messages)
	if ack == nil || len(ack.Refused) != 1 || ack.Refused[0].Reason != wire.RefuseBadSignature {
		t.Fatalf("ack %+v", ack)
	}
	if len(rd.Events) != 1 || rd.Events[0].Kind != syncproto.EventRefused {
		t.Fatalf("events %v", rd.Events)
	}
	if v, _ := h.log.Vector(); v.Seq(l.signer.Origin()) != 0 {
		t.Fatal("something of the tampered range reached the log")
	}
}

// TestForkIsDetectedAndKeptAsEvidence: two laptops with the same key and
// epoch (a cloned disk image) write different branches; each reaches a
// different hub, and when the hubs meet, the second branch is a fork at the
// first hub: reported with both entries as evidence, never applied.
func TestForkIsDetectedAndKeptAsEvidence(t *testing.T) {
	a, b := newReplica("a", replication.RoleNode, 17), newReplica("b", replication.RoleNode, 17)
	h, h2 := newReplica("h", replication.RoleHub, 18), newReplica("h2", replication.RoleHub, 19)
	a.capture(t, 30)
	b.hlc.Next(testTime.Add(5))
	b.capture(t, 20)
	pump(t, a, h, a.session(t), h.session(t), nil)
	pump(t, b, h2, b.session(t), h2.session(t), nil)
	pump(t, h2, h, h2.session(t), h.session(t), nil)
	forks := eventsOf(h, syncproto.EventFork)
	if len(forks) != 1 || forks[0].Fork == nil || forks[0].Fork.Held.Hash() == forks[0].Fork.Offered.Hash() {
		t.Fatalf("hub fork events: %v", forks)
	}
	av, _ := a.log.Vector()
	if hv, _ := h.log.Vector(); hv[a.signer.Origin()] != av[a.signer.Origin()] {
		t.Fatal("the branch held first must stay, the other never applied")
	}
}

// TestCloneMeetingTheOtherBranchRollsBack: the clone meets a hub that holds
// the other branch, further along: it reports a rollback of its own
// origin and sends none of its branch, even when the hub asks for it.
func TestCloneMeetingTheOtherBranchRollsBack(t *testing.T) {
	a, b, h := newReplica("a", replication.RoleNode, 17), newReplica("b", replication.RoleNode, 17), newReplica("h", replication.RoleHub, 18)
	a.capture(t, 30)
	b.hlc.Next(testTime.Add(5))
	b.capture(t, 20)
	pump(t, a, h, a.session(t), h.session(t), nil)
	pump(t, b, h, b.session(t), h.session(t), nil)
	if rb := eventsOf(b, syncproto.EventRollback); len(rb) != 1 || rb[0].Origin != b.signer.Origin() || rb[0].Seq != 31 {
		t.Fatalf("clone's rollback events: %v", rb)
	}
	if forks := eventsOf(h, syncproto.EventFork); len(forks) != 0 {
		t.Fatalf("the clone's branch reached the hub: %v", forks)
	}
}

// TestRetiredOriginIsNeverOffered: after a new epoch, the device's old
// origin stays in its log (evidence, and the source of its re-issues) but
// no session offers it: past the point where it went on elsewhere it is a
// fork, and its captures travel as re-issues under the new origin.
func TestRetiredOriginIsNeverOffered(t *testing.T) {
	l, h := newReplica("l", replication.RoleNode, 21), newReplica("h", replication.RoleHub, 22)
	l.capture(t, 12)
	old := l.signer
	next, err := epoch.Start(l.log, old, replication.Genesis{Role: replication.RoleNode, Unit: "18586"}, old.Epoch()+1, 5,
		func() replication.HLC { return l.hlc.Next(testTime) })
	if err != nil {
		t.Fatal(err)
	}
	l.signer = next
	pump(t, l, h, l.session(t), h.session(t), nil)
	hv, _ := h.log.Vector()
	if hv.Seq(old.Origin()) != 0 || hv.Seq(next.Origin()) != 1+9 {
		t.Fatalf("hub holds %d of the retired origin and %d of the new one; want 0 and 10", hv.Seq(old.Origin()), hv.Seq(next.Origin()))
	}
}

func eventsOf(r *replica, kind syncproto.EventKind) []syncproto.Event {
	var out []syncproto.Event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func scanAll(t *testing.T, r *replica) []replication.Entry {
	t.Helper()
	var out []replication.Entry
	if err := r.log.Scan(r.signer.Origin(), 1, func(e replication.Entry) bool { out = append(out, e); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustStep(t *testing.T, s *syncproto.Session, m wire.Message) {
	t.Helper()
	if err := s.Step(m); err != nil {
		t.Fatal(err)
	}
}

func lastAck(ms []wire.Message) *wire.Ack {
	for i := len(ms) - 1; i >= 0; i-- {
		if a, ok := ms[i].(*wire.Ack); ok {
			return a
		}
	}
	return nil
}

func cloneReplica(t *testing.T, r *replica) *replica {
	t.Helper()
	c := &replica{name: r.name + "'", role: r.role, log: newMemFrom(t, r), signer: r.signer}
	return c
}

// A duplicated hello used to start an endless exchange: each side answered
// every repeated hello with its own, which the other took for a repeated
// hello in turn (found by the simulation, internal/sim seed 4).
func TestDuplicatedHelloDoesNotBounceForever(t *testing.T) {
	l, h := newReplica("l", replication.RoleNode, 19), newReplica("h", replication.RoleHub, 20)
	sl, sh := l.session(t), h.session(t)
	rd, _ := sl.Ready()
	for _, m := range rd.Messages {
		mustStep(t, sh, m)
		if _, ok := m.(*wire.Hello); ok {
			mustStep(t, sh, m) // the network delivered it twice
		}
	}
	n := 0
	for range 50 {
		for _, p := range [2][2]*syncproto.Session{{sh, sl}, {sl, sh}} {
			rd, err := p[0].Ready()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range rd.Messages {
				n++
				mustStep(t, p[1], m)
			}
		}
	}
	if n > 4 {
		t.Fatalf("%d messages after the handshake of an in-sync pair; want the hub's hello, summary and the batch of its genesis, acked", n)
	}
}

// rosterLate refuses an origin until its device is "added".
type rosterLate struct {
	origin replication.OriginID
	added  bool
}

func (v *rosterLate) Admit(g replication.Genesis, es []replication.Entry) (bool, wire.RefuseReason, string) {
	if es[0].Origin == v.origin && !v.added {
		return false, wire.RefuseNotAuthorized, "device is not on the roster"
	}
	return true, 0, ""
}

// rosterInLog admits an origin only once the log holds an entry of the
// "roster" origin past its genesis, as a live roster that observes what
// is written does.
type rosterInLog struct {
	log            oplog.Log
	roster, device replication.OriginID
}

func (v *rosterInLog) Admit(g replication.Genesis, es []replication.Entry) (bool, wire.RefuseReason, string) {
	if h, _ := v.log.Head(v.roster); es[0].Origin == v.device && h.Seq < 2 {
		return false, wire.RefuseNotAuthorized, "device is not on the roster"
	}
	return true, 0, ""
}

// TestRosterAndItsDeviceInOneBatch: a roster entry enlisting a device and
// that device's first entries arrive in one batch, in either order: the
// device's range is verified again once the roster's is written, and taken
// in the same session, with nothing refused and no retry.
func TestRosterAndItsDeviceInOneBatch(t *testing.T) {
	for _, seeds := range [][2]uint64{{51, 52}, {52, 51}, {53, 54}, {54, 53}} { // origin order varies with the keys
		l, r := newReplica("l", replication.RoleNode, seeds[0]), newReplica("r", replication.RoleHub, seeds[1])
		p, h := newReplica("p", replication.RoleHub, 42), newReplica("h", replication.RoleHub, 43)
		l.capture(t, 20)
		r.capture(t, 1)
		pump(t, l, p, l.session(t), p.session(t), nil)
		pump(t, r, p, r.session(t), p.session(t), nil)
		cfg := syncproto.DefaultConfig(wire.Hello{Role: "hub", Node: "h", Origin: h.signer.Origin()})
		cfg.Verifier = &rosterInLog{log: h.log, roster: r.signer.Origin(), device: l.signer.Origin()}
		sh, err := syncproto.NewSession(cfg, h.log)
		if err != nil {
			t.Fatal(err)
		}
		sh.Start()
		pump(t, p, h, p.session(t), sh, nil)
		if v, _ := h.log.Vector(); v.Seq(l.signer.Origin()) != 21 || v.Seq(r.signer.Origin()) != 2 {
			t.Fatalf("seeds %v: the hub holds %d of the laptop's 21 entries and %d of the roster's 2", seeds, v.Seq(l.signer.Origin()), v.Seq(r.signer.Origin()))
		}
		if st := sh.Stats(); st.EntriesRefused != 0 || st.BatchesReceived != 1 {
			t.Fatalf("seeds %v: %d entries refused in %d batches; want none refused, one batch", seeds, st.EntriesRefused, st.BatchesReceived)
		}
	}
}

// TestRefusedForNowIsOfferedAgain: between two hubs (a session that stays
// open for days), an origin refused because its device was not yet on the
// receiver's roster is offered again after RetryRefusedTicks, and arrives
// once the roster has it — without a new session.
func TestRefusedForNowIsOfferedAgain(t *testing.T) {
	l, p, h := newReplica("l", replication.RoleNode, 41), newReplica("p", replication.RoleHub, 42), newReplica("h", replication.RoleHub, 43)
	l.capture(t, 20)
	pump(t, l, p, l.session(t), p.session(t), nil)
	roster := &rosterLate{origin: l.signer.Origin()}
	cfg := syncproto.DefaultConfig(wire.Hello{Role: "hub", Node: "h", Origin: h.signer.Origin()})
	cfg.Verifier, cfg.RetransmitTicks = roster, 3
	sh, err := syncproto.NewSession(cfg, h.log)
	if err != nil {
		t.Fatal(err)
	}
	sh.Start()
	sp := p.session(t)
	pump(t, p, h, sp, sh, nil)
	if v, _ := h.log.Vector(); v.Seq(l.signer.Origin()) != 0 {
		t.Fatal("taken before the roster had it")
	}
	roster.added = true
	for range syncproto.DefaultRetryRefusedTicks - 1 {
		sp.Tick()
	}
	pump(t, p, h, sp, sh, nil)
	if v, _ := h.log.Vector(); v.Seq(l.signer.Origin()) != 0 {
		t.Fatal("offered again before its time")
	}
	sp.Tick()
	pump(t, p, h, sp, sh, nil)
	if v, _ := h.log.Vector(); v.Seq(l.signer.Origin()) != 21 {
		t.Fatalf("the hub holds %d of the laptop's 21 entries after the retry", v.Seq(l.signer.Origin()))
	}
}
