// Package epoch lets a writer whose log was restored from an old copy, or
// cloned, go on writing without ever putting two different entries under
// one (origin, seq).
//
// An origin is a device key in an epoch (replication.DeriveOriginID). When
// a peer shows that the writer's own origin went on elsewhere — it holds
// more of it than the writer does, or another entry at a seq the writer
// holds (syncproto's rollback event) — the writer must not append there
// again. Start gives it a new epoch: a new origin whose genesis names the
// old origin, the old head's seq and hash (a hub holding another entry at
// that seq has proof of the fork, signed twice by one key), and the first
// old seq to re-issue.
//
// Re-issue is how nothing acknowledged is lost: entries of the old origin
// from that seq on — captures a hub may not have, because they were made
// after the restore or on the clone — are carried under the new origin as
// KindReissue entries, each naming the original's (origin, seq, hash). A hub
// that holds the original with that hash counts it once and ignores the
// re-issue; one that holds something else there (the other branch) or
// nothing takes the re-issue in its place. After a rollback the daemons
// re-issue the whole old origin (from seq 2): an acknowledgement from one
// hub may be of a branch that another hub's fork notice later sets aside,
// and a re-issue of what a hub holds costs bytes, never a double count.
// After a fork notice they re-issue from the notice's seq.
//
//	next, err := epoch.Start(log, signer, tmpl, newEpoch, 2, hlc)
//	// after a crash part-way:
//	n, err := epoch.Resume(log, next, hlc)
//
// The package is pure over oplog.Log: no clock (hlc is given), no disk of
// its own, no network; the simulation drives it the same way the daemons
// do (through replication/datadir).
package epoch
