package dedup

// Hard rules: evidence no weight can override. A pair a rule holds apart
// is never proposed, whatever its score, and two records a rule holds
// apart cannot both be the same person as a third (see Index.Pairs).
type rule uint8

const (
	ruleNone rule = iota
	// ruleDistinctIDs: both records carry a valid ID number and the two
	// are more than two typos apart. The population database never issues
	// one person two numbers; a mistyped number is one or two typos off.
	ruleDistinctIDs
	// ruleTwins: one family — the same parents (every parent both name
	// agrees), or the same household head (neither heads it) — the same
	// full date of birth, clearly different given (or middle) names, and
	// no ID number linking them: twins (DOMAIN.md §5.5 item 12).
	ruleTwins
	// ruleParentChild: one record names the other as its father, mother
	// or spouse — by ID number, or a parent by folded name when the parent
	// is at least 14 years older.
	ruleParentChild
	numRules
)

// minParentGap is the fewest years between a parent and a child for the
// name alone to say "parent" (DOMAIN.md: parents are 18–45 years older;
// 14 leaves room for a year mistyped on either side).
const minParentGap = 14

// hardRule returns the rule holding a and b apart, if any. p is their
// comparison vector.
func hardRule(a, b *profile, p pattern) rule {
	if p.level(cmpID) == idFar && idValid(a.id) && idValid(b.id) {
		return ruleDistinctIDs
	}
	if relatedTo(a, b) || relatedTo(b, a) {
		return ruleParentChild
	}
	if (sameParents(p) || p.level(cmpHead) == eqEqual) && p.level(cmpDOB) == dobExact &&
		(clearlyDiffers(p.level(cmpGiven)) || clearlyDiffers(p.level(cmpMiddle))) {
		switch p.level(cmpID) {
		case idEqual, idOneTypo, idOneTypoHead:
		default:
			return ruleTwins
		}
	}
	return ruleNone
}

// sameParents: a parent both records name agrees and none disagrees (a
// record often names one parent only).
func sameParents(p pattern) bool {
	f, m := p.level(cmpFather), p.level(cmpMother)
	return (f == parEqual || m == parEqual) && f != parDiffers && m != parDiffers && f != parGiven && m != parGiven
}

// clearlyDiffers: two name parts no clerical error explains (compound
// given names split as middle + given, "Phương Anh" and "Ngọc Anh", differ
// in the middle part).
func clearlyDiffers(level int) bool { return level == nameSimilar || level == nameDiffers }

// relatedTo reports whether p names q as a parent or spouse.
func relatedTo(p, q *profile) bool {
	qid := idHash32(q.id)
	if qid != 0 && (p.father.idHash == qid || p.mother.idHash == qid || p.spouseID == qid) {
		return true
	}
	py, qy := int(p.dob>>9), int(q.dob>>9)
	if py == 0 || qy == 0 || py-qy < minParentGap || q.nameFold == 0 {
		return false
	}
	byName := func(r relRef) bool { return r.fold == q.nameFold && (r.idHash == 0 || qid == 0) }
	return byName(p.father.relRef) || byName(p.mother.relRef)
}
