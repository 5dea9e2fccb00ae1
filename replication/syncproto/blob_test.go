package syncproto_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// testDossier is the payload of a test capture with blobs: the domain's
// records are not importable here (replication never imports the domain),
// so the tests reference blobs their own way, through testRefs.
type testDossier struct {
	Name  string        `json:"name"`
	Blobs []testBlobRef `json:"blobs"`
}

type testBlobRef struct {
	Slot string `json:"slot"`
	Hash string `json:"sha256"`
	Size int64  `json:"size"`
	Rank uint8  `json:"rank"`
}

// testRefs is the tests' blob.RefsFunc.
func testRefs(e *replication.Entry) ([]blob.Ref, error) {
	if e.Kind != replication.KindEnroll {
		return nil, nil
	}
	var d testDossier
	if err := json.Unmarshal(e.Payload, &d); err != nil || len(d.Blobs) == 0 {
		return nil, nil // an enrollment without blobs (the other tests')
	}
	out := make([]blob.Ref, len(d.Blobs))
	for i, b := range d.Blobs {
		h, err := blob.ParseHash(b.Hash)
		if err != nil {
			return nil, err
		}
		out[i] = blob.Ref{ID: blob.ID{Hash: h, Size: b.Size}, Slot: b.Slot, Rank: b.Rank}
	}
	return out, nil
}

func newBlobReplica(t *testing.T, name string, role replication.Role, seed uint64) *replica {
	t.Helper()
	r := newReplica(name, role, seed)
	r.blobs = blob.NewMem()
	ix, err := needs.Open(r.log, r.blobs, testRefs)
	if err != nil {
		t.Fatal(err)
	}
	r.needs = ix
	r.writers = map[*syncproto.Session]*syncproto.BlobWriters{}
	return r
}

// dossierSlots are the slots of a test dossier, in rank order.
var dossierSlots = []struct {
	slot string
	rank uint8
}{{"face", 0}, {"finger_r2", 1}, {"finger_l2", 1}, {"slap_r4", 2}, {"iris_r", 3}}

