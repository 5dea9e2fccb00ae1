package syncproto

import (
	"errors"
	"fmt"
	"slices"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/wire"
)

// blobRecv is the receiving side of the blob lane.
type blobRecv struct {
	// accepted are the blobs this side agreed to take (an offer it wanted,
	// or a partial write its status listed), by hash.
	accepted map[blob.Hash]*recvBlob
	pending  []*wire.BlobChunk // received, in order, waiting to be written
	writing  *BlobWrite        // handed out by Ready, awaiting BlobWritten
	answers  []wire.BlobState  // to send in the next BlobAck
	// refsCache keeps the refs of the last entry an offer named (an
	// entry's blobs are offered together).
	refsOf  replication.EntryID
	refs    []blob.Ref
	full    int // ticks left during which offers are refused (disk full)
	held    []replication.EntryID
	sentFor bool // a status was sent in this session
}

// recvBlob is a blob being received.
type recvBlob struct {
	id    blob.ID
	entry replication.EntryID
	next  uint64 // the offset the next chunk must start at
	// mismatches counts whole-blob hash failures in this session.
	mismatches int
}

// takesBlobsFromPeer reports whether the peer sends blobs to this side.
func (s *Session) takesBlobsFromPeer() bool {
	return s.cfg.Blobs != nil && s.peer != nil && s.cfg.Blobs.Flow(s.peer, &s.cfg.Self)
}

// queueBlobStatus answers the peer's summary with what this replica lacks
// of the blobs of the origins the peer sends it.
func (s *Session) queueBlobStatus(heads []replication.OriginHead) error {
	if !s.takesBlobsFromPeer() {
		return nil
	}
	st := &wire.BlobStatus{}
	partials := map[blob.Hash]uint64{}
	total := 0
	for _, ph := range heads {
		if !s.peerOffers(ph.Origin) || len(st.Origins) >= s.cfg.Limits.MaxHeads {
			continue
		}
		limit := min(maxStatusMissing, wire.MaxBlobMissing-total)
		need := wire.BlobNeed{Origin: ph.Origin}
		through, err := s.cfg.Blobs.Needs.Missing(ph.Origin, limit, func(seq uint64) { need.Missing = append(need.Missing, seq) })
		if err != nil {
			return err
		}
		if through == 0 {
			continue // nothing of it held: the sender offers from the start
		}
		need.Through = through
		total += len(need.Missing)
		st.Origins = append(st.Origins, need)
		if err := s.resumable(ph.Origin, need.Missing, partials); err != nil {
			return err
		}
	}
	for h, off := range partials {
		st.Partials = append(st.Partials, wire.BlobPartial{Hash: h, Offset: off})
	}
	slices.SortFunc(st.Partials, func(a, b wire.BlobPartial) int { return slices.Compare(a.Hash[:], b.Hash[:]) })
	if len(st.Partials) > wire.MaxBlobPartials {
		st.Partials = st.Partials[:wire.MaxBlobPartials]
	}
	s.blobRecv.sentFor = true
	s.outbox = append(s.outbox, st)
	return nil
}

// resumable adds the partial writes of the blobs of the first missing
// entries of o to partials, and accepts them: the sender may resume them
// without an offer.
func (s *Session) resumable(o replication.OriginID, missing []uint64, partials map[blob.Hash]uint64) error {
	r := &s.blobRecv
	for _, seq := range missing[:min(len(missing), maxStatusPartialEntries)] {
		id := replication.EntryID{Origin: o, Seq: seq}
		refs, err := s.entryRefs(id)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			p, err := s.cfg.Blobs.Store.Partial(ref.Hash)
			if errors.Is(err, blob.ErrNotFound) || err == nil && (p.Durable <= 0 || p.Size != ref.Size) {
				continue
			}
			if err != nil {
				return err
			}
			if len(r.accepted) >= maxBlobAccepted {
				return nil
			}
			r.accepted[ref.Hash] = &recvBlob{id: ref.ID, entry: id, next: uint64(p.Durable)}
			if p.Durable == ref.Size {
				r.commitWhole(ref.Hash)
				continue
			}
			partials[ref.Hash] = uint64(p.Durable)
		}
	}
	return nil
}

