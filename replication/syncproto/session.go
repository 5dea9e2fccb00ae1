package syncproto

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
	"fieldsync/replication/wire"
)

// Source is what a session reads: the replica's log. oplog.Log satisfies it.
// A session never writes; writes leave through Ready.Persist.
type Source interface {
	Vector() (replication.Vector, error)
	Get(id replication.EntryID) (replication.Entry, error)
	Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error
}

// ErrProtocol is returned (wrapped) by Step when the peer breaks the
// protocol: a message its state does not take (on an ordered transport,
// anything before the peer's Hello and Summary; see StateType), a Hello no
// version sends, a message of no known kind. The session is then Failed;
// the shell closes the connection; nothing was written for that message.
var ErrProtocol = errors.New("syncproto: protocol violation")

func isViolation(err error) bool { return errors.Is(err, ErrProtocol) }

// Session is one side of a sync session with one peer: the pure state
// machine. Feed it messages with Step and time with Tick; take what it wants
// done from Ready (messages to send, a batch to persist); report the
// persist with Persisted. It does no I/O and reads no clock, so the same
// code runs over TCP and inside the seeded simulation.
//
// It tolerates loss, duplication and reordering of messages: ingest is
// idempotent, acks carry heads (monotonic), and a sender that hears no ack
// for RetransmitTicks goes back to what the peer acknowledged.
type Session struct {
	cfg Config
	src Source

	// state and step: where the session stands and the function that
	// takes a message there (state.go); failure is what ended a Failed
	// session.
	state   StateType
	step    stepFunc
	failure error

	peer      *wire.Hello                     // the peer's Hello (from StateWaitSummary on)
	peerHeads replication.Vector              // what the peer holds, as far as we know
	cursor    map[replication.OriginID]uint64 // highest seq sent per origin
	// sent is, per origin sent in this session, the span of seqs sent
	// above what the peer held then (Stats.EntriesAcked).
	sent        map[replication.OriginID]SentSpan
	blocked     map[replication.OriginID]wire.RefuseReason
	retryIn     map[replication.OriginID]int // ticks until a refused origin is offered again
	nextBatchID uint64
	resetBelow  uint64 // acks of batches below this ID predate a go-back
	inflight    []inflight
	// forkThrough marks origins to re-send from below the peer's head
	// (from the cursor) through the given seq, however many batches that
	// takes, so a peer that suspects a fork can find where the histories
	// part.
	forkThrough map[replication.OriginID]uint64
	// parted marks origins whose fork this session found where the
	// chains part (an EventFork was reported).
	parted    map[replication.OriginID]bool
	idleTicks int // ticks without progress while something is outstanding
	// sinceHello counts ticks since this side last sent its Hello,
	// saturating at RetransmitTicks; it rate-limits answers to repeated
	// hellos (see handleHello).
	sinceHello int

	pending    []*wire.Batch // received, waiting to be verified and persisted
	persisting *persistJob   // handed out by Ready, awaiting Persisted
	carried    *persistJob   // a split batch's first part, acked with its rest

	origins map[replication.OriginID]*originInfo // verified genesis cache
	roles   map[replication.OriginID]offerInfo   // offer-policy cache
	outbox  []wire.Message
	events  []Event
	stats   Stats

	// The blob lane (blobs.go), when cfg.Blobs is set.
	blobSend blobSend
	blobRecv blobRecv
}

type inflight struct {
	id      uint64
	entries int
}

// originInfo caches what a genesis says.
type originInfo struct {
	genesis replication.Genesis
}

