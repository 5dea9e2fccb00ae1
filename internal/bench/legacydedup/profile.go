package legacydedup

import (
	"strings"

	"fieldsync/enrollment"
)

// profile is what the detector derives from a Record once, at Put: every
// field Compare and the blocking keys read, already normalized.
type profile struct {
	key, region string

	id     string   // cleaned 12-digit ID number, "" if none
	idNum  uint64   // id as a number (when id != "")
	digits idDigits // id's digits (when id != "")

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

// relative is a parent, the spouse or the household head: a name, an ID
// number and a date of birth, each possibly unknown, packed small (an
// Index holds four per record). The folded name is derived on first use
// (most comparisons settle on the ID numbers).
type relative struct {
	name   string // NameKey when keyed, else as captured
	fold   string
	idNum  uint64
	dob    int32 // packDate of the date of birth, 0 when unknown
	keyed  bool
	folded bool
	hasID  bool
}

// foldName returns the folded name ("" when unknown).
func (r *relative) foldName() string {
	if !r.folded {
		if !r.keyed && r.name != "" {
			r.name, r.keyed = enrollment.NameKey(r.name), true
		}
		r.fold, r.folded = enrollment.FoldNameKey(r.name), true
	}
	return r.fold
}

// packDate packs a date as yyyymmdd (0 for a zero date).
func packDate(d enrollment.Date) int32 { return int32(d.Year*10000 + d.Month*100 + d.Day) }

// surnameClasses maps the folded regional surname variants to one class
// (DOMAIN.md §5.2: Hoàng↔Huỳnh, Vũ↔Võ are weak-equivalent).
var surnameClasses = map[string]string{"huynh": "hoang", "vo": "vu"}

// newProfile derives the profile of r.
func newProfile(r *Record) *profile {
	p := makeProfile(r)
	return &p
}

// makeProfile is newProfile by value (an Index keeps it inside its entry:
// one allocation, and one cache line less to fetch per comparison).
func makeProfile(r *Record) profile {
	k := &r.Keys
	p := profile{key: r.Key, region: r.Region, id: k.PersonalID, name: k.Name, fold: k.NameFold,
		surname: k.Surname, given: k.Given, sex: k.Sex,
		birthProv: k.BirthProvince, birthProv2025: k.BirthProvince2025}
	if p.id != "" {
		p.idNum, p.digits = idNumber(p.id), toDigits(p.id)
	}
	p.bare = p.name == p.fold
	if k.Middle != "" {
		p.middle = strings.Fields(k.Middle)
	}
	p.splitFold()
	if e := r.Enrollment; e != nil {
		p.dob = e.DateOfBirth
		p.hometown = placeKey(e.Hometown)
		p.father = newRelative(e.Father, k.FatherName)
		p.mother = newRelative(e.Mother, k.MotherName)
		p.head = newRelative(e.HouseholdHead, "")
		p.spouse = newRelative(e.Spouse, "")
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

// newRelative keeps a relative's name (nameKey is its NameKey when the
// caller has it already) and cleans their ID number.
func newRelative(r *enrollment.Relative, nameKey string) relative {
	if r == nil {
		return relative{}
	}
	rel := relative{name: r.FullName}
	if nameKey != "" {
		rel.name, rel.keyed = nameKey, true
	}
	id := r.PersonalID
	if !isIDDigits(id) { // the usual case needs no cleaning
		id, _ = enrollment.NormalizePersonalID(id)
	}
	if id != "" {
		rel.idNum, rel.hasID = idNumber(id), true
	}
	if r.DateOfBirth != nil {
		rel.dob = packDate(*r.DateOfBirth)
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

// idNumber reads a string of decimal digits (a cleaned ID number).
func idNumber(id string) uint64 {
	var v uint64
	for i := 0; i < len(id); i++ {
		v = v*10 + uint64(id[i]-'0')
	}
	return v
}

// isIDDigits reports whether s is already 12 ASCII digits.
func isIDDigits(s string) bool {
	if len(s) != enrollment.PersonalIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