// entryRefs returns the blobs a held entry references (nil if it is not
// held, or references none, or its refs do not decode).
func (s *Session) entryRefs(id replication.EntryID) ([]blob.Ref, error) {
	r := &s.blobRecv
	if r.refsOf == id && r.refs != nil {
		return r.refs, nil
	}
	e, err := s.src.Get(id)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	refs, err := s.cfg.Blobs.Refs(&e)
	if err != nil {
		return nil, nil // an entry whose refs do not decode moves without blobs
	}
	r.refsOf, r.refs = id, refs
	return refs, nil
}

// handleBlobOffer answers each offered blob: have, want from an offset, or
// refused.
func (s *Session) handleBlobOffer(m *wire.BlobOffer) error {
	r := &s.blobRecv
	for _, o := range m.Blobs {
		st, err := s.answerOffer(o)
		if err != nil {
			return err
		}
		if st.State == wire.BlobRefused && st.Reason != wire.RefuseBusy {
			s.stats.BlobsRefused++
			s.events = append(s.events, Event{Kind: EventBlobRefused, Origin: o.Entry.Origin, Seq: o.Entry.Seq, Reason: st.Reason, Detail: st.Detail, Blob: o.ID})
		}
		r.answer(st)
	}
	return nil
}

func (s *Session) answerOffer(o wire.OfferedBlob) (wire.BlobState, error) {
	r := &s.blobRecv
	refuse := func(reason wire.RefuseReason, format string, args ...any) (wire.BlobState, error) {
		return wire.BlobState{Hash: o.Hash, State: wire.BlobRefused, Reason: reason, Detail: wire.ClipDetail(fmt.Sprintf(format, args...))}, nil
	}
	if !s.takesBlobsFromPeer() {
		return refuse(wire.RefuseNotAuthorized, "blobs go up the hierarchy, not to this replica from this peer")
	}
	refs, err := s.entryRefs(o.Entry)
	if err != nil {
		return wire.BlobState{}, err
	}
	if !refsHold(refs, o.ID) {
		return refuse(wire.RefuseNoReference, "no held entry %s:%d references blob %s", o.Entry.Origin.Short(), o.Entry.Seq, o.ID)
	}
	has, err := s.cfg.Blobs.Store.Has([]blob.Hash{o.Hash})
	if err != nil {
		return wire.BlobState{}, err
	}
	if has[0] {
		delete(r.accepted, o.Hash)
		r.held = append(r.held, o.Entry)
		return wire.BlobState{Hash: o.Hash, State: wire.BlobHave}, nil
	}
	if a, ok := r.accepted[o.Hash]; ok {
		return wire.BlobState{Hash: o.Hash, State: wire.BlobWant, Offset: a.next}, nil
	}
	if r.full > 0 {
		return refuse(wire.RefuseBusy, "this replica's blob store is full")
	}
	if len(r.accepted) >= maxBlobAccepted {
		return refuse(wire.RefuseBusy, "too many blobs in progress")
	}
	next := uint64(0)
	if p, err := s.cfg.Blobs.Store.Partial(o.Hash); err == nil && p.Size == o.Size {
		next = uint64(p.Durable)
	} else if err != nil && !errors.Is(err, blob.ErrNotFound) {
		return wire.BlobState{}, err
	}
	r.accepted[o.Hash] = &recvBlob{id: o.ID, entry: o.Entry, next: next}
	if next == uint64(o.Size) {
		r.commitWhole(o.Hash)
	}
	return wire.BlobState{Hash: o.Hash, State: wire.BlobWant, Offset: next}, nil
}

// commitWhole queues the commit of an accepted blob whose bytes are all
// durable here but which was never committed (a crash between its last
// write and the commit): the sender has nothing left to send, so an empty
// last write commits what is here; a mismatch then asks for the blob from
// the start.
func (r *blobRecv) commitWhole(h blob.Hash) {
	a := r.accepted[h]
	if a == nil || r.queuedBytes(h) > 0 || r.writing != nil && r.writing.ID.Hash == h {
		return
	}
	for _, c := range r.pending {
		if c.Hash == h {
			return // already queued
		}
	}
	r.pending = append(r.pending, &wire.BlobChunk{Hash: h, Offset: a.next})
}

// refsHold reports whether refs name id (hash and size).
func refsHold(refs []blob.Ref, id blob.ID) bool {
	for _, r := range refs {
		if r.ID == id {
			return true
		}
	}
	return false
}

// answer queues a state for the next BlobAck, replacing an earlier one
// for the same blob.
func (r *blobRecv) answer(st wire.BlobState) {
	for i := range r.answers {
		if r.answers[i].Hash == st.Hash {
			r.answers[i] = st
			return
		}
	}
	r.answers = append(r.answers, st)
}

