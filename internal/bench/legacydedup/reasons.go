package legacydedup

// Reason codes: what an officer sees on a pair, in the order of
// ReasonOrder. A code names one piece of evidence; its weight (in points,
// log2 odds) is in compare.go and doc.go.
const (
	ReasonIDEqual        = "id-equal"        // same ID number under two keys (a provisional key kept the number)
	ReasonIDTransposed   = "id-transposed"   // ID numbers differ by two adjacent digits swapped
	ReasonIDOneDigit     = "id-one-digit"    // ID numbers differ in one digit
	ReasonIDTwoTypos     = "id-two-typos"    // ID numbers two typos apart (two mistyped copies of one number?)
	ReasonIDMissing      = "id-missing"      // one or both records have no ID number (neutral)
	ReasonIDDiffers      = "id-differs"      // both have ID numbers, more than one typo apart
	ReasonIDInconsistent = "id-inconsistent" // the one ID number present contradicts the other's birth year, sex or province

	ReasonRelative = "relative" // one is recorded as the other's father, mother or spouse

	ReasonNameEqual      = "name-equal"      // same NameKey (NFC, case, spaces, tone placement)
	ReasonNameFoldEqual  = "name-fold-equal" // same once diacritics are dropped, one typed without them
	ReasonSurnameVariant = "surname-variant" // Hoàng/Huỳnh or Vũ/Võ
	ReasonMiddleDropped  = "middle-dropped"  // one name lacks a middle name the other has
	ReasonNameDiffers    = "name-differs"    // given name, surname or middle name disagree

	ReasonDOBEqual    = "dob-equal"             // same date of birth, same precision
	ReasonDOBSwapped  = "dob-day-month-swapped" // 03/04 against 04/03
	ReasonDOBYearOnly = "dob-year-only"         // one knows only the year (or month), which agrees
	ReasonDOB0101     = "dob-default-0101"      // one has the 01/01 default, same year
	ReasonDOBDiffers  = "dob-differs"           // the dates of birth disagree

	ReasonSexEqual   = "sex-equal"
	ReasonSexDiffers = "sex-differs"

	ReasonBirthProvinceEqual   = "birth-province-equal"
	ReasonBirthProvinceDiffers = "birth-province-differs"

	ReasonParentsEqual  = "parents-equal"  // every parent both records name agrees (by ID, else by name)
	ReasonParentsDiffer = "parents-differ" // a parent both records name disagrees

	ReasonHometownEqual   = "hometown-equal"
	ReasonHometownDiffers = "hometown-differs"

	ReasonHeadEqual   = "household-head-equal"
	ReasonHeadDiffers = "household-head-differs"
)

// ReasonOrder is the fixed order of reasons in a Pair: identity number,
// family relation, name, date of birth, sex, places, relatives.
var ReasonOrder = []string{
	ReasonIDEqual, ReasonIDTransposed, ReasonIDOneDigit, ReasonIDTwoTypos, ReasonIDMissing, ReasonIDDiffers, ReasonIDInconsistent,
	ReasonRelative,
	ReasonNameEqual, ReasonNameFoldEqual, ReasonSurnameVariant, ReasonMiddleDropped, ReasonNameDiffers,
	ReasonDOBEqual, ReasonDOBSwapped, ReasonDOBYearOnly, ReasonDOB0101, ReasonDOBDiffers,
	ReasonSexEqual, ReasonSexDiffers,
	ReasonBirthProvinceEqual, ReasonBirthProvinceDiffers,
	ReasonParentsEqual, ReasonParentsDiffer,
	ReasonHometownEqual, ReasonHometownDiffers,
	ReasonHeadEqual, ReasonHeadDiffers,
}

// reason is an index into ReasonOrder.
type reason uint8

const (
	rIDEqual reason = iota
	rIDTransposed
	rIDOneDigit
	rIDTwoTypos
	rIDMissing
	rIDDiffers
	rIDInconsistent
	rRelative
	rNameEqual
	rNameFoldEqual
	rSurnameVariant
	rMiddleDropped
	rNameDiffers
	rDOBEqual
	rDOBSwapped
	rDOBYearOnly
	rDOB0101
	rDOBDiffers
	rSexEqual
	rSexDiffers
	rBirthProvinceEqual
	rBirthProvinceDiffers
	rParentsEqual
	rParentsDiffer
	rHometownEqual
	rHometownDiffers
	rHeadEqual
	rHeadDiffers
	numReasons
)

// reasonSet is a set of reasons; its bits follow ReasonOrder, so the
// codes come out in the fixed order whatever order evidence was added in.
type reasonSet uint32

func (s *reasonSet) add(r reason)     { *s |= 1 << r }
func (s reasonSet) has(r reason) bool { return s&(1<<r) != 0 }

// codes returns the reason codes in ReasonOrder.
func (s reasonSet) codes() []string {
	out := make([]string, 0, 8)
	for r := reason(0); r < numReasons; r++ {
		if s.has(r) {
			out = append(out, ReasonOrder[r])
		}
	}
	return out
}
