package hub

import (
	"encoding/binary"
	"errors"
	"iter"

	"fieldsync/enrollment"
	"fieldsync/hub/dedup"
	"fieldsync/hub/reconcile"
)

// NewMatcher returns the probable-duplicate detector (package dedup) as the
// reconciler's Matcher.
func NewMatcher() reconcile.Matcher {
	ix := dedup.NewIndex(dedup.DefaultConfig())
	ix.KeepJournal()
	return dedupMatcher{ix}
}

type dedupMatcher struct{ ix *dedup.Index }

// The profile this adapter stores is what dedup.Index reads of a record:
// the match keys and the few fields it reads beyond them (date of birth,
// hometown, parents, spouse, household head), packed. The Index derives
// its in-memory profile from it at Put.
func (dedupMatcher) Profile(rec *enrollment.Enrollment, k enrollment.MatchKeys) []byte {
	var w packer
	w.strs(k.PersonalID, k.Name, k.NameFold, k.Surname, k.Middle, k.Given, k.DateOfBirth, string(k.Sex),
		k.BirthProvince, k.BirthProvince2025, k.FatherName, k.MotherName)
	w.date(&rec.DateOfBirth)
	w.strs(rec.Hometown.UnitCode, rec.Hometown.CodeList, rec.Hometown.Text)
	for _, rel := range []*enrollment.Relative{rec.Father, rec.Mother, rec.Spouse, rec.HouseholdHead} {
		w.relative(rel)
	}
	return w.b
}

func unpackRecord(b []byte) (enrollment.MatchKeys, *enrollment.Enrollment, error) {
	r := unpacker{b: b}
	var k enrollment.MatchKeys
	var sex string
	r.strs(&k.PersonalID, &k.Name, &k.NameFold, &k.Surname, &k.Middle, &k.Given, &k.DateOfBirth, &sex,
		&k.BirthProvince, &k.BirthProvince2025, &k.FatherName, &k.MotherName)
	k.Sex = enrollment.Sex(sex)
	e := &enrollment.Enrollment{}
	r.date(&e.DateOfBirth)
	r.strs(&e.Hometown.UnitCode, &e.Hometown.CodeList, &e.Hometown.Text)
	e.Father, e.Mother, e.Spouse, e.HouseholdHead = r.relative(), r.relative(), r.relative(), r.relative()
	if r.err == nil && len(r.b) != 0 {
		r.err = errPacked
	}
	return k, e, r.err
}

func (m dedupMatcher) Put(key string, profile []byte, region string) {
	k, e, err := unpackRecord(profile)
	if err != nil {
		m.ix.Delete(key)
		return
	}
	m.ix.Put(dedup.Record{Key: key, Enrollment: e, Keys: k, Region: region})
}

func (m dedupMatcher) Delete(key string) { m.ix.Delete(key) }

func (m dedupMatcher) Changes() []reconcile.MatchPair {
	cs := m.ix.Changes()
	out := make([]reconcile.MatchPair, len(cs))
	for i, c := range cs {
		out[i] = reconcile.MatchPair{A: c.A, B: c.B, Score: c.Score, Reasons: c.Reasons, Withdrawn: c.Withdrawn}
	}
	return out
}

// Load puts every citizen again: today's Index scores as it goes (its pairs
// come out the same, a function of the set). A detector that restores
// without scoring replaces this (the restart budget needs it at a
// province's size).
func (m dedupMatcher) Load(profiles iter.Seq2[string, reconcile.Profiled], _ iter.Seq[reconcile.MatchPair]) error {
	for key, p := range profiles {
		m.Put(key, p.Profile, p.Region)
	}
	m.ix.Changes() // the pairs are the view's already
	return nil
}

var errPacked = errors.New("hub: a stored match profile does not decode")

type packer struct{ b []byte }

func (w *packer) strs(ss ...string) {
	for _, s := range ss {
		w.b = binary.AppendUvarint(w.b, uint64(len(s)))
		w.b = append(w.b, s...)
	}
}

func (w *packer) date(d *enrollment.Date) {
	w.b = binary.AppendUvarint(w.b, uint64(d.Year))
	w.b = append(w.b, byte(d.Month), byte(d.Day))
}

func (w *packer) relative(r *enrollment.Relative) {
	if r == nil {
		w.b = append(w.b, 0)
		return
	}
	if r.DateOfBirth == nil {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 2)
		w.date(r.DateOfBirth)
	}
	w.strs(r.FullName, r.PersonalID)
}

type unpacker struct {
	b   []byte
	err error
}

func (r *unpacker) uint() uint64 {
	x, n := binary.Uvarint(r.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, x)) { // one encoding only
		r.err, r.b = errPacked, nil
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *unpacker) strs(ps ...*string) {
	for _, p := range ps {
		n := r.uint()
		if uint64(len(r.b)) < n {
			r.err, r.b = errPacked, nil
			return
		}
		*p, r.b = string(r.b[:n]), r.b[n:]
	}
}

func (r *unpacker) byte() byte {
	if len(r.b) == 0 {
		r.err = errPacked
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *unpacker) date(d *enrollment.Date) {
	d.Year = int(r.uint())
	d.Month, d.Day = int(r.byte()), int(r.byte())
}

func (r *unpacker) relative() *enrollment.Relative {
	switch r.byte() {
	case 0:
		return nil
	case 1:
		rel := &enrollment.Relative{}
		r.strs(&rel.FullName, &rel.PersonalID)
		return rel
	case 2:
	default:
		r.err = errPacked
		return nil
	}
	rel := &enrollment.Relative{DateOfBirth: &enrollment.Date{}}
	r.date(rel.DateOfBirth)
	r.strs(&rel.FullName, &rel.PersonalID)
	return rel
}