// handleBlobChunk queues a chunk that continues an accepted blob; any
// other is dropped and answered with where the blob stands.
func (s *Session) handleBlobChunk(c *wire.BlobChunk) error {
	r := &s.blobRecv
	s.stats.BlobChunksReceived++
	a, ok := r.accepted[c.Hash]
	if !ok {
		s.stats.BlobChunksDropped++
		has, err := s.cfg.Blobs.Store.Has([]blob.Hash{c.Hash})
		if err != nil {
			return err
		}
		if has[0] {
			r.answer(wire.BlobState{Hash: c.Hash, State: wire.BlobHave})
		} else {
			r.answer(wire.BlobState{Hash: c.Hash, State: wire.BlobRefused, Reason: wire.RefuseNoReference, Detail: "not offered in this session"})
		}
		return nil
	}
	expect := a.next + r.queuedBytes(c.Hash)
	switch {
	case c.Offset < expect:
		// A duplicate, or a resend after our answer was lost: say again
		// what is held, so a sender that went back goes on.
		s.stats.BlobChunksDropped++
		if a.next > 0 {
			r.answer(wire.BlobState{Hash: c.Hash, State: wire.BlobHeld, Offset: a.next})
		}
		return nil
	case c.Offset > expect, c.Offset+uint64(len(c.Data)) > uint64(a.id.Size), len(r.pending) >= MaxBlobPending:
		// A gap (a chunk before it was lost), a chunk past the blob's end,
		// or more than any window: drop it and say where to go on from.
		s.stats.BlobChunksDropped++
		if c.Offset > expect || len(r.pending) >= MaxBlobPending {
			r.answer(wire.BlobState{Hash: c.Hash, State: wire.BlobWant, Offset: expect})
		} else {
			r.answer(wire.BlobState{Hash: c.Hash, State: wire.BlobRefused, Reason: wire.RefuseMismatch, Detail: "chunk past the blob's size"})
			delete(r.accepted, c.Hash)
		}
		return nil
	}
	r.pending = append(r.pending, c)
	return nil
}

// queuedBytes is how many bytes of blob h wait in pending or in writing.
func (r *blobRecv) queuedBytes(h blob.Hash) uint64 {
	n := uint64(0)
	if r.writing != nil && r.writing.ID.Hash == h {
		n += uint64(len(r.writing.Data))
	}
	for _, c := range r.pending {
		if c.Hash == h {
			n += uint64(len(c.Data))
		}
	}
	return n
}

// nextBlobWrite hands out the next chunk to write, if nothing else is
// being written and no batch of records waits (records first).
func (s *Session) nextBlobWrite() *BlobWrite {
	r := &s.blobRecv
	if r.writing != nil || s.persisting != nil || len(s.pending) > 0 {
		return nil
	}
	for len(r.pending) > 0 {
		c := r.pending[0]
		r.pending[0] = nil
		r.pending = r.pending[1:]
		a, ok := r.accepted[c.Hash]
		if !ok || c.Offset != a.next {
			continue // the blob was refused or restarted meanwhile
		}
		data, chunks := c.Data, min(1, len(c.Data)) // an empty write commits a blob whose bytes are all here
		end := c.Offset + uint64(len(c.Data))
		// The chunks of the same blob that follow it go in the same write:
		// one sync for what arrived while the last write was syncing (on a
		// fast link the receiver's syncs, not the link, set the rate).
		for len(r.pending) > 0 && r.pending[0].Hash == c.Hash && r.pending[0].Offset == end && len(data)+len(r.pending[0].Data) <= maxBlobWriteBytes {
			if chunks == 1 {
				data = append(make([]byte, 0, min(maxBlobWriteBytes, int(a.id.Size-int64(c.Offset)))), data...)
			}
			n := r.pending[0]
			r.pending[0] = nil
			r.pending = r.pending[1:]
			data = append(data, n.Data...)
			end += uint64(len(n.Data))
			chunks++
		}
		r.writing = &BlobWrite{ID: a.id, Entry: a.entry, Offset: int64(c.Offset), Data: data, Commit: end == uint64(a.id.Size), chunks: chunks}
		return r.writing
	}
	return nil
}

