package altgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"fieldsync/enrollment"
)

// Config says what to generate.
type Config struct {
	// Records is the number of records in total (originals and
	// re-enrollments), at most MaxRecords.
	Records int
	// Seed selects the population; the same Config gives the same records.
	Seed uint64
	// Reenroll is the share of records that enroll someone again, with
	// noise: default 0.06, at most 0.5.
	Reenroll float64
}

// MaxRecords bounds Config.Records (the records are held in memory).
const MaxRecords = 5_000_000

// DefaultReenroll is the share of re-enrollments when Config leaves it 0.
const DefaultReenroll = 0.06

// Record is one generated enrollment with its truth.
type Record struct {
	Enrollment enrollment.Enrollment
	// Person identifies the human being: records with the same Person are
	// one citizen. Father and Mother are their parents' Persons ("" when
	// not generated), Name and DOB their true name and date of birth.
	Person, Father, Mother string
	Name                   string
	DOB                    enrollment.Date
	// Reenrollment is true for a second record of Person; Noise lists its
	// defects (the Noise* kinds).
	Reenrollment bool
	Noise        []string
	// Look is the hard negative this person was built as (Look* kinds),
	// LookOf the Person it was built after.
	Look, LookOf string
}

// Noise kinds of a re-enrollment.
const (
	NoiseIDAbsent       = "id_absent"
	NoiseIDDigit        = "id_digit"
	NoiseIDSwap         = "id_swap"
	NoiseMarkLost       = "vowel_mark_lost"
	NoiseToneLost       = "tone_lost"
	NoiseHoiNga         = "hoi_nga"
	NoiseGivenMisspelt  = "given_misspelt"
	NoiseMiddleMissing  = "middle_missing"
	NoiseMiddleExtra    = "middle_extra"
	NoiseSurnameSwap    = "surname_swap"
	NoiseNoMarks        = "no_marks"
	NoiseUpper          = "upper"
	NoiseYearShift      = "dob_year_shift"
	NoiseDayMonthSwap   = "dob_day_month_swap"
	NoiseMonthOnly      = "dob_month_only"
	NoiseJan1           = "dob_jan1"
	NoiseParentsDropped = "parents_dropped"
	NoiseParentsNoMarks = "parents_no_marks"
	NoiseMoved          = "moved"
	NoiseHometownCoarse = "hometown_coarse"
	NoiseSexFlipped     = "sex_flipped"
)

// Look-alike kinds (hard negatives).
const (
	LookTwin         = "twin"
	LookJunior       = "junior"
	LookNamesakeDay  = "namesake_same_day"
	LookNamesakeYear = "namesake_same_year"
)

// noiseRates: each kind is drawn independently at its rate.
var noiseRates = []struct {
	kind string
	p    float64
}{
	{NoiseIDAbsent, 0.18}, {NoiseIDDigit, 0.09}, {NoiseIDSwap, 0.06},
	{NoiseMarkLost, 0.07}, {NoiseToneLost, 0.06}, {NoiseHoiNga, 0.05}, {NoiseGivenMisspelt, 0.08},
	{NoiseMiddleMissing, 0.06}, {NoiseMiddleExtra, 0.03}, {NoiseSurnameSwap, 0.02},
	{NoiseNoMarks, 0.04}, {NoiseUpper, 0.10},
	{NoiseYearShift, 0.04}, {NoiseDayMonthSwap, 0.03}, {NoiseMonthOnly, 0.02}, {NoiseJan1, 0.02},
	{NoiseParentsDropped, 0.25}, {NoiseParentsNoMarks, 0.10}, {NoiseMoved, 0.12},
	{NoiseHometownCoarse, 0.15}, {NoiseSexFlipped, 0.005},
}

// Look-alike shares, per adult created.
const (
	twinRate         = 0.02
	juniorRate       = 0.006
	namesakeDayRate  = 0.003
	namesakeYearRate = 0.003
)

type nameParts struct {
	sur   string
	mid   []string
	given string
}

func (n nameParts) String() string {
	w := append([]string{n.sur}, n.mid...)
	return strings.Join(append(w, n.given), " ")
}

type person struct {
	id             string
	name           nameParts
	sex            enrollment.Sex
	dob            enrollment.Date
	pin            string
	prefix         string
	father, mother *person
	spouse         *person
	home           *commune
	hometown       string // commune text
	hh             *house
	role           string
	look, lookOf   string
	catholic       bool
	emitted        bool
}

