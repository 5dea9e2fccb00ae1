package synth

import (
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
)

// Noise kinds: the defects a re-enrollment may carry (DOMAIN.md §1.5, §2.4,
// §5.5). A re-enrollment has 1–3 of them, and always differs from its
// original in the name, the ID number or the date of birth.
const (
	NoiseNFD             = "nfd"                   // name in NFD instead of NFC (§5.5(1))
	NoiseNoDiacritics    = "no_diacritics"         // marks stripped, đ→d (§5.5(5))
	NoiseToneStyle       = "tone_style"            // hòa↔hoà, thủy↔thuỷ (§5.5(3))
	NoiseSpaces          = "spaces"                // double, leading or trailing space (§5.5(6))
	NoiseUppercase       = "uppercase"             // typed from the UPPERCASE card (§5.5(7))
	NoiseSurnameVariant  = "surname_variant"       // Hoàng↔Huỳnh, Vũ↔Võ (§5.2, §5.5(8))
	NoiseMiddleDropped   = "middle_dropped"        // "Nguyễn A" for "Nguyễn Văn A" (§5.5(8))
	NoiseIDTransposed    = "id_transposed"         // two adjacent digits swapped (§1.5)
	NoiseIDLostZero      = "id_lost_zero"          // leading 0 lost: 11 digits, read back 0-padded (§1.5)
	NoiseIDDigitDropped  = "id_digit_dropped"      // one digit dropped: 11 digits starting with 0, rejected
	NoiseIDDigitMistyped = "id_digit_mistyped"     // one digit mistyped (§5.5: PIN typo)
	NoiseIDMissing       = "id_missing"            // came without the card: provisional record
	NoiseDOBSwapped      = "dob_day_month_swapped" // 03/04 for 04/03 (both ≤ 12)
	NoiseDOBYearOnly     = "dob_year_only"         // only the year
	NoiseDOB0101         = "dob_default_0101"      // unknown date defaulted to 01/01 (§2.4)

	NoiseGivenTypo        = "given_typo"        // a keystroke error in the given name: Tuấnn, Hạh (§5.5(10))
	NoiseMiddleTypo       = "middle_typo"       // ... in a middle name
	NoiseSurnameTypo      = "surname_typo"      // ... in the surname
	NoiseHoiNga           = "hoi_nga"           // hỏi and ngã exchanged: Dũng/Dủng (§5.5(9))
	NoiseRegionalSpelling = "regional_spelling" // an initial or final heard another way: tr/ch, s/x, d/gi/v, n/ng, t/c (§5.5(9))
	NoiseMiddleAdded      = "middle_added"      // a middle name added: "Nguyễn Văn A" for "Nguyễn A"
	NoiseDOBYearOff       = "dob_year_off"      // birth year one off (lunar age, tuổi mụ) (§5.5(11))
	NoiseParentsOmitted   = "parents_omitted"   // father, mother or both left out
	NoiseHouseholdMoved   = "household_moved"   // moved out to a household of their own: another head and residence
)

// NoiseKinds lists every noise kind in the order they are applied.
var NoiseKinds = []string{
	NoiseSurnameVariant, NoiseSurnameTypo, NoiseMiddleDropped, NoiseMiddleAdded, NoiseMiddleTypo,
	NoiseGivenTypo, NoiseRegionalSpelling, NoiseHoiNga, NoiseToneStyle, NoiseNoDiacritics,
	NoiseUppercase, NoiseSpaces, NoiseNFD,
	NoiseIDMissing, NoiseIDTransposed, NoiseIDDigitMistyped, NoiseIDLostZero, NoiseIDDigitDropped,
	NoiseDOBSwapped, NoiseDOBYearOnly, NoiseDOB0101, NoiseDOBYearOff,
	NoiseParentsOmitted, NoiseHouseholdMoved,
}

// Quirk tags (besides the surface Noise* names found naturally in
// originals: see doc.go).
const (
	QuirkNamesake         = "namesake"          // same name and birth year as an earlier neighbour (SimilarTo)
	QuirkNamesakeDay      = "namesake_same_day" // ... and the same date of birth too
	QuirkTwin             = "twin"              // a twin: same parents and date of birth
	QuirkJunior           = "junior"            // a son named exactly like his father (SimilarTo)
	QuirkDecree70Year     = "decree70_year"     // ID number encodes another birth year (§0.3)
	QuirkDecree70Sex      = "decree70_sex"      // ID number encodes the other sex (§0.3)
	QuirkUnder14          = "under_14"          // a 6–13 year-old enrolled on request (2023 law)
	QuirkCurrentElsewhere = "current_elsewhere" // lives in another commune than the permanent one
	QuirkMoved            = "moved"             // re-enrolled elsewhere after moving (current residence)
	QuirkMovedPermanent   = "moved_permanent"   // ... and re-registered permanent residence there
)