// BlobWritten reports the result of the last Ready.BlobWrite. The session
// answers the sender: the durable offset, have once committed, a second
// try from the start after a hash mismatch, refused when the disk is full
// or another session writes the blob. An error it cannot place (the store
// failing) is returned, and the session is finished.
func (s *Session) BlobWritten(res BlobWritten) error {
	r := &s.blobRecv
	w := r.writing
	if w == nil {
		return fmt.Errorf("syncproto: BlobWritten without a pending blob write")
	}
	r.writing = nil
	a := r.accepted[w.ID.Hash]
	h := w.ID.Hash
	switch {
	case res.Err == nil && res.Committed, errors.Is(res.Err, blob.ErrExists):
		delete(r.accepted, h)
		s.stats.BlobChunksWritten += w.chunks
		s.stats.BlobBytesWritten += int64(len(w.Data))
		s.stats.BlobsReceived++
		r.held = append(r.held, w.Entry)
		r.answer(wire.BlobState{Hash: h, State: wire.BlobHave})
	case res.Err == nil && res.Durable != w.Offset+int64(len(w.Data)):
		// The store stands elsewhere (a partial write this session did not
		// know of, or lost to a crash): go on from what it holds.
		r.dropPending(h)
		if a != nil {
			a.next = uint64(max(res.Durable, 0))
		}
		r.answer(wire.BlobState{Hash: h, State: wire.BlobWant, Offset: uint64(max(res.Durable, 0))})
	case res.Err == nil:
		s.stats.BlobChunksWritten += w.chunks
		s.stats.BlobBytesWritten += int64(len(w.Data))
		if a != nil {
			a.next = uint64(res.Durable)
		}
		r.answer(wire.BlobState{Hash: h, State: wire.BlobHeld, Offset: uint64(res.Durable)})
	case errors.Is(res.Err, blob.ErrMismatch):
		s.stats.BlobsRefused++
		r.dropPending(h)
		s.events = append(s.events, Event{Kind: EventBlobRefused, Origin: w.Entry.Origin, Seq: w.Entry.Seq, Reason: wire.RefuseMismatch, Blob: w.ID,
			Detail: wire.ClipDetail("its bytes do not hash to the reference; discarded: " + res.Err.Error())})
		if a != nil && a.mismatches+1 < maxBlobMismatches {
			a.mismatches++
			a.next = 0
			r.answer(wire.BlobState{Hash: h, State: wire.BlobWant, Offset: 0})
			break
		}
		delete(r.accepted, h)
		r.answer(wire.BlobState{Hash: h, State: wire.BlobRefused, Reason: wire.RefuseMismatch, Detail: "its bytes do not hash to the reference"})
	case errors.Is(res.Err, blob.ErrDiskFull):
		delete(r.accepted, h)
		r.dropPending(h)
		r.full = s.cfg.RetryRefusedTicks
		s.events = append(s.events, Event{Kind: EventBlobRefused, Origin: w.Entry.Origin, Seq: w.Entry.Seq, Reason: wire.RefuseBusy, Blob: w.ID,
			Detail: wire.ClipDetail("disk full: " + res.Err.Error())})
		r.answer(wire.BlobState{Hash: h, State: wire.BlobRefused, Reason: wire.RefuseBusy, Detail: "disk full"})
	case errors.Is(res.Err, blob.ErrBusy):
		delete(r.accepted, h)
		r.dropPending(h)
		r.answer(wire.BlobState{Hash: h, State: wire.BlobRefused, Reason: wire.RefuseBusy, Detail: "received in another session"})
	default:
		return fmt.Errorf("syncproto: write blob %s at %d: %w", w.ID, w.Offset, res.Err)
	}
	return nil
}

// dropPending forgets the queued chunks of blob h.
func (r *blobRecv) dropPending(h blob.Hash) {
	r.pending = slices.DeleteFunc(r.pending, func(c *wire.BlobChunk) bool { return c.Hash == h })
}

// blobRecvTick counts down a disk-full pause.
func (r *blobRecv) tick() {
	if r.full > 0 {
		r.full--
	}
}

// flushBlobAnswers queues the answers gathered since the last Ready.
func (r *blobRecv) flush(outbox []wire.Message) []wire.Message {
	for len(r.answers) > 0 {
		n := min(len(r.answers), wire.MaxBlobAcks)
		outbox = append(outbox, &wire.BlobAck{Blobs: r.answers[:n:n]})
		r.answers = r.answers[n:]
	}
	r.answers = nil
	return outbox
}

// idle reports whether nothing received waits to be written.
func (r *blobRecv) idle() bool {
	return len(r.pending) == 0 && r.writing == nil && len(r.answers) == 0
}
