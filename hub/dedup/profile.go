package dedup

import (
	"strings"

	"fieldsync/enrollment"
)

// profile is what the detector derives from a Record once, at Put: every
// field Compare and the blocking keys read, already normalized.
type profile struct {
	key, region string

	id     string             // cleaned 12-digit ID number, "" if none
	idInfo enrollment.PIDInfo // decoded id (when idOK)
	idOK   bool

	name, fold     string // NameKey and FoldKey of the full name
	bare           bool   // the name has no diacritics at all (typed without them)
	surname, given string // NameKey words
	middle         []string
	surnameFold    string
	surnameClass   string // fold with Huỳnh→Hoàng, Võ→Vũ (DOMAIN.md §5.2)
	givenFold      string
	middleFold     []string

	dob enrollment.Date
	sex enrollment.Sex

	birthProv, birthProv2025 string
	hometown                 string // unit code@list, or the NameKey of its text

	father, mother, spouse, head relative
}

// relative is a parent, the spouse or the household head: a folded name,
// an ID number and a date of birth, each possibly unknown.
type relative struct {
	fold, id string
	dob      enrollment.Date
}

func (r relative) known() bool { return r.fold != "" || r.id != "" }

// surnameClasses maps the folded regional surname variants to one class
// (DOMAIN.md §5.2: Hoàng↔Huỳnh, Vũ↔Võ are weak-equivalent).
var surnameClasses = map[string]string{"huynh": "hoang", "vo": "vu"}

// newProfile derives the profile of r.
func newProfile(r *Record) *profile {
	k := &r.Keys
	p := &profile{key: r.Key, region: r.Region, id: k.PersonalID, name: k.Name, fold: k.NameFold,
		surname: k.Surname, given: k.Given, sex: k.Sex,
		birthProv: k.BirthProvince, birthProv2025: k.BirthProvince2025}
	if p.id != "" {
		info, err := enrollment.DecodePersonalID(p.id)
		p.idInfo, p.idOK = info, err == nil || info.BirthYear != 0
	}
	p.bare = p.name == p.fold
	if k.Middle != "" {
		p.middle = strings.Fields(k.Middle)
	}
	p.splitFold()
	if e := r.Enrollment; e != nil {
		p.dob = e.DateOfBirth
		p.hometown = placeKey(e.Hometown)
		p.father = newRelative(e.Father)
		p.mother = newRelative(e.Mother)
		p.head = newRelative(e.HouseholdHead)
		p.spouse = newRelative(e.Spouse)
	}
	return p
}

// splitFold splits the folded name like Keys splits the name: first word,
// middle words, last word.
func (p *profile) splitFold() {
	w := strings.Fields(p.fold)
	switch n := len(w); {
	case n == 1:
		p.givenFold = w[0]
	case n >= 2:
		p.surnameFold, p.givenFold = w[0], w[n-1]
		p.middleFold = w[1 : n-1]
	}
	p.surnameClass = p.surnameFold
	if c, ok := surnameClasses[p.surnameFold]; ok {
		p.surnameClass = c
	}
}

// newRelative folds a relative's name and cleans their ID number.
func newRelative(r *enrollment.Relative) relative {
	if r == nil {
		return relative{}
	}
	id, _ := enrollment.NormalizePersonalID(r.PersonalID)
	rel := relative{fold: enrollment.FoldKey(r.FullName), id: id}
	if r.DateOfBirth != nil {
		rel.dob = *r.DateOfBirth
	}
	return rel
}

// placeKey identifies a place: its unit code in its code list, else the
// key of its text.
func placeKey(pl enrollment.Place) string {
	if pl.UnitCode != "" {
		return pl.UnitCode + "@" + pl.CodeList
	}
	return enrollment.NameKey(pl.Text)
}
