package syncproto

import (
	"errors"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
	"fieldsync/replication/wire"
)

// The blob lane: the biometric blobs a record references (package blob)
// move behind the records, in the same session, over the same connection.
//
//  1. The replica that takes blobs from its peer (Flow) answers the peer's
//     Summary with a BlobStatus: per origin the held entries whose blobs
//     are not all held here (BlobNeeds), and the partial writes it can
//     resume (their durable offsets).
//  2. The sender walks those entries, then every entry above the status's
//     Through that the peer acknowledged (a blob goes only behind its
//     record), origin by origin in turn and in seq order, each entry's
//     blobs in the order its refs give (portrait first); it offers the
//     blobs it holds, at most Offers unanswered at a time.
//  3. The receiver checks each offer against a reference held in a
//     verified entry (the entry named, its refs, the size) and answers
//     have, want from an offset (0, or its durable partial write), or
//     refused. It never takes a blob no held entry references.
//  4. The sender sends wanted blobs in ChunkBytes chunks, at most
//     WindowBytes unacknowledged, and only when no batch of records is
//     waiting to go: records always go first, and a record captured while
//     a blob is in flight waits behind at most the window.
//  5. The receiver hands each chunk out in Ready.BlobWrite (with the
//     chunks of the same blob queued behind it, joined); the shell
//     writes it through a blob.Writer and syncs it (the last one commits:
//     the store checks the whole blob's SHA-256 and size) and reports with
//     BlobWritten; the receiver acknowledges the durable offset. A cut or a
//     restart resumes at the last durable chunk, from the status's
//     partials. A blob whose bytes do not hash to its reference is
//     discarded by the store, counted, and asked for again once from the
//     start; a second mismatch refuses it for the session.
//
// Ordering, loss and duplication of messages cost only retransmission, as
// for batches: a chunk at an offset other than the one expected is dropped
// and answered with a want from the expected offset; a sender that hears
// nothing for RetransmitTicks goes back to what was acknowledged.

// Blob lane defaults. Each is a limit with a reason.
const (
	// DefaultBlobChunkBytes is the chunk size, chosen by measurement on the
	// 2G bench link (BENCHMARKS.md, "Blob chunk size"): each chunk costs
	// ~55 bytes of framing and an acknowledgement, and a cut loses the
	// chunk in transit.
	DefaultBlobChunkBytes = 16 << 10
	// DefaultBlobPipeBytes is the link's bandwidth-delay product assumed
	// until the shell measures it (SetBlobPipe): 128 kbit/s at 500 ms.
	// The window is one chunk plus the pipe, so that the link stays busy
	// while an acknowledgement travels and a record waits behind at most
	// one chunk.
	DefaultBlobPipeBytes = 8 << 10
	// DefaultBlobOffers bounds the blobs offered and not yet answered or
	// finished: about two dossiers' worth, so answers arrive before the
	// blobs in front are sent.
	DefaultBlobOffers = 32
	// MinBlobChunkBytes is the smallest chunk sent to fill a window
	// (the last chunk of a blob may be smaller).
	MinBlobChunkBytes = 1 << 10
	// MaxBlobWindowBytes bounds the window (and what a receiver holds of a
	// peer's chunks waiting to be written).
	MaxBlobWindowBytes = 4 << 20
	// MaxBlobPending bounds the chunks received and not yet written (a
	// shell sizes its inbox with it); an honest sender's window never
	// holds more.
	MaxBlobPending = 64
	// maxBlobWriteBytes bounds one BlobWrite: the chunks of a blob that
	// arrived while the last write was syncing are written, and synced,
	// together, up to this much.
	maxBlobWriteBytes = 1 << 20
	// maxBlobAccepted bounds the blobs a receiver has agreed to take in one
	// session and not finished; offers past it are refused as busy.
	maxBlobAccepted = wire.MaxBlobOffers
	// maxBlobMismatches is how many times one blob may fail its hash in a
	// session before the receiver refuses it for the rest of the session.
	maxBlobMismatches = 2
	// maxStatusMissing bounds the missing seqs a status lists per origin;
	// past it the status's Through stops at the last one listed.
	maxStatusMissing = 4096
	// maxStatusPartialEntries bounds, per origin, the first missing entries
	// whose blobs are looked up for resumable partial writes.
	maxStatusPartialEntries = 4
	// maxWalkPerReady bounds the entries the sender examines in one Ready
	// looking for blobs to offer.
	maxWalkPerReady = 4096
)

// BlobStore is what the lane reads of the replica's blob store;
// blob.Store satisfies it. Writes leave through Ready.BlobWrite.
type BlobStore interface {
	Has(hs []blob.Hash) ([]bool, error)
	Partial(h blob.Hash) (blob.Partial, error)
	Open(h blob.Hash) (blob.Reader, error)
}

// BlobNeeds says which held entries lack blobs here: the replica's index
// of incomplete dossiers (package blob/needs).
type BlobNeeds interface {
	// Missing calls fn with the seqs of origin o's held entries whose
	// referenced blobs are not all held here, ascending, at most limit of
	// them, and returns the seq through which that answer is complete
	// (the origin's held head, or the last seq given when limit stopped
	// it; 0 if nothing of o is held).
	Missing(o replication.OriginID, limit int, fn func(seq uint64)) (through uint64, err error)
}

