package syncproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/wire"
)

// blobSend is the sending side of the blob lane.
type blobSend struct {
	status   bool // the peer's status arrived: the lane runs
	needs    map[replication.OriginID]*sendNeed
	partials map[blob.Hash]uint64 // the peer's resumable partial writes
	turn     int                  // round-robin position among origins
	queue    []*sendBlob          // offered or wanted, in transfer order
	offer    []wire.OfferedBlob   // new offers for the next BlobOffer
	// waiting counts ticks without an answer while something is
	// outstanding; at RetransmitTicks the sender goes back.
	waiting int
	// pause counts down ticks during which nothing new is offered (the
	// peer refused as busy: its disk is full).
	pause int
	// asked counts summaries re-sent to get a lost status.
	asked int
	// sinceAsk counts ticks since the summary was sent without a status.
	sinceAsk int
	pipe     int // bytes of the link's bandwidth-delay product (SetBlobPipe)
	// deferred are walked entries some of whose blobs this side did not
	// hold yet (a hub forwarding: the records come before their blobs);
	// they are looked at again every tick, and their blobs queued as they
	// arrive. At most maxDeferred; past it the peer's next status finds
	// them.
	deferred []deferredEntry
	recheck  bool // a tick passed: look at deferred again

	reader    blob.Reader
	readerFor blob.Hash
}

// deferredEntry is an entry whose refs were not all held when walked.
type deferredEntry struct {
	id   replication.EntryID
	refs []blob.Ref // not held yet
}

// maxDeferred bounds the deferred entries of a session (about 300 KB).
const maxDeferred = 4096

// sendNeed is where the walk of one origin stands.
type sendNeed struct {
	missing []uint64 // the peer's missing entries not walked yet
	next    uint64   // the next seq above the status's Through to walk
}

// sendBlob is a blob offered or being sent.
type sendBlob struct {
	id      blob.ID
	entry   replication.EntryID
	wanted  bool   // the peer asked for it (or listed it as partial)
	next    uint64 // the next offset to send
	acked   uint64 // the peer holds the bytes before this
	maxSent uint64 // the highest offset sent in this session
	// alts are other entries that reference the blob, walked while it was
	// queued: if the peer refuses the entry it was offered for (it holds
	// another branch's entry there), it is offered again for the next.
	alts []replication.EntryID
}

// maxAlts bounds a queued blob's other references.
const maxAlts = 8

// sendsBlobsToPeer reports whether this side sends blobs to the peer.
func (s *Session) sendsBlobsToPeer() bool {
	return s.cfg.Blobs != nil && s.peer != nil && s.cfg.Blobs.Flow(&s.cfg.Self, s.peer)
}

// SetBlobPipe sets the link's bandwidth-delay product in bytes, as the
// shell measured it (rate × round trip): the blob window becomes one chunk
// plus it, so the link stays busy and a record waits behind at most one
// chunk. Out-of-range values are clamped.
func (s *Session) SetBlobPipe(bytes int) {
	if s.cfg.Blobs == nil {
		return
	}
	s.blobSend.pipe = max(0, min(bytes, MaxBlobWindowBytes-s.cfg.Blobs.ChunkBytes))
}

func (s *Session) blobWindow() int { return s.cfg.Blobs.ChunkBytes + s.blobSend.pipe }

// blobPipe is the pipe a session starts with: the configured one.
func blobPipe(c *BlobConfig) int {
	if c == nil {
		return 0
	}
	return c.PipeBytes
}

// BlobWindow returns the blob window in bytes (0 without the lane).
func (s *Session) BlobWindow() int {
	if s.cfg.Blobs == nil {
		return 0
	}
	return s.blobWindow()
}

// LookAgain tells the session that the replica's blobs changed outside it
// (another session received some, a capture saved some): the entries it
// walked before their blobs were held are looked at again in the next
// Ready, rather than at the next tick.
func (s *Session) LookAgain() { s.blobSend.recheck = len(s.blobSend.deferred) > 0 }

// handleBlobStatus starts (or restarts) the lane from what the peer lacks.
func (s *Session) handleBlobStatus(m *wire.BlobStatus) error {
	if !s.sendsBlobsToPeer() {
		return nil
	}
	b := &s.blobSend
	b.closeReader()
	pipe := b.pipe
	*b = blobSend{status: true, needs: map[replication.OriginID]*sendNeed{}, partials: map[blob.Hash]uint64{}, pipe: pipe}
	for _, n := range m.Origins {
		b.needs[n.Origin] = &sendNeed{missing: n.Missing, next: n.Through + 1}
	}
	for _, p := range m.Partials {
		b.partials[p.Hash] = p.Offset
	}
	return nil
}

