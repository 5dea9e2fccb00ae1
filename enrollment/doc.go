// Package enrollment is the shared domain of fieldsync: the shape of a
// citizen enrollment (DOMAIN.md §2, §7), the rules that say whether it is
// right, the Vietnamese-aware normalization that derives matching keys, and
// the reference tables (ID-number province prefixes, the 54 ethnic groups,
// religions, Hà Tĩnh's units in the 2023 and 2025 code lists) compiled into
// the binary.
//
// It is pure: no I/O, no clock (the validator takes "now" as an argument).
// Captured text is never altered; keys are derived from it.
//
// # Validating a record
//
// Validate applies every rule and returns Findings, most severe first:
//
//	fs := enrollment.Validate(&e, enrollment.Context{Now: now})
//	if fs.Rejected() {
//		// refuse the capture: show fs.Filter(enrollment.Reject)
//	}
//	for _, f := range fs.Filter(enrollment.Warn) {
//		fmt.Println(f.Field, f.Code, f.Message) // or f.MessageVI
//	}
//
// Each Finding names the field by its JSON path ("father.personal_id"), a
// stable Code ("pid.year_mismatch", see Rules) and a message in English and
// Vietnamese that starts with the field's name on the form (FieldLabel).
// Severities follow DOMAIN.md §7.2: Reject for what cannot be accepted (an
// ID number that is not 12 digits with a province prefix, 30 February, a
// missing mandatory field, an invisible bidi character); Warn for what is
// probably wrong but can be legitimate (an ID number that disagrees with
// the date of birth, sex or birth province: Decree 70/2024 Art. 11 lets a
// citizen keep it); Info for remarks (NFD text, the new tone style).
//
// A personal ID number alone is cleaned and read with NormalizePersonalID
// and DecodePersonalID. One cleaning rule is deliberate: an 11-digit
// number that lost its leading zero in a spreadsheet is read with the zero
// put back, with a warning.
//
// # Matching keys
//
// NameKey and FoldKey turn a name into a key for comparison: NFC, repaired
// TCVN3/VNI mojibake, look-alikes mapped, spaces collapsed, lower case and
// one tone-placement convention (the old one: hòa, thủy, khỏe). FoldKey also
// drops the diacritics and is for blocking only. Keys derives everything a
// hub's duplicate detector needs from a record:
//
//	k := enrollment.Keys(&e)
//	// k.PersonalID, k.Name, k.NameFold, k.Surname/Middle/Given,
//	// k.DateOfBirth, k.Sex, k.BirthProvince(2025), k.FatherName, k.MotherName
//
// Legacy encodings can also be handled directly with DetectLegacy,
// RepairLegacy, DecodeLegacyMojibake and EncodeLegacyMojibake.
//
// # Decoding input
//
// DecodeJSON reads one record strictly (unknown or repeated fields, wrong
// kinds, bad dates, trailing data and invalid UTF-8 are errors naming the
// field, as a *DecodeError). NewJSONLinesReader and NewCSVReader read files
// record by record; a bad record yields an error for its line and reading
// continues:
//
//	r, err := enrollment.NewCSVReader(f) // header checked here
//	if err != nil {
//		return err
//	}
//	for {
//		line, e, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			log.Printf("skipped: %v", err) // "line 7: enrollment: date_of_birth: …"
//			continue
//		}
//		fs := enrollment.Validate(&e, enrollment.Context{Now: now})
//		_ = line
//		_ = fs
//	}
//
// The CSV columns are documented in docs/import-format.md. Every input is
// bounded: MaxRecordBytes per record, MaxNameRunes, MaxTextRunes and
// MaxCodeRunes per field, and limits on list lengths.
package enrollment
