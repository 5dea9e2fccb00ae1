package oplog

import (
	"errors"

	"fieldsync/replication"
)

// MaxAppendDrafts bounds how many drafts one Append writes in one
// transaction (an import groups rows into appends of at most this many).
const MaxAppendDrafts = 1000

// MaxAppendBytes bounds the payload bytes of one Append, so that one
// transaction stays well inside Badger's batch limit (15% of a memtable).
const MaxAppendBytes = 2 << 20

// MaxIngestEntries bounds how many entries one Ingest writes.
const MaxIngestEntries = 4000

// MaxIngestBytes bounds the payload bytes of one Ingest (a sync batch is at
// most 4 MiB uncompressed).
const MaxIngestBytes = 4 << 20

// MaxMetaValueBytes bounds a metadata value.
const MaxMetaValueBytes = 1 << 20

// ErrNotFound is returned by Get and GetMeta when nothing is stored there.
var ErrNotFound = errors.New("oplog: not found")

// ErrCorrupt is returned when the stored data contradicts itself: a head
// whose entry is missing or hashes differently, a chain that does not link.
var ErrCorrupt = errors.New("oplog: stored data is corrupt")

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("oplog: log is closed")

// KV is one metadata key and value, written with entries in one transaction.
type KV struct {
	Key   string
	Value []byte // nil deletes the key
}

// Log is the append-only store of every origin log a replica holds: its own
// (written by Append) and others' (written by Ingest). Per origin it always
// holds a gap-free prefix 1..head, so a version vector describes it exactly.
//
// Every write is durable when the method returns (synced to disk), and
// every method is safe for concurrent use; writes are serialized.
//
// Ownership: entries returned or passed to callbacks are the caller's; the
// log does not keep references to slices passed in.
type Log interface {
	// Append gives the drafts the next seqs of s's origin, links and signs
	// them, and writes them in one durable transaction: seq allocation and
	// the entries commit together, so a crash leaves no gap and no reuse.
	// An origin's first draft must be its genesis. At most MaxAppendDrafts.
	Append(s replication.Signer, drafts []replication.Draft) ([]replication.Entry, error)

	// Ingest stores entries written elsewhere, which the caller has already
	// verified (chain and signatures). Per origin, entries must continue the
	// held chain: one already held with the same hash is skipped (idempotent
	// ingest; a signature it lacked is kept), one that differs from what is
	// held is a fork — reported in the result, never written, and the rest
	// of that origin's entries in the call are skipped. An entry that would
	// leave a gap fails the whole call with replication.ErrBrokenChain and
	// writes nothing. meta is written in the same transaction (for example
	// what this replica now acknowledges to a peer).
	Ingest(entries []replication.Entry, meta []KV) (IngestResult, error)

	// Head returns what is held of origin o (zero Head if nothing).
	Head(o replication.OriginID) (replication.Head, error)

	// Vector returns the heads of every origin held.
	Vector() (replication.Vector, error)

	// Get returns one entry, or ErrNotFound.
	Get(id replication.EntryID) (replication.Entry, error)

	// Scan calls fn for each entry of origin o with seq ≥ from, in seq
	// order, until fn returns false or the origin's entries end: one prefix
	// scan ("everything of origin X above seq N").
	Scan(o replication.OriginID, from uint64, fn func(e replication.Entry) bool) error

	// GetMeta returns a metadata value, or ErrNotFound.
	GetMeta(key string) ([]byte, error)
	// PutMeta writes metadata durably in one transaction (nil value deletes).
	PutMeta(kvs ...KV) error
	// ScanMeta calls fn for each metadata key with the prefix, in key order.
	ScanMeta(prefix string, fn func(key string, value []byte) bool) error

	// Close releases the log. Calling it twice returns ErrClosed.
	Close() error
}

// IngestResult says what one Ingest did.
type IngestResult struct {
	Applied    []replication.Entry // newly written, in the order given
	Duplicates int                 // already held with the same hash
	SigsAdded  int                 // signatures stored for entries held without one
	Forks      []Fork              // conflicting entries, not written
}

// Fork is evidence that an origin wrote two different entries at Seq.
// Offered's chain (verified by the caller) covers a version of Seq that
// differs from Held.
type Fork struct {
	Origin replication.OriginID
	Seq    uint64
	// Held is this replica's entry at Seq.
	Held replication.Entry
	// Offered is the entry that conflicts: either another version of Seq
	// itself, or the entry at Seq+1 whose previous hash names another
	// version of Seq.
	Offered replication.Entry
}