// captureDossiers appends n enrollments, each referencing len(sizes)
// blobs of those sizes (incompressible bytes), which it stores. It returns
// every blob's ID, in capture order.
func (r *replica) captureDossiers(t *testing.T, n int, sizes ...int) []blob.ID {
	t.Helper()
	var ids []blob.ID
	h, _ := r.log.Head(r.signer.Origin())
	for i := range n {
		d := testDossier{Name: fmt.Sprintf("%s dossier %d", r.name, int(h.Seq)+i)}
		for j, size := range sizes {
			data := blobtest.Bytes(uint64(h.Seq)*1000+uint64(i*len(sizes)+j)+uint64(len(r.name))<<40, size)
			id, err := blob.PutBytes(r.blobs, data)
			if err != nil {
				t.Fatal(err)
			}
			sl := dossierSlots[j%len(dossierSlots)]
			d.Blobs = append(d.Blobs, testBlobRef{Slot: sl.slot, Hash: id.Hash.String(), Size: id.Size, Rank: sl.rank})
			ids = append(ids, id)
		}
		p, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.log.Append(r.signer, []replication.Draft{{Kind: replication.KindEnroll, Schema: 1, HLC: r.hlc.Next(testTime), Payload: p}}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// applyBlobs does what a shell does with a Ready's blob work: write the
// chunk it hands out and report it, and recheck the entries it names.
func (r *replica) applyBlobs(t *testing.T, s *syncproto.Session, rd syncproto.Ready) bool {
	t.Helper()
	if r.blobs == nil {
		return false
	}
	if len(rd.Held) > 0 {
		if err := r.needs.Recheck(rd.Held...); err != nil {
			t.Fatal(err)
		}
	}
	if rd.BlobWrite == nil {
		return false
	}
	ws := r.writers[s]
	if ws == nil {
		ws = syncproto.NewBlobWriters(r.blobs)
		r.writers[s] = ws
	}
	if err := s.BlobWritten(ws.Apply(rd.BlobWrite)); err != nil {
		t.Fatalf("%s blob written: %v", r.name, err)
	}
	return true
}

// endSession closes what a session held, as a shell does when it ends.
func (r *replica) endSession(s *syncproto.Session) {
	s.Close()
	if ws := r.writers[s]; ws != nil {
		ws.Close()
		delete(r.writers, s)
	}
}

// blobsQuiet reports whether every blob either side's entries reference
// and the other can send is held by both (used to stop a lossy pump).
func blobsQuiet(t *testing.T, a, b *replica) bool {
	if a.blobs == nil || b.blobs == nil {
		return true
	}
	for _, pair := range [][2]*replica{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		if from.role == replication.RoleHub && to.role == replication.RoleNode {
			continue
		}
		for _, id := range from.heldBlobs() {
			if has, _ := to.blobs.Has([]blob.Hash{id.Hash}); !has[0] {
				return false
			}
		}
	}
	return true
}

func (r *replica) heldBlobs() []blob.ID {
	var out []blob.ID
	r.blobs.List(func(i blob.Info) bool { out = append(out, i.ID); return true })
	return out
}

// mustHoldIntact fails unless r holds every blob of ids, verified.
func (r *replica) mustHoldIntact(t *testing.T, ids []blob.ID) {
	t.Helper()
	for _, id := range ids {
		if err := blob.Check(r.blobs, id.Hash); err != nil {
			t.Fatalf("%s: blob %s: %v", r.name, id, err)
		}
	}
}

// mustBeComplete fails unless r's index has nothing missing of o.
func (r *replica) mustBeComplete(t *testing.T, o replication.OriginID) {
	t.Helper()
	var missing []uint64
	if _, err := r.needs.Missing(o, 1000, func(s uint64) { missing = append(missing, s) }); err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("%s: entries %v of %s still lack blobs", r.name, missing, o.Short())
	}
}

func sumSizes(ids []blob.ID) int64 {
	var n int64
	for _, id := range ids {
		n += id.Size
	}
	return n
}

func TestBlobsFollowTheirRecords(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l.captureDossiers(t, 6, 120_000, 20_000, 25_000, 150_000, 30_000)
	sl, sh := l.session(t), h.session(t)
	pump(t, l, h, sl, sh, nil)
	mustEqualVectors(t, l, h)
	h.mustHoldIntact(t, ids)
	h.mustBeComplete(t, l.signer.Origin())
	ss, rs := sl.Stats(), sh.Stats()
	if ss.BlobsSent != len(ids) || rs.BlobsReceived != len(ids) || ss.BlobBytesSent != sumSizes(ids) || ss.BlobBytesResent != 0 {
		t.Fatalf("sender %+v receiver %+v, want %d blobs of %d bytes sent once", ss, rs, len(ids), sumSizes(ids))
	}
	if rs.BlobsRefused != 0 || rs.BlobChunksDropped != 0 {
		t.Fatalf("receiver refused or dropped: %+v", rs)
	}
	// Nothing flows down: the hub holds blobs and the laptop none of the hub's.
	if len(l.heldBlobs()) != len(ids) {
		t.Fatalf("laptop holds %d blobs", len(l.heldBlobs()))
	}
}

func TestHeldBlobsAreNotSentAgain(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l.captureDossiers(t, 3, 60_000, 20_000)
	// The hub already holds the first dossier's blobs (a colleague
	// carried them): they are offered, answered "have", and not sent.
	for _, id := range ids[:2] {
		data, _ := blob.ReadAll(l.blobs, id.Hash)
		if _, err := blob.PutBytes(h.blobs, data); err != nil {
			t.Fatal(err)
		}
	}
	sl, sh := l.session(t), h.session(t)
	pump(t, l, h, sl, sh, nil)
	h.mustHoldIntact(t, ids)
	if got, want := sl.Stats().BlobBytesSent, sumSizes(ids[2:]); got != want {
		t.Fatalf("sent %d blob bytes, want %d (the held ones not at all)", got, want)
	}
	// A second session sends nothing: the status lists no missing entry.
	sl2, sh2 := l.session(t), h.session(t)
	pump(t, l, h, sl2, sh2, nil)
	if st := sl2.Stats(); st.BlobsOffered != 0 || st.BlobBytesSent != 0 {
		t.Fatalf("second session offered %d blobs, sent %d bytes", st.BlobsOffered, st.BlobBytesSent)
	}
}

func TestCutResumesAtTheChunk(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l.captureDossiers(t, 4, 200_000, 30_000)
	total := sumSizes(ids)
	chunk := syncproto.DefaultBlobChunkBytes
	var sent, cuts int64
	for at := 150_000; ; at += 150_000 {
		sl, sh := l.session(t), h.session(t)
		st := pump(t, l, h, sl, sh, &faults{cutAfterBytes: 150_000})
		l.endSession(sl)
		h.endSession(sh)
		sent += sl.Stats().BlobBytesSent
		if !st.cut {
			break
		}
		cuts++
		if cuts > 50 {
			t.Fatal("no progress across cuts")
		}
	}
	h.mustHoldIntact(t, ids)
	h.mustBeComplete(t, l.signer.Origin())
	again := sent - total
	t.Logf("%d cuts, %d blob bytes sent for %d: %d again (%.0f per cut, chunk %d)", cuts, sent, total, again, float64(again)/float64(cuts), chunk)
	if cuts == 0 || again > cuts*int64(chunk+syncproto.DefaultBlobPipeBytes) {
		t.Fatalf("%d cuts sent %d bytes again, more than a window each", cuts, again)
	}
}

func TestLossyNetworkDeliversEveryBlob(t *testing.T) {
	for seed := uint64(1); seed <= lossySeeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
			ids := l.captureDossiers(t, 4, 70_000, 9_000, 33_000)
			f := &faults{rng: rand.New(rand.NewPCG(seed, 9)), drop: 0.05, dup: 0.05, reorder: 0.1}
			sl, sh := l.session(t), h.session(t)
			pump(t, l, h, sl, sh, f)
			h.mustHoldIntact(t, ids)
			h.mustBeComplete(t, l.signer.Origin())
		})
	}
}