// Stats counts what a session did.
type Stats struct {
	BatchesSent int
	// EntriesSent counts entries put in batches, resent ones again;
	// EntriesAcked counts the entries sent in this session that the peer
	// now holds (as its acks and summaries say): what reached it, once.
	EntriesSent     int
	EntriesAcked    int
	BatchesReceived int
	BatchesDropped  int // over the pending bound
	// MessagesDropped counts messages that came before the peer's Hello
	// on a lossy transport (Config.Lossy), dropped.
	MessagesDropped  int
	EntriesApplied   int
	EntriesDuplicate int
	EntriesRefused   int
	Forks            int
	Retransmits      int

	// The blob lane. Sending: blobs offered, blobs the peer completed
	// with bytes from this session, chunks and bytes sent, bytes sent
	// again (go-backs), go-backs. Receiving: chunks received, dropped
	// (duplicates, gaps, unknown blobs), written; bytes written; blobs
	// completed; blobs refused (no reference, hash mismatch).
	BlobsOffered       int
	BlobsSent          int
	BlobChunksSent     int
	BlobBytesSent      int64
	BlobBytesResent    int64
	BlobRetransmits    int
	BlobChunksReceived int
	BlobChunksDropped  int
	BlobChunksWritten  int
	BlobBytesWritten   int64
	BlobsReceived      int
	BlobsRefused       int
}

// NewSession returns a session reading from src. cfg is validated.
func NewSession(cfg Config, src Source) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Session{
		cfg:       cfg,
		src:       src,
		peerHeads: replication.Vector{},
		cursor:    map[replication.OriginID]uint64{},
		sent:      map[replication.OriginID]SentSpan{},
		blocked:   map[replication.OriginID]wire.RefuseReason{},
		retryIn:   map[replication.OriginID]int{},
		origins:   map[replication.OriginID]*originInfo{},
		roles:     map[replication.OriginID]offerInfo{},
		blobRecv:  blobRecv{accepted: map[blob.Hash]*recvBlob{}},
		blobSend:  blobSend{pipe: blobPipe(cfg.Blobs)},
	}
	s.become(StateWaitHello, nil)
	return s, nil
}

// Start queues this side's Hello and Summary.
func (s *Session) Start() error {
	s.outbox = append(s.outbox, &s.cfg.Self)
	return s.queueSummary()
}

func (s *Session) queueSummary() error {
	v, err := s.src.Vector()
	if err != nil {
		return err
	}
	s.outbox = append(s.outbox, &wire.Summary{Heads: v.Heads()})
	return nil
}

// Peer returns the peer's Hello, or nil before it arrived.
func (s *Session) Peer() *wire.Hello { return s.peer }

// PeerHeads returns what the peer is known to hold (a copy).
func (s *Session) PeerHeads() replication.Vector { return s.peerHeads.Clone() }

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	st := s.stats
	st.EntriesAcked = 0
	for o, sp := range s.sent {
		if held := min(s.peerHeads[o].Seq, sp.Last); held > sp.Above {
			st.EntriesAcked += int(held - sp.Above)
		}
	}
	return st
}

// SentSpan is what a session sent of an origin: seqs above Above (what
// the peer held before the first of them), up to Last.
type SentSpan struct {
	Above uint64 `json:"above"`
	Last  uint64 `json:"last"`
}

// Sent returns, per origin sent in this session, the span sent (a copy):
// with what the peer later says it holds, it counts what reached it even
// when the acknowledgement was lost with the link.
func (s *Session) Sent() map[replication.OriginID]SentSpan {
	out := make(map[replication.OriginID]SentSpan, len(s.sent))
	for o, sp := range s.sent {
		out[o] = sp
	}
	return out
}

// noteSent records that seqs first..last of o went out.
func (s *Session) noteSent(o replication.OriginID, first, last uint64) {
	sp, ok := s.sent[o]
	if !ok {
		sp.Above = min(first-1, s.peerHeads[o].Seq)
	}
	sp.Above = min(sp.Above, first-1)
	sp.Last = max(sp.Last, last)
	s.sent[o] = sp
}

