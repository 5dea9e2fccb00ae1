package legacydedup

import "fieldsync/enrollment"

// Token agreement levels.
const (
	tokUnknown = iota // missing on one side
	tokEqual          // same NameKey
	tokFold           // same without diacritics, one side typed without them
	tokVariant        // surname class (Hoàng/Huỳnh, Vũ/Võ)
	tokDropped        // middle: one is the other with words left out
	tokDiffers
)

// nameEvidence compares the names word by word: the given name (last
// word) carries most weight; the surname may be a regional variant; a
// middle name may have been dropped. Diacritics count: two names that only
// fold together while both carry marks (Hương, Hường) differ.
func nameEvidence(ev *tally, a, b *profile) {
	bare := a.bare || b.bare
	g := givenMatch(a, b, bare)
	s := surnameMatch(a, b, bare)
	m := middleMatch(a, b, bare)
	switch {
	case a.name == b.name:
		ev.add(rNameEqual, 0)
	case bare && a.fold == b.fold:
		ev.add(rNameFoldEqual, 0)
	}
	if s == tokVariant {
		ev.add(rSurnameVariant, 0)
	}
	if m == tokDropped {
		ev.add(rMiddleDropped, 0)
	}
	if g == tokDiffers || s == tokDiffers || m == tokDiffers {
		ev.add(rNameDiffers, 0)
	}
	ev.points += tokWeight(g, wGivenEqual, wGivenFold, 0, wGivenDiffers) +
		tokWeight(s, wSurnameEqual, wSurnameEqual, wSurnameVariant, wSurnameDiffers) +
		tokWeight(m, wMiddleEqual, wMiddleEqual, wMiddleDropped, wMiddleDiffers)
}

// tokWeight picks the weight of an agreement level.
func tokWeight(level, equal, fold, partial, differs int) int {
	switch level {
	case tokEqual:
		return equal
	case tokFold:
		return fold
	case tokVariant, tokDropped:
		return partial
	case tokDiffers:
		return differs
	}
	return 0
}

// wordMatch compares one word: equal keys, or equal folds when one name
// is bare.
func wordMatch(key1, key2, fold1, fold2 string, bare bool) int {
	switch {
	case key1 == "" || key2 == "":
		return tokUnknown
	case key1 == key2:
		return tokEqual
	case bare && fold1 == fold2:
		return tokFold
	}
	return tokDiffers
}

func givenMatch(a, b *profile, bare bool) int {
	return wordMatch(a.given, b.given, a.givenFold, b.givenFold, bare)
}

func surnameMatch(a, b *profile, bare bool) int {
	m := wordMatch(a.surname, b.surname, a.surnameFold, b.surnameFold, bare)
	if m == tokDiffers && a.surnameClass == b.surnameClass {
		return tokVariant
	}
	return m
}

// middleMatch compares the middle names: equal, one a proper subsequence
// of the other (dropped words), or different. Both empty is unknown.
func middleMatch(a, b *profile, bare bool) int {
	x, y := a.middle, b.middle
	if bare {
		x, y = a.middleFold, b.middleFold
	}
	switch {
	case len(x) == 0 && len(y) == 0:
		return tokUnknown
	case equalWords(x, y):
		if bare && !equalWords(a.middle, b.middle) {
			return tokFold
		}
		return tokEqual
	case isSubsequence(x, y) || isSubsequence(y, x):
		return tokDropped
	}
	return tokDiffers
}

func equalWords(x, y []string) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// isSubsequence reports whether short is long with some words left out.
func isSubsequence(short, long []string) bool {
	if len(short) >= len(long) {
		return false
	}
	i := 0
	for _, w := range long {
		if i < len(short) && short[i] == w {
			i++
		}
	}
	return i == len(short)
}

// dobEvidence compares dates of birth at their common precision.
func dobEvidence(ev *tally, a, b enrollment.Date) {
	switch {
	case a.Year == 0 || b.Year == 0:
		return
	case a.Year != b.Year:
		ev.add(rDOBDiffers, wDOBYearDiffers)
	case a == b:
		w := wDOBEqual
		if a.Day == 0 || isJan1(a) {
			w = wDOBEqualWeak
		}
		ev.add(rDOBEqual, w)
	case a.Day != 0 && b.Day != 0:
		fullDOBEvidence(ev, a, b)
	case a.Month != 0 && b.Month != 0 && a.Month != b.Month && !isJan1(a) && !isJan1(b):
		ev.add(rDOBDiffers, wDOBDiffers)
	default: // one knows less, and what both know agrees
		ev.add(rDOBYearOnly, wDOBCompatible)
	}
}

// fullDOBEvidence compares two different full dates of the same year.
func fullDOBEvidence(ev *tally, a, b enrollment.Date) {
	switch {
	case a.Day == b.Month && a.Month == b.Day:
		ev.add(rDOBSwapped, wDOBSwapped)
	case isJan1(a) || isJan1(b):
		ev.add(rDOB0101, wDOBCompatible)
	default:
		ev.add(rDOBDiffers, wDOBDiffers)
	}
}

func isJan1(d enrollment.Date) bool { return d.Month == 1 && d.Day == 1 }

func sexEvidence(ev *tally, a, b enrollment.Sex) {
	switch {
	case a == "" || b == "":
	case a == b:
		ev.add(rSexEqual, wSexEqual)
	default:
		ev.add(rSexDiffers, wSexDiffers)
	}
}

// placeEvidence compares the birth-registration province (the old code
// when both have it, else the 2025 one) and the hometown.
func placeEvidence(ev *tally, a, b *profile) {
	pa, pb := a.birthProv, b.birthProv
	if pa == "" || pb == "" {
		pa, pb = a.birthProv2025, b.birthProv2025
	}
	if pa != "" && pb != "" {
		if pa == pb {
			ev.add(rBirthProvinceEqual, wProvinceEqual)
		} else {
			ev.add(rBirthProvinceDiffers, wProvinceDiffers)
		}
	}
	if a.hometown != "" && b.hometown != "" {
		if a.hometown == b.hometown {
			ev.add(rHometownEqual, wHometownEqual)
		} else {
			ev.add(rHometownDiffers, wHometownDiffers)
		}
	}
}

// familyEvidence compares the parents and the household head.
func familyEvidence(ev *tally, a, b *profile) {
	eq, diff := 0, 0
	for _, m := range [...]int{relMatch(&a.father, &b.father), relMatch(&a.mother, &b.mother)} {
		switch m {
		case tokEqual:
			eq++
		case tokDiffers:
			diff++
		}
	}
	switch {
	case diff > 0:
		ev.add(rParentsDiffer, diff*wParentDiffers+eq*wParentEqual)
	case eq > 0:
		ev.add(rParentsEqual, eq*wParentEqual)
	}
	switch relMatch(&a.head, &b.head) {
	case tokEqual:
		ev.add(rHeadEqual, wHeadEqual)
	case tokDiffers:
		ev.add(rHeadDiffers, wHeadDiffers)
	}
}

// relMatch compares two relatives by ID number when both have one, else
// by folded name.
func relMatch(x, y *relative) int {
	switch {
	case x.hasID && y.hasID:
		if x.idNum == y.idNum {
			return tokEqual
		}
		return tokDiffers
	case x.foldName() != "" && y.foldName() != "":
		if x.foldName() == y.foldName() {
			return tokEqual
		}
		return tokDiffers
	}
	return tokUnknown
}
