package altgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
)

// original emits p's first record.
func (g *gen) original(p *person) Record {
	p.emitted = true
	g.emitted = append(g.emitted, p)
	e := g.render(p)
	r := g.r
	switch x := r.Float64(); { // how originals are typed
	case x < 0.06:
		e.FullName = strings.ToUpper(e.FullName)
	case x < 0.07:
		e.FullName = norm.NFD.String(e.FullName)
	case x < 0.09:
		e.FullName = noMarks(e.FullName)
	}
	if r.Float64() < 0.01 {
		e.PersonalID = ""
	}
	return g.record(p, e, false, nil)
}

func (g *gen) record(p *person, e enrollment.Enrollment, again bool, noise []string) Record {
	rec := Record{Enrollment: e, Person: p.id, Name: p.name.String(), DOB: p.dob, Reenrollment: again, Noise: noise,
		Look: p.look, LookOf: p.lookOf}
	if p.father != nil {
		rec.Father = p.father.id
	}
	if p.mother != nil {
		rec.Mother = p.mother.id
	}
	return rec
}

// render writes p's record as a clerk fills the form: relatives' numbers
// and dates only sometimes, places mostly as text.
func (g *gen) render(p *person) enrollment.Enrollment {
	r := g.r
	c := p.hh.commune
	e := enrollment.Enrollment{
		PersonalID: p.pin, FullName: p.name.String(), DateOfBirth: p.dob, Sex: p.sex,
		EthnicityCode: "01", Religion: "Không", Nationality: []string{"Việt Nam"},
		BirthRegistration:  g.birthPlace(p),
		Hometown:           enrollment.Place{Text: "Xã " + p.hometown + ", Tỉnh Nghệ An"},
		PermanentResidence: enrollment.Place{UnitCode: c.code, CodeList: enrollment.CodeList2025, Text: "Xã " + c.name + ", Tỉnh Nghệ An"},
		Occupation:         pick(r, jobs),
		RelationToHead:     p.role,
		Capture:            g.capture(c),
	}
	if p.catholic {
		e.Religion = "Công giáo"
	}
	if r.Float64() < 0.3 {
		e.Hometown = enrollment.Place{Text: "Nghệ An"}
	}
	adult := g.start.Year()-p.dob.Year >= 18
	if p.father != nil && (!adult || r.Float64() < 0.8) {
		e.Father = g.relative(p.father)
	}
	if p.mother != nil && (!adult || r.Float64() < 0.8) {
		e.Mother = g.relative(p.mother)
	}
	if p.spouse != nil && r.Float64() < 0.6 {
		e.Spouse = g.relative(p.spouse)
		e.MaritalStatus = "Đã kết hôn"
	}
	head := g.relative(p.hh.head)
	if r.Float64() < 0.3 {
		head.PersonalID = ""
	}
	e.HouseholdHead = head
	return e
}

func (g *gen) relative(p *person) *enrollment.Relative {
	rel := &enrollment.Relative{FullName: p.name.String()}
	if g.r.Float64() < 0.55 {
		rel.PersonalID = p.pin
	}
	if g.r.Float64() < 0.35 {
		d := p.dob
		rel.DateOfBirth = &d
	}
	return rel
}

func (g *gen) birthPlace(p *person) enrollment.Place {
	if p.prefix != "040" || g.r.Float64() < 0.4 {
		return enrollment.Place{UnitCode: prefixProvinceCode[p.prefix], CodeList: enrollment.CodeList2023, Text: prefixProvince[p.prefix]}
	}
	return enrollment.Place{Text: fmt.Sprintf("Xã %s, %s, Tỉnh Nghệ An", p.hometown, p.home.district)}
}

func (g *gen) capture(c *commune) enrollment.Capture {
	at := g.start.Add(time.Duration(len(g.out)) * 41 * time.Second).Add(time.Duration(g.r.IntN(3600)) * time.Second)
	return enrollment.Capture{CommuneCode: c.code, CodeList: enrollment.CodeList2025,
		Officer: fmt.Sprintf("NA%s-%02d", c.code, g.r.IntN(8)), Device: fmt.Sprintf("%016x", g.r.Uint64()),
		CapturedAt: at, RequestType: "Cấp mới"}
}

// reenroll emits another record of p with its own defects; at least one
// of name, ID number and date of birth differs from the clean record.
func (g *gen) reenroll(p *person) Record {
	r := g.r
	e := g.render(p)
	clean := e
	var kinds []string
	for _, nr := range noiseRates {
		if r.Float64() < nr.p {
			kinds = append(kinds, nr.kind)
		}
	}
	kinds = compatible(kinds)
	g.apply(&e, p, kinds)
	for tries := 0; tries < 8 && e.FullName == clean.FullName && e.PersonalID == clean.PersonalID && e.DateOfBirth == clean.DateOfBirth; tries++ {
		k := identityKinds[pickIndex(r, identityWeights)]
		if slices.Contains(kinds, k) {
			continue
		}
		kinds = compatible(append(kinds, k))
		e = clean
		g.apply(&e, p, kinds)
	}
	return g.record(p, e, true, kinds)
}