type house struct {
	head    *person
	commune *commune
}

type commune struct {
	code, name, district string
	clans                []weightedName
}

// gen is the state of one generation.
type gen struct {
	cfg      Config
	r        *rand.Rand
	communes []*commune
	pins     map[string]bool
	persons  int
	queue    []*person // enrolled, not yet emitted
	emitted  []*person
	out      []Record
	start    time.Time
}

// Generate returns cfg.Records records.
func Generate(cfg Config) ([]Record, error) {
	if cfg.Reenroll == 0 {
		cfg.Reenroll = DefaultReenroll
	}
	if cfg.Records < 0 || cfg.Records > MaxRecords {
		return nil, fmt.Errorf("altgen: records %d out of range [0, %d]", cfg.Records, MaxRecords)
	}
	if !(cfg.Reenroll > 0 && cfg.Reenroll <= 0.5) {
		return nil, fmt.Errorf("altgen: re-enrollment share %v out of range (0, 0.5]", cfg.Reenroll)
	}
	g := &gen{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)), pins: map[string]bool{},
		start: time.Date(2025, 8, 4, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))}
	g.buildCommunes()
	for len(g.out) < cfg.Records {
		if len(g.emitted) > 50 && g.r.Float64() < cfg.Reenroll {
			g.out = append(g.out, g.reenroll(g.emitted[g.r.IntN(len(g.emitted))]))
			continue
		}
		for len(g.queue) == 0 {
			g.household()
		}
		p := g.queue[0]
		g.queue = g.queue[1:]
		g.out = append(g.out, g.original(p))
	}
	return g.out, nil
}

func (g *gen) buildCommunes() {
	code := 16700
	for _, d := range districts {
		for _, name := range d.communes {
			c := &commune{code: fmt.Sprint(code), name: name, district: d.name}
			code += 7
			// two or three lineages hold about half of the commune
			n := 2 + g.r.IntN(2)
			for i := 0; i < n; i++ {
				s := pick(g.r, provincialSurnames)
				c.clans = append(c.clans, weightedName{s, 500 / n})
			}
			c.clans = append(c.clans, provincialSurnames...)
			g.communes = append(g.communes, c)
		}
	}
}

// household creates one household and queues its enrolled members.
func (g *gen) household() {
	r := g.r
	c := g.communes[r.IntN(len(g.communes))]
	h := &house{commune: c}
	var members []*person
	now := g.start.Year()
	switch x := r.Float64(); {
	case x < 0.33: // three generations: grandparents, a married son, his family
		gf := g.newAdult(c, enrollment.Male, now-between(r, 62, 88), nil)
		gm := g.wifeOf(gf, c)
		son := g.child(gf, gm, enrollment.Male, gf.dob.Year+between(r, 20, 34))
		wife := g.wifeOf(son, c)
		h.head = gf
		if r.Float64() < 0.4 {
			h.head = son
		}
		members = append(members, gf, son, wife)
		if r.Float64() < 0.75 {
			members = append(members, gm)
		}
		members = append(members, g.children(son, wife)...)
	case x < 0.8: // a couple and their children
		head := g.newAdult(c, enrollment.Male, now-between(r, 24, 70), nil)
		wife := g.wifeOf(head, c)
		h.head = head
		members = append(members, head, wife)
		members = append(members, g.children(head, wife)...)
	case x < 0.9: // the elderly alone or as a couple
		p := g.newAdult(c, sexOf(r), now-between(r, 60, 95), nil)
		h.head = p
		members = append(members, p)
		if p.sex == enrollment.Male && r.Float64() < 0.6 {
			members = append(members, g.wifeOf(p, c))
		}
	default: // a single adult, sometimes with children
		p := g.newAdult(c, sexOf(r), now-between(r, 18, 60), nil)
		h.head = p
		members = append(members, p)
		if p.sex == enrollment.Female && r.Float64() < 0.4 {
			members = append(members, g.children(g.ghostFather(c, p), p)...)
		}
	}
	for _, m := range members {
		m.hh = h
		m.role = roleOf(m, h.head)
		g.enroll(m)
		g.lookAlikes(m)
	}
}

