package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"

	"fieldsync/replication"
)

// Judging again. Entries are judged as they arrive. A later entry can
// change a judgement already given — a revocation or a roster change (Rule
// 0), a fork notice (Rule 8), an original arriving after its re-issue
// stood alone (Rule 9), a genesis arriving after its origin's entries — and
// always about whole origins. The view then judges those origins again:
// their entries are taken out of the view (retract, the exact inverse of
// applyRec) and applied anew, in seq order, with the judgements as they
// now are; what that changes in turn (a hub's notices, a roster origin's
// devices, a new epoch's re-issues) is judged again the same way, until
// nothing changes. Only the origins concerned and the citizens their
// entries touch are recomputed, and nothing is read from the log: an
// entry's record holds what applying it needs. The result is the view of
// the set, as if every entry had come in ReplayOrder, where no judgement
// ever changes (the golden files and the property tests check it).

// maxJudgeRounds bounds judging again per entry applied (each origin can
// change another's judgement only through the roster, fork notices or
// re-issues, which do not cycle).
const maxJudgeRounds = 64

// ErrJudgeLoop is returned when judging again does not settle.
var ErrJudgeLoop = errors.New("reconcile: judging again did not settle")

// judgeAgain judges again every origin marked, until none is.
func (r *Reconciler) judgeAgain() {
	for n := 0; len(r.rejudge) > 0 && r.err == nil; n++ {
		if n >= maxJudgeRounds*max(1, len(r.origins)) {
			r.fail(ErrJudgeLoop)
			return
		}
		o := r.nextToJudge()
		delete(r.rejudge, o)
		r.judgeOrigin(o)
	}
}

// nextToJudge picks the origin judged first: in OriginOrder's ranks (the
// roster's, then hubs', then laptops' by epoch), then by ID.
func (r *Reconciler) nextToJudge() replication.OriginID {
	var best replication.OriginID
	bestRank := -1
	for o := range r.rejudge {
		rank := r.rank(o)
		if bestRank < 0 || rank < bestRank || rank == bestRank && bytes.Compare(o[:], best[:]) < 0 {
			best, bestRank = o, rank
		}
	}
	return best
}

func (r *Reconciler) rank(id replication.OriginID) int {
	o := r.origins[id]
	switch {
	case o == nil || o.Genesis == nil:
		return 1 << 20
	case r.cfg.Anchor != nil && bytes.Equal(o.Genesis.PublicKey, r.cfg.Anchor):
		return 0
	case o.isHub():
		return 1
	}
	n := 0
	for g := o.Genesis; g != nil && g.PrevOrigin != nil && n < 64; n++ {
		p := r.origins[*g.PrevOrigin]
		if p == nil {
			g = nil
		} else {
			g = p.Genesis
		}
	}
	return 2 + n
}

// judgeOrigin takes every entry of origin o out of the view and applies
// them again; then its successors (new epochs re-issuing it) are judged
// again too, since whether their re-issues stand alone depends on it.
func (r *Reconciler) judgeOrigin(id replication.OriginID) {
	r.rejudged++
	var recs []*entryRec
	r.scan(originKey(tEntry, id), func(_, v []byte) {
		e, err := decodeEntryRec(v)
		if err != nil {
			r.fail(err)
			return
		}
		if e.Kind != replication.KindGenesis && e.State != stateRoster {
			recs = append(recs, e)
		}
	})
	if r.err != nil {
		return
	}
	for _, e := range slices.Backward(recs) {
		r.retract(r.rec(e.ID))
	}
	o := r.origin(id)
	o.Admitted, o.Quarantined, o.MaxAdmitted = 0, 0, 0
	o.MaxApplied = 0
	if o.Genesis != nil {
		o.MaxApplied = 1
	}
	r.touch(id)
	for _, e := range recs {
		r.applyRec(e.clone())
	}
	for sid, s := range r.origins {
		if s.Genesis != nil && s.Genesis.PrevOrigin != nil && *s.Genesis.PrevOrigin == id && s.Judged > 0 {
			r.rejudge[sid] = true
		}
	}
}

// retract takes an entry out of the view: the inverse of applyRec.
func (r *Reconciler) retract(e *entryRec) {
	if e == nil {
		return
	}
	o := r.origin(e.ID.Origin)
	switch e.State {
	case stateQuarantined, stateForked:
		r.unlistHeld(e)
	case stateInvalid:
		r.counts.Invalid--
	case stateAliased:
	case stateApplied:
		r.retractApplied(e)
	}
	r.dropRec(e.ID)
	o.Judged--
	r.touch(e.ID.Origin)
}

func (r *Reconciler) retractApplied(e *entryRec) {
	switch e.MKind {
	case replication.KindEnroll, replication.KindAmend:
		if e.Of != nil {
			if v, ok := r.get(idKey(tStanding, *e.Of)); ok && len(v) >= idSize && readID(v) == e.ID {
				r.del(idKey(tStanding, *e.Of))
			}
		}
		if e.Key != "" {
			r.placeOut(e)
		}
		r.dropRec(e.ID) // before the refreshes below, which must not find it
		if e.Parent != nil {
			r.del(appendID(idKey(tAmends, *e.Parent), e.ID))
			r.addCount(idKey(tAmendCount, *e.Parent), -1)
			r.refresh(*e.Parent)
		}
		for _, a := range r.amendsOf(e.ID) { // its amends lose their parent
			r.refresh(a)
		}
	case replication.KindVoid:
		r.addCount(idKey(tVoids, *e.Parent), -1)
		r.refresh(*e.Parent)
	case replication.KindResolve:
		var res Resolution
		json.Unmarshal(e.Payload, &res)
		r.del(decisionKey(res.Subject, e.ID))
		r.counts.Decisions--
		r.digest.item(res.Subject, decisionLine(res.Subject, e.ID), -1)
		r.markSubject(res.Subject)
	case replication.KindFork:
		r.applyNotice(e, -1)
	}
	r.retracted(e)
}

// Rejudged returns how many times origins were judged again (a measure
// of late arrivals; the golden files count it).
func (r *Reconciler) Rejudged() int { return r.pub.Load().rejudged }
