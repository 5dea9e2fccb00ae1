package hub

import (
	"bytes"
	"testing"

	"fieldsync/enrollment"
)

// FuzzMatchProfile: a stored match profile that does not decode is refused
// (never a panic), and one that decodes packs back to the same bytes.
func FuzzMatchProfile(f *testing.F) {
	m := dedupMatcher{}
	rec := &enrollment.Enrollment{FullName: "Nguyễn Văn An", PersonalID: "042085000123", DateOfBirth: enrollment.Date{Year: 1985, Month: 3, Day: 12},
		Hometown: enrollment.Place{UnitCode: "18586", CodeList: enrollment.CodeList2023, Text: "Xã Thạch Kênh"},
		Father:   &enrollment.Relative{FullName: "Nguyễn Văn Bình", DateOfBirth: &enrollment.Date{Year: 1950}},
		Mother:   &enrollment.Relative{FullName: "Trần Thị Hoa", PersonalID: "042150000001"}}
	f.Add(m.Profile(rec, enrollment.Keys(rec)))
	f.Add(m.Profile(&enrollment.Enrollment{}, enrollment.MatchKeys{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, e, err := unpackRecord(b)
		if err != nil {
			return
		}
		if again := m.Profile(e, k); !bytes.Equal(again, b) {
			t.Fatalf("profile %x unpacks and packs as %x", b, again)
		}
	})
}