// enroll queues p if old enough and present.
func (g *gen) enroll(p *person) {
	age := g.start.Year() - p.dob.Year
	if age >= 14 && g.r.Float64() < 0.93 {
		g.queue = append(g.queue, p)
	}
}

// lookAlikes builds, now and then, an unrelated namesake of adult p.
func (g *gen) lookAlikes(p *person) {
	r := g.r
	if g.start.Year()-p.dob.Year < 18 {
		return
	}
	x := r.Float64()
	if x >= namesakeDayRate+namesakeYearRate {
		return
	}
	c := p.home
	if r.Float64() < 0.5 {
		c = g.communes[r.IntN(len(g.communes))]
	}
	q := g.newAdult(c, p.sex, p.dob.Year, nil)
	q.name = nameParts{sur: p.name.sur, mid: append([]string(nil), p.name.mid...), given: p.name.given}
	q.lookOf = p.id
	if x < namesakeDayRate {
		q.dob, q.look = p.dob, LookNamesakeDay
	} else {
		q.look = LookNamesakeYear
		for q.dob == p.dob {
			q.dob = g.dateIn(p.dob.Year)
		}
	}
	g.mintPIN(q)
	q.hh = &house{head: q, commune: c}
	q.role = "Chủ hộ"
	g.enroll(q)
}

func (g *gen) newPerson(sex enrollment.Sex, year int, c *commune) *person {
	g.persons++
	p := &person{id: fmt.Sprintf("n%07d", g.persons), sex: sex, home: c, catholic: g.r.Float64() < 0.1}
	p.dob = g.dateIn(year)
	p.prefix = pick(g.r, birthPrefixes)
	p.hometown = c.name
	if g.r.Float64() < 0.2 {
		p.hometown = g.communes[g.r.IntN(len(g.communes))].name
	}
	return p
}

// newAdult creates an adult born in year, of a clan of c unless surname
// is given.
func (g *gen) newAdult(c *commune, sex enrollment.Sex, year int, surname *string) *person {
	p := g.newPerson(sex, year, c)
	sur := pick(g.r, c.clans)
	if surname != nil {
		sur = *surname
	}
	p.name = g.drawName(sur, sex, year, "")
	if year < 1950 {
		switch x := g.r.Float64(); {
		case x < 0.08:
			p.dob = enrollment.Date{Year: year}
		case x < 0.13:
			p.dob = enrollment.Date{Year: year, Month: 1, Day: 1}
		}
	}
	g.mintPIN(p)
	return p
}

// wifeOf creates the wife of man, 0-8 years younger, of another clan.
func (g *gen) wifeOf(man *person, c *commune) *person {
	w := g.newAdult(c, enrollment.Female, man.dob.Year+between(g.r, 0, 8), nil)
	for i := 0; i < 4 && w.name.sur == man.name.sur; i++ {
		w.name.sur = pick(g.r, provincialSurnames)
	}
	w.spouse, man.spouse = man, w
	return w
}

// ghostFather is an absent father (named on the children's records only).
func (g *gen) ghostFather(c *commune, mother *person) *person {
	return g.newAdult(c, enrollment.Male, mother.dob.Year-between(g.r, 0, 6), nil)
}

// children creates 0-5 children of father and mother, 1-4 years apart,
// with the family's lineage middle name, twins, and sons named like their
// father.
func (g *gen) children(father, mother *person) []*person {
	r := g.r
	n := []int{0, 1, 2, 2, 3, 3, 4, 5}[r.IntN(8)]
	year := mother.dob.Year + between(r, 19, 28)
	var out []*person
	lineage := pick(r, lineageMiddles)
	for i := 0; i < n && year <= g.start.Year(); i++ {
		c := g.childNamed(father, mother, sexOf(r), year, lineage)
		out = append(out, c)
		if r.Float64() < twinRate {
			t := g.childNamed(father, mother, sexOf(r), year, lineage)
			t.dob = c.dob
			g.renamePIN(t)
			for t.name.given == c.name.given {
				t.name.given = g.given(t.sex, year)
			}
			t.look, t.lookOf = LookTwin, c.id
			out = append(out, t)
		}
		year += between(r, 1, 4)
	}
	return out
}

func (g *gen) child(father, mother *person, sex enrollment.Sex, year int) *person {
	return g.childNamed(father, mother, sex, year, pick(g.r, lineageMiddles))
}