// need returns the walk state of origin o (from seq 1 when the status did
// not list it: the peer holds nothing of it yet).
func (b *blobSend) need(o replication.OriginID) *sendNeed {
	n, ok := b.needs[o]
	if !ok {
		n = &sendNeed{next: 1}
		b.needs[o] = n
	}
	return n
}

// fillBlobs offers what comes next and sends chunks into the window, when
// no batch of records waits to go.
func (s *Session) fillBlobs() error {
	b := &s.blobSend
	if !b.status || !s.sendsBlobsToPeer() {
		return nil
	}
	if s.recordsWaiting() {
		return nil
	}
	if b.recheck {
		b.recheck = false
		if err := s.recheckDeferred(); err != nil {
			return err
		}
	}
	if err := s.walkBlobs(); err != nil {
		return err
	}
	for len(b.offer) > 0 {
		n := min(len(b.offer), wire.MaxBlobOffers)
		s.outbox = append(s.outbox, &wire.BlobOffer{Blobs: b.offer[:n:n]})
		s.stats.BlobsOffered += n
		b.offer = b.offer[n:]
	}
	b.offer = nil
	return s.sendChunks()
}

// recordsWaiting reports whether a batch of records would go now but for
// the window: blobs then wait, so records always go first.
func (s *Session) recordsWaiting() bool {
	if len(s.inflight) < s.cfg.Window {
		return false // fillWindow sent every batch it could
	}
	ours, err := s.src.Vector()
	if err != nil {
		return true
	}
	for o, h := range ours {
		if from := s.sendFrom(o); h.Seq >= from && s.mayOffer(o, from) {
			return true
		}
	}
	return false
}

// walkBlobs examines entries the peer holds and lacks blobs of, origin by
// origin in turn, and queues the blobs this side holds, until Offers are
// outstanding.
func (s *Session) walkBlobs() error {
	b := &s.blobSend
	if b.pause > 0 {
		return nil
	}
	origins := s.blobOrigins()
	for walked := 0; len(b.queue) < s.cfg.Blobs.Offers && len(origins) > 0 && walked < maxWalkPerReady; walked++ {
		b.turn %= len(origins)
		o := origins[b.turn]
		seq, ok := s.nextBlobEntry(o)
		if !ok {
			origins = slices.Delete(origins, b.turn, b.turn+1)
			continue
		}
		if err := s.queueEntryBlobs(replication.EntryID{Origin: o, Seq: seq}); err != nil {
			return err
		}
		b.turn++
	}
	return nil
}