func TestTamperedChunkIsRefusedAndAskedAgain(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l.captureDossiers(t, 2, 50_000, 10_000)
	tampered := false
	f := &faults{mutate: func(m wire.Message, frame []byte) []byte {
		c, ok := m.(*wire.BlobChunk)
		if !ok || tampered || c.Offset == 0 {
			return frame
		}
		tampered = true
		c.Data = bytes.Clone(c.Data)
		c.Data[7] ^= 0x40 // a valid frame with other bytes: what a hostile peer sends
		out, err := codec.AppendFrame(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}}
	sl, sh := l.session(t), h.session(t)
	pump(t, l, h, sl, sh, f)
	if !tampered {
		t.Fatal("no chunk was tampered with")
	}
	h.mustHoldIntact(t, ids)
	if st := sh.Stats(); st.BlobsRefused != 1 {
		t.Fatalf("receiver refused %d blobs, want the tampered one counted once", st.BlobsRefused)
	}
	if !hasEvent(h.events, syncproto.EventBlobRefused, wire.RefuseMismatch) {
		t.Fatalf("no blob-refused mismatch event: %v", h.events)
	}
}

func TestUnreferencedBlobIsRefusedAndCounted(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	l.captureDossiers(t, 1, 10_000)
	sl, sh := l.session(t), h.session(t)
	pump(t, l, h, sl, sh, nil)
	// An offer naming a held entry but a blob it does not reference, and
	// one naming an entry the hub does not hold: both refused, neither
	// enters the store, each counted.
	stray := blobtest.Bytes(99, 5000)
	strayID := blob.IDOf(stray)
	for _, entry := range []replication.EntryID{{Origin: l.signer.Origin(), Seq: 2}, {Origin: l.signer.Origin(), Seq: 40}} {
		if err := sh.Step(&wire.BlobOffer{Blobs: []wire.OfferedBlob{{ID: strayID, Entry: entry}}}); err != nil {
			t.Fatal(err)
		}
		if err := sh.Step(&wire.BlobChunk{Hash: strayID.Hash, Data: stray}); err != nil {
			t.Fatal(err)
		}
		rd, err := sh.Ready()
		if err != nil {
			t.Fatal(err)
		}
		if rd.BlobWrite != nil {
			t.Fatal("a chunk of an unreferenced blob was handed out to write")
		}
		h.events = append(h.events, rd.Events...)
		if ack := findBlobAck(rd.Messages, strayID.Hash); ack == nil || ack.State != wire.BlobRefused || ack.Reason != wire.RefuseNoReference {
			t.Fatalf("answer %+v, want refused no-reference", ack)
		}
	}
	if has, _ := h.blobs.Has([]blob.Hash{strayID.Hash}); has[0] {
		t.Fatal("the unreferenced blob entered the store")
	}
	if got := sh.Stats().BlobsRefused; got != 2 {
		t.Fatalf("refused %d, want 2", got)
	}
	if !hasEvent(h.events, syncproto.EventBlobRefused, wire.RefuseNoReference) {
		t.Fatal("no event for the refused blob")
	}
}

func findBlobAck(ms []wire.Message, h blob.Hash) *wire.BlobState {
	for _, m := range ms {
		if a, ok := m.(*wire.BlobAck); ok {
			for i := range a.Blobs {
				if a.Blobs[i].Hash == h {
					return &a.Blobs[i]
				}
			}
		}
	}
	return nil
}

func hasEvent(evs []syncproto.Event, kind syncproto.EventKind, reason wire.RefuseReason) bool {
	for _, e := range evs {
		if e.Kind == kind && e.Reason == reason {
			return true
		}
	}
	return false
}

// TestRecordWithoutBlobsStaysIncomplete: a colleague's laptop carries a
// record but not its blobs (its session with the capturing laptop was cut
// after the records): the hub takes the record, and the dossier stays
// incomplete and visible in the index until the blobs come.
func TestRecordWithoutBlobsStaysIncomplete(t *testing.T) {
	l1, l2 := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "l2", replication.RoleNode, 3)
	h := newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l1.captureDossiers(t, 2, 40_000)
	chain := scanAll(t, l1)
	if _, err := l2.log.Ingest(chain, nil); err != nil {
		t.Fatal(err)
	}
	s2, sh := l2.session(t), h.session(t)
	pump(t, l2, h, s2, sh, nil)
	var missing []uint64
	through, err := h.needs.Missing(l1.signer.Origin(), 10, func(s uint64) { missing = append(missing, s) })
	if err != nil {
		t.Fatal(err)
	}
	if through != 3 || len(missing) != 2 || missing[0] != 2 {
		t.Fatalf("hub index: through %d, missing %v; want both dossiers missing", through, missing)
	}
	st, err := h.needs.Origins([]replication.OriginID{l1.signer.Origin()})
	if err != nil || st[0].Incomplete != 2 || st[0].MissingBytes != sumSizes(ids) {
		t.Fatalf("hub needs %+v, %v", st, err)
	}
	// The capturing laptop meets the hub: the blobs come, the dossiers complete.
	s1, sh1 := l1.session(t), h.session(t)
	pump(t, l1, h, s1, sh1, nil)
	h.mustHoldIntact(t, ids)
	h.mustBeComplete(t, l1.signer.Origin())
}