// Re-enrollment defect model [E], calibrated from DOMAIN.md §5.5's mix
// table but conditional on a re-enrollment. About half of re-enrollments
// keep the ID number (same-key conflicts at the hub; id_lost_zero reads
// back as the same key too); the rest are probable-duplicate candidates.
const idDefectShare = 0.5

var (
	// idDefects: which ID defect, given one.
	// id_digit_dropped is the one defect a validator rejects (11 digits
	// starting with 0 cannot be a lost leading zero), as an import of an
	// unvalidated spreadsheet would be: kept rare.
	idDefects = []entry[string]{{NoiseIDMissing, 32}, {NoiseIDTransposed, 24},
		{NoiseIDDigitMistyped, 22}, {NoiseIDLostZero, 16}, {NoiseIDDigitDropped, 6}}
	// fieldDefects: name, date and family defects. §5.5 ranks NFD
	// (3–5%), spaces (2%), missing diacritics (1–2%) and tone flips
	// (10–20% of eligible names) as common, Hoàng/Huỳnh (0.2%) and dropped
	// middles (0.5%) as rare; the rare ones are raised here so that every
	// kind is exercised, and they only apply where possible (e.g. a
	// Hoàng/Vũ surname). Keystroke errors, regional spellings, a year off
	// by one, omitted parents and a move to another household (§5.5 items
	// 9–12) have no measured rate [E].
	fieldDefects = []entry[string]{{NoiseNFD, 18}, {NoiseToneStyle, 20}, {NoiseNoDiacritics, 12},
		{NoiseSpaces, 10}, {NoiseUppercase, 10}, {NoiseMiddleDropped, 7}, {NoiseSurnameVariant, 15},
		{NoiseDOBSwapped, 8}, {NoiseDOBYearOnly, 5}, {NoiseDOB0101, 6},
		{NoiseGivenTypo, 8}, {NoiseMiddleTypo, 3}, {NoiseSurnameTypo, 3}, {NoiseHoiNga, 6},
		{NoiseRegionalSpelling, 6}, {NoiseMiddleAdded, 4}, {NoiseDOBYearOff, 6},
		{NoiseParentsOmitted, 6}, {NoiseHouseholdMoved, 6}}
	// How many name/date defects, with and without an ID defect (1–3 in all).
	defectsWithID    = []entry[int]{{0, 35}, {1, 45}, {2, 20}}
	defectsWithoutID = []entry[int]{{1, 60}, {2, 30}, {3, 10}}
)

// Re-enrollment circumstances [E].
const (
	reenrollKeepShare = 0.15 // a person may come a third time
	movedShare        = 0.2  // re-enrolled in another commune after moving
	movedPermShare    = 0.3  // ... who also moved their permanent residence
	maxReenrollDelay  = 45   // days after the original
)

// poolEntry is an emitted original that may be re-enrolled.
type poolEntry struct {
	p    *person
	e    enrollment.Enrollment
	line int
	at   time.Time
}

// reenroll emits a noisy re-enrollment of a recent original.
func (g *Generator) reenroll() Record {
	r := g.r
	i := r.IntN(len(g.pool))
	pe := g.pool[i]
	if !chance(r, reenrollKeepShare) {
		g.pool[i] = g.pool[len(g.pool)-1]
		g.pool[len(g.pool)-1] = nil
		g.pool = g.pool[:len(g.pool)-1]
	}
	g.dups++
	line := g.newLine()
	p := pe.p
	c, device, quirks := g.reenrollPlace(p)
	e, blobs := g.render(p, g.capture(c, device, laterSlot(r, pe.at)))
	if c != p.hh.commune {
		e.CurrentResidence = &c.Place
		if slices.Contains(quirks, QuirkMovedPermanent) {
			e.PermanentResidence = c.Place
		}
	}
	kinds := g.applyDefects(&e, p, &pe.e)
	quirks = append(append([]string(nil), p.quirks...), quirks...)
	return Record{Line: line, Enrollment: e, Person: p.id, Household: p.hh.id,
		DuplicateOf: pe.line, Noise: kinds, Quirks: quirks, SimilarTo: similarLine(p), Blobs: blobs}
}