// handleHello answers a repeated Hello (the peer's first one moved the
// session out of StateWaitHello).
func (s *Session) handleHello(h *wire.Hello) error {
	if err := checkHello(h); err != nil {
		return err
	}
	// A repeated hello means the peer restarted its handshake and may
	// have missed ours (lost on a lossy network): say it again. But at
	// most once per RetransmitTicks: the peer takes our answer for a
	// repeated hello too, so answering every one bounces hellos (and
	// summaries, and go-backs) between the two forever, and a network
	// that duplicates messages makes the bounce grow. A peer that still
	// lacks our hello retransmits its own after RetransmitTicks.
	if s.sinceHello < s.cfg.RetransmitTicks {
		return nil
	}
	s.sinceHello = 0
	s.outbox = append(s.outbox, &s.cfg.Self)
	return s.queueSummary()
}

// handleSummary takes the peer's vector as the truth about what it holds,
// goes back to it, and compares hashes where both hold the same seq: a
// mismatch is a fork, reported to the peer so that it sends its version.
func (s *Session) handleSummary(m *wire.Summary) error {
	s.peerHeads = replication.Vector{}
	for _, h := range m.Heads {
		s.peerHeads[h.Origin] = h.Head
	}
	s.goBack()
	if err := s.checkSummaryForks(m.Heads); err != nil {
		return err
	}
	return s.queueBlobStatus(m.Heads)
}

func (s *Session) checkSummaryForks(heads []replication.OriginHead) error {
	ours, err := s.src.Vector()
	if err != nil {
		return err
	}
	var refused []wire.Refusal
	for _, ph := range heads {
		mine := ours[ph.Origin]
		own := ph.Origin == s.cfg.Self.Origin && !ph.Origin.IsZero()
		if mine.Seq < ph.Seq {
			if own {
				s.rolledBack(ph, "the peer holds more of this replica's own origin than it does")
			}
			continue
		}
		held := mine.Hash
		if mine.Seq > ph.Seq {
			e, err := s.src.Get(replication.EntryID{Origin: ph.Origin, Seq: ph.Seq})
			if err != nil {
				return err
			}
			held = e.Hash()
		}
		if held != ph.Hash && own {
			s.rolledBack(ph, "the peer holds a different entry of this replica's own origin")
			continue
		}
		if held != ph.Hash && !s.peerOffers(ph.Origin) {
			// The peer never sends this origin here (a hub to a laptop
			// carrying a colleague's log): asking for its version would
			// leave both sides waiting. Send ours from before the seq
			// instead; the peer's ingest finds where the histories part.
			s.cursor[ph.Origin] = ph.Seq - min(ph.Seq, s.cfg.ForkContext)
			s.forkResend(ph.Origin, ph.Seq)
			s.events = append(s.events, Event{Kind: EventForkSuspected, Origin: ph.Origin, Seq: ph.Seq, Reason: wire.RefuseFork,
				Detail: "held entry differs; sending ours"})
			continue
		}
		if held != ph.Hash {
			refused = append(refused, wire.Refusal{Origin: ph.Origin, Seq: ph.Seq, Reason: wire.RefuseFork,
				Detail: "held entry differs; send your version"})
			s.blocked[ph.Origin] = wire.RefuseFork
			s.events = append(s.events, Event{Kind: EventForkSuspected, Origin: ph.Origin, Seq: ph.Seq, Reason: wire.RefuseFork})
		}
	}
	// One ack per MaxRefusals: a summary carries up to MaxHeads heads,
	// more than one ack may refuse.
	for part := range slices.Chunk(refused, s.cfg.Limits.MaxRefusals) {
		s.outbox = append(s.outbox, &wire.Ack{BatchID: 0, Refused: part})
	}
	return nil
}

// peerOffers reports whether the peer sends entries of origin o to this
// replica (the offer policy, from the peer's side).
func (s *Session) peerOffers(o replication.OriginID) bool {
	g, err := s.originGenesis(o)
	var self []string
	if s.cfg.Self.Unit != "" {
		self = []string{s.cfg.Self.Unit}
	}
	return err != nil || offers(replication.Role(s.peer.Role), replication.Role(s.cfg.Self.Role), self, g.offerOrigin())
}

