// Package syncproto is the sync protocol between two replicas, as a pure
// state machine (etcd raft's Step/Ready pattern): messages and ticks in;
// messages to send, batches to persist and events out. No I/O, no clock,
// no goroutines, so the same code runs over TCP and inside the seeded
// simulation.
//
// A session, on each side:
//
//	s, _ := syncproto.NewSession(cfg, log)   // log is read, never written
//	s.Start()                                // queues Hello and Summary
//	for {
//		rd, _ := s.Ready()
//		send(rd.Messages...)                  // in order
//		if rd.Persist != nil {                // a verified batch
//			res, err := log.Ingest(rd.Persist.Entries, meta)
//			s.Persisted(res, err)            // queues the Ack
//		}
//		s.Step(receive())                     // or s.Tick() on a timer
//	}
//
// The exchange:
//
//  1. Each side sends Hello (who it is) and Summary (its version vector:
//     per origin the highest contiguous seq and its hash): O(origins)
//     bytes. Two replicas in sync exchange nothing else.
//  2. Each side sends Batches of the entries above the peer's vector that
//     its policy offers the peer (config.go: offers — to a laptop, only
//     hubs' entries, and of hubs' downward channels only its own
//     commune's, by the units the roster gives it), origin by origin,
//     bounded in entries and bytes, at most Window unacknowledged. A range
//     always ends at an entry whose signature is held; signatures travel
//     only for the genesis, every CheckpointEvery-th seq and each range's
//     last entry — the hash chain lets one signature cover the range.
//  3. The receiver verifies each range whole (genesis key, link to what it
//     holds, chain, signatures, the Verifier's roster check), hands the
//     admitted entries out in Ready.Persist, and after Persisted answers
//     with an Ack carrying its new heads and any refusals. Ingest is
//     idempotent; a different entry at a held (origin, seq) is a fork,
//     reported as an EventFork with both entries as evidence, never applied.
//  4. Heads in summaries and acks only grow what the sender believes; with
//     no ack for RetransmitTicks, the sender goes back to the peer's heads
//     and re-sends (go-back-N), so loss, duplication and reordering of
//     messages only cost retransmission. A cut connection loses at most the
//     batch that was partly across; the next session starts from the
//     receiver's summary, which was persisted with the entries.
//
// The session's state is explicit (state.go, StateType): WaitHello →
// WaitSummary → Syncing, or Failed on a protocol violation. On an ordered
// transport a message before the peer's Hello and Summary is a violation
// (ErrProtocol); on a lossy one (Config.Lossy) it is dropped or taken, as
// loss and reordering require. The session's hard limits derive from the
// codec's (Config.Limits).
//
// Forks found by comparing a peer's summary (same seq, different hash) are
// answered with an unsolicited Ack refusing that seq; the peer then re-sends
// its version from ForkContext entries earlier, so the side that asked ends
// up holding both versions as evidence.
//
// # The blob lane
//
// With Config.Blobs set, the biometric blobs entries reference (package
// blob) move in the same session, behind their records (blobs.go has the
// exchange in full):
//
//  5. The replica that takes blobs from the peer (BlobConfig.Flow: up the
//     hierarchy only) answers its Summary with a BlobStatus: per origin the
//     held entries whose blobs are not all held (BlobNeeds), and the
//     partial writes it can resume, with their durable offsets.
//  6. The sender offers the blobs it holds of those entries and of every
//     entry above the status that the peer acknowledged, origin by origin
//     in turn, each dossier's blobs portrait first; the receiver checks
//     each against a reference in a verified entry it holds and answers
//     have, want from an offset, or refused.
//  7. Wanted blobs go in chunks, at most a window of one chunk plus the
//     link's bandwidth-delay product unacknowledged, and only when no batch
//     of records is waiting to go. The receiver hands each chunk out in
//     Ready.BlobWrite (joined with the chunks of the same blob queued
//     behind it, up to 1 MiB: one sync for them), the shell writes and
//     syncs it (BlobWriters), and the ack carries the durable offset; the last chunk commits the blob,
//     which the store checks against its SHA-256 and size. A cut or a
//     restart resumes at the last durable chunk; a blob whose bytes do not
//     match is discarded, counted and asked for again once.
package syncproto
