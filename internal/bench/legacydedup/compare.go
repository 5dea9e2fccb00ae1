package legacydedup

import (
	"math"

	"fieldsync/enrollment"
)

// Evidence weights, in points: one point doubles the odds that two records
// are the same person (log2 likelihood ratios, rounded to whole points so
// that Score is computed exactly on every machine). doc.go explains each.
const (
	wPrior = -13 // a candidate pair from blocking, before any evidence

	wIDEqual        = 12
	wIDTypo         = 9   // one digit or an adjacent swap, in a plausible place
	wIDNearWeak     = 3   // one typo apart, but in a birth year/sex/province digit both records contradict
	wIDTwoTypos     = 0   // two typos apart: both mistyped copies of one number, or chance (neutral)
	wIDDiffers      = -14 // two card numbers far apart: two people, as a rule
	wIDInconsistent = -3
	wRelative       = -24

	wGivenEqual     = 4
	wGivenFold      = 3 // equal without diacritics, one name typed without them
	wGivenDiffers   = -16
	wSurnameEqual   = 2
	wSurnameVariant = 0
	wSurnameDiffers = -6
	wMiddleEqual    = 1
	wMiddleDropped  = 0
	wMiddleDiffers  = -3

	wDOBEqual        = 6
	wDOBEqualWeak    = 3 // equal but only a year, a month or the 01/01 default
	wDOBSwapped      = 4
	wDOBCompatible   = 1 // year-only or the 01/01 default against a full date
	wDOBDiffers      = -6
	wDOBYearDiffers  = -10
	wSexEqual        = 1
	wSexDiffers      = -6
	wProvinceEqual   = 1
	wProvinceDiffers = -2
	wParentEqual     = 2 // per parent
	wParentDiffers   = -4
	wHometownEqual   = 1
	wHometownDiffers = -1
	wHeadEqual       = 5
	wHeadDiffers     = -3
)

// Compare scores a and b as a possible duplicate pair and reports whether
// the score reaches DefaultThreshold. The pair is filled in either way
// (the review UI shows the reasons of any two records). It is symmetric:
// Compare(a, b) and Compare(b, a) give the same Pair. Two records with the
// same Key are one citizen, never a pair: ok is false.
func Compare(a, b *Record) (Pair, bool) {
	p := scorePair(newProfile(a), newProfile(b))
	return p, a.Key != b.Key && p.Score >= DefaultThreshold
}

// scorePair builds the Pair of two profiles.
func scorePair(a, b *profile) Pair {
	a, b = ordered(a, b)
	points, reasons := evidence(a, b)
	return newPair(a, b, points, reasons)
}

// ordered puts two profiles in key order, so that A < B and nothing can
// depend on which was inserted first.
func ordered(a, b *profile) (*profile, *profile) {
	if b.key < a.key {
		return b, a
	}
	return a, b
}

// newPair builds the Pair of a and b, in key order.
func newPair(a, b *profile, points int, reasons reasonSet) Pair {
	return Pair{A: a.key, B: b.key, Score: scoreOf(points), Points: points,
		Reasons: reasons.codes(), RegionA: a.region, RegionB: b.region}
}

// maxRest is the most points all evidence but the ID numbers can add: a
// bound that lets the Index skip the comparison of two records whose card
// numbers alone rule them out (TestBlockingLosesNothing checks it).
const maxRest = wGivenEqual + wSurnameEqual + wMiddleEqual + wDOBEqual + wSexEqual + wProvinceEqual +
	2*wParentEqual + wHometownEqual + wHeadEqual

// idBound is the most points a and b can score given their ID numbers.
func idBound(a, b *profile) int {
	var ev tally
	idEvidence(&ev, a, b)
	return wPrior + ev.points + maxRest
}

// minPoints is the fewest points whose score reaches threshold.
func minPoints(threshold float64) int {
	p := -64
	for p < 64 && scoreOf(p) < threshold {
		p++
	}
	return p
}

// scoreOf maps points to (0, 1): 1/(1+2^-points). Ldexp, an addition and a
// division are exact or correctly rounded, so every hub computes the same
// float64 (the view digest includes it).
func scoreOf(points int) float64 {
	return 1 / (1 + math.Ldexp(1, -points))
}

// evidence sums the weights of everything a and b agree or disagree on.
func evidence(a, b *profile) (int, reasonSet) {
	var ev tally
	ev.points = wPrior
	idEvidence(&ev, a, b)
	relationEvidence(&ev, a, b)
	nameEvidence(&ev, a, b)
	dobEvidence(&ev, a.dob, b.dob)
	sexEvidence(&ev, a.sex, b.sex)
	placeEvidence(&ev, a, b)
	familyEvidence(&ev, a, b)
	return ev.points, ev.reasons
}

// tally accumulates points and reasons.
type tally struct {
	points  int
	reasons reasonSet
}

func (t *tally) add(r reason, w int) {
	t.reasons.add(r)
	t.points += w
}