// rolledBack reports that this replica's own origin was written elsewhere
// (a restored or cloned log) and stops offering it: what this copy would
// send is a fork. Nothing is asked of the peer — the shell starts a new
// epoch and re-issues what the peer may lack (package epoch).
func (s *Session) rolledBack(ph replication.OriginHead, why string) {
	if _, done := s.blocked[ph.Origin]; done {
		return
	}
	s.blocked[ph.Origin] = wire.RefuseFork
	s.events = append(s.events, Event{Kind: EventRollback, Origin: ph.Origin, Seq: ph.Seq, Reason: wire.RefuseFork, Detail: why})
}

// goBack forgets what is in flight and resumes from what the peer holds.
func (s *Session) goBack() {
	s.inflight = nil
	s.idleTicks = 0
	s.resetBelow = s.nextBatchID + 1
	s.cursor = map[replication.OriginID]uint64{}
	for o, h := range s.peerHeads {
		s.cursor[o] = h.Seq
	}
}

func (s *Session) handleBatch(b *wire.Batch) error {
	s.stats.BatchesReceived++
	if len(s.pending) >= maxPending {
		// More than any window allows (duplicates, or a peer ignoring the
		// window): drop it; memory stays bounded and the sender retransmits.
		s.stats.BatchesDropped++
		return nil
	}
	s.pending = append(s.pending, b)
	return nil
}

// handleAck merges the peer's heads and acts on refusals.
func (s *Session) handleAck(a *wire.Ack) error {
	for _, h := range a.Heads {
		if h.Seq > s.peerHeads[h.Origin].Seq {
			s.peerHeads[h.Origin] = h.Head
		}
	}
	s.dropInflight(a.BatchID)
	stale := a.BatchID != 0 && a.BatchID < s.resetBelow
	for _, r := range a.Refused {
		s.handleRefusal(a.BatchID, r, stale)
	}
	return nil
}

func (s *Session) dropInflight(id uint64) {
	for i, f := range s.inflight {
		if f.id == id {
			s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
			s.idleTicks = 0
			return
		}
	}
}

func (s *Session) handleRefusal(batchID uint64, r wire.Refusal, stale bool) {
	s.events = append(s.events, Event{Kind: EventPeerRefused, Origin: r.Origin, Seq: r.Seq, Reason: r.Reason, Detail: r.Detail})
	switch {
	case r.Reason == wire.RefuseFork && batchID == 0 && r.Origin == s.cfg.Self.Origin && s.blocked[r.Origin] == wire.RefuseFork:
		// Our own origin, already seen to be rolled back: this copy's
		// branch stays here (its captures are re-issued under a new
		// epoch); sending it would only make hubs quarantine the branch
		// they hold.
	case r.Reason == wire.RefuseFork && batchID == 0:
		// The peer saw a different hash in our summary, or a range of
		// ours that starts on another branch than its own: send our
		// version from a little before, so it finds where the histories
		// part. A gap it reports for a batch sent before this is stale:
		// it must not move the cursor back up.
		delete(s.blocked, r.Origin)
		from := uint64(0)
		if r.Seq > s.cfg.ForkContext {
			from = r.Seq - s.cfg.ForkContext
		}
		s.cursor[r.Origin] = from
		s.forkResend(r.Origin, r.Seq)
		s.resetBelow = s.nextBatchID + 1
	case r.Reason == wire.RefuseBrokenChain:
		if !stale { // a gap: something before it was lost; resend from the peer's head
			s.cursor[r.Origin] = s.peerHeads[r.Origin].Seq
		}
	default:
		s.blocked[r.Origin] = r.Reason
		if r.Reason == wire.RefuseNotAuthorized || r.Reason == wire.RefuseInternal {
			s.retryIn[r.Origin] = s.cfg.RetryRefusedTicks
		}
	}
}

