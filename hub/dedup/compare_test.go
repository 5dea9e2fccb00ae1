package dedup

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
)

// base is the citizen every Compare case starts from: a son living in his
// father's household in Hà Tĩnh.
func base() enrollment.Enrollment {
	hatinh := enrollment.Place{UnitCode: "18094", CodeList: "2023-04", Text: "Phường Thạch Linh, Thành phố Hà Tĩnh, Tỉnh Hà Tĩnh"}
	father := &enrollment.Relative{FullName: "Hoàng Văn Bảo", PersonalID: "042059816287", DateOfBirth: &enrollment.Date{Year: 1959, Month: 10, Day: 9}}
	return enrollment.Enrollment{
		PersonalID: "042085472063", FullName: "Hoàng Văn Thủy",
		DateOfBirth: enrollment.Date{Year: 1985, Month: 3, Day: 7}, Sex: enrollment.Male,
		EthnicityCode: "01", Religion: "Không", Nationality: []string{"Việt Nam"},
		BirthRegistration: hatinh, Hometown: hatinh,
		PermanentResidence: enrollment.Place{UnitCode: "18073", CodeList: "2025-07", Text: "Phường Thành Sen, Tỉnh Hà Tĩnh"},
		Father:             father,
		Mother:             &enrollment.Relative{FullName: "Lê Thị Hương", PersonalID: "042164817682", DateOfBirth: &enrollment.Date{Year: 1964, Month: 7, Day: 4}},
		HouseholdHead:      father, RelationToHead: "Con",
	}
}

// record makes a Record of e the way a hub keys it: by ID number, else
// provisionally.
func record(e enrollment.Enrollment) *Record {
	r := &Record{Enrollment: &e, Keys: enrollment.Keys(&e)}
	r.Key = r.Keys.PersonalID
	if r.Key == "" {
		r.Key = "prov:" + e.FullName
	}
	return r
}

// with returns a modified copy of base.
func with(mods ...func(*enrollment.Enrollment)) enrollment.Enrollment {
	e := base()
	for _, m := range mods {
		m(&e)
	}
	return e
}

// Modifications, one per synth noise kind (see synth/noise.go).
var (
	noID           = func(e *enrollment.Enrollment) { e.PersonalID = "" }
	nfd            = func(e *enrollment.Enrollment) { e.FullName = norm.NFD.String(e.FullName) }
	noDiacritics   = func(e *enrollment.Enrollment) { e.FullName = "Hoang Van Thuy" }
	upper          = func(e *enrollment.Enrollment) { e.FullName = strings.ToUpper(e.FullName) }
	spaces         = func(e *enrollment.Enrollment) { e.FullName = "Hoàng  Văn Thủy " }
	toneStyle      = func(e *enrollment.Enrollment) { e.FullName = "Hoàng Văn Thuỷ" }
	surnameVariant = func(e *enrollment.Enrollment) { e.FullName = "Huỳnh Văn Thủy" }
	middleDropped  = func(e *enrollment.Enrollment) { e.FullName = "Hoàng Thủy" }
	transposed     = func(e *enrollment.Enrollment) { e.PersonalID = "042085470263" }
	mistyped       = func(e *enrollment.Enrollment) { e.PersonalID = "042085472093" }
	mistypedYear   = func(e *enrollment.Enrollment) { e.PersonalID = "042086472063" }
	lostZero       = func(e *enrollment.Enrollment) { e.PersonalID = "42085472063" }
	digitDropped   = func(e *enrollment.Enrollment) { e.PersonalID = "04208547206" }
	dobSwapped     = func(e *enrollment.Enrollment) { e.DateOfBirth = enrollment.Date{Year: 1985, Month: 7, Day: 3} }
	dobYearOnly    = func(e *enrollment.Enrollment) { e.DateOfBirth = enrollment.Date{Year: 1985} }
	dob0101        = func(e *enrollment.Enrollment) { e.DateOfBirth = enrollment.Date{Year: 1985, Month: 1, Day: 1} }
)

// The reasons every case below shares: the family and places agree.
var agree = []string{ReasonSexEqual, ReasonBirthProvinceEqual, ReasonParentsEqual, ReasonHometownEqual, ReasonHeadEqual}

func reasons(codes ...string) []string { return append(codes, agree...) }