// idEvidence compares the ID numbers.
func idEvidence(ev *tally, a, b *profile) {
	switch {
	case a.id == "" || b.id == "":
		ev.add(rIDMissing, 0)
		idConsistency(ev, a, b)
	case a.idNum == b.idNum:
		ev.add(rIDEqual, wIDEqual)
	default:
		idNearEvidence(ev, a, b)
	}
}

// idNearEvidence weighs two different ID numbers: one typo apart is strong
// evidence when the typo is in the random part, or when it is in the
// prefix/century/year digits and one of the numbers fits both records
// (the other is the mistyped one).
func idNearEvidence(ev *tally, a, b *profile) {
	kind, pos := idEdit(a.digits, b.digits)
	switch {
	case kind == editNone && idDistance(a.digits, b.digits) == 2:
		ev.add(rIDTwoTypos, wIDTwoTypos)
		return
	case kind == editNone:
		ev.add(rIDDiffers, wIDDiffers)
		return
	}
	r := rIDOneDigit
	if kind == editTransposed {
		r = rIDTransposed
	}
	w := wIDTypo
	if pos < idRandomFrom && !idFits(a, b.id) && !idFits(b, a.id) {
		w = wIDNearWeak
	}
	ev.add(r, w)
}

// idRandomFrom is the first digit of the random part (DOMAIN.md §1.1:
// PPP G YY RRRRRR).
const idRandomFrom = 6

// Edit kinds between two ID numbers.
const (
	editNone       = iota // equal, or more than one typo apart
	editSubstitute        // one digit differs
	editTransposed        // two adjacent digits swapped
)

// idDigits are the 12 digits of an ID number, held in the profile itself
// so that comparing two numbers reads no other memory.
type idDigits [enrollment.PersonalIDLen]byte

// toDigits copies a 12-digit ID number.
func toDigits(id string) idDigits {
	var d idDigits
	copy(d[:], id)
	return d
}

// idEdit says whether two 12-digit numbers are one substitution or one
// adjacent transposition apart, and the (first) position touched.
func idEdit(a, b idDigits) (kind, pos int) {
	first, n := -1, 0
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			if n == 0 {
				first = i
			}
			n++
		}
	}
	switch {
	case n == 1:
		return editSubstitute, first
	case n == 2 && first+1 < len(a) && a[first] == b[first+1] && a[first+1] == b[first] && a[first+1] != b[first+1]:
		return editTransposed, first
	}
	return editNone, 0
}

// idDistance is the number of substitutions and adjacent transpositions
// that turn a into b (optimal string alignment).
func idDistance(a, b idDigits) int {
	// d[i] is the distance between the first i digits of a and of b.
	var d [enrollment.PersonalIDLen + 1]int
	for i := 1; i <= len(a); i++ {
		d[i] = d[i-1]
		if a[i-1] != b[i-1] {
			d[i]++
		}
		if i >= 2 && a[i-1] == b[i-2] && a[i-2] == b[i-1] && a[i-1] != a[i-2] {
			d[i] = min(d[i], d[i-2]+1)
		}
	}
	return d[len(a)]
}

// idFits reports whether ID number id agrees with p's birth year, sex and
// (when known) birth province.
func idFits(p *profile, id string) bool {
	info, err := enrollment.DecodePersonalID(id)
	if err != nil && info.BirthYear == 0 {
		return false
	}
	return infoFits(p, info)
}

func infoFits(p *profile, info enrollment.PIDInfo) bool {
	if p.dob.Year != 0 && p.dob.Year != info.BirthYear {
		return false
	}
	if p.sex != "" && p.sex != info.Sex {
		return false
	}
	pre := info.ProvincePrefix // "042" for birth province "42"
	return p.birthProv == "" || len(pre) == 3 && pre[0] == '0' && pre[1:] == p.birthProv
}

// idConsistency: when only one record has an ID number, that number should
// fit the other record too, unless it does not fit its own record either
// (Decree 70/2024 keeps such numbers valid: DOMAIN.md §0.3).
func idConsistency(ev *tally, a, b *profile) {
	with, without := a, b
	if a.id == "" {
		with, without = b, a
	}
	if with.id == "" {
		return
	}
	if idFits(with, with.id) && !idFits(without, with.id) {
		ev.add(rIDInconsistent, wIDInconsistent)
	}
}

// relationEvidence: a record naming the other as its father, mother or
// spouse (by ID number, or by name and full date of birth) is a relative,
// not a duplicate: the son named like his father (DOMAIN.md §5, synth
// "junior").
func relationEvidence(ev *tally, a, b *profile) {
	if relatedTo(a, b) || relatedTo(b, a) {
		ev.add(rRelative, wRelative)
	}
}

// relatedTo reports whether p names q as a parent or spouse.
func relatedTo(p, q *profile) bool {
	for _, r := range [...]*relative{&p.father, &p.mother, &p.spouse} {
		if r.hasID && q.id != "" && r.idNum == q.idNum {
			return true
		}
		fullDate := r.dob%100 != 0
		if fullDate && r.dob == packDate(q.dob) && r.foldName() != "" && r.foldName() == q.fold {
			return true
		}
	}
	return false
}
