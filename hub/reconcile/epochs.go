package reconcile

import (
	"fieldsync/replication"
	"fieldsync/replication/epoch"
)

// Rule 8 — forks. A hub's fork notice (KindFork from an origin whose
// genesis is a hub's; package epoch) that quarantines sets aside every
// entry of its origin from its From seq on: two branches of that origin
// reached hubs, which may each hold a different one, so no entry there
// counts. The writers re-issue their own captures under new epochs (Rule
// 9). The entries stay in the log and are listed (reason "forked"); the
// digest names the origin and seq, not the entries, since hubs may hold
// different ones.
//
// Rule 9 — re-issue. An entry re-issued under a new epoch (KindReissue)
// stands for its original. When the original — same origin, seq and hash —
// is a current or superseded capture in the view, the re-issue adds
// nothing and references to it mean the original; otherwise it is applied
// as the original would be, under its own entry ID. A reference (an
// amend's or void's target) that the new epoch's writer makes to its
// previous origin, from the genesis's reissue_from seq on, means the
// re-issue of that seq: the new origin carries them in order from seq 2.
//
// Both rules are functions of the set. Entries are judged when they
// arrive; when a later entry would change a judgement (a notice setting
// aside entries already applied, an original arriving after its re-issue
// stood alone), the reconciler turns Stale and is rebuilt in ReplayOrder,
// in which no judgement changes.
type epochs struct {
	hubs       map[replication.OriginID]bool
	forks      map[replication.OriginID]uint64 // origin → first seq set aside
	successor  map[replication.OriginID]succession
	maxApplied map[replication.OriginID]uint64 // highest seq applied, per origin
	pending    []epoch.Notice                  // notices whose writer's genesis is not known yet
	forked     map[replication.EntryID]replication.Kind
	aliasOf    map[replication.EntryID]replication.EntryID // re-issue → its original, in the view
	standing   map[replication.EntryID]replication.Hash    // original → hash, of re-issues that stood alone
	stale      bool
}

// succession is what a new epoch's genesis says about its predecessor.
type succession struct {
	prev        replication.OriginID
	reissueFrom uint64
}

func newEpochs() *epochs {
	return &epochs{hubs: map[replication.OriginID]bool{}, forks: map[replication.OriginID]uint64{},
		successor: map[replication.OriginID]succession{}, maxApplied: map[replication.OriginID]uint64{},
		forked: map[replication.EntryID]replication.Kind{}, aliasOf: map[replication.EntryID]replication.EntryID{},
		standing: map[replication.EntryID]replication.Hash{}}
}

// noteGenesis learns hubs (who may write notices) and successions.
func (x *epochs) noteGenesis(e *replication.Entry) {
	g, err := replication.DecodeGenesis(e.Payload)
	if err != nil {
		return
	}
	if g.Role == replication.RoleHub {
		x.hubs[e.Origin] = true
		notices := x.pending
		x.pending = nil
		for _, n := range notices {
			x.noteNotice(e.Origin, n)
		}
	}
	if g.PrevOrigin != nil && g.ReissueFrom != 0 {
		x.successor[e.Origin] = succession{prev: *g.PrevOrigin, reissueFrom: g.ReissueFrom}
		if x.maxApplied[e.Origin] > 1 {
			x.stale = true // its references were read before they could be resolved
		}
	}
}

// noteNotice applies a fork notice written by origin by.
func (x *epochs) noteNotice(by replication.OriginID, n epoch.Notice) {
	if !n.Quarantines() {
		return
	}
	if !x.hubs[by] { // only a hub's notice counts; its genesis may come later
		if len(x.pending) < maxPendingNotices {
			x.pending = append(x.pending, n)
		}
		return
	}
	if from, ok := x.forks[n.Origin]; ok && from <= n.From {
		return
	}
	x.forks[n.Origin] = n.From
	if x.maxApplied[n.Origin] >= n.From {
		x.stale = true // entries now set aside were applied
	}
}

// maxPendingNotices bounds notices held for want of their writer's genesis.
const maxPendingNotices = 1000

// setAside is Rule 8 for an entry seen for the first time.
func (x *epochs) setAside(e *replication.Entry) bool {
	if from, ok := x.forks[e.Origin]; ok && e.Seq >= from && e.Kind != replication.KindGenesis {
		x.forked[e.ID()] = e.Kind
		return true
	}
	x.maxApplied[e.Origin] = max(x.maxApplied[e.Origin], e.Seq)
	if h, ok := x.standing[e.ID()]; ok && h == e.Hash() {
		x.stale = true // a re-issue of it was applied on its own
	}
	return false
}

// target resolves a reference made by an entry of origin by (Rule 9).
func (x *epochs) target(by replication.OriginID, t replication.EntryID) replication.EntryID {
	if s, ok := x.successor[by]; ok && t.Origin == s.prev && t.Seq >= s.reissueFrom {
		t = replication.EntryID{Origin: by, Seq: t.Seq - s.reissueFrom + 2}
	}
	if orig, ok := x.aliasOf[t]; ok {
		return orig
	}
	return t
}

// reissue decides whether re-issue id of a capture (of, hash) stands
// alone; held is the original's version if the view has it.
func (x *epochs) reissue(id replication.EntryID, of replication.EntryID, hash replication.Hash, held *Version) bool {
	if held != nil && held.Hash == hash {
		x.aliasOf[id] = of
		return false
	}
	x.standing[of] = hash
	return true
}