// retryRefused counts down the origins refused for a reason that can pass
// and offers each again, from what the peer holds, when its time comes.
// (Each origin is independent: the order of the map walk changes nothing.)
func (s *Session) retryRefused() {
	for o, n := range s.retryIn {
		if n > 1 {
			s.retryIn[o] = n - 1
			continue
		}
		delete(s.retryIn, o)
		delete(s.blocked, o)
		s.cursor[o] = s.peerHeads[o].Seq
	}
}

// forkResend marks an origin whose resend must start below the peer's
// head and go on through seq through; buildBatch honours the cursor even
// when it is below peerHeads until then.
func (s *Session) forkResend(o replication.OriginID, through uint64) {
	if s.forkThrough == nil {
		s.forkThrough = map[replication.OriginID]uint64{}
	}
	s.forkThrough[o] = max(through, s.cursor[o]+1)
}

// Tick advances the session's notion of time by one tick. With batches
// outstanding and no ack for RetransmitTicks ticks, it goes back to what the
// peer acknowledged and re-sends its summary (which may have been lost too).
// The shell ticks every session at a steady rate, idle or not: the ticks
// also pace the answers to repeated hellos.
func (s *Session) Tick() {
	if s.state == StateFailed {
		return
	}
	if s.sinceHello < s.cfg.RetransmitTicks {
		s.sinceHello++
	}
	s.retryRefused()
	if s.cfg.Blobs != nil {
		s.blobSendTick()
		s.blobRecv.tick()
	}
	if len(s.inflight) == 0 && s.state == StateSyncing {
		return
	}
	s.idleTicks++
	if s.idleTicks < s.cfg.RetransmitTicks {
		return
	}
	s.stats.Retransmits++
	s.goBack()
	s.sinceHello = 0
	s.outbox = append(s.outbox, &s.cfg.Self)
	_ = s.queueSummary() // a read error surfaces on the next Ready
}

// Ready says what the shell must do now: send Messages in order, then, if
// Persist is set, write its entries and metadata in one transaction and
// call Persisted. Calling Ready again before Persisted returns no new
// Persist.
type Ready struct {
	Messages []wire.Message
	Persist  *Persist
	Events   []Event
	// BlobWrite is a chunk to write (blobs.go); report it with
	// BlobWritten. At most one is outstanding.
	BlobWrite *BlobWrite
	// Held are entries a blob of which this session found held or just
	// committed: the shell rechecks them in its index of needs.
	Held []replication.EntryID
}

// Persist is a verified batch to write with oplog.Log.Ingest.
type Persist struct {
	BatchID uint64
	Entries []replication.Entry
}

// Ready returns the work to do now.
func (s *Session) Ready() (Ready, error) {
	var rd Ready
	if s.state == StateFailed {
		return rd, s.failure
	}
	if s.persisting == nil && len(s.pending) > 0 {
		if err := s.nextPersist(); err != nil {
			return rd, err
		}
		if s.persisting != nil {
			rd.Persist = &Persist{BatchID: s.persisting.batchID, Entries: s.persisting.entries}
		}
	}
	if err := s.fillWindow(); err != nil {
		return rd, err
	}
	if s.cfg.Blobs != nil {
		if err := s.readyBlobs(&rd); err != nil {
			return rd, err
		}
	}
	rd.Messages, s.outbox = s.outbox, nil
	rd.Events, s.events = s.events, nil
	return rd, nil
}