// TestStoreCarryForward: l2 has no hub link; l1 carries l2's records and
// blobs to the hub.
func TestStoreCarryForward(t *testing.T) {
	l1, l2 := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "l2", replication.RoleNode, 3)
	h := newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l2.captureDossiers(t, 3, 30_000, 12_000)
	a, b := l2.session(t), l1.session(t)
	pump(t, l2, l1, a, b, nil)
	l1.mustHoldIntact(t, ids)
	c, d := l1.session(t), h.session(t)
	pump(t, l1, h, c, d, nil)
	h.mustHoldIntact(t, ids)
	h.mustBeComplete(t, l2.signer.Origin())
}

// TestBlobsGoUpNotDown: a district hub sends blobs to the province, the
// province none to the district, and no hub any to a laptop.
func TestBlobsGoUpNotDown(t *testing.T) {
	l := newBlobReplica(t, "l1", replication.RoleNode, 1)
	d, p := newBlobReplica(t, "d1", replication.RoleHub, 2), newBlobReplica(t, "p1", replication.RoleHub, 4)
	d.tier, p.tier = "district", "province"
	ids := l.captureDossiers(t, 2, 25_000)
	pump(t, l, d, l.session(t), d.session(t), nil)
	pump(t, d, p, d.session(t), p.session(t), nil)
	p.mustHoldIntact(t, ids)
	p.mustBeComplete(t, l.signer.Origin())
	// The province's own captures (none here) aside, a fresh laptop gets
	// no blob from the district: it is not sent one.
	l2 := newBlobReplica(t, "l2", replication.RoleNode, 5)
	s1, s2 := l2.session(t), d.session(t)
	pump(t, l2, d, s1, s2, nil)
	if n := len(l2.heldBlobs()); n != 0 || s2.Stats().BlobsOffered != 0 {
		t.Fatalf("the district offered %d blobs to a laptop, which holds %d", s2.Stats().BlobsOffered, n)
	}
}

