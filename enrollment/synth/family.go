package synth

import (
	"fieldsync/enrollment"
)

// adult creates an adult of h (not yet a member: callers place them). An
// empty role marks a head or spouse, who may be a namesake (hard negative).
func (g *Generator) adult(h *household, eth, rel string, sex enrollment.Sex, age int, role string) (*person, error) {
	r := g.r
	p := &person{sex: sex, ethnicity: eth, religion: rel, role: role, hh: h}
	year := g.start.Year() - age
	surname := g.names.surnameFor(r, eth)
	p.name = g.names.drawName(r, nameSpec{Surname: surname, Sex: sex, Year: year, MotherSurname: g.names.surname.pick(r)})
	p.dob = g.drawDOB(p, year)
	if role == "" && chance(r, namesakeShare) {
		g.copyNamesake(p, h.commune)
	}
	g.styleName(p)
	prefix := "042"
	if eth == "01" {
		prefix = g.prefixes.pick(r)
	}
	g.adultPlaces(p, h, prefix)
	return p, g.assignPIN(p, prefix)
}

// ghost creates a relative who is not a member (an absent father).
func (g *Generator) ghost(h *household, eth, rel string, sex enrollment.Sex, age int) (*person, error) {
	p, err := g.adult(h, eth, rel, sex, age, "ghost")
	p.role = ""
	return p, err
}

// adultPlaces sets hometown and birth registration (DOMAIN.md §2.1 items
// 7-8): Hà Tĩnh-born adults mostly come from the household's own commune;
// others were registered in their birth province (§1.5).
func (g *Generator) adultPlaces(p *person, h *household, prefix string) {
	r := g.r
	local := h.old
	if !chance(r, localOrigin[p.sex]) {
		local = g.geo.otherOld(r)
	}
	if prefix != "042" {
		p.birthReg = provincePlace(prefix)
		p.hometown = p.birthReg
		if chance(r, 0.5) {
			p.hometown = local.Place // born away to Hà Tĩnh parents
		}
		return
	}
	p.hometown = local.Place
	p.birthReg = local.Place
	if chance(r, 0.15) {
		p.birthReg = g.geo.otherOld(r).Place
	}
}

// localOrigin: share of Hà Tĩnh-born adults whose hometown is their own
// commune; wives more often married in from elsewhere [E].
var localOrigin = map[enrollment.Sex]float64{enrollment.Male: 0.85, enrollment.Female: 0.55}

// copyNamesake gives p the name and birth year of a recent adult of the
// same sex in the same commune, born within namesakeYears of p: distinct
// people who look alike (and stay plausible in p's own family).
func (g *Generator) copyNamesake(p *person, c *commune) {
	for i := len(c.ring) - 1; i >= 0; i-- {
		o := c.ring[i]
		if o.sex != p.sex || abs(o.dob.Year-p.dob.Year) > namesakeYears {
			continue
		}
		p.name = o.name
		p.name.Middle = append([]string(nil), o.name.Middle...)
		p.dob = drawDate(g.r, o.dob.Year, g.start)
		if p.dob == o.dob {
			p.dob = drawDate(g.r, o.dob.Year, g.start)
		}
		p.similar = o
		p.addQuirk(QuirkNamesake)
		if o.dob.Day != 0 && chance(g.r, namesakeSameDayShare) { // §5.5(12): sometimes the same day
			p.dob = o.dob
			p.addQuirk(QuirkNamesakeDay)
		}
		return
	}
}

// namesakeYears bounds the age change a namesake copy may make.
const namesakeYears = 4

// namesakeSameDayShare: namesakes born on the very same day, the hardest
// negatives (DOMAIN.md §5.5(12): "sometimes the same day") [E].
const namesakeSameDayShare = 0.25

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// styleName picks the person's own tone placement (§5.5(3)).
func (g *Generator) styleName(p *person) {
	if g.names.hasToneChoice(p.name) && chance(g.r, quirkNewToneShare) {
		p.name.Style = newTone
		p.addQuirk(NoiseToneStyle)
	}
}

// drawDOB draws a date of birth in year, with the official 01/01 default
// and year-only dates of the elderly (DOMAIN.md §2.4, §2.6).
func (g *Generator) drawDOB(p *person, year int) enrollment.Date {
	r := g.r
	switch {
	case year < yearOnlyBefore && chance(r, yearOnlyShare):
		p.addQuirk(NoiseDOBYearOnly)
		return enrollment.Date{Year: year}
	case year < default0101Before && chance(r, default0101Share):
		p.addQuirk(NoiseDOB0101)
		return enrollment.Date{Year: year, Month: 1, Day: 1}
	}
	return drawDate(r, year, g.start)
}

