// Package replication is the vocabulary of fieldsync's replication: who
// writes (origins, derived from a device key and an epoch), what they write
// (entries: origin, seq, previous hash, hybrid logical clock, kind, schema,
// payload, signature), and what a replica holds (a version vector: per origin
// the highest contiguous seq and its hash).
//
// The flow through the sub-packages:
//
//	capture ──▶ oplog.Log.Append ──▶ syncproto (summaries, batches, acks)
//	                                   │  framed and compressed by wire
//	                                   ▼
//	                 gossip (memberlist pools) + a sync stream per peer
//	                                   │
//	                                   ▼
//	               peer oplog.Log.Ingest ──▶ hub reconcile ──▶ upward
//
// An origin's log is a hash chain: entry n names the hash of entry n-1, and
// every signature covers the entry's hash, so a signature on entry n
// authenticates entries 1..n. Seq 1 is always a genesis entry carrying the
// public key, so a receiver can check an origin it has never met.
//
// Nothing in this package does I/O or reads a clock: time comes in through
// the Clock interface, randomness through io.Reader.
//
// # Why the name
//
// The package is vocabulary, not "replication" the mechanism (that is
// syncproto, syncnet and replicator below it). It keeps the name anyway:
// it reads well where it is used (replication.Entry, replication.OriginID),
// it is the parent directory of the protocol's packages, where a reader
// looks for the words they share, and a rename would rewrite about 2,900
// references in 246 files for no change in meaning (docs/design.md,
// "Layout").
package replication
