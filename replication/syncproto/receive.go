package syncproto

import (
	"errors"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/wire"
)

// persistJob is a received batch after verification: the admitted entries
// to write, and the refusals to put in its ack.
type persistJob struct {
	batchID uint64
	entries []replication.Entry
	origins []replication.OriginID // every origin the batch carried, for the ack
	refused []wire.Refusal
	// rest is the batch's ranges from one the Verifier refused as not
	// authorized after ranges of the same batch were admitted: these are
	// written first and rest is verified again after, because they may
	// be what authorizes it (a roster entry enlisting a device and that
	// device's first entries often travel in one batch). One ack covers
	// both.
	rest *wire.Batch
}

// nextPersist verifies the oldest pending batch. If nothing in it needs
// writing, the ack is queued at once and the next batch is tried.
func (s *Session) nextPersist() error {
	for len(s.pending) > 0 && s.persisting == nil {
		b := s.pending[0]
		s.pending = s.pending[1:]
		job, err := s.verifyBatch(b)
		if err != nil {
			return err
		}
		if len(job.entries) > 0 {
			s.persisting = job
			return nil
		}
		if err := s.queueAck(job); err != nil {
			return err
		}
	}
	return nil
}

// verifyBatch checks every range. A range is admitted whole or refused
// whole: its chain and signatures must verify from what this replica holds,
// and the Verifier must admit it. A range the Verifier refuses as not
// authorized, in a batch where other ranges were admitted, is held back
// (persistJob.rest) and verified again once those are written: they may
// be what authorizes it.
func (s *Session) verifyBatch(b *wire.Batch) (*persistJob, error) {
	v, err := s.src.Vector()
	if err != nil {
		return nil, err
	}
	job := &persistJob{batchID: b.ID}
	if c := s.carried; c != nil && c.batchID == b.ID { // the rest of a split batch
		job.origins, job.refused = c.origins, c.refused
		s.carried = nil
	}
	type refusedRange struct {
		i   int
		ref *wire.Refusal
	}
	var notYet []refusedRange // refused as not authorized
	for i := range b.Ranges {
		rg := &b.Ranges[i]
		ref, err := s.checkRange(rg, v[rg.Origin])
		if err != nil {
			return nil, err
		}
		switch {
		case ref != nil && ref.Reason == wire.RefuseNotAuthorized:
			notYet = append(notYet, refusedRange{i, ref})
		case ref != nil:
			s.refuseRange(job, rg, ref)
		default:
			job.origins = append(job.origins, rg.Origin)
			job.entries = append(job.entries, rg.Entries...)
			s.notePeerHolds(rg) // the sender holds what it sent
		}
	}
	if len(notYet) > 0 && len(job.entries) > 0 {
		job.rest = &wire.Batch{ID: b.ID}
		for _, r := range notYet {
			job.rest.Ranges = append(job.rest.Ranges, b.Ranges[r.i])
		}
		return job, nil
	}
	for _, r := range notYet { // nothing admitted could change the verdict
		s.refuseRange(job, &b.Ranges[r.i], r.ref)
	}
	return job, nil
}

func (s *Session) refuseRange(job *persistJob, rg *wire.Range, ref *wire.Refusal) {
	job.origins = append(job.origins, rg.Origin)
	s.stats.EntriesRefused += len(rg.Entries)
	job.refused = append(job.refused, *ref)
	s.events = append(s.events, Event{Kind: EventRefused, Origin: rg.Origin, Seq: ref.Seq, Reason: ref.Reason, Detail: ref.Detail, Refused: rg.Entries})
}

// checkRange returns a refusal for a range that must not be written, or nil.
// err is only for failures to read the local log.
func (s *Session) checkRange(rg *wire.Range, held replication.Head) (*wire.Refusal, error) {
	first := rg.Entries[0].Seq
	refuse := func(reason wire.RefuseReason, format string, args ...any) (*wire.Refusal, error) {
		return &wire.Refusal{Origin: rg.Origin, Seq: first, Reason: reason, Detail: wire.ClipDetail(fmt.Sprintf(format, args...))}, nil
	}
	if first > held.Seq+1 {
		return refuse(wire.RefuseBrokenChain, "gap: this replica holds up to seq %d", held.Seq)
	}
	info, err := s.originOf(rg)
	if err != nil {
		if errors.Is(err, oplog.ErrNotFound) {
			return refuse(wire.RefuseUnknownOrigin, "genesis not held; send from seq 1")
		}
		var bad errVerify
		if errors.As(err, &bad) {
			return refuse(wire.RefuseBadSignature, "genesis: %v", bad.err)
		}
		return nil, err
	}
	if _, err := replication.VerifyChain(info.genesis.PublicKey, rg.Prev, rg.Entries); err != nil {
		reason := wire.RefuseBrokenChain
		if errors.Is(err, replication.ErrBadSignature) {
			reason = wire.RefuseBadSignature
		}
		return refuse(reason, "%v", err)
	}
	if s.cfg.Verifier != nil {
		if ok, reason, detail := s.cfg.Verifier.Admit(info.genesis, rg.Entries); !ok {
			return refuse(reason, "%s", detail)
		}
	}
	// The chain verified, so a range starting below our head that links to
	// a different previous entry is an authentic fork: let Ingest record it.
	return nil, nil
}

// errVerify marks a verification failure (as opposed to a read error).
type errVerify struct{ err error }

func (e errVerify) Error() string { return e.err.Error() }

// originOf returns the origin's genesis: from the range itself when it
// starts at seq 1, else from the log (cached).
func (s *Session) originOf(rg *wire.Range) (*originInfo, error) {
	if info, ok := s.origins[rg.Origin]; ok {
		return info, nil
	}
	gen := rg.Entries[0]
	if gen.Seq != 1 {
		var err error
		if gen, err = s.src.Get(replication.EntryID{Origin: rg.Origin, Seq: 1}); err != nil {
			return nil, err
		}
	}
	g, err := replication.VerifyGenesis(&gen)
	if err != nil {
		return nil, errVerify{err}
	}
	info := &originInfo{genesis: g}
	s.origins[rg.Origin] = info
	return info, nil
}

// notePeerHolds raises what the peer is known to hold to the end of a
// verified range it sent.
func (s *Session) notePeerHolds(rg *wire.Range) {
	last := rg.Entries[len(rg.Entries)-1]
	if last.Seq > s.peerHeads[rg.Origin].Seq {
		s.peerHeads[rg.Origin] = replication.Head{Seq: last.Seq, Hash: last.Hash()}
	}
}
