package sim

import (
	"fmt"
	"slices"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// conn is a session pair over one link: it lives while the link is up and
// both ends are alive. A cut or a crash ends both sides; the next contact
// starts a new pair (Hello + Summary), which resumes from what each side's
// log holds.
type conn struct {
	id   uint64
	link *link
	ends [2]*end
}

// end is one side of a conn: a syncproto session and what the shell
// tracks about it.
type end struct {
	conn       *conn
	self, peer *replica
	s          *syncproto.Session
	closed     bool
	// helloAt is the tick this side last sent its Hello: for
	// RetransmitTicks after it the session counts ticks (it paces its
	// answers to repeated hellos), so it must be ticked.
	helloAt uint64
	// deliveries counts how often each batch ID arrived (network
	// duplicates arrive twice; retransmits get new IDs).
	deliveries map[uint64]int
	// writers write the chunks this side receives (blobs.go); written
	// names the blobs this session wrote a chunk of.
	writers *syncproto.BlobWriters
	written map[blob.Hash]bool
}

// retransmitTicks is the sessions' RetransmitTicks: above the longest
// round trip the network can produce (2 × (minDelay + 3 jitter + 4
// reorder) = 16 ticks), as a deployment sets it above the link's RTT.
const retransmitTicks = 20

// applyLink brings the network and the session pair in line with the
// link's state: a conn exists iff the link is up and both ends are alive.
func (s *Sim) applyLink(l *link) {
	up := l.up()
	switch {
	case up && !l.wasUp:
		s.net.Heal(l.a.name, l.b.name)
		if d := s.now - l.downSince; d > LongPartitionTicks {
			s.cover(CovLongPartition)
		}
		s.res.MaxDownTicks = max(s.res.MaxDownTicks, s.now-l.downSince)
	case !up && l.wasUp:
		s.net.Cut(l.a.name, l.b.name)
		l.downSince = s.now
	}
	l.wasUp = up
	want := up && l.a.alive && l.b.alive
	switch {
	case want && l.conn == nil:
		s.openConn(l)
	case !want && l.conn != nil:
		s.closeConn(l)
	}
}

func (s *Sim) openConn(l *link) {
	s.nextID++
	c := &conn{id: s.nextID, link: l}
	for i, pair := range [2][2]*replica{{l.a, l.b}, {l.b, l.a}} {
		e, err := s.newEnd(c, pair[0], pair[1])
		if err != nil {
			s.failf("open %s: %v", l, err)
			return
		}
		c.ends[i] = e
	}
	l.conn = c
	fmt.Fprintf(s.trace, "open %d %d %s\n", s.now, c.id, l)
	s.log("open %s (%s link, session pair %d)", l, linkKindNames[l.kind], c.id)
	for _, e := range c.ends {
		e.self.ends = append(e.self.ends, e)
		slices.SortFunc(e.self.ends, func(x, y *end) int { return x.conn.link.idx - y.conn.link.idx })
		if err := e.s.Start(); err != nil {
			s.failf("start %s→%s: %v", e.self.name, e.peer.name, err)
		}
		s.pump(e)
	}
}

func (s *Sim) newEnd(c *conn, self, peer *replica) (*end, error) {
	cfg := syncproto.DefaultConfig(wire.Hello{Role: string(self.role), Tier: self.tier, Unit: self.unit, Node: self.name, Origin: self.signer.Origin()})
	cfg.MaxBatchEntries = s.opt.MaxBatchEntries
	cfg.Window = s.opt.Window
	cfg.CheckpointEvery = s.opt.CheckpointEvery
	cfg.RetransmitTicks = retransmitTicks
	cfg.Blobs = s.blobConfig(self, peer)
	cfg.Lossy = true // the network loses, duplicates and reorders
	ss, err := syncproto.NewSession(cfg, self.log)
	if err != nil {
		return nil, err
	}
	return &end{conn: c, self: self, peer: peer, s: ss, deliveries: map[uint64]int{}}, nil
}

// closeConn ends both sessions of a link (a cut, or a crashed end): what
// was in flight is lost with the connection.
func (s *Sim) closeConn(l *link) {
	c := l.conn
	l.conn = nil
	s.net.Purge(l.a.name, l.b.name)
	midTransfer := false
	for _, e := range c.ends {
		e.closed = true
		e.closeBlobs()
		e.self.ends = slices.DeleteFunc(e.self.ends, func(x *end) bool { return x == e })
		st := e.s.Stats()
		if st.BatchesSent > 0 && !e.s.Idle() {
			midTransfer = true
		}
		s.addSessionStats(st)
	}
	if midTransfer {
		s.cover(CovCutMidTransfer)
	}
	s.log("close %s (session pair %d, mid-transfer %t)", l, c.id, midTransfer)
	fmt.Fprintf(s.trace, "close %d %d\n", s.now, c.id)
}

// pump does what a session's Ready asks until it asks for nothing: frames
// every message through the real codec onto the network, and writes every
// verified batch to the log before telling the session (Persisted), which
// then queues the ack.
func (s *Sim) pump(e *end) {
	for range maxPumpRounds {
		if e.closed || s.stopped {
			return
		}
		rd, err := e.s.Ready()
		if err != nil {
			s.failf("%s→%s ready: %v", e.self.name, e.peer.name, err)
			return
		}
		s.handleEvents(e, rd.Events)
		for _, m := range rd.Messages {
			s.send(e, m)
		}
		if rd.Persist != nil {
			if !s.persist(e, rd.Persist) {
				return
			}
			continue
		}
		if s.doBlobWork(e, &rd) {
			continue
		}
		if len(rd.Messages) == 0 {
			return
		}
	}
	s.failf("%s→%s: session still busy after %d pump rounds", e.self.name, e.peer.name, maxPumpRounds)
}

func (s *Sim) send(e *end, m wire.Message) {

	codec := s.codec
	if m.Type() == wire.TypeBlobChunk {
		codec = s.rawCodec // image bytes: zstd only costs CPU on them
	}
	frame, err := codec.AppendFrame(nil, m)
	if err != nil {
		s.failf("%s→%s encode %s: %v", e.self.name, e.peer.name, m.Type(), err)
		return
	}
	s.res.Bytes += int64(len(frame))
	if m.Type() == wire.TypeHello {
		e.helloAt = s.now
	}
	if s.opt.Bug == BugHubDropsUpward && m.Type() == wire.TypeBatch && e.self.tier == "district" && e.peer == s.prov {
		return
	}
	s.net.Send(e.self.name, e.peer.name, frame)
}

// persist writes one verified batch, in one transaction as a real shell
// does, and reports it. With the persist-crash fault it may crash the
// replica after the write and before the ack leaves: the sender then
// re-sends what is already held, which must be deduplicated.
func (s *Sim) persist(e *end, p *syncproto.Persist) bool {
	r := e.self
	res, err := r.log.Ingest(p.Entries, nil)
	if err == nil {
		s.accountIngest(e, p.BatchID, res)
	}
	if err == nil && s.opt.Bug == BugDoubleApply && res.Duplicates > 0 {
		s.applyAgain(r, p.Entries, res)
	}
	if err == nil && s.opt.PersistCrash > 0 && !s.healing && s.rng.Float64() < s.opt.PersistCrash {
		s.res.Faults.PersistCrashes++
		s.cover(CovCrashBeforeAck)
		s.crash(r, "crash after persist, before ack,")
		return false
	}
	if err := e.s.Persisted(res, err); err != nil {
		s.failf("%s←%s persist: %v", r.name, e.peer.name, err)
		return false
	}
	return true
}

// applyAgain is the injected bug BugDoubleApply: a store that writes the
// entries it already held once more.
func (s *Sim) applyAgain(r *replica, es []replication.Entry, res oplog.IngestResult) {
	fresh := map[replication.EntryID]bool{}
	for i := range res.Applied {
		fresh[res.Applied[i].ID()] = true
	}
	for i := range es {
		if id := es[i].ID(); !fresh[id] {
			s.countApplied(r, id)
		}
	}
}

// accountIngest counts what an ingest applied (a second apply of one entry
// fails the run), observes the HLCs it brought in, and measures arrival at
// the province.
func (s *Sim) accountIngest(e *end, batchID uint64, res oplog.IngestResult) {
	r := e.self
	if res.Duplicates > 0 && e.deliveries[batchID] > 1 {
		s.cover(CovDupDeduplicated)
	}
	for _, f := range res.Forks {
		if s.forks.forkable(f.Origin) {
			s.res.IngestForks++
			continue
		}
		s.res.Forks++
		s.failf("fork at %s: %s seq %d (no restore or clone made it)", r.name, s.originName(f.Origin), f.Seq)
	}
	for i := range res.Applied {
		a := &res.Applied[i]
		id := a.ID()
		s.countApplied(r, id)
		r.hlc.Observe(a.HLC)
		if r == s.prov {
			s.arrivedAtProvince(a)
		}
	}
	if len(res.Applied) == 0 {
		return
	}
	r.dirty = true
	if r.watch != nil {
		s.hubIngested(r, res.Applied)
	} else {
		s.laptopIngested(r, res.Applied)
	}
}

func (s *Sim) arrivedAtProvince(e *replication.Entry) {
	id := e.ID()
	if e.Kind == replication.KindReissue {
		// A re-issue that carries what the province lacks (the original,
		// or another branch's entry there).
		if r, err := epoch.DecodeReissue(e.Payload); err == nil && !holds(s.prov.log, entryKey{r.Of, r.Hash}) {
			s.cover(CovReissueDelivered)
		}
	}
	at, ok := s.capturedAt[id]
	if !ok {
		return
	}
	s.res.ProvinceDelays = append(s.res.ProvinceDelays, s.now-at)
	if s.hubless.signer.Origin() == id.Origin && id.Seq > 1 && !s.healing {
		s.cover(CovCarryForward)
	}
}

// handleEvents checks what a session reports and reacts as the shells do.
// Nothing here is tampered with, so a refusal other than a gap is a
// failure; a gap (broken chain) after lost or reordered batches is
// expected and answered by a resend. Forks, rollbacks and fork refusals
// are expected only of origins a restore or clone copied: a rollback of
// the replica's own origin starts a new epoch, a fork found at a hub's
// ingest becomes its fork notice.
func (s *Sim) handleEvents(e *end, evs []syncproto.Event) {
	for _, ev := range evs {
		forkable := s.forks.forkable(ev.Origin)
		switch {
		case ev.Kind == syncproto.EventPeerRefused && ev.Reason == wire.RefuseBrokenChain:
			s.res.GapRefusals++
			s.cover(CovGapResent)
		case ev.Kind == syncproto.EventRefused && ev.Reason == wire.RefuseBrokenChain:
		case ev.Kind == syncproto.EventRollback && forkable && ev.Origin == e.self.signer.Origin():
			s.rolledBack(e.self, e.peer, ev)
		case ev.Kind == syncproto.EventFork && forkable && ev.Fork != nil:
			if e.self.watch != nil {
				s.forks.detect(s, ev.Origin, fmt.Sprintf("ingest fork at %s from %s: holds seq %d, offered seq %d", e.self.name, e.peer.name, ev.Fork.Held.Seq, ev.Fork.Offered.Seq))
				s.publishNotice(e.self, epoch.IngestNotice(ev.Fork))
			}
		case (ev.Kind == syncproto.EventBlobRefused || ev.Kind == syncproto.EventPeerBlobRefused) && ev.Reason == wire.RefuseMismatch && s.opt.Bug == BugBlobBitFlip:
			// The injected bit flips: refused at commit, as they must be.
		case (ev.Kind == syncproto.EventBlobRefused || ev.Kind == syncproto.EventPeerBlobRefused) && ev.Reason == wire.RefuseBusy:
			// Two sessions delivering one blob at once (a laptop and its
			// colleague to their hub): one takes it, the other is told so.
			s.res.BlobsBusy++
			s.log("%s (session with %s): %s", e.self.name, e.peer.name, ev)
		case ev.Kind == syncproto.EventBlobRefused && ev.Reason == wire.RefuseNoReference && forkable:
			// The peer offered it for another branch's entry at that seq.
			s.log("%s (session with %s): %s", e.self.name, e.peer.name, ev)
		case ev.Kind == syncproto.EventPeerBlobRefused && ev.Reason == wire.RefuseNoReference:
			// The receiver's own event (blob-refused, above) is the one
			// checked: with duplicated answers the sender may name the
			// entry it offers the blob for next.
			s.log("%s (session with %s): %s", e.self.name, e.peer.name, ev)
		case ev.Kind == syncproto.EventForkSuspected && forkable:
		case ev.Kind == syncproto.EventPeerRefused && ev.Reason == wire.RefuseFork && forkable:
		default:
			s.failf("%s (session with %s) reported %s", e.self.name, e.peer.name, ev)
		}
	}
}

// deliver hands one network message to the session it is for.
func (s *Sim) deliver(from, to string, payload []byte, dup bool) {
	l := s.byPair[[2]string{from, to}]
	if l == nil || l.conn == nil {
		s.failf("message %s→%s arrived with no session (the network should have lost it)", from, to)
		return
	}
	e := l.conn.ends[0]
	if e.self.name != to {
		e = l.conn.ends[1]
	}
	fmt.Fprintf(s.trace, "deliver %d %s %s %x\n", s.now, from, to, payload)
	m, _, err := s.codec.DecodeFrame(payload)
	if err != nil {
		s.failf("%s→%s decode: %v", from, to, err)
		return
	}

	s.observe(e, m, dup)
	if err := e.s.Step(m); err != nil {
		s.failf("%s←%s step %s: %v", to, from, m.Type(), err)
		return
	}
	s.pump(e)
}

// observe does the duplicate accounting before a message is stepped.
func (s *Sim) observe(e *end, m wire.Message, dup bool) {
	if b, ok := m.(*wire.Batch); ok {
		e.deliveries[b.ID]++
		if dup {
			s.res.DupBatchesDelivered++
		}
	}
}

// busy reports whether the session may act on a Tick: a session that is
// syncing (its peer's Hello and Summary held), idle and past its hello
// pacing does nothing on one, so the loop may skip quiet time without
// changing what happens.
func (e *end) busy(now uint64) bool {
	return e.s.State() != syncproto.StateSyncing || !e.s.Idle() || now-e.helloAt <= retransmitTicks
}

// pumpDirty re-pumps every session of every replica whose log changed, so
// that what one session wrote flows on through the others.
func (s *Sim) pumpDirty() {
	for range maxDirtyRounds {
		changed := false
		for _, r := range s.reps {
			if !r.dirty || !r.alive {
				continue
			}
			r.dirty, changed = false, true
			for _, e := range slices.Clone(r.ends) {
				e.s.LookAgain() // blobs may have arrived for what it walked
				s.pump(e)
			}
		}
		if !changed || s.stopped {
			return
		}
	}
	s.failf("logs still changing after %d rounds in one tick", maxDirtyRounds)
}

func (s *Sim) addSessionStats(st syncproto.Stats) {
	s.res.Retransmits += st.Retransmits
	s.res.EntriesSent += st.EntriesSent
	if st.Retransmits > 0 {
		s.cover(CovRetransmit)
	}
}
