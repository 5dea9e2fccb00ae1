package wire

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"fieldsync/replication"
)

// MsgType names a message on the wire. The numbers are part of the wire
// format and never change; a new message gets a new number.
type MsgType uint8

const (
	// TypeHello opens a sync session: who the sender is.
	TypeHello MsgType = 1
	// TypeSummary carries the sender's version vector heads.
	TypeSummary MsgType = 2
	// TypeBatch carries entries the receiver lacks.
	TypeBatch MsgType = 3
	// TypeAck answers a batch with the receiver's heads after ingest.
	TypeAck MsgType = 4
	// TypeBlobStatus, TypeBlobOffer, TypeBlobChunk and TypeBlobAck are the
	// blob lane (blob.go).
	TypeBlobStatus MsgType = 5
	TypeBlobOffer  MsgType = 6
	TypeBlobChunk  MsgType = 7
	TypeBlobAck    MsgType = 8
)

var msgTypeNames = [...]string{TypeHello: "hello", TypeSummary: "summary", TypeBatch: "batch", TypeAck: "ack",
	TypeBlobStatus: "blob-status", TypeBlobOffer: "blob-offer", TypeBlobChunk: "blob-chunk", TypeBlobAck: "blob-ack"}

// String returns the type's lowercase name, or "msgtype(N)" if unknown.
func (t MsgType) String() string {
	if t.known() {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("msgtype(%d)", uint8(t))
}

func (t MsgType) known() bool { return t >= TypeHello && t <= TypeBlobAck }

// Message is one of *Hello, *Summary, *Batch, *Ack, or the blob lane's
// *BlobStatus, *BlobOffer, *BlobChunk and *BlobAck: what AppendFrame and
// WriteFrame take and DecodeFrame and ReadFrame return.
type Message interface {
	Type() MsgType
}

// Hello opens a session. Strings are bounded (MaxRoleBytes, MaxTierBytes,
// MaxUnitBytes, MaxNodeBytes) and must be valid UTF-8.
type Hello struct {
	Version uint16               // sync protocol version of the sender, >= 1
	Origin  replication.OriginID // sender's own origin; zero if it writes none
	Role    string               // "node" or "hub" (not checked here)
	Tier    string               // hubs: "district", "province", ...
	Unit    string               // administrative unit code served
	Node    string               // node name, at most MaxNodeBytes
}

// Summary is the sender's version vector: heads sorted by origin
// ascending, no duplicate origins, every Seq > 0.
type Summary struct {
	Heads []replication.OriginHead
}

// Batch carries ranges of entries, at most one range per origin, in
// strictly ascending origin order (so a batch never holds an entry twice).
type Batch struct {
	ID     uint64 // sender-chosen; echoed by the Ack
	Ranges []Range
}

// Range is a contiguous run of one origin's entries.
type Range struct {
	Origin replication.OriginID
	// Prev is the hash of the entry before Entries[0]; zero if and only if
	// Entries[0].Seq == 1.
	Prev replication.Hash
	// Entries are contiguous seqs of Origin, each linking to the one
	// before (Entries[0] to Prev); non-empty.
	Entries []replication.Entry
}

// Ack answers a batch.
type Ack struct {
	BatchID uint64
	// Heads are the receiver's heads after ingest, sorted by origin
	// ascending, no duplicates, every Seq > 0.
	Heads []replication.OriginHead
	// Refused lists entries the receiver did not take, in any order.
	Refused []Refusal
}

// Refusal says why the receiver did not take entry (Origin, Seq). Seq may be
// 0 when the refusal concerns the whole origin.
type Refusal struct {
	Origin replication.OriginID
	Seq    uint64
	Reason RefuseReason // never 0
	Detail string       // valid UTF-8, at most MaxDetailBytes; see ClipDetail
}

// Type returns TypeHello.
func (*Hello) Type() MsgType { return TypeHello }

// Type returns TypeSummary.
func (*Summary) Type() MsgType { return TypeSummary }

// Type returns TypeBatch.
func (*Batch) Type() MsgType { return TypeBatch }

// Type returns TypeAck.
func (*Ack) Type() MsgType { return TypeAck }

// Entries returns the number of entries across all ranges.
func (b *Batch) Entries() int {
	n := 0
	for i := range b.Ranges {
		n += len(b.Ranges[i].Entries)
	}
	return n
}

var (
	_ Message = (*Hello)(nil)
	_ Message = (*Summary)(nil)
	_ Message = (*Batch)(nil)
	_ Message = (*Ack)(nil)
)

// RefuseReason says why an entry was refused. The numbers are wire format
// and never change. Decoders accept any non-zero value, so a newer peer may
// add reasons; String renders unknown ones as "reason(N)".
type RefuseReason uint8

const (
	// RefuseBadSignature: a signature did not verify.
	RefuseBadSignature RefuseReason = 1
	// RefuseBrokenChain: the entry does not link to the receiver's head.
	RefuseBrokenChain RefuseReason = 2
	// RefuseFork: the receiver holds a different entry at this seq.
	RefuseFork RefuseReason = 3
	// RefuseUnknownOrigin: the receiver lacks the origin's genesis.
	RefuseUnknownOrigin RefuseReason = 4
	// RefuseNotAuthorized: the origin's device is not on the roster.
	RefuseNotAuthorized RefuseReason = 5
	// RefuseOutOfScope: the receiver does not hold this unit's data.
	RefuseOutOfScope RefuseReason = 6
	// RefuseRevoked: the origin's key was revoked before this seq.
	RefuseRevoked RefuseReason = 7
	// RefuseMalformed: the entry itself is not valid.
	RefuseMalformed RefuseReason = 8
	// RefuseTooLarge: the entry exceeds a receiver limit.
	RefuseTooLarge RefuseReason = 9
	// RefuseInternal: the receiver failed to store it; retry later.
	RefuseInternal RefuseReason = 10
	// RefuseNoReference: a blob no entry the receiver holds references
	// (with that size): it takes blobs only behind their records.
	RefuseNoReference RefuseReason = 11
	// RefuseMismatch: a blob's bytes did not hash to its reference; what
	// was received of it is discarded.
	RefuseMismatch RefuseReason = 12
	// RefuseBusy: the receiver takes no more blobs now (too many in
	// progress, its disk full); offer again later.
	RefuseBusy RefuseReason = 13
)

var refuseNames = [...]string{
	RefuseBadSignature:  "bad-signature",
	RefuseBrokenChain:   "broken-chain",
	RefuseFork:          "fork",
	RefuseUnknownOrigin: "unknown-origin",
	RefuseNotAuthorized: "not-authorized",
	RefuseOutOfScope:    "out-of-scope",
	RefuseRevoked:       "revoked",
	RefuseMalformed:     "malformed",
	RefuseTooLarge:      "too-large",
	RefuseInternal:      "internal",
	RefuseNoReference:   "no-reference",
	RefuseMismatch:      "mismatch",
	RefuseBusy:          "busy",
}

// String returns the reason's lowercase name, or "reason(N)" if unknown.
func (r RefuseReason) String() string {
	if int(r) < len(refuseNames) && refuseNames[r] != "" {
		return refuseNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// RefuseReasonFor maps an ingest error to a reason through the
// replication sentinel errors; anything else is RefuseInternal.
func RefuseReasonFor(err error) RefuseReason {
	switch {
	case errors.Is(err, replication.ErrBadSignature):
		return RefuseBadSignature
	case errors.Is(err, replication.ErrFork):
		return RefuseFork
	case errors.Is(err, replication.ErrBrokenChain):
		return RefuseBrokenChain
	case errors.Is(err, replication.ErrUnknownOrigin):
		return RefuseUnknownOrigin
	case errors.Is(err, replication.ErrTooLarge):
		return RefuseTooLarge
	case errors.Is(err, replication.ErrMalformed):
		return RefuseMalformed
	}
	return RefuseInternal
}

// ClipDetail makes s fit Refusal.Detail: invalid UTF-8 is replaced and the
// result is cut at a rune boundary to at most MaxDetailBytes.
func ClipDetail(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxDetailBytes {
		return s
	}
	cut := MaxDetailBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