// reenrollPlace picks the capturing commune and device: another device of
// the same commune, or another commune after a move.
func (g *Generator) reenrollPlace(p *person) (*commune, int, []string) {
	r := g.r
	home := p.hh.commune
	if len(g.geo.communes) > 1 && chance(r, movedShare) {
		for i := 0; i < 8; i++ {
			c := g.geo.pick.pick(r)
			if c == home {
				continue
			}
			q := []string{QuirkMoved}
			if chance(r, movedPermShare) {
				q = append(q, QuirkMovedPermanent)
			}
			return c, r.IntN(len(c.Devices)), q
		}
	}
	n := len(home.Devices)
	if n == 1 {
		return home, 0, nil
	}
	return home, (p.hh.device + 1 + r.IntN(n-1)) % n, nil
}

// laterSlot is a day-shift time 1–45 days after t (skewed short), never on
// a Sunday.
func laterSlot(r interface {
	Float64() float64
	IntN(int) int
}, t time.Time) time.Time {
	days := 1 + int(math.Min(-math.Log(1-r.Float64())*7, maxReenrollDelay-1))
	d := t.In(ict)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, ict).AddDate(0, 0, days)
	if day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	s := morning
	if r.IntN(2) == 1 {
		s = afternoon
	}
	return day.Add(time.Duration(s.from+r.IntN(s.to-s.from)) * time.Second)
}

// applyDefects draws defects until the record differs from the original in
// its name, ID number or date of birth, applies them and returns them.
func (g *Generator) applyDefects(e *enrollment.Enrollment, p *person, orig *enrollment.Enrollment) []string {
	for attempt := 0; ; attempt++ {
		kinds := g.drawDefects(p)
		if attempt >= 8 {
			kinds = []string{NoiseSpaces} // spaces always change a name
		}
		name, pin, dob := g.applyKinds(p, kinds)
		if attempt < 8 && slices.Contains(kinds, NoiseNFD) && norm.NFC.IsNormalString(name) {
			continue // the defects left no letter to decompose ("Vi Anh")
		}
		if attempt >= 8 || name != orig.FullName || pin != orig.PersonalID || dob != orig.DateOfBirth {
			e.FullName, e.PersonalID, e.DateOfBirth = name, pin, dob
			g.applyContext(e, p, kinds)
			return kinds
		}
	}
}

// drawDefects draws an optional ID defect and 0–3 name/date defects.
func (g *Generator) drawDefects(p *person) []string {
	r := g.r
	var kinds []string
	if chance(r, idDefectShare) {
		for i := 0; i < 8; i++ {
			if k := g.idKinds.pick(r); g.applicable(p, k) {
				kinds = append(kinds, k)
				break
			}
		}
	}
	want := g.defectCounts[1].pick(r)
	if len(kinds) > 0 {
		want = g.defectCounts[0].pick(r)
	}
	for added, tries := 0, 0; added < want && tries < 40; tries++ {
		k := g.defects.pick(r)
		if slices.Contains(kinds, k) || conflicts(kinds, k) || !g.applicable(p, k) {
			continue
		}
		kinds = append(kinds, k)
		added++
	}
	slices.SortFunc(kinds, func(a, b string) int { return slices.Index(NoiseKinds, a) - slices.Index(NoiseKinds, b) })
	return kinds
}

// conflicts: kinds that cannot co-occur (stripped text has no NFD or tone;
// one date defect at most).
func conflicts(have []string, k string) bool {
	for _, h := range have {
		switch {
		case isDOBKind(h) && isDOBKind(k):
			return true
		case h == NoiseNoDiacritics && (k == NoiseNFD || k == NoiseToneStyle || k == NoiseHoiNga),
			k == NoiseNoDiacritics && (h == NoiseNFD || h == NoiseToneStyle || h == NoiseHoiNga),
			h == NoiseMiddleDropped && (k == NoiseMiddleAdded || k == NoiseMiddleTypo),
			k == NoiseMiddleDropped && (h == NoiseMiddleAdded || h == NoiseMiddleTypo):
			return true
		}
	}
	return false
}

func isDOBKind(k string) bool {
	return k == NoiseDOBSwapped || k == NoiseDOBYearOnly || k == NoiseDOB0101 || k == NoiseDOBYearOff
}

