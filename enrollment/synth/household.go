package synth

import (
	"fmt"
	"math/rand/v2"

	"fieldsync/enrollment"
)

// Household kinds and their shares [E], tuned so that households average
// ≈3.5 people (DOMAIN.md §7 item 4 [M]: 2019 census average ≈3.5) with the
// older, out-migrating population of rural Hà Tĩnh.
const (
	hhNuclear     = "nuclear"      // couple + children
	hhThreeGen    = "three_gen"    // elderly couple + married son, his wife, grandchildren
	hhGrandparent = "grandparent"  // couple + children + a parent of the head
	hhElderly     = "elderly"      // elderly couple alone
	hhAlone       = "alone"        // one elderly person
	hhSingle      = "single"       // single or divorced adult, maybe with a child
	hhYoungCouple = "young_couple" // newly-weds, maybe a baby
)

var householdKinds = []entry[string]{
	{hhNuclear, 46}, {hhThreeGen, 13}, {hhGrandparent, 9}, {hhElderly, 14},
	{hhAlone, 8}, {hhSingle, 6}, {hhYoungCouple, 4},
}

// Hard negatives and family events [E].
const (
	twinShare     = 0.015 // per birth (Vietnam ≈1–2% twin births [M])
	juniorShare   = 0.004 // a son named exactly like his father (rare: naming taboo)
	namesakeShare = 0.012 // a head/spouse copying the name+birth year of a recent neighbour
	maleHeadShare = 0.9   // married-couple households headed by the husband
)

// newHousehold builds the next household and queues its enrolled members.
func (g *Generator) newHousehold() error {
	r := g.r
	c := g.geo.pick.pick(r)
	g.households++
	h := &household{id: fmt.Sprintf("h%07d", g.households), commune: c, old: c.parts.pick(r), device: r.IntN(len(c.Devices))}
	h.bornAt = "042"
	if chance(r, bornAwayShare) {
		h.bornAt = g.bornAway.pick(r)
	}
	eth, rel := g.householdFaith(h.old)
	var err error
	switch g.hhKinds.pick(r) {
	case hhNuclear:
		err = g.buildCouple(h, eth, rel, between(r, 26, 62), true)
	case hhThreeGen:
		err = g.buildThreeGen(h, eth, rel)
	case hhGrandparent:
		err = g.buildWithGrandparent(h, eth, rel)
	case hhElderly:
		err = g.buildCouple(h, eth, rel, skewLow(r, 56, 92), false)
	case hhAlone:
		err = g.buildAlone(h, eth, rel)
	case hhSingle:
		err = g.buildSingle(h, eth, rel)
	default:
		err = g.buildCouple(h, eth, rel, between(r, 21, 30), true)
	}
	if err != nil {
		return err
	}
	g.finishHousehold(h)
	return nil
}

// householdFaith draws the household's ethnicity and religion from the
// local weights of its 2023 commune (DOMAIN.md §3.1, §3.2).
func (g *Generator) householdFaith(oc *oldCommune) (string, string) {
	r := g.r
	eth := "01"
	if oc.Mix != nil && chance(r, oc.Minority) {
		eth = oc.Mix.pick(r)
	}
	x := r.Float64()
	switch {
	case x < oc.Catholic:
		return eth, "Công giáo"
	case x < oc.Catholic+buddhistShare:
		return eth, "Phật giáo"
	case x < oc.Catholic+buddhistShare+protestantShare:
		return eth, "Tin Lành"
	}
	return eth, "Không"
}

// buildCouple: a head of headAge with spouse, and children at home if
// kids.
func (g *Generator) buildCouple(h *household, eth, rel string, headAge int, kids bool) error {
	husband, wife, err := g.couple(h, eth, rel, headAge)
	if err != nil {
		return err
	}
	if kids {
		return g.children(h, husband, wife, "Con", 32)
	}
	return nil
}

// couple creates a married couple; the head is usually the husband. Ages:
// husband 0–6 years older (sometimes the wife is older).
func (g *Generator) couple(h *household, eth, rel string, headAge int) (*person, *person, error) {
	r := g.r
	diff := between(r, -1, 6)
	hAge, wAge := headAge, headAge-diff
	maleHead := chance(r, maleHeadShare)
	if !maleHead {
		wAge, hAge = headAge, headAge+diff
	}
	if wAge < 18 {
		wAge = 18
	}
	if hAge < 20 {
		hAge = 20
	}
	husband, err := g.adult(h, eth, rel, enrollment.Male, hAge, "")
	if err != nil {
		return nil, nil, err
	}
	wife, err := g.adult(h, eth, rel, enrollment.Female, wAge, "")
	if err != nil {
		return nil, nil, err
	}
	husband.spouse, wife.spouse = wife, husband
	husband.marital, wife.marital = "Đã kết hôn", "Đã kết hôn"
	if maleHead {
		g.setHead(h, husband)
		wife.role = "Vợ"
		h.members = append(h.members, wife)
	} else {
		g.setHead(h, wife)
		husband.role = "Chồng"
		h.members = append(h.members, husband)
	}
	return husband, wife, nil
}

