package syncproto_test

import (
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// branches returns a writer's log with seqs 1..n of branch A and, from a
// copy taken at seq common, a log with seqs 1..m of branch B: a cloned or
// restored laptop.
func branches(t *testing.T, seed uint64, common, n, m int) (a, b *replica) {
	t.Helper()
	a = newReplica("a", replication.RoleNode, seed)
	a.capture(t, common-1)
	b = &replica{name: "b", role: a.role, log: a.log.Snapshot(), signer: a.signer, hlc: a.hlc}
	a.capture(t, n-common)
	b.hlc.Next(testTime.Add(7))
	b.capture(t, m-common)
	return a, b
}

func entriesOf(t *testing.T, r *replica, o replication.OriginID, from, through uint64) []replication.Entry {
	t.Helper()
	var es []replication.Entry
	if err := r.log.Scan(o, from, func(e replication.Entry) bool {
		if e.Seq <= through {
			es = append(es, e)
		}
		return e.Seq < through
	}); err != nil {
		t.Fatal(err)
	}
	return es
}

func smallBatches(t *testing.T, r *replica) *syncproto.Session {
	t.Helper()
	cfg := syncproto.DefaultConfig(wire.Hello{Role: string(r.role), Node: r.name, Origin: r.signer.Origin()})
	cfg.RetransmitTicks = 3
	cfg.MaxBatchEntries = 8
	s, err := syncproto.NewSession(cfg, r.log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestForkIsReportedWhereTheChainsPart: a hub h2 learned that h holds the
// origin up to seq 30 while it held less itself, so nothing was compared;
// then h2 got branch B, which parts from h's branch A at seq 11, and
// offers it from seq 31. That range does not link to h's seq 30, but the
// chains part far below: h asks for B from further back, across batches
// of 8, and reports the fork at seq 11 with both entries there — not at
// 30, which would quarantine (and re-issue) too little. Found by the
// simulation (internal/sim seed 13: the clone's captures 21..35 were lost).
func TestForkIsReportedWhereTheChainsPart(t *testing.T) {
	w, clone := branches(t, 31, 10, 30, 80)
	o := w.signer.Origin()
	h, h2 := newReplica("h", replication.RoleHub, 32), newReplica("h2", replication.RoleHub, 33)
	mustIngestAll(t, h, entriesOf(t, w, o, 1, 30))
	mustIngestAll(t, h2, entriesOf(t, clone, o, 1, 5))
	sh, sh2 := smallBatches(t, h), smallBatches(t, h2)
	// The handshake: h2 learns h holds seq 30, compares nothing (it holds
	// 5); h compares at 5, where the branches agree.
	exchange(t, sh, sh2)
	exchange(t, sh2, sh)
	mustIngestAll(t, h2, entriesOf(t, clone, o, 6, 80))
	pump(t, h, h2, sh, sh2, nil)

	forks := eventsOf(h, syncproto.EventFork)
	if len(forks) != 1 || forks[0].Seq != 11 || forks[0].Fork.Offered.Seq != 11 || forks[0].Fork.Offered.Prev != forks[0].Fork.Held.Prev {
		t.Fatalf("fork events at h: %v; want one at seq 11, where both entries follow seq 10", forks)
	}
	if n := epoch.IngestNotice(forks[0].Fork); n.From != 11 {
		t.Fatalf("notice from seq %d, want 11", n.From)
	}
	if hv, _ := h.log.Vector(); hv.Seq(o) != 30 {
		t.Fatalf("h holds seq %d of the origin; its branch must stay as it was (30)", hv.Seq(o))
	}
}

// TestLaptopRelayingAForkedOriginSendsItsVersion: a laptop carries a
// colleague's branch B of an origin further than the hub holds branch A.
// The laptop sees the different hash in the hub's summary; the hub never
// sends laptop origins to a laptop, so asking for its version would leave
// both waiting forever. The laptop sends its own from before instead, and
// the hub finds the fork where the branches part. Found by the simulation
// (seed 27: a clone of a laptop with no hub link went undetected).
func TestLaptopRelayingAForkedOriginSendsItsVersion(t *testing.T) {
	w, clone := branches(t, 41, 10, 20, 40)
	o := w.signer.Origin()
	l, h := newReplica("l", replication.RoleNode, 42), newReplica("h", replication.RoleHub, 43)
	mustIngestAll(t, l, entriesOf(t, clone, o, 1, 40))
	mustIngestAll(t, h, entriesOf(t, w, o, 1, 20))
	pump(t, l, h, l.session(t), h.session(t), nil)
	forks := eventsOf(h, syncproto.EventFork)
	if len(forks) != 1 || forks[0].Seq != 11 {
		t.Fatalf("fork events at the hub: %v; want one at seq 11", forks)
	}
	if hv, _ := h.log.Vector(); hv.Seq(o) != 20 {
		t.Fatalf("the hub holds seq %d; its branch must stay (20)", hv.Seq(o))
	}
}

// TestRetiredOriginRelaysWhatCameAfter: a laptop restored to seq 6 moved
// to a new epoch (nothing to re-issue); then its colleague, which has no
// hub link, gave it back the captures 7..18 it made before the restore.
// The hub holds 1..16 of that branch: the laptop relays 17 and 18 (it
// wrote nothing of the old origin past 6, so they are the colleague's copy
// and extend the hub's branch). A hub holding less than seq 6 gets
// nothing of the old origin: the laptop's own copy up to where it left
// never goes.
func TestRetiredOriginRelaysWhatCameAfter(t *testing.T) {
	for _, tc := range []struct {
		name          string
		hubHolds      uint64
		wantOldAtHub  uint64
		wantNewAtHub  uint64
		relayExpected bool
	}{
		{"the hub holds the branch past where the laptop left", 16, 18, 1, true},
		{"the hub holds less than where the laptop left", 4, 4, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := newReplica("l", replication.RoleNode, 51)
			before.capture(t, 5) // seqs 2..6
			l := &replica{name: "l", role: before.role, log: before.log.Snapshot(), signer: before.signer, hlc: before.hlc}
			before.capture(t, 12) // seqs 7..18, on the colleague and (up to 16) the hub
			old := l.signer
			o := old.Origin()
			next, err := epoch.Start(l.log, old, replication.Genesis{Role: replication.RoleNode, Unit: "18586"}, old.Epoch()+1, 7,
				func() replication.HLC { return l.hlc.Next(testTime) })
			if err != nil {
				t.Fatal(err)
			}
			l.signer = next
			mustIngestAll(t, l, entriesOf(t, before, o, 7, 18))
			h := newReplica("h", replication.RoleHub, 52)
			mustIngestAll(t, h, entriesOf(t, before, o, 1, tc.hubHolds))
			pump(t, l, h, l.session(t), h.session(t), nil)
			hv, _ := h.log.Vector()
			if hv.Seq(o) != tc.wantOldAtHub || hv.Seq(next.Origin()) != tc.wantNewAtHub {
				t.Fatalf("hub holds %d of the old origin and %d of the new; want %d and %d", hv.Seq(o), hv.Seq(next.Origin()), tc.wantOldAtHub, tc.wantNewAtHub)
			}
			if forks := eventsOf(h, syncproto.EventFork); len(forks) != 0 {
				t.Fatalf("forks at the hub: %v", forks)
			}
		})
	}
}

func mustIngestAll(t *testing.T, r *replica, es []replication.Entry) {
	t.Helper()
	for len(es) > 0 {
		k := min(len(es), oplog.MaxIngestEntries)
		res, err := r.log.Ingest(es[:k], nil)
		if err != nil || len(res.Forks) > 0 {
			t.Fatalf("ingest at %s: %v, %d forks", r.name, err, len(res.Forks))
		}
		es = es[k:]
	}
}

// exchange delivers what from wants to send now to to, through the codec.
func exchange(t *testing.T, from, to *syncproto.Session) {
	t.Helper()
	rd, err := from.Ready()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rd.Messages {
		frame, err := codec.AppendFrame(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		dm, _, err := codec.DecodeFrame(frame)
		if err != nil {
			t.Fatal(err)
		}
		mustStep(t, to, dm)
	}
}
