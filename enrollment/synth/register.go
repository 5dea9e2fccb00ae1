package synth

import (
	"fmt"
	"hash/fnv"

	"fieldsync/enrollment"
)

// Resident is one member of a generated household as the population
// register holds them: everyone who lives there, children and people
// absent during the campaign included — what a commune's resident list is
// made of (package enrollment/residents), against which completeness is
// counted.
type Resident struct {
	PersonalID  string
	FullName    string
	DateOfBirth enrollment.Date
	Sex         enrollment.Sex
	Commune     string // the commune's code in the generator's code list
	Household   string // the household's number
	Relation    string // to the household head (enrollment.Relations)
	Hamlet      string // thôn: drawn from the household, for house-by-house lists
	// Eligible: 14 or over (or one of the few younger who enrolled);
	// Enrolled: the generator emitted a record of them (the absent never
	// appear; nor do the last household's members past Count).
	Eligible bool
	Enrolled bool
}

// Register returns every member of the households generated so far, in
// the order they were generated (the records emitted are a subset). Call
// it after the records are drawn.
func (g *Generator) Register() []Resident {
	out := make([]Resident, 0, len(g.register))
	for _, p := range g.register {
		r := Resident{PersonalID: p.pin, FullName: p.name.String(), DateOfBirth: p.dob, Sex: p.sex, Relation: p.role, Enrolled: p.id != ""}
		if h := p.hh; h != nil {
			r.Household, r.Commune, r.Hamlet = h.id, h.commune.Code, hamlet(h.id)
		}
		r.Eligible = r.Enrolled || ageOn(p.dob, g.start) >= 14
		out = append(out, r)
	}
	return out
}

// hamlet draws a household's thôn (1-12) from its number.
func hamlet(household string) string {
	h := fnv.New32a()
	h.Write([]byte(household))
	return fmt.Sprintf("Thôn %d", h.Sum32()%12+1)
}
