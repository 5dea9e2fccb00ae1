package synth

import (
	"time"

	"fieldsync/enrollment"
)

// Absence by age band: DOMAIN.md §6.1 [C] — 5.6% of Thạch Kênh's eligible
// people were away (working, studying) and never enrolled; young adults
// are the ones away [E].
var absentByAge = []struct {
	Until int
	P     float64
}{{17, 0.02}, {34, 0.105}, {59, 0.04}, {200, 0.015}}

// under14Share: children 6–13 enrolled on request once the 2023 law allows
// cards for them (DOMAIN.md §2.5, from 2024-07-01) [E].
const under14Share = 0.02

// finishHousehold decides who is eligible and present, fills the
// per-person details and queues the enrolled members.
func (g *Generator) finishHousehold(h *household) {
	r := g.r
	for _, p := range h.members {
		age := g.ageOf(p)
		p.job = g.occupation(age, h.old)
		if chance(r, bloodTypeShare) {
			p.blood = g.blood.pick(r)
		}
		p.current = &h.commune.Place
		if age >= 16 && chance(r, quirkCurrentElsewher) {
			g.liveElsewhere(p, h.commune)
		}
		g.stats.HouseholdMembers++
		g.register = append(g.register, p)
		if !g.eligible(p, age) {
			continue
		}
		g.stats.Eligible++
		if chance(r, absentShare(age)) {
			g.stats.Absent++
			continue
		}
		p.enrolled = true
		g.queue = append(g.queue, p)
	}
	g.stats.Households++
}

// liveElsewhere sets a current residence in another commune (studying or
// working in town), when the list has another commune.
func (g *Generator) liveElsewhere(p *person, home *commune) {
	for i := 0; i < 4; i++ {
		if c := g.geo.all.pick(g.r); c != home {
			p.current = &c.Place
			p.addQuirk(QuirkCurrentElsewhere)
			return
		}
	}
}

// eligible: 14 and over; a few 6–13 year-olds under the 2023 law.
func (g *Generator) eligible(p *person, age int) bool {
	if age >= 14 {
		return true
	}
	if age >= 6 && !g.start.Before(law2023From) && chance(g.r, under14Share) {
		p.addQuirk(QuirkUnder14)
		return true
	}
	return false
}

func absentShare(age int) float64 {
	for _, a := range absentByAge {
		if age <= a.Until {
			return a.P
		}
	}
	return 0
}

// original emits p's first record.
func (g *Generator) original(p *person) Record {
	line := g.newLine()
	g.identify(p, line)
	h := p.hh
	at := h.commune.stations[h.device].next()
	e, blobs := g.render(p, g.capture(h.commune, h.device, at))
	quirks := append([]string(nil), p.quirks...)
	quirks = append(quirks, g.surfaceQuirks(&e)...)
	g.remember(p, e, line, at)
	return Record{Line: line, Enrollment: e, Person: p.id, Household: h.id, Quirks: quirks, SimilarTo: similarLine(p), Blobs: blobs}
}

// surfaceQuirks applies the natural surface variation of originals at the
// §5.5 base rates (see tables.go) and returns its tags.
func (g *Generator) surfaceQuirks(e *enrollment.Enrollment) []string {
	r := g.r
	var q []string
	if chance(r, quirkMissingIDShare) {
		e.PersonalID = ""
		q = append(q, NoiseIDMissing)
	}
	if chance(r, quirkNoDiacritics) {
		e.FullName = stripDiacritics(e.FullName)
		q = append(q, NoiseNoDiacritics)
	}
	if chance(r, quirkUppercaseShare) {
		e.FullName = upper(e.FullName)
		q = append(q, NoiseUppercase)
	}
	if chance(r, quirkSpacesShare) {
		e.FullName = g.addSpaces(e.FullName)
		q = append(q, NoiseSpaces)
	}
	if !isASCII(e.FullName) && chance(r, quirkNFDShare) {
		e.FullName = toNFD(e.FullName)
		q = append(q, NoiseNFD)
	}
	return q
}

// remember keeps p as a re-enrollment candidate and a namesake source.
func (g *Generator) remember(p *person, e enrollment.Enrollment, line int, at time.Time) {
	pe := &poolEntry{p: p, e: e, line: line, at: at}
	if len(g.pool) < poolSize {
		g.pool = append(g.pool, pe)
	} else {
		g.pool[g.r.IntN(poolSize)] = pe
	}
	if g.ageOf(p) >= 25 {
		c := p.hh.commune
		if len(c.ring) == ringSize {
			copy(c.ring, c.ring[1:])
			c.ring = c.ring[:ringSize-1]
		}
		c.ring = append(c.ring, p)
	}
}

// render builds the clean enrollment of p (truth as in the database).
func (g *Generator) render(p *person, c enrollment.Capture) (enrollment.Enrollment, []BlobSpec) {
	h := p.hh
	e := enrollment.Enrollment{
		PersonalID: p.pin, FullName: p.name.String(), DateOfBirth: p.dob, Sex: p.sex,
		EthnicityCode: p.ethnicity, Religion: p.religion, Nationality: []string{"Việt Nam"},
		BirthRegistration: p.birthReg, Hometown: p.hometown, PermanentResidence: h.commune.Place,
		CurrentResidence: p.current, Occupation: p.job, MaritalStatus: p.marital, BloodType: p.blood,
		RelationToHead: p.role, HouseholdHead: h.head.relative(), Capture: c,
	}
	if g.cfg.CodeList == enrollment.CodeList2025 {
		bp := p.birthReg // nơi sinh: a field of the 2023 law
		e.BirthPlace = &bp
	}
	if p.father != nil {
		e.Father = p.father.relative()
	}
	if p.mother != nil {
		e.Mother = p.mother.relative()
	}
	if p.spouse != nil {
		e.Spouse = p.spouse.relative()
	}
	return e, g.biometrics(c.CapturedAt, g.ageOf(p))
}

// capture fills the capture metadata for a device of c at time at.
func (g *Generator) capture(c *commune, device int, at time.Time) enrollment.Capture {
	// Officers are split among devices; any of the device's team captures.
	team := len(c.Officers) / len(c.Devices)
	off := device*team + g.r.IntN(team)
	return enrollment.Capture{
		CommuneCode: c.Code, CodeList: c.Place.CodeList, Officer: c.Officers[off], Device: c.Devices[device],
		CapturedAt: at, RequestType: g.requests.pick(g.r),
	}
}

// occupation draws a job by age [E]; fishing only in coastal districts.
func (g *Generator) occupation(age int, oc *oldCommune) string {
	r := g.r
	switch {
	case age < 18:
		return "Học sinh"
	case age < 23:
		return g.jobsYoung.pick(r)
	case age >= 60:
		return g.jobsOld.pick(r)
	case coastal[oc.District] && chance(r, 0.12):
		return "Ngư dân"
	}
	return g.jobsAdult.pick(r)
}