// lossySeeds is how many seeds TestLossyNetworkDeliversEveryBlob runs.
var lossySeeds = uint64(20)

// TestRecordsGoBeforeBlobs: with a backlog of records and their blobs, no
// chunk leaves before the last batch of the backlog; and a record captured
// while a blob is in flight leaves in the very next Ready, ahead of every
// chunk not yet sent (behind at most the window already sent).
func TestRecordsGoBeforeBlobs(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	l.capture(t, 3000) // records without blobs: ~15 batches
	ids := l.captureDossiers(t, 3, 200_000, 100_000)
	var order []wire.MsgType
	f := &faults{mutate: func(m wire.Message, frame []byte) []byte {
		if _, ok := m.(*wire.Ack); !ok {
			order = append(order, m.Type())
		}
		return frame
	}}
	sl, sh := l.session(t), h.session(t)
	pump(t, l, h, sl, sh, f)
	h.mustHoldIntact(t, ids)
	lastBatch, firstChunk := -1, -1
	for i, typ := range order {
		switch {
		case typ == wire.TypeBatch:
			lastBatch = i
		case typ == wire.TypeBlobChunk && firstChunk < 0:
			firstChunk = i
		}
	}
	if firstChunk < lastBatch {
		t.Fatalf("a chunk (message %d) went before the last batch (message %d)", firstChunk, lastBatch)
	}

	// Mid-blob: step by hand until chunks flow, then capture.
	l2, h2 := newBlobReplica(t, "l2", replication.RoleNode, 3), newBlobReplica(t, "h2", replication.RoleHub, 4)
	l2.captureDossiers(t, 1, 400_000)
	s1, s2 := l2.session(t), h2.session(t)
	chunks := 0
	for round := 0; chunks < 5 && round < 100; round++ {
		for _, side := range []struct {
			from, to *syncproto.Session
			r        *replica
		}{{s1, s2, l2}, {s2, s1, h2}} {
			rd, err := side.from.Ready()
			if err != nil {
				t.Fatal(err)
			}
			if rd.Persist != nil {
				res, err := side.r.log.Ingest(rd.Persist.Entries, nil)
				if err := side.from.Persisted(res, err); err != nil {
					t.Fatal(err)
				}
			}
			side.r.applyBlobs(t, side.from, rd)
			for _, m := range rd.Messages {
				if m.Type() == wire.TypeBlobChunk {
					chunks++
				}
				if err := side.to.Step(m); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if chunks < 5 {
		t.Fatal("chunks did not start")
	}
	l2.capture(t, 1)
	rd, err := s1.Ready()
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.Messages) == 0 || rd.Messages[0].Type() != wire.TypeBatch {
		t.Fatalf("after a capture mid-blob, Ready sent %v first, want the batch", types(rd.Messages))
	}
}

func types(ms []wire.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Type().String()
	}
	return out
}

// TestDiskFullWhileReceivingBlobs: the hub's blob store fills up mid-blob:
// the blob is refused as busy (the sender pauses its blobs), records still
// arrive, nothing acknowledged is lost, and once space is freed the next
// session resumes the partial write at its durable offset.
func TestDiskFullWhileReceivingBlobs(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l.captureDossiers(t, 2, 150_000, 20_000)
	h.blobs.SetCapacity(100_000)
	sl, sh := l.session(t), h.session(t)
	pump(t, l, h, sl, sh, nil)
	l.endSession(sl)
	h.endSession(sh)
	mustEqualVectors(t, l, h) // the records all arrived
	if !hasEvent(h.events, syncproto.EventBlobRefused, wire.RefuseBusy) || !hasEvent(l.events, syncproto.EventPeerBlobRefused, wire.RefuseBusy) {
		t.Fatalf("no disk-full refusal: hub %v laptop %v", h.events, l.events)
	}
	p, err := h.blobs.Partial(ids[0].Hash)
	if err != nil || p.Durable == 0 || p.Durable%int64(syncproto.DefaultBlobChunkBytes) != 0 {
		t.Fatalf("partial write of the first blob: %+v, %v; want durable whole chunks", p, err)
	}
	h.blobs.SetCapacity(0)
	sl2, sh2 := l.session(t), h.session(t)
	pump(t, l, h, sl2, sh2, nil)
	h.mustHoldIntact(t, ids)
	h.mustBeComplete(t, l.signer.Origin())
	if got, want := sl2.Stats().BlobBytesSent, sumSizes(ids)-p.Durable; got != want {
		t.Fatalf("second session sent %d blob bytes, want %d (resumed at the chunk)", got, want)
	}
}

// TestDeferredBlobsGoOnWithoutTicks: a district forwards records before it
// holds their blobs (the walk defers those entries); when the blobs then
// arrive without a wake (a bundle import writes the store directly), one
// tick's look sends them all, queue after queue — not one queue (Offers
// blobs) a tick, which paced a bundle's forwarding at one dossier a second.
func TestDeferredBlobsGoOnWithoutTicks(t *testing.T) {
	l := newBlobReplica(t, "l1", replication.RoleNode, 1)
	d, p := newBlobReplica(t, "d1", replication.RoleHub, 2), newBlobReplica(t, "p1", replication.RoleHub, 4)
	d.tier, p.tier = "district", "province"
	ids := l.captureDossiers(t, 12, 9_000, 3_000, 3_000, 5_000, 2_000) // 60 blobs: about two queues
	// The district takes the records alone.
	lb := l.blobs
	l.blobs = nil
	pump(t, l, d, l.session(t), d.session(t), nil)
	l.blobs = lb
	sd, sp := d.session(t), p.session(t)
	pump(t, d, p, sd, sp, nil)
	if v, _ := p.log.Vector(); v.Seq(l.signer.Origin()) != 13 || len(p.heldBlobs()) != 0 {
		t.Fatalf("the province holds %d entries of the laptop and %d blobs, want 13 and none yet", v.Seq(l.signer.Origin()), len(p.heldBlobs()))
	}
	// The blobs reach the district outside any session.
	for _, id := range ids {
		rd, err := lb.Open(id.Hash)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, id.Size)
		if _, err := rd.ReadAt(data, 0); err != nil {
			t.Fatal(err)
		}
		rd.Close()
		if _, err := blob.PutBytes(d.blobs, data); err != nil {
			t.Fatal(err)
		}
	}
	ticks := 0
	for ; len(p.heldBlobs()) < len(ids) && ticks < 10; ticks++ {
		sd.Tick()
		sp.Tick()
		pump(t, d, p, sd, sp, nil)
	}
	p.mustHoldIntact(t, ids)
	if ticks != 1 {
		t.Fatalf("the province got the district's %d blobs after %d ticks, want 1", len(ids), ticks)
	}
}

// TestWholePartialIsCommitted: a receiver killed between a blob's last
// write and its commit holds every byte as a partial write. Offered the
// blob again, it commits what it holds (nothing is sent again) — it used
// to ask for the bytes from the blob's end, which the sender had none of,
// and the blob stayed uncommitted for good.
func TestWholePartialIsCommitted(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l.captureDossiers(t, 1, 20_000, 7_000)
	lb := l.blobs
	l.blobs = nil
	pump(t, l, h, l.session(t), h.session(t), nil)
	l.blobs = lb
	data := make([]byte, ids[0].Size)
	rd, err := lb.Open(ids[0].Hash)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.ReadAt(data, 0); err != nil {
		t.Fatal(err)
	}
	rd.Close()
	w, err := h.blobs.Begin(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	w.Close() // killed before Commit
	sl, sh := l.session(t), h.session(t)
	pump(t, l, h, sl, sh, nil)
	h.mustHoldIntact(t, ids)
	h.mustBeComplete(t, l.signer.Origin())
	if sent := sl.Stats().BlobBytesSent; sent != ids[1].Size {
		t.Fatalf("the laptop sent %d blob bytes, want only the second blob's %d", sent, ids[1].Size)
	}
}
