// Package oplog is the log's contract: the Log interface every replica's
// store implements — origin logs, a replica's own entries written by Append
// and everyone else's written by Ingest — its types and limits, the ingest
// and append rules every implementation shares (PlanIngest, PlanAppend),
// Verify, and Mem, the in-memory Log of tests and the simulation. It is pure:
// it links no storage engine, so the protocol, the reconciler and the
// simulation that use a Log do not either. The Badger implementation is
// storage.OpenLog (package storage, the only package that imports Badger).
//
// A walkthrough:
//
//	l := oplog.NewMem()                                 // or storage.OpenLog(storage.Options{Dir: dir})
//	es, err := l.Append(signer, []replication.Draft{genesis, enroll})
//	// es[i].Seq are the next seqs, chained and signed; synced to disk.
//	res, err := l.Ingest(batchEntries, []oplog.KV{{Key: "ack/peer", Value: v}})
//	// res.Applied, res.Duplicates, res.Forks; meta in the same transaction.
//	v, _ := l.Vector()                                   // origin → head
//	l.Scan(origin, v.Seq(origin)+1, func(e replication.Entry) bool { ...; return true })
//
// Guarantees every implementation keeps (checked by oplogtest.Run):
//
//   - seq allocation and the entry commit in one transaction: no gap and no
//     reuse after a crash (not Badger's GetSequence, whose leases leave holes);
//   - every write is synced before the call returns, so what the caller
//     acknowledges survives kill -9 and power loss;
//   - per origin a gap-free prefix is held; re-ingest is a no-op; a second,
//     different entry for a held (origin, seq) is reported as a fork and
//     never written;
//   - opening re-checks every head against its entry and signature.
package oplog
