package epoch

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// forked returns a writer's log with branch A (captures through seq 6), a
// copy restored from seq 4 that captured seq 5' and moved to epoch 99
// re-issuing from 5, and the new origin's entries.
func forked(t *testing.T) (a *oplog.Mem, restored *oplog.Mem, old, next *replication.KeySigner, fresh []replication.Entry) {
	t.Helper()
	a, old, hlc := writer(t, 3)
	restored = a.Snapshot()
	capture := func(l *oplog.Mem, tag string) {
		if _, err := l.Append(old, []replication.Draft{{Kind: replication.KindEnroll, Schema: 1, Payload: fmt.Appendf(nil, `{"b":%q}`, tag), HLC: hlc()}}); err != nil {
			t.Fatal(err)
		}
	}
	capture(a, "a5")
	capture(a, "a6")
	capture(restored, "r5")
	next, err := Start(restored, old, replication.Genesis{Role: replication.RoleNode, Unit: "18586"}, 99, 5, hlc)
	if err != nil {
		t.Fatal(err)
	}
	restored.Scan(next.Origin(), 1, func(e replication.Entry) bool { fresh = append(fresh, e); return true })
	return a, restored, old, next, fresh
}

func entries(t *testing.T, l oplog.Log, o replication.OriginID, from, through uint64) []replication.Entry {
	t.Helper()
	var es []replication.Entry
	l.Scan(o, from, func(e replication.Entry) bool {
		if e.Seq <= through {
			es = append(es, e)
		}
		return e.Seq < through
	})
	return es
}

// TestWatchGenesisEitherOrder: a hub holding branch A learns of the new
// epoch's genesis naming 5', or holds the genesis first and then receives
// A's seq 5: either way one genesis notice, from the re-issue point, flag
// only; a hub holding the genesis's own branch writes none.
func TestWatchGenesisEitherOrder(t *testing.T) {
	a, restored, old, _, fresh := forked(t)
	r5, _ := restored.Get(replication.EntryID{Origin: old.Origin(), Seq: 5})
	a5, _ := a.Get(replication.EntryID{Origin: old.Origin(), Seq: 5})
	want := Notice{Evidence: EvidenceGenesis, Origin: old.Origin(), From: 5, At: 5, Held: a5.Hash(), Other: r5.Hash()}

	hub := oplog.NewMem()
	w := NewWatch(10)
	mustIngest(t, hub, w, entries(t, a, old.Origin(), 1, 6))
	if ns := mustIngest(t, hub, w, fresh); len(ns) != 1 || ns[0] != want {
		t.Fatalf("genesis after branch A: notices %+v, want %+v", ns, want)
	}
	if want.Quarantines() {
		t.Fatal("a genesis notice must not quarantine")
	}

	hub2 := oplog.NewMem()
	w2 := NewWatch(10)
	if ns := mustIngest(t, hub2, w2, entries(t, a, old.Origin(), 1, 4)); len(ns) != 0 {
		t.Fatalf("notices %+v from the shared prefix", ns)
	}
	if ns := mustIngest(t, hub2, w2, fresh[:1]); len(ns) != 0 {
		t.Fatalf("notices %+v from a genesis naming a seq not held", ns)
	}
	if ns := mustIngest(t, hub2, w2, entries(t, a, old.Origin(), 5, 6)); len(ns) != 1 || ns[0] != want {
		t.Fatalf("branch A after the genesis: notices %+v, want %+v", ns, want)
	}

	hub3 := oplog.NewMem()
	w3 := NewWatch(10)
	mustIngest(t, hub3, w3, entries(t, restored, old.Origin(), 1, 5))
	if ns := mustIngest(t, hub3, w3, fresh); len(ns) != 0 {
		t.Fatalf("a hub holding the genesis's own branch: notices %+v", ns)
	}
}

func mustIngest(t *testing.T, l *oplog.Mem, w *Watch, es []replication.Entry) []Notice {
	t.Helper()
	if _, err := l.Ingest(es, nil); err != nil {
		t.Fatal(err)
	}
	return w.Ingested(l, es)
}