// assignPIN mints p's ID number; a few encode another year or sex (the
// Decree 70/2024 case, DOMAIN.md §0.3).
func (g *Generator) assignPIN(p *person, prefix string) error {
	sex, year := p.sex, p.dob.Year
	x := g.r.Float64()
	switch {
	case x < decree70YearShare:
		year += []int{-1, 1}[g.r.IntN(2)]
		if year > g.start.Year() {
			year -= 2
		}
		p.addQuirk(QuirkDecree70Year)
	case x < decree70YearShare+decree70SexShare:
		sex = otherSex(sex)
		p.addQuirk(QuirkDecree70Sex)
	}
	pin, err := g.pins.mint(prefix, sex, year)
	p.pin = pin
	return err
}

func otherSex(s enrollment.Sex) enrollment.Sex {
	if s == enrollment.Male {
		return enrollment.Female
	}
	return enrollment.Male
}

// childCounts: children still at home [E].
var childCounts = []entry[int]{{0, 5}, {1, 20}, {2, 42}, {3, 24}, {4, 9}}

// children adds the children of father and mother still living at home
// (up to maxAge), with role; parents are 18-45 years older (by birth year).
func (g *Generator) children(h *household, father, mother *person, role string, maxAge int) error {
	r := g.r
	n := g.childCounts.pick(r)
	age := g.ageOf(mother) - between(r, 19, 30)
	for i := 0; i < n && age >= 0; i++ {
		if age <= maxAge && g.parentGapOK(father, mother, g.start.Year()-age) {
			sex := enrollment.Male
			if chance(r, 0.48) {
				sex = enrollment.Female
			}
			c, err := g.child(h, father, mother, sex, age, role)
			if err != nil {
				return err
			}
			if chance(r, twinShare) {
				if err := g.twin(h, c); err != nil {
					return err
				}
			}
		}
		age -= between(r, 1, 6)
	}
	return nil
}

// parentGapOK checks the 18–45 year parent/child gap by birth year.
func (g *Generator) parentGapOK(father, mother *person, year int) bool {
	for _, p := range []*person{father, mother} {
		d := year - p.dob.Year
		if d < 18 || d > 45 {
			return false
		}
	}
	return true
}

// child creates a child of father and mother (father's surname, hometown
// and ethnicity; DOMAIN.md §7 item 4) and adds them to h.
func (g *Generator) child(h *household, father, mother *person, sex enrollment.Sex, age int, role string) (*person, error) {
	r := g.r
	year := g.start.Year() - age
	if !g.parentGapOK(father, mother, year) {
		year = max(father.dob.Year, mother.dob.Year) + 18 // youngest parent at 18
		year = min(year, g.start.Year())
	}
	p := &person{sex: sex, ethnicity: father.ethnicity, religion: father.religion, role: role, hh: h,
		father: father, mother: mother, marital: "Chưa kết hôn", hometown: father.hometown}
	p.name = g.names.drawName(r, nameSpec{Surname: father.name.Surname, Sex: sex, Year: year,
		FamilyMiddle: h.familyMiddle(g, sex, year), MotherSurname: mother.name.Surname})
	if sex == enrollment.Male && father == h.head && chance(r, juniorShare) {
		p.name = father.name
		p.name.Middle = append([]string(nil), father.name.Middle...)
		p.similar = father
		p.addQuirk(QuirkJunior)
	}
	p.dob = drawDate(r, year, g.start)
	g.styleName(p)
	p.birthReg = h.old.Place
	if h.bornAt != "042" {
		p.birthReg = provincePlace(h.bornAt)
	}
	h.members = append(h.members, p)
	return p, g.assignPIN(p, h.bornAt)
}

// twin adds a twin of c: same parents and date of birth, another given
// name (a hard negative).
func (g *Generator) twin(h *household, c *person) error {
	r := g.r
	sex := c.sex
	if chance(r, 1.0/3) {
		sex = otherSex(sex)
	}
	t := *c
	t.sex, t.quirks, t.similar = sex, nil, c
	t.name = g.names.drawName(r, nameSpec{Surname: c.name.Surname, Sex: sex, Year: c.dob.Year,
		FamilyMiddle: h.familyMiddle(g, sex, c.dob.Year), MotherSurname: c.mother.name.Surname})
	for i := 0; i < 8 && t.name.Given == c.name.Given; i++ {
		t.name.Given = g.names.given(r, sex, cohortOf(c.dob.Year))
	}
	t.name.Style = oldTone
	g.styleName(&t)
	c.addQuirk(QuirkTwin)
	t.addQuirk(QuirkTwin)
	h.members = append(h.members, &t)
	return g.assignPIN(&t, h.bornAt)
}