func TestComparePositives(t *testing.T) {
	cases := []struct {
		name string
		mods []func(*enrollment.Enrollment)
		want []string
	}{
		{"id_missing", mods(noID), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOBEqual)},
		{"id_transposed", mods(transposed), reasons(ReasonIDTransposed, ReasonNameEqual, ReasonDOBEqual)},
		{"id_digit_mistyped", mods(mistyped), reasons(ReasonIDOneDigit, ReasonNameEqual, ReasonDOBEqual)},
		{"id_digit_mistyped in the year", mods(mistypedYear), reasons(ReasonIDOneDigit, ReasonNameEqual, ReasonDOBEqual)},
		{"id_digit_dropped, if let in", mods(digitDropped), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOBEqual)},
		{"nfd", mods(noID, nfd), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOBEqual)},
		{"no_diacritics", mods(noID, noDiacritics), reasons(ReasonIDMissing, ReasonNameFoldEqual, ReasonDOBEqual)},
		{"uppercase", mods(noID, upper), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOBEqual)},
		{"spaces", mods(noID, spaces), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOBEqual)},
		{"tone_style", mods(noID, toneStyle), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOBEqual)},
		{"surname_variant", mods(noID, surnameVariant), reasons(ReasonIDMissing, ReasonSurnameVariant, ReasonDOBEqual)},
		{"middle_dropped", mods(noID, middleDropped), reasons(ReasonIDMissing, ReasonMiddleDropped, ReasonDOBEqual)},
		{"dob_day_month_swapped", mods(noID, dobSwapped), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOBSwapped)},
		{"dob_year_only", mods(noID, dobYearOnly), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOBYearOnly)},
		{"dob_default_0101", mods(noID, dob0101), reasons(ReasonIDMissing, ReasonNameEqual, ReasonDOB0101)},
		{"three defects", mods(noID, noDiacritics, upper, dobYearOnly), reasons(ReasonIDMissing, ReasonNameFoldEqual, ReasonDOBYearOnly)},
		{"surname_variant, middle_dropped, 01/01", mods(noID, func(e *enrollment.Enrollment) { e.FullName = "Huỳnh Thủy" }, dob0101),
			reasons(ReasonIDMissing, ReasonSurnameVariant, ReasonMiddleDropped, ReasonDOB0101)},
		{"id_transposed, no_diacritics, swapped", mods(transposed, noDiacritics, dobSwapped),
			reasons(ReasonIDTransposed, ReasonNameFoldEqual, ReasonDOBSwapped)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := record(base()), record(with(c.mods...))
			p, ok := Compare(a, b)
			if !ok || !slices.Equal(p.Reasons, c.want) {
				t.Errorf("Compare = %v, %v; want a pair with reasons %v", p, ok, c.want)
			}
			if q, _ := Compare(b, a); fmt.Sprint(q) != fmt.Sprint(p) {
				t.Errorf("not symmetric: %v and %v", p, q)
			}
		})
	}
}

func mods(m ...func(*enrollment.Enrollment)) []func(*enrollment.Enrollment) { return m }

// TestKeyNoise: the ID defects that never make a probable duplicate. A
// lost leading zero is padded back by Keys (the same citizen key: the
// reconciler's business); a dropped digit is rejected by the validator,
// so it never reaches the hub (had it, it would be provisional: see the
// positive case above).
func TestKeyNoise(t *testing.T) {
	if a, b := record(base()), record(with(lostZero)); a.Key != b.Key {
		t.Errorf("id_lost_zero: keys %q and %q differ", a.Key, b.Key)
	}
	e := with(digitDropped)
	if !enrollment.Validate(&e, enrollment.Context{}).Rejected() {
		t.Errorf("id_digit_dropped: not rejected")
	}
}

