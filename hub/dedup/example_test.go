package dedup_test

import (
	"fmt"

	"fieldsync/enrollment"
	"fieldsync/hub/dedup"
)

// A citizen re-enrolled without the card, typed without diacritics and
// with only the year of birth, is proposed as a duplicate of the record
// under the ID number.
func ExampleIndex() {
	head := &enrollment.Relative{FullName: "Trần Văn Hải", PersonalID: "042050000123"}
	home := enrollment.Place{UnitCode: "18094", CodeList: enrollment.CodeList2023}
	first := enrollment.Enrollment{PersonalID: "042185472063", FullName: "Nguyễn Thị Hòa", Sex: enrollment.Female,
		DateOfBirth: enrollment.Date{Year: 1985, Month: 3, Day: 7}, HouseholdHead: head,
		Hometown: home, BirthRegistration: home}
	again := first
	again.PersonalID, again.FullName, again.DateOfBirth = "", "NGUYEN THI HOA", enrollment.Date{Year: 1985}

	ix := dedup.NewIndex(dedup.DefaultConfig())
	ix.Put(dedup.Record{Key: "042185472063", Enrollment: &first, Keys: enrollment.Keys(&first), Region: "18073"})
	ix.Put(dedup.Record{Key: "prov:a1b2", Enrollment: &again, Keys: enrollment.Keys(&again), Region: "18073"})
	for _, p := range ix.Pairs() {
		fmt.Printf("%s %s %.3f %v\n", p.A, p.B, p.Score, p.Reasons)
	}
	// Output:
	// 042185472063 prov:a1b2 0.800 [id-missing name-fold-equal dob-year-only sex-equal birth-province-equal hometown-equal household-head-equal]
}
