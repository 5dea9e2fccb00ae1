package synth

import (
	"math/rand/v2"
	"time"

	"fieldsync/enrollment"
)

// person is one member of the synthetic universe: the ground truth from
// which records are rendered. Everyone has an ID number (DOMAIN.md §6.1:
// PINs were issued to all citizens in June 2021), enrolled or not.
type person struct {
	name      personName
	sex       enrollment.Sex
	dob       enrollment.Date
	pin       string // as held by the population database
	ethnicity string
	religion  string
	birthReg  enrollment.Place
	hometown  enrollment.Place
	role      string // relation to the household head (enrollment.Relations)
	marital   string
	job       string
	blood     string
	father    *person
	mother    *person
	spouse    *person
	hh        *household
	quirks    []string
	similar   *person // a different person built to look alike (hard negative)
	current   *enrollment.Place
	enrolled  bool
	// Set at first emission.
	id   string
	line int
}

// household is a set of people sharing a residence and a head (DOMAIN.md
// §2.1 items 22-23, §7 item 4).
type household struct {
	id      string
	commune *commune
	old     *oldCommune
	head    *person
	members []*person
	device  int
	bornAt  string // prefix for children's birth registration
	mid     [2]string
	midSet  [2]bool
}

// ageOn returns the age in whole years on date t.
func ageOn(d enrollment.Date, t time.Time) int {
	age := t.Year() - d.Year
	m, day := d.Month, d.Day
	if m == 0 {
		m, day = 7, 1 // year-only: assume mid-year
	}
	if day == 0 {
		day = 15
	}
	if int(t.Month()) < m || (int(t.Month()) == m && t.Day() < day) {
		age--
	}
	return age
}

// drawDate draws a day in year, not after limit.
func drawDate(r *rand.Rand, year int, limit time.Time) enrollment.Date {
	first := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)
	lim := time.Date(limit.Year(), limit.Month(), limit.Day(), 0, 0, 0, 0, time.UTC)
	if last.After(lim) {
		last = lim
	}
	days := int(last.Sub(first).Hours()/24) + 1
	if days < 1 {
		days = 1
	}
	d := first.AddDate(0, 0, r.IntN(days))
	return enrollment.Date{Year: d.Year(), Month: int(d.Month()), Day: d.Day()}
}

// addQuirk records a natural variation or hard-negative tag.
func (p *person) addQuirk(q string) { p.quirks = append(p.quirks, q) }

// relative renders p as a Relative (clean name, ID, date of birth).
func (p *person) relative() *enrollment.Relative {
	d := p.dob
	return &enrollment.Relative{FullName: p.name.String(), PersonalID: p.pin, DateOfBirth: &d, Nationality: "Việt Nam"}
}

// familyMiddle returns the middle name the household's children of a sex
// share, if any (chosen at the first child of that sex).
func (h *household) familyMiddle(g *Generator, sex enrollment.Sex, year int) string {
	i := 0
	if sex == enrollment.Female {
		i = 1
	}
	if !h.midSet[i] {
		h.midSet[i] = true
		if chance(g.r, familyMiddleShare) {
			h.mid[i] = g.names.middle(g.r, sex, cohortOf(year))
		}
	}
	return h.mid[i]
}

// familyMiddleShare: siblings of a sex often share a middle name [E].
const familyMiddleShare = 0.55