// Hard negatives (synth's similar_to kinds) and other look-alikes.
func TestCompareNegatives(t *testing.T) {
	twin := func(e *enrollment.Enrollment) { e.FullName, e.PersonalID = "Hoàng Văn Thành", "042085118305" }
	namesake := func(e *enrollment.Enrollment) {
		e.PersonalID, e.DateOfBirth = "042085903377", enrollment.Date{Year: 1985, Month: 11, Day: 20}
		e.Father = &enrollment.Relative{FullName: "Hoàng Văn Tư", PersonalID: "042060120033"}
		e.Mother = &enrollment.Relative{FullName: "Đặng Thị Lan", PersonalID: "042163228801"}
		e.HouseholdHead = e.Father
		e.Hometown = enrollment.Place{UnitCode: "18343", CodeList: "2023-04"}
	}
	father := func(e *enrollment.Enrollment) {
		f := base().Father
		e.FullName, e.PersonalID, e.DateOfBirth = f.FullName, f.PersonalID, *f.DateOfBirth
		e.Father, e.Mother, e.RelationToHead = nil, nil, "Chủ hộ"
	}
	junior := func(e *enrollment.Enrollment) { e.FullName = base().Father.FullName }
	neighbourID := func(e *enrollment.Enrollment) { // a stranger one digit away
		e.PersonalID, e.FullName, e.DateOfBirth = "042085472069", "Trần Thị Mai", enrollment.Date{Year: 1985, Month: 12, Day: 30}
		e.Sex, e.Father, e.Mother, e.HouseholdHead = enrollment.Female, nil, nil, &enrollment.Relative{FullName: "Trần Văn Hải", PersonalID: "042050000123"}
	}
	cases := []struct {
		name string
		a, b enrollment.Enrollment
		want string // a reason that must be there
	}{
		{"twin", base(), with(twin), ReasonNameDiffers},
		{"twin without an ID", base(), with(twin, noID), ReasonNameDiffers},
		{"twin without an ID, typed without diacritics", base(), with(twin, noID, func(e *enrollment.Enrollment) { e.FullName = "Hoang Van Thanh" }), ReasonNameDiffers},
		{"namesake", base(), with(namesake), ReasonIDDiffers},
		{"namesake without an ID", base(), with(namesake, noID), ReasonHeadDiffers},
		{"namesake without an ID, year only", base(), with(namesake, noID, dobYearOnly), ReasonHeadDiffers},
		{"namesake without an ID, same date of birth", base(), with(namesake, noID, func(e *enrollment.Enrollment) { e.DateOfBirth = base().DateOfBirth }), ReasonHeadDiffers},
		{"junior and father", with(junior), with(father), ReasonRelative},
		{"junior and father without an ID", with(junior), with(father, noID), ReasonRelative},
		{"junior without an ID and father", with(junior, noID), with(father), ReasonRelative},
		{"stranger one ID digit away", base(), with(neighbourID), ReasonIDOneDigit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ok := Compare(record(c.a), record(c.b))
			if ok || !slices.Contains(p.Reasons, c.want) {
				t.Errorf("Compare = %v, %v; want no pair, with reason %s", p, ok, c.want)
			}
		})
	}
}

func TestMinPoints(t *testing.T) {
	for _, c := range []struct {
		threshold float64
		want      int
	}{{0.5, 0}, {0.51, 1}, {2.0 / 3, 1}, {0.9, 4}, {1e-9, -29}, {0.999999, 20}} {
		if got := minPoints(c.threshold); got != c.want {
			t.Errorf("minPoints(%v) = %d, want %d", c.threshold, got, c.want)
		}
	}
}

func TestScoreOf(t *testing.T) {
	for _, c := range []struct {
		points int
		want   float64
	}{{0, 0.5}, {1, 2.0 / 3}, {-1, 1.0 / 3}, {10, 1024.0 / 1025}, {-60, 1 / (1 + 0x1p60)}} {
		if got := scoreOf(c.points); got != c.want {
			t.Errorf("scoreOf(%d) = %v, want %v", c.points, got, c.want)
		}
	}
}

func TestIDEdit(t *testing.T) {
	for _, c := range []struct {
		a, b     string
		kind     int
		distance int
	}{
		{"042085472063", "042085472063", editNone, 0},
		{"042085472063", "042085472069", editSubstitute, 1},
		{"042085472063", "042085470263", editTransposed, 1},
		{"042085472063", "042805472063", editTransposed, 1},
		{"042085472063", "042805472069", editNone, 2},
		{"042085472063", "042085472600", editNone, 2},
		{"042085472063", "042085400000", editNone, 4},
	} {
		a, b := toDigits(c.a), toDigits(c.b)
		if k, _ := idEdit(a, b); k != c.kind {
			t.Errorf("idEdit(%s, %s) = %d, want %d", c.a, c.b, k, c.kind)
		}
		if d := idDistance(a, b); d != c.distance {
			t.Errorf("idDistance(%s, %s) = %d, want %d", c.a, c.b, d, c.distance)
		}
	}
}
