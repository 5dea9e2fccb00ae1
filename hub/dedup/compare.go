package dedup

import "fieldsync/enrollment"

// The comparisons of the model: each compares one field of two records and
// says at which level they agree. Level 0 is always "unknown" (a side
// lacks the field): it weighs nothing. A pair's comparison vector is a
// pattern, 4 bits per comparison.
const (
	cmpID = iota
	cmpGiven
	cmpSurname
	cmpMiddle
	cmpDOB
	cmpSex
	cmpBirthProv
	cmpHometown
	cmpResidence
	cmpFather
	cmpMother
	cmpHead
	numCmp
)

// maxLevels bounds the levels of a comparison (4 bits in a pattern).
const maxLevels = 16

// Levels of cmpID.
const (
	idMissing     = iota // one or both without a number: no evidence (see idLevel)
	idEqual              // the same number under two keys
	idOneTypo            // one substitution or adjacent swap apart, where a typo is plausible
	idOneTypoHead        // one typo apart in the province/century/year digits both records contradict
	idTwoTypos           // two typos apart
	idFar                // further apart (both valid: the hard rule; else this weight)
	numIDLevels
)

// Levels of the name parts (cmpGiven, cmpSurname, cmpMiddle).
const (
	nameUnknown  = iota
	nameEqual    // same NameKey
	nameBareFold // same without diacritics, one record typed without any
	nameTone     // same letters, a tone left out or hỏi for ngã
	nameMarks    // same without diacritics, other marks differ (Hương/Hường, ư/u)
	nameVariant  // surname class Hoàng/Huỳnh, Vũ/Võ; middle: one has none; given: regional spelling
	nameSubset   // middle: the phrases share a word (one has words left out or added)
	nameTypo     // one keystroke apart (folded), one of them no Vietnamese syllable: a typo
	nameOneEdit  // one letter apart (folded), both real syllables; surname and middle: or a regional spelling
	nameSimilar  // Jaro–Winkler ≥ 0.88 (folded)
	nameDiffers
	numNameLevels
)

// Levels of cmpDOB.
const (
	dobUnknown      = iota
	dobExact        // the same full date
	dobExactWeak    // the same, but only a year, a month or the 01/01 default
	dobSwapped      // day and month swapped
	dobCompatible   // the same year; one knows less (year only, month only, 01/01)
	dobYearOff      // the same day and month, the year one off
	dobSameMonth    // the same year and month, another day
	dobSameYear     // the same year, another month
	dobYearOffWeak  // the year one off; one or both know only the year (or month, or 01/01)
	dobYearOffOther // the year one off, another day or month
	dobDiffers      // two or more years apart
	numDOBLevels
)

// Levels of the equal-or-not comparisons (sex, places, head).
const (
	eqUnknown = iota
	eqEqual
	eqCompatible // hometown: one gives only the province, which agrees; household head: one heads their own
	eqDiffers
	numEqLevels
)

// Levels of cmpFather and cmpMother.
const (
	parUnknown = iota
	parEqual   // the same ID number, or the same folded name
	parGiven   // other names, the same given name (a typo, a surname or middle left out)
	parDiffers
	numParLevels
)

// numLevelsOf is the number of levels of each comparison.
var numLevelsOf = [numCmp]int{numIDLevels, numNameLevels, numNameLevels, numNameLevels, numDOBLevels,
	numEqLevels, numEqLevels, numEqLevels, numEqLevels, numParLevels, numParLevels, numEqLevels}

// pattern is a comparison vector: level of comparison c in bits 4c..4c+3.
type pattern uint64

func (p pattern) level(c int) int   { return int(p >> (4 * c) & 15) }
func (p *pattern) set(c, level int) { *p = *p&^(15<<(4*c)) | pattern(level)<<(4*c) }
func (p pattern) without(mask uint16) pattern {
	for c := 0; c < numCmp; c++ {
		if mask&(1<<c) != 0 {
			p.set(c, 0)
		}
	}
	return p
}

// comparer compares profiles; it reads the Index's token table.
type comparer struct{ toks *tokenTable }