// applicable: whether kind k can change p's record.
func (g *Generator) applicable(p *person, k string) bool {
	d := p.dob
	switch k {
	case NoiseToneStyle:
		return g.names.hasToneChoice(p.name)
	case NoiseSurnameVariant:
		_, ok := surnameVariants[p.name.Surname]
		return ok
	case NoiseMiddleDropped:
		return len(p.name.Middle) > 0
	case NoiseDOBSwapped:
		return d.Day != 0 && d.Day <= 12 && d.Month <= 12 && d.Day != d.Month
	case NoiseDOBYearOnly:
		return d.Month != 0
	case NoiseDOB0101:
		// unknown dates are an old people's problem (§2.4): rarer when young
		return !(d.Month == 1 && d.Day == 1) && (d.Year < 1975 || chance(g.r, 0.3))
	case NoiseIDTransposed:
		return transposable(p.pin)
	case NoiseIDLostZero:
		// a spreadsheet strips every leading zero: prefixes 001–009 would
		// lose two and read back as another number
		return p.pin[1] != '0'
	case NoiseNFD:
		return !isASCII(p.name.String())
	case NoiseMiddleTypo:
		return len(p.name.Middle) > 0
	case NoiseHoiNga:
		_, ok := hoiNgaWord(p.name)
		return ok
	case NoiseRegionalSpelling:
		_, ok := regionalSpelling(g.r, lastSyllable(p.name.Given))
		return ok
	case NoiseParentsOmitted:
		return p.father != nil || p.mother != nil
	case NoiseHouseholdMoved:
		return p.hh.head != p && len(g.geo.communes) > 1
	case NoiseDOBYearOff:
		return p.dob.Year < g.start.Year()-1
	}
	return true
}

// lastSyllable is the last word of a given name ("Huy" of "Gia Huy").
func lastSyllable(given string) string {
	if i := strings.LastIndexByte(given, ' '); i >= 0 {
		return given[i+1:]
	}
	return given
}

// withLastSyllable replaces the last word of a given name.
func withLastSyllable(given, syl string) string {
	if i := strings.LastIndexByte(given, ' '); i >= 0 {
		return given[:i+1] + syl
	}
	return syl
}

// hoiNgaWord is the name with hỏi and ngã exchanged in one syllable, the
// given name's when it has one of them (the part clerks hear and write).
func hoiNgaWord(n personName) (personName, bool) {
	if s, ok := swapHoiNga(n.Given); ok {
		n.Given = s
		return n, true
	}
	for i, m := range n.Middle {
		if s, ok := swapHoiNga(m); ok {
			n.Middle = append([]string(nil), n.Middle...)
			n.Middle[i] = s
			return n, true
		}
	}
	if s, ok := swapHoiNga(n.Surname); ok {
		n.Surname = s
		return n, true
	}
	return n, false
}

