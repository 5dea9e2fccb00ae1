package oplog

import (
	"fmt"

	"fieldsync/replication"
)

// The ingest and append rules are the same for every Log implementation
// (Mem here, the Badger log in package storage), so they live here, written
// against a small view of a transaction.

// Tx is what the shared rules need from an open write transaction.
type Tx interface {
	// Head is the origin's head as of this transaction (zero if none).
	Head(o replication.OriginID) (replication.Head, error)
	// Get returns the entry held at id, if any.
	Get(id replication.EntryID) (replication.Entry, bool, error)
	PutEntry(e replication.Entry) error
	PutHead(o replication.OriginID, h replication.Head) error
}

// PlanIngest applies the ingest rules of Log.Ingest inside tx.
func PlanIngest(tx Tx, entries []replication.Entry) (IngestResult, error) {
	var res IngestResult
	if len(entries) > MaxIngestEntries {
		return res, fmt.Errorf("%w: ingest of %d entries, limit %d", replication.ErrTooLarge, len(entries), MaxIngestEntries)
	}
	var n int
	for i := range entries {
		n += len(entries[i].Payload)
	}
	if n > MaxIngestBytes {
		return res, fmt.Errorf("%w: ingest of %d payload bytes, limit %d", replication.ErrTooLarge, n, MaxIngestBytes)
	}
	forked := map[replication.OriginID]bool{}
	for _, e := range entries {
		if forked[e.Origin] {
			continue
		}
		h, err := tx.Head(e.Origin)
		if err != nil {
			return IngestResult{}, err
		}
		switch {
		case e.Seq <= h.Seq:
			fork, sigAdded, err := compareHeld(tx, e)
			if err != nil {
				return IngestResult{}, err
			}
			if fork != nil {
				res.Forks = append(res.Forks, *fork)
				forked[e.Origin] = true
				continue
			}
			res.Duplicates++
			if sigAdded {
				res.SigsAdded++
			}
		case e.Seq == h.Seq+1:
			if e.Prev != h.Hash {
				held, _, err := tx.Get(replication.EntryID{Origin: e.Origin, Seq: h.Seq})
				if err != nil {
					return IngestResult{}, err
				}
				res.Forks = append(res.Forks, Fork{Origin: e.Origin, Seq: h.Seq, Held: held, Offered: e})
				forked[e.Origin] = true
				continue
			}
			if err := checkFirst(e); err != nil {
				return IngestResult{}, err
			}
			if err := writeEntry(tx, e); err != nil {
				return IngestResult{}, err
			}
			res.Applied = append(res.Applied, e)
		default:
			return IngestResult{}, fmt.Errorf("%w: %s would leave a gap after seq %d", replication.ErrBrokenChain, e.ID(), h.Seq)
		}
	}
	return res, nil
}

// compareHeld compares an offered entry with the one held at its seq. It
// returns a fork if they differ, or stores a signature the held one lacked.
func compareHeld(tx Tx, e replication.Entry) (*Fork, bool, error) {
	held, ok, err := tx.Get(e.ID())
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, fmt.Errorf("%w: head covers %s but the entry is missing", ErrCorrupt, e.ID())
	}
	if held.Hash() != e.Hash() {
		return &Fork{Origin: e.Origin, Seq: e.Seq, Held: held, Offered: e}, false, nil
	}
	if held.Sig == nil && e.Sig != nil {
		held.Sig = append([]byte(nil), e.Sig...)
		return nil, true, tx.PutEntry(held)
	}
	return nil, false, nil
}

// checkFirst is the paired assertion for seq 1: it must be a genesis.
func checkFirst(e replication.Entry) error {
	if e.Seq == 1 && e.Kind != replication.KindGenesis {
		return fmt.Errorf("%w: %s is %s; seq 1 must be the genesis", replication.ErrBrokenChain, e.ID(), e.Kind)
	}
	return nil
}

func writeEntry(tx Tx, e replication.Entry) error {
	if err := tx.PutEntry(e); err != nil {
		return err
	}
	return tx.PutHead(e.Origin, replication.Head{Seq: e.Seq, Hash: e.Hash()})
}

// PlanAppend applies the append rules of Log.Append inside tx.
func PlanAppend(tx Tx, s replication.Signer, drafts []replication.Draft) ([]replication.Entry, error) {
	if len(drafts) == 0 {
		return nil, nil
	}
	if len(drafts) > MaxAppendDrafts {
		return nil, fmt.Errorf("%w: append of %d drafts, limit %d", replication.ErrTooLarge, len(drafts), MaxAppendDrafts)
	}
	h, err := tx.Head(s.Origin())
	if err != nil {
		return nil, err
	}
	if n := draftBytes(drafts); n > MaxAppendBytes {
		return nil, fmt.Errorf("%w: append of %d payload bytes, limit %d", replication.ErrTooLarge, n, MaxAppendBytes)
	}
	out := make([]replication.Entry, 0, len(drafts))
	for _, d := range drafts {
		if (h.Seq == 0) != (d.Kind == replication.KindGenesis) {
			return nil, fmt.Errorf("%w: %s draft at seq %d (a genesis comes first and only first)", replication.ErrBrokenChain, d.Kind, h.Seq+1)
		}
		if len(d.Payload) > replication.MaxPayloadBytes {
			return nil, fmt.Errorf("%w: payload of %d bytes, limit %d", replication.ErrTooLarge, len(d.Payload), replication.MaxPayloadBytes)
		}
		e := replication.Seal(s, d, h.Seq+1, h.Hash)
		if err := writeEntry(tx, e); err != nil {
			return nil, err
		}
		h = replication.Head{Seq: e.Seq, Hash: e.Hash()}
		out = append(out, e)
	}
	return out, nil
}

func draftBytes(drafts []replication.Draft) int {
	n := 0
	for _, d := range drafts {
		n += len(d.Payload)
	}
	return n
}