// compare returns the comparison vector of a and b. It is symmetric:
// compare(a, b) == compare(b, a) (tested).
func (c comparer) compare(a, b *profile) pattern {
	var p pattern
	p.set(cmpID, idLevel(a, b))
	bare := a.flags&flagBare != 0 || b.flags&flagBare != 0
	p.set(cmpGiven, c.givenLevel(a.given, b.given, bare))
	p.set(cmpSurname, c.surnameLevel(a.surname, b.surname, bare))
	p.set(cmpMiddle, c.middleLevel(a.middle, b.middle, bare))
	p.set(cmpDOB, dobLevel(unpackDOB(a.dob), unpackDOB(b.dob)))
	p.set(cmpSex, eqLevel(uint32(a.sex), uint32(b.sex)))
	pa, pb := a.birthProv, b.birthProv
	if pa == 0 || pb == 0 {
		pa, pb = a.birthProv25, b.birthProv25
	}
	p.set(cmpBirthProv, eqLevel(uint32(pa), uint32(pb)))
	p.set(cmpHometown, hometownLevel(a, b))
	p.set(cmpResidence, eqLevel(uint32(a.resid), uint32(b.resid)))
	p.set(cmpFather, c.parentLevel(&a.father, &b.father))
	p.set(cmpMother, c.parentLevel(&a.mother, &b.mother))
	p.set(cmpHead, headLevel(a, b))
	return p
}

// headLevel compares the household heads. A citizen who heads their own
// household names themself: two namesakes who both head a household would
// "agree" on the head only because they agree on the name, so that is no
// evidence (the double count); one heading a household and the
// other living in someone else's is (a move, or two people).
func headLevel(a, b *profile) int {
	sa, sb := a.flags&flagHeadSelf != 0, b.flags&flagHeadSelf != 0
	switch {
	case sa && sb:
		return eqUnknown
	case sa != sb:
		if a.head.fold == 0 || b.head.fold == 0 {
			return eqUnknown
		}
		return eqCompatible
	}
	return relLevel(a.head, b.head)
}

func eqLevel(a, b uint32) int {
	switch {
	case a == 0 || b == 0:
		return eqUnknown
	case a == b:
		return eqEqual
	}
	return eqDiffers
}

func hometownLevel(a, b *profile) int {
	switch {
	case a.home == 0 || b.home == 0:
		return eqUnknown
	case a.home == b.home:
		return eqEqual
	case (a.flags|b.flags)&flagHomeCoarse != 0 && a.homeProv != 0 && a.homeProv == b.homeProv:
		return eqCompatible
	}
	return eqDiffers
}

// relLevel compares two relatives: by ID number when both have one, else
// by folded name.
func relLevel(a, b relRef) int {
	switch {
	case a.idHash != 0 && b.idHash != 0:
		if a.idHash == b.idHash {
			return eqEqual
		}
		return eqDiffers
	case a.fold == 0 || b.fold == 0:
		return eqUnknown
	case a.fold == b.fold:
		return eqEqual
	}
	return eqDiffers
}

func (c comparer) parentLevel(a, b *parentRef) int {
	switch relLevel(a.relRef, b.relRef) {
	case eqUnknown:
		return parUnknown
	case eqEqual:
		return parEqual
	}
	if a.given != 0 && b.given != 0 && c.toks.get(a.given).fold == c.toks.get(b.given).fold {
		return parGiven
	}
	return parDiffers
}

// givenLevel compares given names.
func (c comparer) givenLevel(x, y uint32, bare bool) int {
	if x == 0 || y == 0 {
		return nameUnknown
	}
	if x == y {
		return nameEqual
	}
	a, b := c.toks.get(x), c.toks.get(y)
	if l := foldLevel(a, b, bare); l != nameUnknown {
		return l
	}
	if a.regional == b.regional {
		return nameVariant
	}
	return fuzzyLevel(a, b)
}

// foldLevel grades two different parts with the same folded letters:
// bare, tone or marks; nameUnknown when the folds differ.
func foldLevel(a, b *token, bare bool) int {
	switch {
	case a.fold != b.fold:
		return nameUnknown
	case bare:
		return nameBareFold
	case toneVariant(a, b):
		return nameTone
	}
	return nameMarks
}

// fuzzyLevel grades two parts whose folds differ: one keystroke apart (a
// typo when one of them is no Vietnamese syllable), similar, or
// different.
func fuzzyLevel(a, b *token) int {
	if editDistance(a.fold, b.fold, 1) <= 1 {
		return oneEditLevel(a, b)
	}
	if jaroWinkler(a.fold, b.fold) >= 0.88 {
		return nameSimilar
	}
	return nameDiffers
}

func oneEditLevel(a, b *token) int {
	if !a.syllables || !b.syllables {
		return nameTypo
	}
	return nameOneEdit
}

func (c comparer) surnameLevel(x, y uint32, bare bool) int {
	if x == 0 || y == 0 {
		return nameUnknown
	}
	if x == y {
		return nameEqual
	}
	a, b := c.toks.get(x), c.toks.get(y)
	if l := foldLevel(a, b, bare); l != nameUnknown {
		return l
	}
	if a.class == b.class {
		return nameVariant
	}
	if a.regional == b.regional {
		return nameOneEdit
	}
	if editDistance(a.fold, b.fold, 1) <= 1 {
		return oneEditLevel(a, b)
	}
	return nameDiffers
}

