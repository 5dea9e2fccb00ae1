package syncproto

import (
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
	"fieldsync/replication/wire"
)

// EventKind says what happened.
type EventKind int

const (
	// EventFork: this replica received a second, different entry for an
	// (origin, seq) it holds. Fork carries both as evidence; nothing of it
	// was applied.
	EventFork EventKind = iota + 1
	// EventForkSuspected: the peer's summary names a different hash at a
	// seq this replica holds; the peer was asked for its version.
	EventForkSuspected
	// EventRefused: this replica refused a range it received (bad
	// signature, broken chain, unknown origin, not authorized).
	EventRefused
	// EventPeerRefused: the peer refused something this replica sent.
	EventPeerRefused
	// EventRollback: the peer holds this replica's own origin beyond this
	// replica's head, or a different entry at a seq it holds — its log was
	// restored from an old copy, or another copy of it writes under the
	// same origin. Seq is the peer's head of the origin. The session stops
	// sending that origin; the shell must start a new epoch (package
	// epoch) before writing again.
	EventRollback
	// EventBlobRefused: this replica refused a blob the peer offered or
	// sent (no held entry references it, or its bytes did not hash to the
	// reference, or its disk is full). Blob names it; Origin and Seq the
	// entry it was offered for.
	EventBlobRefused
	// EventPeerBlobRefused: the peer refused a blob this replica offered.
	EventPeerBlobRefused
	// EventBlobUnreadable: a blob this replica holds could not be read to
	// send it (deleted meanwhile, or corrupt on disk); it was skipped.
	EventBlobUnreadable
)

var eventNames = map[EventKind]string{EventFork: "fork", EventForkSuspected: "fork-suspected", EventRefused: "refused",
	EventPeerRefused: "peer-refused", EventRollback: "rollback", EventBlobRefused: "blob-refused",
	EventPeerBlobRefused: "peer-blob-refused", EventBlobUnreadable: "blob-unreadable"}

func (k EventKind) String() string {
	if n, ok := eventNames[k]; ok {
		return n
	}
	return fmt.Sprintf("event(%d)", int(k))
}

// Event is something the shell should count, log or alarm on.
type Event struct {
	Kind   EventKind
	Origin replication.OriginID
	Seq    uint64
	Reason wire.RefuseReason
	Detail string
	// Fork is the evidence of an EventFork.
	Fork *oplog.Fork
	// Refused holds the entries of an EventRefused range (their chain may
	// not verify): evidence to quarantine, bounded by the batch size.
	Refused []replication.Entry
	// Blob names the blob of the blob lane's events.
	Blob blob.ID
}

// String renders the event for logs (no payloads, no personal data).
func (e Event) String() string {
	if !e.Blob.Hash.IsZero() {
		return fmt.Sprintf("%s blob=%s origin=%s seq=%d reason=%s %s", e.Kind, e.Blob, e.Origin.Short(), e.Seq, e.Reason, e.Detail)
	}
	return fmt.Sprintf("%s origin=%s seq=%d reason=%s %s", e.Kind, e.Origin.Short(), e.Seq, e.Reason, e.Detail)
}