// identityKinds change the name, ID number or date of birth; one is drawn
// (by its rate) when none was.
var identityKinds, identityWeights = func() ([]string, []int) {
	var ks []string
	var ws []int
	for _, nr := range noiseRates {
		switch nr.kind {
		case NoiseParentsDropped, NoiseParentsNoMarks, NoiseMoved, NoiseHometownCoarse, NoiseSexFlipped:
			continue
		}
		ks, ws = append(ks, nr.kind), append(ws, int(nr.p*1000))
	}
	return ks, ws
}()

func pickIndex(r *rand.Rand, ws []int) int {
	total := 0
	for _, w := range ws {
		total += w
	}
	x := r.IntN(total)
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

// compatible drops kinds that another one drawn makes moot.
func compatible(kinds []string) []string {
	has := func(k string) bool { return slices.Contains(kinds, k) }
	var out []string
	for _, k := range kinds {
		switch {
		case has(NoiseIDAbsent) && (k == NoiseIDDigit || k == NoiseIDSwap),
			k == NoiseIDSwap && has(NoiseIDDigit),
			has(NoiseNoMarks) && (k == NoiseMarkLost || k == NoiseToneLost || k == NoiseHoiNga),
			has(NoiseMiddleMissing) && k == NoiseMiddleExtra,
			has(NoiseYearShift) && (k == NoiseDayMonthSwap || k == NoiseMonthOnly || k == NoiseJan1),
			has(NoiseDayMonthSwap) && (k == NoiseMonthOnly || k == NoiseJan1),
			has(NoiseMonthOnly) && k == NoiseJan1:
			continue
		}
		out = append(out, k)
	}
	return out
}

// apply applies the defects to e.
func (g *gen) apply(e *enrollment.Enrollment, p *person, kinds []string) {
	r := g.r
	has := func(k string) bool { return slices.Contains(kinds, k) }
	n := nameParts{sur: p.name.sur, mid: append([]string(nil), p.name.mid...), given: p.name.given}
	if has(NoiseSurnameSwap) {
		n.sur = map[string]string{"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}[n.sur]
		if n.sur == "" {
			n.sur = p.name.sur
		}
	}
	if has(NoiseMiddleMissing) {
		n.mid = nil
	}
	if has(NoiseMiddleExtra) {
		extra := "Văn"
		if p.sex == enrollment.Female {
			extra = "Thị"
		}
		if slices.Contains(n.mid, extra) {
			extra = pick(r, lineageMiddles)
		}
		n.mid = append([]string{extra}, n.mid...)
	}
	if has(NoiseGivenMisspelt) {
		n.given = misspell(r.IntN(1<<30), n.given)
	}
	name := n.String()
	if has(NoiseMarkLost) {
		name = onOneSyllable(r.IntN(1<<30), name, dropQuality)
	}
	if has(NoiseToneLost) {
		name = onOneSyllable(r.IntN(1<<30), name, dropTone)
	}
	if has(NoiseHoiNga) {
		name = onOneSyllable(r.IntN(1<<30), name, hoiNga)
	}
	if has(NoiseNoMarks) {
		name = noMarks(name)
	}
	if has(NoiseUpper) {
		name = strings.ToUpper(name)
	}
	e.FullName = name
	g.applyID(e, kinds)
	applyDate(e, kinds)
	if has(NoiseParentsDropped) {
		switch r.IntN(3) {
		case 0:
			e.Father = nil
		case 1:
			e.Mother = nil
		default:
			e.Father, e.Mother = nil, nil
		}
	}
	if has(NoiseParentsNoMarks) {
		for _, rel := range []*enrollment.Relative{e.Father, e.Mother} {
			if rel != nil {
				c := *rel
				c.FullName = noMarks(c.FullName)
				*rel = c
			}
		}
	}
	if has(NoiseMoved) {
		c := g.communes[r.IntN(len(g.communes))]
		e.PermanentResidence = enrollment.Place{UnitCode: c.code, CodeList: enrollment.CodeList2025, Text: "Xã " + c.name + ", Tỉnh Nghệ An"}
		e.Capture = g.capture(c)
		if r.Float64() < 0.6 || p.spouse == nil {
			e.HouseholdHead, e.RelationToHead = g.relative(p), "Chủ hộ"
		} else {
			e.HouseholdHead, e.RelationToHead = g.relative(p.spouse), roleOf(p, p.spouse)
		}
	}
	if has(NoiseHometownCoarse) {
		e.Hometown = enrollment.Place{Text: "Tỉnh Nghệ An"}
	}
	if has(NoiseSexFlipped) {
		if e.Sex == enrollment.Male {
			e.Sex = enrollment.Female
		} else {
			e.Sex = enrollment.Male
		}
	}
}

func (g *gen) applyID(e *enrollment.Enrollment, kinds []string) {
	r := g.r
	b := []byte(e.PersonalID)
	switch {
	case slices.Contains(kinds, NoiseIDAbsent):
		e.PersonalID = ""
	case slices.Contains(kinds, NoiseIDDigit) && len(b) == 12:
		i := 3 + r.IntN(9)
		b[i] = byte('0' + (int(b[i]-'0')+1+r.IntN(9))%10)
		e.PersonalID = string(b)
	case slices.Contains(kinds, NoiseIDSwap) && len(b) == 12:
		for t := 0; t < 20; t++ {
			i := 3 + r.IntN(8)
			if b[i] != b[i+1] {
				b[i], b[i+1] = b[i+1], b[i]
				break
			}
		}
		e.PersonalID = string(b)
	}
}

func applyDate(e *enrollment.Enrollment, kinds []string) {
	d := e.DateOfBirth
	switch {
	case slices.Contains(kinds, NoiseYearShift):
		if d.Day%3 == 0 {
			d.Year++
		} else {
			d.Year--
		}
		if d.Month == 2 && d.Day == 29 {
			d.Day = 28
		}
	case slices.Contains(kinds, NoiseDayMonthSwap) && d.Day >= 1 && d.Day <= 12:
		d.Day, d.Month = d.Month, d.Day
	case slices.Contains(kinds, NoiseMonthOnly) && d.Month != 0:
		d.Day = 0
	case slices.Contains(kinds, NoiseJan1) && d.Month != 0:
		d.Day, d.Month = 1, 1
	}
	if d.Year > 2025 {
		d.Year = 2025
	}
	e.DateOfBirth = d
}

// misspell writes a given name (its last syllable) as another clerk
// would: l/n (Northern speech), i/y, a final nh/n, r/d/gi, a letter left
// out, two letters swapped. seed picks among what applies.
func misspell(seed int, given string) string {
	words := strings.Fields(given)
	w := words[len(words)-1]
	lw := strings.ToLower(w)
	var opts []string
	swapInitial := func(from, to string) {
		if strings.HasPrefix(lw, from) && !(from == "n" && strings.HasPrefix(lw, "ng")) && !(from == "n" && strings.HasPrefix(lw, "nh")) {
			opts = append(opts, titleCase(to+string([]rune(lw)[len([]rune(from)):])))
		}
	}
	swapInitial("l", "n")
	swapInitial("n", "l")
	swapInitial("r", "d")
	swapInitial("d", "r")
	swapInitial("gi", "r")
	if strings.HasSuffix(lw, "nh") {
		opts = append(opts, titleCase(strings.TrimSuffix(lw, "h")))
	}
	if strings.HasSuffix(lw, "y") {
		opts = append(opts, titleCase(strings.TrimSuffix(lw, "y")+"i"))
	}
	if rs := []rune(lw); len(rs) >= 3 {
		i := 1 + seed%(len(rs)-1)
		opts = append(opts, titleCase(string(rs[:i])+string(rs[i+1:])))
		if j := seed % (len(rs) - 1); rs[j] != rs[j+1] {
			t := append([]rune(nil), rs...)
			t[j], t[j+1] = t[j+1], t[j]
			opts = append(opts, titleCase(string(t)))
		}
	}
	if len(opts) == 0 {
		opts = append(opts, w+strings.ToLower(string([]rune(w)[len([]rune(w))-1:])))
	}
	words[len(words)-1] = opts[seed%len(opts)]
	return strings.Join(words, " ")
}

func titleCase(s string) string {
	rs := []rune(s)
	if len(rs) > 0 {
		rs[0] = unicode.ToUpper(rs[0])
	}
	return string(rs)
}

// onOneSyllable applies f to one syllable that it changes (chosen by
// seed among them), or returns name unchanged.
func onOneSyllable(seed int, name string, f func(string) string) string {
	words := strings.Split(name, " ")
	var changed []int
	for i, w := range words {
		if f(w) != w {
			changed = append(changed, i)
		}
	}
	if len(changed) == 0 {
		return name
	}
	i := changed[seed%len(changed)]
	words[i] = f(words[i])
	return strings.Join(words, " ")
}

// dropQuality drops the horn, breve and circumflex (ư→u, ơ→o, ă/â→a,
// ê→e, ô→o), keeping the tone: faded ink on an old register.
func dropQuality(w string) string {
	return mapNFD(w, func(r rune) rune {
		if r == '\u031b' || r == '\u0306' || r == '\u0302' {
			return -1
		}
		return r
	})
}

// dropTone drops the tone mark.
func dropTone(w string) string {
	return mapNFD(w, func(r rune) rune {
		switch r {
		case '\u0300', '\u0301', '\u0303', '\u0309', '\u0323':
			return -1
		}
		return r
	})
}

func hoiNga(w string) string {
	return mapNFD(w, func(r rune) rune {
		switch r {
		case '\u0309':
			return '\u0303'
		case '\u0303':
			return '\u0309'
		}
		return r
	})
}

func mapNFD(w string, f func(rune) rune) string {
	return norm.NFC.String(strings.Map(f, norm.NFD.String(w)))
}

// noMarks drops every mark and writes đ as d.
func noMarks(s string) string {
	s = strings.NewReplacer("đ", "d", "Đ", "D").Replace(s)
	return norm.NFC.String(strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFD.String(s)))
}