// middleLevel compares middle phrases; one without any is nameVariant
// (dropped, or added), two sharing a word nameSubset.
func (c comparer) middleLevel(x, y uint32, bare bool) int {
	switch {
	case x == 0 && y == 0:
		return nameUnknown
	case x == y:
		return nameEqual
	case x == 0 || y == 0:
		return nameVariant
	}
	a, b := c.toks.get(x), c.toks.get(y)
	if l := foldLevel(a, b, bare); l != nameUnknown {
		return l
	}
	if shareWord(a.fold, b.fold) {
		return nameSubset
	}
	if a.regional == b.regional {
		return nameOneEdit
	}
	if editDistance(a.fold, b.fold, 1) <= 1 {
		return oneEditLevel(a, b)
	}
	return nameDiffers
}

// shareWord reports whether two phrases have a word in common (one is
// the other with words left out or added: "thị" and "thị ngọc", "văn văn"
// and "đình văn").
func shareWord(a, b string) bool {
	for i := 0; i < len(a); {
		e := wordEnd(a, i)
		w := a[i:e]
		for j := 0; j < len(b); {
			f := wordEnd(b, j)
			if b[j:f] == w {
				return true
			}
			j = f + 1
		}
		i = e + 1
	}
	return false
}

func wordEnd(s string, i int) int {
	for i < len(s) && s[i] != ' ' {
		i++
	}
	return i
}

// dobLevel compares two dates of birth at their common precision. The
// 01/01 default says nothing about the day.
func dobLevel(a, b date) int {
	if a.y == 0 || b.y == 0 {
		return dobUnknown
	}
	fa, fb := isFull(a), isFull(b)
	dy := a.y - b.y
	if dy < 0 {
		dy = -dy
	}
	switch {
	case dy >= 2:
		return dobDiffers
	case dy == 1:
		switch {
		case fa && fb && a.m == b.m && a.d == b.d:
			return dobYearOff
		case !fa || !fb:
			if a.m == 0 || b.m == 0 || a.m == b.m || isJan1(a) || isJan1(b) {
				return dobYearOffWeak
			}
		}
		return dobYearOffOther
	case a == b && fa:
		return dobExact
	case a == b:
		return dobExactWeak
	case fa && fb && a.d == b.m && a.m == b.d:
		return dobSwapped
	case !fa || !fb:
		if a.m == 0 || b.m == 0 || a.m == b.m || isJan1(a) || isJan1(b) {
			return dobCompatible
		}
		return dobSameYear
	case a.m == b.m:
		return dobSameMonth
	}
	return dobSameYear
}

// isFull: a date with its day, other than the 01/01 default.
func isFull(d date) bool { return d.d != 0 && !isJan1(d) }

func isJan1(d date) bool { return d.m == 1 && d.d == 1 }

// idLevel compares ID numbers.
func idLevel(a, b *profile) int {
	switch {
	case a.id == 0 && b.id == 0:
		return idMissing
	case a.id == 0 || b.id == 0:
		// Whether the one number fits the other record's birth year and
		// sex says nothing the date and sex comparisons do not: the
		// number's head is made of them (DOMAIN.md §1.1).
		return idMissing
	case a.id == b.id:
		return idEqual
	}
	da, db := digitsOf(a.id), digitsOf(b.id)
	switch kind, pos := idEdit(da, db); {
	case kind != editNone && pos >= idRandomFrom:
		return idOneTypo
	case kind != editNone && (idFits(a, b.id) || idFits(b, a.id)):
		return idOneTypo // the head digits of one number fit both records: the other was mistyped
	case kind != editNone:
		return idOneTypoHead
	case idDistance(da, db) == 2:
		return idTwoTypos
	}
	return idFar
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

// idFits reports whether ID number id agrees with p's birth year and sex
// (and birth province, when known).
func idFits(p *profile, id uint64) bool {
	info, err := enrollment.DecodePersonalID(formatID(id))
	if err != nil && info.BirthYear == 0 {
		return false
	}
	d := unpackDOB(p.dob)
	if d.y != 0 && d.y != info.BirthYear {
		return false
	}
	if p.sex != 0 && p.sex != sexCode(info.Sex) {
		return false
	}
	pre := info.ProvincePrefix
	return p.birthProv == 0 || len(pre) == 3 && pre[0] == '0' && provCode(pre[1:]) == p.birthProv
}

// idValid: a number whose prefix is a province and whose century digit is
// one of this and the last century's (DOMAIN.md §1.1-§1.2): a number as
// the population database issues them.
func idValid(v uint64) bool {
	d := digitsOf(v)
	if _, ok := enrollment.ProvinceByPrefix(string(d[:3])); !ok {
		return false
	}
	return d[3] >= '0' && d[3] <= '3'
}
