package epoch

import (
	"encoding/json"
	"errors"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// ErrNoHead is returned by Start when the writer's origin holds nothing.
var ErrNoHead = errors.New("epoch: the current origin holds no entry")

// Start begins a new epoch for the writer of old: a new origin for the same
// device key, whose genesis names the old origin, its head (seq and hash)
// and the first seq to re-issue. Entries of the old origin from reissueFrom
// on are then re-issued under the new origin (Resume). tmpl gives the
// genesis's role, tier and unit; hlc stamps the new entries.
//
// Each append is durable on its own; after a crash part-way, Resume on the
// new origin completes the re-issue with no entry re-issued twice (the
// caller records the new epoch before calling, so it can find it again).
func Start(l oplog.Log, old *replication.KeySigner, tmpl replication.Genesis, newEpoch, reissueFrom uint64, hlc func() replication.HLC) (*replication.KeySigner, error) {
	if newEpoch == old.Epoch() {
		return nil, fmt.Errorf("epoch: new epoch %d is the current one", newEpoch)
	}
	prev := old.Origin()
	head, err := l.Head(prev)
	if err != nil {
		return nil, err
	}
	if head.Seq == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoHead, prev.Short())
	}
	next := old.WithEpoch(newEpoch)
	g := replication.NewGenesis(next, tmpl.Role, tmpl.Tier, tmpl.Unit)
	g.PrevOrigin, g.PrevSeq, g.PrevHash = &prev, head.Seq, &head.Hash
	if from := max(reissueFrom, 2); from <= head.Seq {
		g.ReissueFrom = from
	}
	d, err := jsonDraft(g, hlc())
	if err != nil {
		return nil, err
	}
	if _, err := l.Append(next, []replication.Draft{d}); err != nil {
		return nil, fmt.Errorf("epoch: genesis of epoch %d: %w", newEpoch, err)
	}
	if _, err := Resume(l, next, hlc); err != nil {
		return nil, err
	}
	return next, nil
}

// Resume appends the re-issues that the genesis of s's origin promises and
// the log does not hold yet, in groups within oplog's append limits, and
// returns how many it appended. It is a no-op for an origin that replaces
// nothing or has finished re-issuing.
func Resume(l oplog.Log, s *replication.KeySigner, hlc func() replication.HLC) (int, error) {
	g, err := genesisOf(l, s.Origin())
	if err != nil || g.PrevOrigin == nil || g.ReissueFrom == 0 {
		return 0, err
	}
	next, err := nextToReissue(l, s.Origin(), g)
	if err != nil {
		return 0, err
	}
	total := 0
	for next <= g.PrevSeq {
		drafts, last, err := reissueGroup(l, *g.PrevOrigin, next, g.PrevSeq, hlc)
		if err != nil {
			return total, err
		}
		if _, err := l.Append(s, drafts); err != nil {
			return total, fmt.Errorf("epoch: re-issue from seq %d: %w", next, err)
		}
		total += len(drafts)
		next = last + 1
	}
	return total, nil
}

// nextToReissue is the first seq of the old origin not yet re-issued: the
// new origin holds its genesis and then only re-issues, one per old seq
// from ReissueFrom on, until they are done. (The position, not the last
// re-issue's name, says how far: a re-issue of a re-issue names the
// original, of an older origin.)
func nextToReissue(l oplog.Log, o replication.OriginID, g replication.Genesis) (uint64, error) {
	head, err := l.Head(o)
	if err != nil || head.Seq <= 1 {
		return g.ReissueFrom, err
	}
	last, err := l.Get(replication.EntryID{Origin: o, Seq: head.Seq})
	if err != nil {
		return 0, err
	}
	next := g.ReissueFrom + head.Seq - 1
	if last.Kind != replication.KindReissue || next > g.PrevSeq+1 {
		return g.PrevSeq + 1, nil // done, and written after
	}
	return next, nil
}

// reissueGroup reads old entries from seq from while they fit in one append.
func reissueGroup(l oplog.Log, old replication.OriginID, from, through uint64, hlc func() replication.HLC) ([]replication.Draft, uint64, error) {
	var (
		drafts []replication.Draft
		size   int
		last   uint64
		encErr error
	)
	err := l.Scan(old, from, func(e replication.Entry) bool {
		if e.Seq > through || len(drafts) == oplog.MaxAppendDrafts || size+reissueHeader+len(e.Payload) > oplog.MaxAppendBytes/2 {
			return false
		}
		r := NewReissue(&e)
		if e.Kind == replication.KindReissue {
			// The old origin was itself a new epoch: carry the original
			// its re-issue names, so every re-issue names a capture.
			orig, err := DecodeReissue(e.Payload)
			if err != nil {
				encErr = fmt.Errorf("epoch: re-issue %s: %w", e.ID(), err)
				return false
			}
			r = orig
		}
		p, err := r.Encode()
		if err != nil {
			encErr = fmt.Errorf("epoch: re-issue %s: %w", e.ID(), err)
			return false
		}
		drafts = append(drafts, replication.Draft{Kind: replication.KindReissue, Schema: ReissueSchema, Payload: p, HLC: hlc()})
		size += len(p)
		last = e.Seq
		return true
	})
	if err == nil {
		err = encErr
	}
	if err == nil && len(drafts) == 0 {
		err = fmt.Errorf("epoch: old origin %s holds nothing from seq %d", old.Short(), from)
	}
	return drafts, last, err
}

// jsonDraft is the genesis draft of g.
func jsonDraft(g replication.Genesis, hlc replication.HLC) (replication.Draft, error) {
	payload, err := json.Marshal(g)
	return replication.Draft{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: payload, HLC: hlc}, err
}

func genesisOf(l oplog.Log, o replication.OriginID) (replication.Genesis, error) {
	e, err := l.Get(replication.EntryID{Origin: o, Seq: 1})
	if err != nil {
		return replication.Genesis{}, fmt.Errorf("epoch: genesis of %s: %w", o.Short(), err)
	}
	return replication.DecodeGenesis(e.Payload)
}