// setHead makes p the head (first member).
func (g *Generator) setHead(h *household, p *person) {
	p.role = "Chủ hộ"
	h.head = p
	h.members = append([]*person{p}, h.members...)
}

// buildThreeGen: elderly couple, their married son with his wife and
// children, maybe an unmarried younger child.
func (g *Generator) buildThreeGen(h *household, eth, rel string) error {
	r := g.r
	gf, gm, err := g.couple(h, eth, rel, skewLow(r, 54, 88))
	if err != nil {
		return err
	}
	son, err := g.child(h, gf, gm, enrollment.Male, g.ageOf(gm)-between(r, 20, 34), "Con")
	if err != nil {
		return err
	}
	if g.ageOf(son) < 20 {
		return g.children(h, gf, gm, "Con", 35)
	}
	dil, err := g.adult(h, eth, rel, enrollment.Female, g.ageOf(son)-between(r, 0, 5), "Con dâu")
	if err != nil {
		return err
	}
	son.spouse, dil.spouse = dil, son
	son.marital, dil.marital = "Đã kết hôn", "Đã kết hôn"
	h.members = append(h.members, dil)
	return g.children(h, son, dil, "Cháu", 30)
}

// buildWithGrandparent: a couple with children plus one parent of the
// head, widowed, living with them.
func (g *Generator) buildWithGrandparent(h *household, eth, rel string) error {
	r := g.r
	father, mother, err := g.couple(h, eth, rel, skewLow(r, 28, 58))
	if err != nil {
		return err
	}
	head := h.head
	sex, role := enrollment.Female, "Mẹ"
	if chance(r, 0.3) {
		sex, role = enrollment.Male, "Cha"
	}
	gp, err := g.adult(h, eth, rel, sex, min(g.ageOf(head)+between(r, 22, 38), 100), role)
	if err != nil {
		return err
	}
	gp.marital = "Góa"
	if sex == enrollment.Male {
		gp.name.Surname = head.name.Surname
		gp.hometown = head.hometown
		head.father = gp
	} else {
		head.mother = gp
	}
	h.members = append(h.members, gp)
	return g.children(h, father, mother, "Con", 30)
}

// buildAlone: an elderly person living alone, mostly a widow.
func (g *Generator) buildAlone(h *household, eth, rel string) error {
	r := g.r
	sex := enrollment.Female
	if chance(r, 0.25) {
		sex = enrollment.Male
	}
	p, err := g.adult(h, eth, rel, sex, skewLow(r, 58, 98), "")
	if err != nil {
		return err
	}
	p.marital = "Góa"
	g.setHead(h, p)
	return nil
}

// buildSingle: an unmarried young adult, or a widowed/divorced mother with
// children (their father, absent, is still their father on the form).
func (g *Generator) buildSingle(h *household, eth, rel string) error {
	r := g.r
	if chance(r, 0.5) {
		sex := enrollment.Male
		if chance(r, 0.4) {
			sex = enrollment.Female
		}
		p, err := g.adult(h, eth, rel, sex, between(r, 20, 45), "")
		if err != nil {
			return err
		}
		p.marital = "Chưa kết hôn"
		g.setHead(h, p)
		return nil
	}
	mother, err := g.adult(h, eth, rel, enrollment.Female, between(r, 28, 60), "")
	if err != nil {
		return err
	}
	mother.marital = "Góa"
	if chance(r, 0.4) {
		mother.marital = "Ly hôn"
	}
	g.setHead(h, mother)
	father, err := g.ghost(h, eth, rel, enrollment.Male, g.ageOf(mother)+between(r, 0, 6))
	if err != nil {
		return err
	}
	return g.children(h, father, mother, "Con", 30)
}

// ageOf is a person's age at the campaign start.
func (g *Generator) ageOf(p *person) int { return ageOn(p.dob, g.start) }

// skewLow draws an age in [lo, hi] skewed towards lo (the minimum of two
// uniform draws): the old-age tail of a population pyramid thins out.
func skewLow(r *rand.Rand, lo, hi int) int {
	return min(between(r, lo, hi), between(r, lo, hi))
}