func (g *gen) childNamed(father, mother *person, sex enrollment.Sex, year int, lineage string) *person {
	r := g.r
	c := g.newPerson(sex, year, father.home)
	c.father, c.mother = father, mother
	c.hometown = father.hometown
	c.name = g.drawName(father.name.sur, sex, year, lineage)
	if sex == enrollment.Male && r.Float64() < juniorRate {
		c.name = nameParts{sur: father.name.sur, mid: append([]string(nil), father.name.mid...), given: father.name.given}
		c.look, c.lookOf = LookJunior, father.id
	}
	g.mintPIN(c)
	return c
}

// drawName draws a name: lineage middle names for sons (most families),
// Thị or another for daughters, compound given names for the young.
func (g *gen) drawName(sur string, sex enrollment.Sex, year int, lineage string) nameParts {
	r := g.r
	n := nameParts{sur: sur, given: g.given(sex, year)}
	switch {
	case year >= 1995 && r.Float64() < 0.35:
		if sex == enrollment.Male {
			n.given = pick(r, compoundMale)
		} else {
			n.given = pick(r, compoundFemale)
		}
		if r.Float64() < 0.5 {
			return n
		}
	case year < 1960 && r.Float64() < 0.85:
		n.mid = []string{map[enrollment.Sex]string{enrollment.Male: "Văn", enrollment.Female: "Thị"}[sex]}
		return n
	}
	switch {
	case sex == enrollment.Male && lineage != "" && r.Float64() < 0.7:
		n.mid = []string{lineage}
	case sex == enrollment.Male:
		n.mid = []string{pick(r, lineageMiddles)}
	default:
		n.mid = strings.Fields(pick(r, femaleMiddles))
	}
	if r.Float64() < 0.06 { // the mother's surname as a second middle name
		n.mid = append([]string{pick(r, provincialSurnames)}, n.mid...)
	}
	return n
}

func (g *gen) given(sex enrollment.Sex, year int) string {
	if sex == enrollment.Male {
		return pick(g.r, maleGiven)
	}
	return pick(g.r, femaleGiven)
}

// dateIn draws a day of year, not after the campaign's start.
func (g *gen) dateIn(year int) enrollment.Date {
	first := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	days := 365
	if year == g.start.Year() {
		days = g.start.YearDay() - 1
	}
	d := first.AddDate(0, 0, g.r.IntN(max(days, 1)))
	return enrollment.Date{Year: d.Year(), Month: int(d.Month()), Day: d.Day()}
}

// mintPIN gives p a unique ID number: prefix, century/sex, year, six
// random digits.
func (g *gen) mintPIN(p *person) {
	digit := (p.dob.Year/100 - 19) * 2
	if p.sex == enrollment.Female {
		digit++
	}
	for {
		pin := fmt.Sprintf("%s%d%02d%06d", p.prefix, digit, p.dob.Year%100, g.r.IntN(1_000_000))
		if !g.pins[pin] {
			g.pins[pin] = true
			p.pin = pin
			return
		}
	}
}

// renamePIN mints a new number after a change of sex or date.
func (g *gen) renamePIN(p *person) { g.mintPIN(p) }

func roleOf(p, head *person) string {
	switch {
	case p == head:
		return "Chủ hộ"
	case p.spouse == head:
		if p.sex == enrollment.Female {
			return "Vợ"
		}
		return "Chồng"
	case p.father == head || p.mother == head:
		return "Con"
	case head.father == p || head.mother == p:
		if p.sex == enrollment.Male {
			return "Cha"
		}
		return "Mẹ"
	case p.spouse != nil && (p.spouse.father == head || p.spouse.mother == head):
		return "Con dâu"
	case p.father != nil && (p.father.father == head || p.father.mother == head):
		return "Cháu"
	case head.father != nil && p.father == head.father:
		return "Em"
	}
	return "Khác"
}

func sexOf(r *rand.Rand) enrollment.Sex {
	if r.IntN(100) < 49 {
		return enrollment.Female
	}
	return enrollment.Male
}

func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

func pick(r *rand.Rand, table []weightedName) string {
	total := 0
	for _, e := range table {
		total += e.w
	}
	x := r.IntN(total)
	for _, e := range table {
		if x < e.w {
			return e.v
		}
		x -= e.w
	}
	return table[len(table)-1].v
}
