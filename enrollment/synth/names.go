package synth

import (
	"math/rand/v2"
	"strings"

	"fieldsync/enrollment"
)

// personName is a name by its parts (DOMAIN.md §5.1: surname, 0–2 middle
// syllables, given name). Given may be a compound ("Gia Huy").
type personName struct {
	Surname string
	Middle  []string
	Given   string
	// Style is the person's own tone placement for oa/oe/uy syllables.
	Style toneStyle
}

// String renders the name as the person writes it (NFC, single spaces).
func (n personName) String() string {
	parts := make([]string, 0, 4)
	parts = append(parts, n.Surname)
	parts = append(parts, n.Middle...)
	parts = append(parts, n.Given)
	s := strings.Join(parts, " ")
	if n.Style == newTone {
		s = withToneStyle(s, newTone)
	}
	return s
}

// nameTables holds the samplers built from tables.go.
type nameTables struct {
	surname                weighted[string]
	minority               map[string]weighted[string]
	maleMid, femaleMid     weighted[string]
	maleGiv, maleGivTrad   weighted[string]
	femaleGiv, femaleGivTr weighted[string]
	maleComp, femaleComp   weighted[string]
	// toneChoice caches hasToneChoice per syllable (names come from finite
	// tables; lookup only).
	toneChoice map[string]bool
}

func newNameTables() *nameTables {
	t := &nameTables{
		surname:     newWeighted(surnameTable),
		minority:    map[string]weighted[string]{},
		maleMid:     newWeighted(maleMiddles),
		femaleMid:   newWeighted(femaleMiddles),
		maleGiv:     newWeighted(maleGiven),
		maleGivTrad: newWeighted(maleGivenTraditional),
		femaleGiv:   newWeighted(femaleGiven),
		femaleGivTr: newWeighted(femaleGivenTraditional),
		maleComp:    newWeighted(maleCompound),
		femaleComp:  newWeighted(femaleCompound),
		toneChoice:  map[string]bool{},
	}
	for code, rows := range minoritySurnames {
		t.minority[code] = newWeighted(rows)
	}
	return t
}

// cohortOf returns the name-structure rates for a birth year.
func cohortOf(year int) cohortRow {
	for _, c := range cohorts {
		if year <= c.Until {
			return c
		}
	}
	return cohorts[len(cohorts)-1]
}

// surnameFor draws a surname for a person of the given ethnicity.
func (t *nameTables) surnameFor(r *rand.Rand, ethnicity string) string {
	if w, ok := t.minority[ethnicity]; ok {
		return w.pick(r)
	}
	return t.surname.pick(r)
}

// nameSpec says what is fixed when drawing a name.
type nameSpec struct {
	Surname string
	Sex     enrollment.Sex
	Year    int
	// FamilyMiddle, when set, is used as the first middle (siblings often
	// share it).
	FamilyMiddle string
	// MotherSurname may become a middle in 4-syllable names (§5.3 [T]).
	MotherSurname string
}

// drawName draws middle and given names for spec (DOMAIN.md §5.1, §5.3,
// §5.4): Văn/Thị by cohort, 2/3/4 syllables, compound given names for
// young cohorts.
func (t *nameTables) drawName(r *rand.Rand, spec nameSpec) personName {
	c := cohortOf(spec.Year)
	n := personName{Surname: spec.Surname}
	n.Given = t.given(r, spec.Sex, c)
	if chance(r, twoSyllableShare) {
		return n
	}
	n.Middle = []string{t.firstMiddle(r, spec, c)}
	if chance(r, c.Four) {
		t.lengthen(r, &n, spec)
	}
	return n
}

// firstMiddle: the family middle if any, else Văn/Thị by cohort, else one
// from the sex's list.
func (t *nameTables) firstMiddle(r *rand.Rand, spec nameSpec, c cohortRow) string {
	if spec.FamilyMiddle != "" {
		return spec.FamilyMiddle
	}
	return t.middle(r, spec.Sex, c)
}

// middle draws one middle name for a sex and cohort.
func (t *nameTables) middle(r *rand.Rand, sex enrollment.Sex, c cohortRow) string {
	if sex == enrollment.Male {
		if chance(r, c.Van) {
			return "Văn"
		}
		return t.maleMid.pick(r)
	}
	if chance(r, c.Thi) {
		return "Thị"
	}
	return t.femaleMid.pick(r)
}

// given draws a one-syllable given name, traditional or modern by cohort.
func (t *nameTables) given(r *rand.Rand, sex enrollment.Sex, c cohortRow) string {
	trad := chance(r, c.Trad)
	switch {
	case sex == enrollment.Male && trad:
		return t.maleGivTrad.pick(r)
	case sex == enrollment.Male:
		return t.maleGiv.pick(r)
	case trad:
		return t.femaleGivTr.pick(r)
	}
	return t.femaleGiv.pick(r)
}

// lengthen makes a 4-syllable name: a compound given name (young
// cohorts), the mother's surname as a middle (§5.3: ~2.4% of middle
// tokens), or a second middle ("Nguyễn Thị Thu Hà").
func (t *nameTables) lengthen(r *rand.Rand, n *personName, spec nameSpec) {
	x := r.Float64()
	switch {
	case spec.Year >= compoundFrom && x < 0.35:
		if spec.Sex == enrollment.Male {
			n.Given = t.maleComp.pick(r)
		} else {
			n.Given = t.femaleComp.pick(r)
		}
	case spec.MotherSurname != "" && spec.MotherSurname != n.Surname && x < 0.55:
		n.Middle = []string{spec.MotherSurname, t.secondMiddle(r, spec.Sex)}
	default:
		second := t.secondMiddle(r, spec.Sex)
		if second != n.Middle[0] {
			n.Middle = append(n.Middle, second)
		}
	}
}

// secondMiddle draws a middle other than Văn/Thị.
func (t *nameTables) secondMiddle(r *rand.Rand, sex enrollment.Sex) string {
	if sex == enrollment.Male {
		return t.maleMid.pick(r)
	}
	return t.femaleMid.pick(r)
}

// hasToneChoice reports whether any syllable of n has an oa/oe/uy tone
// whose placement differs between the old and new styles (§5.5(3)).
func (t *nameTables) hasToneChoice(n personName) bool {
	if t.syllableChoice(n.Surname) || t.syllableChoice(n.Given) {
		return true
	}
	for _, m := range n.Middle {
		if t.syllableChoice(m) {
			return true
		}
	}
	return false
}

// syllableChoice is nameHasToneChoice for one table entry, cached.
func (t *nameTables) syllableChoice(s string) bool {
	v, ok := t.toneChoice[s]
	if !ok {
		v = nameHasToneChoice(s)
		t.toneChoice[s] = v
	}
	return v
}
