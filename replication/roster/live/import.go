package live

import (
	"crypto/ed25519"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/roster"
)

// Ingester is what Import writes to (oplog.Log).
type Ingester interface {
	Ingest(entries []replication.Entry, meta []oplog.KV) (oplog.IngestResult, error)
}

// Import decodes and verifies a roster bundle (see roster.VerifyBundle; anchor may
// be nil on first contact) and ingests it: an ordinary, idempotent ingest
// of a verified chain, so the roster then replicates like any entry. It
// returns the bundle's anchor key and what the ingest did.
func Import(l Ingester, bundle []byte, anchor ed25519.PublicKey) (ed25519.PublicKey, oplog.IngestResult, error) {
	entries, err := roster.DecodeBundle(bundle)
	if err != nil {
		return nil, oplog.IngestResult{}, err
	}
	key, err := roster.VerifyBundle(entries, anchor)
	if err != nil {
		return nil, oplog.IngestResult{}, err
	}
	var res oplog.IngestResult
	for i := 0; i < len(entries); i += oplog.MaxIngestEntries {
		r, err := l.Ingest(entries[i:min(len(entries), i+oplog.MaxIngestEntries)], nil)
		if err != nil {
			return nil, res, err
		}
		res.Applied = append(res.Applied, r.Applied...)
		res.Duplicates += r.Duplicates
		res.Forks = append(res.Forks, r.Forks...)
	}
	if len(res.Forks) > 0 {
		return key, res, fmt.Errorf("%w: the roster bundle differs from the roster held at seq %d", replication.ErrFork, res.Forks[0].Seq)
	}
	return key, res, nil
}