// TestWatchIngestNoticeAndClaims: a fork found at ingest quarantines from
// its seq; one notice per origin and evidence, whoever wrote it; a failed
// write releases the claim; a full claim table notes no more claims.
func TestWatchIngestNoticeAndClaims(t *testing.T) {
	a, restored, old, _, _ := forked(t)
	hub := oplog.NewMem()
	mustIngest(t, hub, NewWatch(10), entries(t, a, old.Origin(), 1, 6))
	res, err := hub.Ingest(entries(t, restored, old.Origin(), 5, 5), nil)
	if err != nil || len(res.Forks) != 1 {
		t.Fatalf("ingest of 5': %v, %d forks", err, len(res.Forks))
	}
	n := IngestNotice(&res.Forks[0])
	if n.Evidence != EvidenceIngest || n.From != 5 || n.At != 5 || !n.Quarantines() || n.Origin != old.Origin() {
		t.Fatalf("ingest notice %+v", n)
	}

	w := NewWatch(10)
	if !w.Claim(n) || w.Claim(n) {
		t.Fatal("want the first claim only")
	}
	w.Release(n)
	if !w.Claim(n) {
		t.Fatal("a released claim must be claimable again")
	}
	g := n
	g.Evidence = EvidenceGenesis
	if !w.Claim(g) {
		t.Fatal("the other evidence is another notice")
	}

	// Another hub's notice, held, counts as told.
	hubSigner := hubKey(t)
	payload, err := n.Encode()
	if err != nil {
		t.Fatal(err)
	}
	e := replication.Seal(hubSigner, replication.Draft{Kind: replication.KindFork, Schema: NoticeSchema, Payload: payload, HLC: 1}, 2, replication.Hash{1})
	w2 := NewWatch(10)
	w2.Note(&e)
	if w2.Claim(n) {
		t.Fatal("a held notice must stop a second one")
	}

	// A full claim table: the genesis is not noted.
	w3 := NewWatch(0)
	_, _, _, _, fresh := forked(t)
	if _, ok := w3.Note(&fresh[0]); ok {
		t.Fatal("noted a claim past the bound")
	}
}

// hubKey is a hub's signer, another key than the writer's.
func hubKey(t *testing.T) *replication.KeySigner {
	t.Helper()
	s, err := replication.GenerateKeySigner(rand.NewChaCha8([32]byte{2}), 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLoadWatchReadsClaimsAndNotices: a hub restarting rebuilds its watch
// from its log — the genesis claims (so branch A arriving later still
// gives the notice) and the notices held (so none is written twice).
func TestLoadWatchReadsClaimsAndNotices(t *testing.T) {
	a, restored, old, _, fresh := forked(t)
	hub := oplog.NewMem()
	mustIngest(t, hub, NewWatch(10), entries(t, restored, old.Origin(), 1, 4))
	mustIngest(t, hub, NewWatch(10), fresh)
	hubSigner := hubKey(t)
	n := Notice{Evidence: EvidenceIngest, Origin: old.Origin(), From: 5, At: 5, Held: replication.Hash{1}, Other: replication.Hash{2}}
	payload, err := n.Encode()
	if err != nil {
		t.Fatal(err)
	}
	g := replication.NewGenesis(hubSigner, replication.RoleHub, "district", "436")
	gd, err := jsonDraft(g, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Append(hubSigner, []replication.Draft{gd, {Kind: replication.KindFork, Schema: NoticeSchema, Payload: payload, HLC: 2}}); err != nil {
		t.Fatal(err)
	}
	w, err := LoadWatch(hub, 10)
	if err != nil {
		t.Fatal(err)
	}
	if w.Claim(n) {
		t.Fatal("the held notice was not read")
	}
	if ns := mustIngest(t, hub, w, entries(t, a, old.Origin(), 5, 6)); len(ns) != 1 || ns[0].Evidence != EvidenceGenesis || ns[0].From != 5 {
		t.Fatalf("branch A after a restart: notices %+v, want the genesis notice from 5", ns)
	}
}
