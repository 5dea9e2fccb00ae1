package reconcile

import (
	"encoding/binary"

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
// arrive; when a later entry changes a judgement (a notice setting aside
// entries already applied, an original arriving after its re-issue stood
// alone), the origins concerned are judged again (judge.go).

// applyNotice adds (sign 1) or takes back (sign -1) a fork notice.
func (r *Reconciler) applyNotice(e *entryRec, sign int) {
	n, err := epoch.DecodeNotice(e.Payload)
	if err != nil || !n.Quarantines() {
		return
	}
	if !r.origin(e.ID.Origin).isHub() {
		return // only a hub's notice counts; if its genesis comes later, the writer is judged again
	}
	key := appendID(originKey(tNotice, n.Origin), e.ID)
	if sign > 0 {
		r.set(key, binary.AppendUvarint(nil, n.From))
	} else {
		r.del(key)
	}
	r.recomputeFork(n.Origin)
}

// recomputeFork sets where Rule 8 sets origin x aside (the least From of
// the notices held), and judges x again if that moved over entries held.
func (r *Reconciler) recomputeFork(x replication.OriginID) {
	var from uint64
	r.scan(originKey(tNotice, x), func(_, v []byte) {
		if f, n := binary.Uvarint(v); n > 0 && (from == 0 || f < from) {
			from = f
		}
	})
	o := r.origin(x)
	old := o.ForkFrom
	if from == old {
		return
	}
	if old != 0 {
		r.digest.item(x.String(), forkedLine(x, old), -1)
	}
	if from != 0 {
		r.digest.item(x.String(), forkedLine(x, from), 1)
	}
	o.ForkFrom = from
	r.touch(x)
	low := from
	if low == 0 || old != 0 && old < low {
		low = old
	}
	if o.MaxSeen >= low {
		r.rejudge[x] = true
	}
}

// originArrived notes, for an entry past Rules 0 and 8, that a re-issue
// of it that stood alone must now stand for it (Rule 9): the re-issue's
// origin is judged again.
func (r *Reconciler) originArrived(e *entryRec) {
	v, ok := r.get(idKey(tStanding, e.ID))
	if !ok || len(v) != idSize+replication.HashSize {
		return
	}
	if replication.Hash(v[idSize:]) == e.Hash {
		r.rejudge[readID(v).Origin] = true
	}
}

// reissueStands decides whether re-issue e stands alone (Rule 9): not if
// its original is a capture in the view; then it is an alias of it.
func (r *Reconciler) reissueStands(e *entryRec) bool {
	if held := r.rec(*e.Of); held != nil && held.isVersion() && held.Hash == e.OfHash {
		return false
	}
	r.set(idKey(tStanding, *e.Of), append(appendID(nil, e.ID), e.OfHash[:]...))
	return true
}

// target resolves a reference made by an entry of origin by (Rule 9).
func (r *Reconciler) target(by replication.OriginID, t replication.EntryID) replication.EntryID {
	if o := r.origins[by]; o != nil && o.Genesis != nil {
		if g := o.Genesis; g.PrevOrigin != nil && g.ReissueFrom != 0 && t.Origin == *g.PrevOrigin && t.Seq >= g.ReissueFrom {
			t = replication.EntryID{Origin: by, Seq: t.Seq - g.ReissueFrom + 2}
		}
	}
	if e := r.rec(t); e != nil && e.State == stateAliased {
		return *e.Of
	}
	return t
}