// Persisted reports the result of writing the last Ready.Persist. On
// success the session queues the ack; on error the session is finished (the
// shell should close it: nothing was acknowledged).
func (s *Session) Persisted(res oplog.IngestResult, err error) error {
	if s.state == StateFailed {
		return s.failure
	}
	job := s.persisting
	if job == nil {
		return fmt.Errorf("syncproto: Persisted without a pending persist")
	}
	s.persisting = nil
	if err != nil {
		err = fmt.Errorf("syncproto: persist batch %d: %w", job.batchID, err)
		s.become(StateFailed, err)
		return err
	}
	s.stats.EntriesApplied += len(res.Applied)
	s.stats.EntriesDuplicate += res.Duplicates
	for _, f := range res.Forks {
		f := f
		s.stats.Forks++
		exact := partsHere(&f)
		if !exact && !s.parted[f.Origin] {
			s.askFurtherBack(job, &f)
			continue
		}
		job.refused = append(job.refused, wire.Refusal{Origin: f.Origin, Seq: f.Seq, Reason: wire.RefuseFork, Detail: "a different entry is held at this seq"})
		if exact {
			if s.parted == nil {
				s.parted = map[replication.OriginID]bool{}
			}
			s.parted[f.Origin] = true
			s.events = append(s.events, Event{Kind: EventFork, Origin: f.Origin, Seq: f.Seq, Reason: wire.RefuseFork, Fork: &f})
		}
	}
	if job.rest != nil { // verify the rest now that these are written
		s.carried = job
		s.pending = append([]*wire.Batch{job.rest}, s.pending...)
		return nil
	}
	return s.queueAck(job)
}

// partsHere reports whether a fork found at ingest shows where the two
// chains part: the offered entry sits at the fork's seq and links to the
// same previous entry as the held one. Otherwise the offered range began
// on the other branch already — it started at a seq whose previous entry
// differs, or right after the held head with another previous hash — and
// the chains part somewhere below, unknown here.
func partsHere(f *oplog.Fork) bool {
	return f.Offered.Seq == f.Seq && f.Offered.Prev == f.Held.Prev
}

// askFurtherBack answers a fork whose offered range began below the point
// where the chains part: the peer is asked, as for a fork seen in a
// summary (a refusal outside any batch), for its version from ForkContext
// entries before the range, and the next ingest looks again — each round
// goes further back, down to the genesis, which the two share. Only then
// is it an EventFork, whose evidence says where the branches part (a fork
// notice quarantines from there, and the writers re-issue from there).
// Once that is found, a later range of the other branch (sent before the
// peer heard) is refused like the fork itself, so the peer stops.
func (s *Session) askFurtherBack(job *persistJob, f *oplog.Fork) {
	from := f.Offered.Seq
	for i := range job.entries {
		if job.entries[i].Origin == f.Origin {
			from = job.entries[i].Seq
			break
		}
	}
	s.outbox = append(s.outbox, &wire.Ack{BatchID: 0, Refused: []wire.Refusal{{Origin: f.Origin, Seq: from, Reason: wire.RefuseFork,
		Detail: "your range starts on another branch; send your version from further back"}}})
	s.events = append(s.events, Event{Kind: EventForkSuspected, Origin: f.Origin, Seq: f.Seq, Reason: wire.RefuseFork,
		Detail: "offered range starts on another branch"})
}

// queueAck acknowledges a batch with this replica's heads for the origins
// it carried, so the sender learns exactly what is now held.
func (s *Session) queueAck(job *persistJob) error {
	v, err := s.src.Vector()
	if err != nil {
		return err
	}
	ack := &wire.Ack{BatchID: job.batchID, Refused: job.refused}
	// Heads go in ascending origin order: a split batch's rest comes last.
	slices.SortFunc(job.origins, func(a, b replication.OriginID) int { return bytes.Compare(a[:], b[:]) })
	for _, o := range job.origins {
		if h := v[o]; h.Seq > 0 {
			ack.Heads = append(ack.Heads, replication.OriginHead{Origin: o, Head: h})
		}
	}
	s.outbox = append(s.outbox, ack)
	return nil
}

// Idle reports whether the session has nothing outstanding: no batch in
// flight, nothing received waiting, and nothing more to send.
func (s *Session) Idle() bool {
	return len(s.inflight) == 0 && len(s.pending) == 0 && s.persisting == nil && len(s.outbox) == 0 &&
		s.blobSend.idle() && s.blobRecv.idle()
}

// Close releases what the session holds open (a blob being read to send).
func (s *Session) Close() { s.blobSend.closeReader() }