// BlobConfig turns the blob lane on for a session.
type BlobConfig struct {
	Store BlobStore
	Refs  blob.RefsFunc
	Needs BlobNeeds
	// Flow reports whether blobs go from one replica to another; both ends
	// ask it, the sender about itself and the peer, the receiver about the
	// peer and itself. Nil means UpFlow(DefaultTiers).
	Flow func(from, to *wire.Hello) bool
	// ChunkBytes, PipeBytes, Offers: see the defaults. The window is
	// ChunkBytes + PipeBytes, at most MaxBlobWindowBytes.
	ChunkBytes int
	PipeBytes  int
	Offers     int
}

func (c *BlobConfig) fillDefaults() {
	if c.ChunkBytes == 0 {
		c.ChunkBytes = DefaultBlobChunkBytes
	}
	if c.PipeBytes == 0 {
		c.PipeBytes = DefaultBlobPipeBytes
	}
	if c.Offers == 0 {
		c.Offers = DefaultBlobOffers
	}
	if c.Flow == nil {
		c.Flow = UpFlow(DefaultTiers)
	}
}

func (c *BlobConfig) validate() error {
	c.fillDefaults()
	switch {
	case c.Store == nil || c.Refs == nil || c.Needs == nil:
		return fmt.Errorf("syncproto: the blob lane needs a store, a refs function and an index of needs")
	case c.ChunkBytes < MinBlobChunkBytes || c.ChunkBytes > wire.MaxBlobChunkBytes:
		return fmt.Errorf("syncproto: blob ChunkBytes %d out of range %d..%d", c.ChunkBytes, MinBlobChunkBytes, wire.MaxBlobChunkBytes)
	case c.PipeBytes < 0 || c.ChunkBytes+c.PipeBytes > MaxBlobWindowBytes:
		return fmt.Errorf("syncproto: blob window %d+%d exceeds %d", c.ChunkBytes, c.PipeBytes, MaxBlobWindowBytes)
	case c.Offers < 1 || c.Offers > wire.MaxBlobOffers:
		return fmt.Errorf("syncproto: blob Offers %d out of range 1..%d", c.Offers, wire.MaxBlobOffers)
	}
	return nil
}

// BlobWrite is received bytes to write: Data at Offset of blob ID,
// referenced by Entry — one chunk, or the chunks of the blob that arrived
// while the last write was syncing, joined (at most 1 MiB). The shell
// writes it through the store's Writer for ID (Begin, or the one it keeps
// open), then Syncs, or Commits when Commit is set (the data ends the
// blob), and reports with BlobWritten.
type BlobWrite struct {
	ID     blob.ID
	Entry  replication.EntryID
	Offset int64
	Data   []byte
	Commit bool
	chunks int // the chunks received that Data joins
}

// BlobWritten reports a BlobWrite. Durable is how many bytes of the blob
// are durable after it (the whole size once committed); Committed says the
// blob is held, verified. Err is nil or wraps blob.ErrMismatch (the bytes
// did not hash to the reference: the store discarded them), blob.ErrDiskFull,
// blob.ErrBusy (another session writes it), blob.ErrExists (already held)
// or another error.
type BlobWritten struct {
	Durable   int64
	Committed bool
	Err       error
}

// stepBlob dispatches the blob lane's messages. A replica without the lane
// refuses offers (so the peer stops) and ignores the rest.
func (s *Session) stepBlob(m wire.Message) error {
	if s.cfg.Blobs == nil {
		if o, ok := m.(*wire.BlobOffer); ok {
			ack := &wire.BlobAck{}
			for _, b := range o.Blobs {
				ack.Blobs = append(ack.Blobs, wire.BlobState{Hash: b.Hash, State: wire.BlobRefused, Reason: wire.RefuseNotAuthorized, Detail: "this replica takes no blobs"})
			}
			s.outbox = append(s.outbox, ack)
		}
		return nil
	}
	switch m := m.(type) {
	case *wire.BlobStatus:
		return s.handleBlobStatus(m)
	case *wire.BlobOffer:
		return s.handleBlobOffer(m)
	case *wire.BlobChunk:
		return s.handleBlobChunk(m)
	case *wire.BlobAck:
		return s.handleBlobAck(m)
	}
	return nil
}

// readyBlobs adds the lane's work to rd: the next chunk to write (behind
// any batch of records), offers and chunks to send (behind any batch
// waiting to go), and the answers gathered.
func (s *Session) readyBlobs(rd *Ready) error {
	if rd.Persist == nil {
		rd.BlobWrite = s.nextBlobWrite()
	}
	if err := s.fillBlobs(); err != nil {
		return err
	}
	s.outbox = s.blobRecv.flush(s.outbox)
	rd.Held, s.blobRecv.held = s.blobRecv.held, nil
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, oplog.ErrNotFound) }