// surnameVariants: the North/South pairs of DOMAIN.md §5.2.
var surnameVariants = map[string]string{"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}

// applyKinds renders p's name, ID and date of birth with the defects.
func (g *Generator) applyKinds(p *person, kinds []string) (string, string, enrollment.Date) {
	has := func(k string) bool { return slices.Contains(kinds, k) }
	n := p.name
	n.Middle = append([]string(nil), p.name.Middle...)
	if has(NoiseSurnameVariant) {
		n.Surname = surnameVariants[n.Surname]
	}
	if has(NoiseMiddleDropped) {
		n.Middle = n.Middle[1:]
	}
	if has(NoiseMiddleAdded) {
		n.Middle = append([]string{g.addedMiddle(p)}, n.Middle...)
	}
	if has(NoiseSurnameTypo) {
		n.Surname = keyboardTypo(g.r, n.Surname)
	}
	if has(NoiseMiddleTypo) {
		i := g.r.IntN(len(n.Middle))
		n.Middle[i] = keyboardTypo(g.r, n.Middle[i])
	}
	if has(NoiseRegionalSpelling) {
		syl, _ := regionalSpelling(g.r, lastSyllable(n.Given))
		n.Given = withLastSyllable(n.Given, syl)
	}
	if has(NoiseGivenTypo) {
		n.Given = withLastSyllable(n.Given, keyboardTypo(g.r, lastSyllable(n.Given)))
	}
	if has(NoiseHoiNga) {
		n, _ = hoiNgaWord(n)
	}
	if has(NoiseToneStyle) {
		n.Style = 1 - n.Style
	}
	s := n.String()
	if has(NoiseNoDiacritics) {
		s = stripDiacritics(s)
	}
	if has(NoiseUppercase) {
		s = upper(s)
	}
	if has(NoiseSpaces) {
		s = g.addSpaces(s)
	}
	if has(NoiseNFD) {
		s = toNFD(s)
	}
	return s, g.mutatePIN(p.pin, kinds), mutateDOB(p.dob, kinds)
}

// addSpaces doubles a space, or adds a trailing or leading one.
func (g *Generator) addSpaces(s string) string {
	parts := strings.Split(s, " ")
	x := g.r.Float64()
	switch {
	case x < 0.6 && len(parts) > 1:
		i := 1 + g.r.IntN(len(parts)-1)
		parts[i] = " " + parts[i]
		return strings.Join(parts, " ")
	case x < 0.85:
		return s + " "
	}
	return " " + s
}

// mutatePIN applies at most one ID defect. Typos stay in digits 4–12 so
// the prefix stays a valid province (a device rejects a bad prefix at
// entry, so such a record would never reach the hub).
func (g *Generator) mutatePIN(pin string, kinds []string) string {
	b := []byte(pin)
	r := g.r
	switch {
	case slices.Contains(kinds, NoiseIDMissing):
		return ""
	case slices.Contains(kinds, NoiseIDLostZero):
		return strings.TrimLeft(pin, "0")
	case slices.Contains(kinds, NoiseIDDigitDropped):
		i := 3 + r.IntN(9)
		return pin[:i] + pin[i+1:]
	case slices.Contains(kinds, NoiseIDDigitMistyped):
		i := 3 + r.IntN(9)
		b[i] = '0' + byte((int(b[i]-'0')+1+r.IntN(9))%10)
	case slices.Contains(kinds, NoiseIDTransposed):
		for {
			i := 3 + r.IntN(8)
			if b[i] != b[i+1] {
				b[i], b[i+1] = b[i+1], b[i]
				break
			}
		}
	}
	return string(b)
}

// transposable: some adjacent pair among digits 4–12 differs.
func transposable(pin string) bool {
	for i := 3; i+1 < len(pin); i++ {
		if pin[i] != pin[i+1] {
			return true
		}
	}
	return false
}

// applyContext applies the defects outside name, ID and date: parents
// left out, and a move to a household of one's own in another commune
// (the person heads it; spouse and parents stay as they were).
func (g *Generator) applyContext(e *enrollment.Enrollment, p *person, kinds []string) {
	if slices.Contains(kinds, NoiseParentsOmitted) {
		switch x := g.r.IntN(3); {
		case x == 0 || e.Mother == nil:
			e.Father = nil
		case x == 1 || e.Father == nil:
			e.Mother = nil
		default:
			e.Father, e.Mother = nil, nil
		}
	}
	if slices.Contains(kinds, NoiseHouseholdMoved) {
		for i := 0; i < 8; i++ {
			if c := g.geo.pick.pick(g.r); c != p.hh.commune {
				e.PermanentResidence = c.Place
				e.CurrentResidence = &c.Place
				break
			}
		}
		e.HouseholdHead, e.RelationToHead = p.relative(), "Chủ hộ"
	}
}

// addedMiddle is a middle name a clerk adds to p's name: the cohort's
// usual Văn or Thị when p has none, else another common middle name.
func (g *Generator) addedMiddle(p *person) string {
	if len(p.name.Middle) == 0 {
		if p.sex == enrollment.Female {
			return "Thị"
		}
		return "Văn"
	}
	for i := 0; i < 8; i++ {
		if m := g.names.middle(g.r, p.sex, cohortOf(p.dob.Year)); m != "" && !slices.Contains(p.name.Middle, m) {
			return m
		}
	}
	return "Minh"
}

// mutateDOB applies at most one date defect.
func mutateDOB(d enrollment.Date, kinds []string) enrollment.Date {
	switch {
	case slices.Contains(kinds, NoiseDOBYearOff):
		if d.Month == 12 || d.Day%2 == 0 { // lunar age adds a year: mostly earlier
			d.Year--
		} else {
			d.Year++
		}
		if d.Month == 2 && d.Day == 29 {
			d.Day = 28
		}
	case slices.Contains(kinds, NoiseDOBSwapped):
		d.Day, d.Month = d.Month, d.Day
	case slices.Contains(kinds, NoiseDOBYearOnly):
		d.Day, d.Month = 0, 0
	case slices.Contains(kinds, NoiseDOB0101):
		d.Day, d.Month = 1, 1
	}
	return d
}