// blobOrigins lists the origins whose blobs may go to the peer: those the
// peer holds entries of and this side offers, ascending.
func (s *Session) blobOrigins() []replication.OriginID {
	out := make([]replication.OriginID, 0, len(s.peerHeads))
	for o, h := range s.peerHeads {
		if h.Seq == 0 {
			continue
		}
		if _, blocked := s.blocked[o]; blocked {
			continue
		}
		g, err := s.originGenesis(o)
		if err != nil || !offers(replication.Role(s.cfg.Self.Role), replication.Role(s.peer.Role), s.peerUnits(), g.offerOrigin()) {
			continue
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b replication.OriginID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// nextBlobEntry takes the next entry of o to examine: the peer's missing
// ones first, then those above its status's Through that it holds.
func (s *Session) nextBlobEntry(o replication.OriginID) (uint64, bool) {
	n := s.blobSend.need(o)
	if len(n.missing) > 0 {
		seq := n.missing[0]
		n.missing = n.missing[1:]
		return seq, true
	}
	if n.next > s.peerHeads[o].Seq {
		return 0, false
	}
	seq := n.next
	n.next++
	return seq, true
}

// queueEntryBlobs queues the blobs of one entry that this side holds and
// has not queued: as wanted from the peer's partial offset when its status
// listed one, else to offer.
func (s *Session) queueEntryBlobs(id replication.EntryID) error {
	e, err := s.src.Get(id)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	refs, err := s.cfg.Blobs.Refs(&e)
	if err != nil || len(refs) == 0 {
		return nil // its refs do not decode: it moves without blobs
	}
	return s.queueRefs(id, refs)
}

// queueRefs queues the blobs of refs this side holds, and defers the
// entry with the others.
func (s *Session) queueRefs(id replication.EntryID, refs []blob.Ref) error {
	b := &s.blobSend
	hs := make([]blob.Hash, len(refs))
	for i, r := range refs {
		hs[i] = r.Hash
	}
	held, err := s.cfg.Blobs.Store.Has(hs)
	if err != nil {
		return err
	}
	var later []blob.Ref
	for i, r := range refs {
		if !held[i] {
			later = append(later, r)
			continue
		}
		if _, q := b.find(r.Hash); q != nil {
			if q.entry != id && len(q.alts) < maxAlts {
				q.alts = append(q.alts, id)
			}
			continue
		}
		sb := &sendBlob{id: r.ID, entry: id}
		if off, ok := b.partials[r.Hash]; ok && off < uint64(r.Size) {
			sb.wanted, sb.next, sb.acked = true, off, off
			delete(b.partials, r.Hash)
		} else {
			b.offer = append(b.offer, wire.OfferedBlob{ID: r.ID, Entry: id})
		}
		b.queue = append(b.queue, sb)
	}
	if len(later) > 0 && len(b.deferred) < maxDeferred {
		b.deferred = append(b.deferred, deferredEntry{id: id, refs: later})
	}
	return nil
}

// recheckDeferred queues the blobs of deferred entries that arrived since.
// A pass the full queue stopped goes on at the next Ready with room (not
// at the next tick: blobs that came in without a wake — a bundle import —
// would otherwise go up one queue a tick).
func (s *Session) recheckDeferred() error {
	b := &s.blobSend
	if len(b.queue) >= s.cfg.Blobs.Offers {
		b.recheck = true
		return nil
	}
	entries := b.deferred
	b.deferred = nil
	for i, d := range entries {
		if len(b.queue) >= s.cfg.Blobs.Offers {
			// The entries not looked at go first in the next pass.
			b.deferred = slices.Concat(entries[i:], b.deferred)
			b.recheck = true
			return nil
		}
		if err := s.queueRefs(d.id, d.refs); err != nil {
			return err
		}
	}
	return nil
}

func (b *blobSend) find(h blob.Hash) (int, *sendBlob) {
	for i, q := range b.queue {
		if q.id.Hash == h {
			return i, q
		}
	}
	return -1, nil
}

// inflight is the chunk bytes sent and not acknowledged.
func (b *blobSend) inflight() int {
	n := 0
	for _, q := range b.queue {
		if q.wanted && q.next > q.acked {
			n += int(q.next - q.acked)
		}
	}
	return n
}

// chunkSize is the size of the chunks sent: ChunkBytes, or half the
// window when the pipe is smaller than a chunk, so that two chunks are
// always in flight: one on the link while the other's acknowledgement
// travels back (a chunk at least as long to send as the round trip keeps
// the link busy), and a record waits behind at most the window less the
// pipe, one ChunkBytes.
func (s *Session) chunkSize() int {
	return max(MinBlobChunkBytes, min(s.cfg.Blobs.ChunkBytes, s.blobWindow()/2))
}

// sendChunks sends chunks of the wanted blobs, in queue order, while the
// window has room for a chunk (or a blob's last bytes). A chunk is cut
// to the room left when that is at least half a chunk: behind a blob's
// short last chunk the next blob starts at once, so the link does not idle
// for a round trip at every blob's end; and no chunk is cut below half a
// chunk, so chunks do not shrink from one to the next.
func (s *Session) sendChunks() error {
	b := &s.blobSend
	room := s.blobWindow() - b.inflight()
	size := s.chunkSize()
	for _, q := range b.queue {
		if !q.wanted {
			continue
		}
		for q.next < uint64(q.id.Size) {
			n := min(size, int(uint64(q.id.Size)-q.next))
			if n > room && room >= size/2 {
				n = room
			}
			if n > room {
				return nil
			}
			data, err := s.readChunk(q, n)
			if err != nil {
				return err
			}
			if data == nil {
				break // dropped: unreadable here
			}
			s.outbox = append(s.outbox, &wire.BlobChunk{Hash: q.id.Hash, Offset: q.next, Data: data})
			s.stats.BlobChunksSent++
			s.stats.BlobBytesSent += int64(n)
			if q.next < q.maxSent {
				s.stats.BlobBytesResent += int64(min(uint64(n), q.maxSent-q.next))
			}
			q.next += uint64(n)
			q.maxSent = max(q.maxSent, q.next)
			room -= n
		}
	}
	return nil
}

// readChunk reads n bytes of q at q.next. A blob that can no longer be read
// here (deleted, corrupt on disk) is dropped from the queue with an event,
// and nil is returned.
func (s *Session) readChunk(q *sendBlob, n int) ([]byte, error) {
	b := &s.blobSend
	if b.reader == nil || b.readerFor != q.id.Hash {
		b.closeReader()
		r, err := s.cfg.Blobs.Store.Open(q.id.Hash)
		if err != nil {
			return nil, s.unreadable(q, err)
		}
		b.reader, b.readerFor = r, q.id.Hash
	}
	data := make([]byte, n)
	k, err := b.reader.ReadAt(data, int64(q.next))
	if k == n && (err == nil || errors.Is(err, io.EOF)) {
		return data, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	b.closeReader()
	return nil, s.unreadable(q, err)
}

// unreadable drops a blob this side cannot read and reports it; only a
// failure that is not about the blob itself ends the session.
func (s *Session) unreadable(q *sendBlob, err error) error {
	if !errors.Is(err, blob.ErrNotFound) && !errors.Is(err, blob.ErrCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("syncproto: read blob %s: %w", q.id, err)
	}
	s.events = append(s.events, Event{Kind: EventBlobUnreadable, Origin: q.entry.Origin, Seq: q.entry.Seq, Blob: q.id, Detail: wire.ClipDetail(err.Error())})
	s.blobSend.remove(q.id.Hash)
	return nil
}

func (b *blobSend) remove(h blob.Hash) {
	if i, _ := b.find(h); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
	}
	if b.readerFor == h {
		b.closeReader()
	}
}

func (b *blobSend) closeReader() {
	if b.reader != nil {
		b.reader.Close()
		b.reader, b.readerFor = nil, blob.Hash{}
	}
}

// handleBlobAck takes the peer's answers: a blob held is done, a want
// (re)starts it at the offset, held bytes free the window, a refusal drops
// it for this session.
func (s *Session) handleBlobAck(m *wire.BlobAck) error {
	b := &s.blobSend
	for _, st := range m.Blobs {
		_, q := b.find(st.Hash)
		if q == nil {
			continue // stale: done, refused, or from before a restart
		}
		b.waiting = 0
		switch st.State {
		case wire.BlobHave:
			if q.maxSent > 0 {
				s.stats.BlobsSent++
			}
			b.remove(st.Hash)
		case wire.BlobWant:
			q.wanted, q.next, q.acked = true, min(st.Offset, uint64(q.id.Size)), min(st.Offset, uint64(q.id.Size))
		case wire.BlobHeld:
			if q.wanted && st.Offset > q.acked {
				// Held bytes free the window; if the peer holds more than
				// was sent since a go-back, go on from there.
				q.acked = min(st.Offset, uint64(q.id.Size))
				q.next = max(q.next, q.acked)
			}
		case wire.BlobRefused:
			if st.Reason == wire.RefuseNoReference && q.wanted {
				// The peer wanted it and has since lost track of it (its
				// answer was lost, the session restarted on its side): offer
				// it again, from what it holds.
				q.wanted, q.next, q.acked = false, 0, 0
				b.offer = append(b.offer, wire.OfferedBlob{ID: q.id, Entry: q.entry})
				s.stats.BlobRetransmits++
				continue
			}
			s.events = append(s.events, Event{Kind: EventPeerBlobRefused, Origin: q.entry.Origin, Seq: q.entry.Seq, Reason: st.Reason, Detail: st.Detail, Blob: q.id})
			if st.Reason == wire.RefuseNoReference && len(q.alts) > 0 {
				// Offer it for another entry that references it.
				q.entry, q.alts = q.alts[0], q.alts[1:]
				q.wanted, q.next, q.acked = false, 0, 0
				b.offer = append(b.offer, wire.OfferedBlob{ID: q.id, Entry: q.entry})
				continue
			}
			b.remove(st.Hash)
			if st.Reason == wire.RefuseBusy {
				b.pause = s.cfg.RetryRefusedTicks
			}
		}
	}
	return nil
}

// tick goes back to what the peer acknowledged when nothing was answered
// for RetransmitTicks (a lost offer, chunk or ack), asks again for a lost
// status, and counts down a pause.
func (s *Session) blobSendTick() {
	b := &s.blobSend
	if b.pause > 0 {
		b.pause--
	}
	b.recheck = len(b.deferred) > 0
	if !b.status {
		if s.sendsBlobsToPeer() && s.state == StateSyncing && b.asked < 2 {
			if b.sinceAsk++; b.sinceAsk >= s.cfg.RetransmitTicks {
				b.sinceAsk = 0
				b.asked++
				_ = s.queueSummary() // the peer answers a summary with its status
			}
		}
		return
	}
	if len(b.queue) == 0 {
		b.waiting = 0
		return
	}
	if b.waiting++; b.waiting < s.cfg.RetransmitTicks {
		return
	}
	b.waiting = 0
	s.stats.BlobRetransmits++
	for _, q := range b.queue {
		if q.wanted {
			q.next = q.acked
		} else {
			b.offer = append(b.offer, wire.OfferedBlob{ID: q.id, Entry: q.entry})
		}
	}
}

// idle reports whether nothing of the lane is outstanding on this side.
func (b *blobSend) idle() bool { return len(b.queue) == 0 && len(b.offer) == 0 }
