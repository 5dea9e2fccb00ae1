package reconcile

import "fieldsync/enrollment/residents"

// The census (package enrollment/residents) is the view's part for "đủ":
// resident lists published by hubs in communes' downward channels, the
// statuses commune officers set, and which people on the lists the view
// holds a capture of. It is fed here, after Rules 0, 8 and 9, so what it
// counts is authorized like everything else: a list only from a hub's
// channel for the list's commune, inside the hub's scope; a status only
// from a device whose scope holds the status's commune (gate.go). A
// person counts as captured when the view has a citizen keyed by their ID
// number. Its counts and digest are a function of the set of entries,
// like the rest of the view; its digest is apart (CensusDigest), so the
// view's digest reads as before when no list is held.

func newCensus(r *Reconciler) *residents.Census {
	return residents.NewCensus(residents.Config{Captured: func(pid string) bool { return r.citizens[pid] != nil }})
}

// applyCensus folds a resident list or status. A re-issued status counts
// as its original (Rule 9): the census keeps one status per entry named.
func (r *Reconciler) applyCensus(d *Decoded) {
	e := &d.entry
	at := residents.Ref{Origin: e.Origin.String(), Seq: e.Seq}
	if d.reissue != nil {
		at = residents.Ref{Origin: d.reissue.Of.Origin.String(), Seq: d.reissue.Of.Seq}
	}
	switch {
	case d.list != nil:
		r.census.ApplyList(at, uint64(e.HLC), d.list)
	case d.status != nil:
		r.census.ApplyStatus(at, d.status)
	}
}

// Census returns the view's census, for queries; the caller must not
// keep it beyond the lock that guards the reconciler.
func (r *Reconciler) Census() *residents.Census { return r.census }

// CensusDigest is the census's digest (residents.Census.Digest): equal on
// every hub holding the same entries.
func (r *Reconciler) CensusDigest() string { return r.census.Digest() }

// censusUnit is the unit an entry of the census concerns, for Rule 0's
// scope check, and whether it must come from a channel of that unit.
func (d *Decoded) censusUnit() (unit string, channel bool) {
	switch {
	case d.list != nil && !d.invalid:
		return d.list.Commune, true
	case d.status != nil && !d.invalid:
		return d.status.Commune, false
	}
	return "", false
}
