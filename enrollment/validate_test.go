package enrollment

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

var (
	ict     = time.FixedZone("ICT", 7*3600)
	testNow = time.Date(2026, 1, 15, 10, 0, 0, 0, ict)
	testCtx = Context{Now: testNow}
)

func dp(y, m, d int) *Date { return &Date{Year: y, Month: m, Day: d} }

// validEnrollment is a complete, consistent record from Xã Thạch Kênh
// (2023-04) / Xã Đông Kinh (2025-07), Hà Tĩnh: Validate finds nothing.
func validEnrollment() Enrollment {
	return Enrollment{
		PersonalID:    "042085000123",
		FullName:      "Nguyễn Văn An",
		DateOfBirth:   Date{Year: 1985, Month: 3, Day: 12},
		Sex:           Male,
		EthnicityCode: "01",
		Religion:      "Không",
		Nationality:   []string{"Việt Nam"},
		BirthRegistration: Place{UnitCode: "18586", CodeList: CodeList2023,
			Text: "Xã Thạch Kênh, Huyện Thạch Hà, Tỉnh Hà Tĩnh"},
		Hometown: Place{UnitCode: "42", CodeList: CodeList2023, Text: "Tỉnh Hà Tĩnh"},
		PermanentResidence: Place{UnitCode: "18586", CodeList: CodeList2025,
			Text: "Thôn Bắc Kinh, Xã Đông Kinh, Tỉnh Hà Tĩnh"},
		Occupation:     "Nông dân",
		MaritalStatus:  "Đã kết hôn",
		BloodType:      "O+",
		Father:         &Relative{FullName: "Nguyễn Văn Bình", PersonalID: "042055000456"},
		Mother:         &Relative{FullName: "Trần Thị Lan", PersonalID: "042158000789"},
		HouseholdHead:  &Relative{FullName: "Nguyễn Văn Bình", PersonalID: "042055000456", DateOfBirth: dp(1955, 6, 1)},
		RelationToHead: "Con",
		Capture: Capture{CommuneCode: "18586", CodeList: CodeList2025, Officer: "CA-18586-07",
			Device: "dev-0001", CapturedAt: time.Date(2025, 9, 15, 9, 30, 0, 0, ict), RequestType: "Cấp mới"},
	}
}

func TestValidEnrollmentHasNoFindings(t *testing.T) {
	e := validEnrollment()
	if fs := Validate(&e, testCtx); len(fs) != 0 {
		t.Fatalf("want no findings, got:\n%v", fs.Error())
	}
}

// ruleCase mutates the valid record; code "" means it must stay clean,
// otherwise a finding with that field and code must appear.
type ruleCase struct {
	name   string
	mutate func(e *Enrollment)
	ctx    *Context
	field  string
	code   string
}

func noPID(e *Enrollment) { e.PersonalID = "" }

var ruleCases = []ruleCase{
	// Personal ID number.
	{"pid ok with spaces", func(e *Enrollment) { e.PersonalID = "042 085 000 123" }, nil, "", ""},
	{"pid ok with dots and hyphens", func(e *Enrollment) { e.PersonalID = "042.085-000.123" }, nil, "", ""},
	{"pid ok full-width", func(e *Enrollment) { e.PersonalID = "０４２０８５０００１２３" }, nil, "", ""},
	{"pid absent ok", noPID, nil, "", ""},
	{"pid letter O", func(e *Enrollment) { e.PersonalID = "04208500O123" }, nil, "personal_id", "pid.not_digits"},
	{"pid 13 digits", func(e *Enrollment) { e.PersonalID = "0420850001234" }, nil, "personal_id", "pid.length"},
	{"pid 8 digits", func(e *Enrollment) { e.PersonalID = "04208500" }, nil, "personal_id", "pid.length"},
	{"pid 10kB", func(e *Enrollment) { e.PersonalID = strings.Repeat("1", 10000) }, nil, "personal_id", "pid.length"},
	{"pid prefix 003", func(e *Enrollment) { e.PersonalID = "003085000123" }, nil, "personal_id", "pid.prefix_unknown"},
	{"pid prefix 003 foreign flag", func(e *Enrollment) { e.PersonalID = "003085000123" }, &Context{Now: testNow, AllowForeignPrefix: true}, "personal_id", "pid.prefix_foreign"},
	{"pid lost zero", func(e *Enrollment) { e.PersonalID = "42085000123" }, nil, "personal_id", "pid.lost_leading_zero"},
	{"pid 11 digits bad prefix", func(e *Enrollment) { e.PersonalID = "03085000123" }, nil, "personal_id", "pid.length"},
	{"pid year mismatch", func(e *Enrollment) { e.PersonalID = "042086000123" }, nil, "personal_id", "pid.year_mismatch"},
	{"pid year in future", func(e *Enrollment) { e.PersonalID = "042427000123" }, nil, "personal_id", "pid.year_implausible"},
	{"pid sex mismatch", func(e *Enrollment) { e.PersonalID = "042185000123" }, nil, "personal_id", "pid.sex_mismatch"},
	{"pid female ok", func(e *Enrollment) { e.PersonalID = "042185000123"; e.Sex = Female; e.FullName = "Nguyễn Thị An" }, nil, "", ""},
	{"pid 21st century ok", func(e *Enrollment) {
		e.PersonalID, e.DateOfBirth, e.MaritalStatus = "042205000123", Date{2005, 7, 1}, "Chưa kết hôn"
	}, nil, "", ""},
	{"pid province mismatch", func(e *Enrollment) { e.PersonalID = "040085000123" }, nil, "personal_id", "pid.province_mismatch"},
	{"pid province via 2025 merged province", func(e *Enrollment) {
		e.PersonalID = "010085000123"
		e.BirthRegistration = Place{UnitCode: "15", CodeList: CodeList2025, Text: "Tỉnh Lào Cai"}
	}, nil, "", ""},
	{"pid province via 2025 Hà Tĩnh commune", func(e *Enrollment) {
		e.BirthRegistration = Place{UnitCode: "18073", CodeList: CodeList2025}
	}, nil, "", ""},
	{"pid province 2023 old code differs", func(e *Enrollment) {
		e.PersonalID = "015085000123"
		e.BirthRegistration = Place{UnitCode: "10", CodeList: CodeList2023}
	}, nil, "personal_id", "pid.province_mismatch"},
	{"pid province text only not checked", func(e *Enrollment) {
		e.PersonalID = "040085000123"
		e.BirthRegistration = Place{Text: "Nghệ An"}
	}, nil, "", ""},

	// Dates of birth.
	{"dob year missing", func(e *Enrollment) { noPID(e); e.DateOfBirth = Date{Month: 3} }, nil, "date_of_birth", "date.year_missing"},
	{"dob month 13", func(e *Enrollment) { e.DateOfBirth = Date{1985, 13, 1} }, nil, "date_of_birth", "date.month_invalid"},
	{"dob day without month", func(e *Enrollment) { e.DateOfBirth = Date{1985, 0, 5} }, nil, "date_of_birth", "date.day_without_month"},
	{"dob 30 February", func(e *Enrollment) { e.DateOfBirth = Date{1985, 2, 30} }, nil, "date_of_birth", "date.day_invalid"},
	{"dob 29 February 1985", func(e *Enrollment) { e.DateOfBirth = Date{1985, 2, 29} }, nil, "date_of_birth", "date.day_invalid"},
	{"dob 29 February 2000 ok", func(e *Enrollment) {
		e.PersonalID, e.DateOfBirth, e.MaritalStatus = "042200000123", Date{2000, 2, 29}, ""
	}, nil, "", ""},
	{"dob month precision ok", func(e *Enrollment) { e.DateOfBirth = Date{Year: 1985, Month: 3} }, nil, "", ""},
	{"dob year precision ok", func(e *Enrollment) { e.DateOfBirth = Date{Year: 1985} }, nil, "", ""},
	{"dob future", func(e *Enrollment) { noPID(e); e.DateOfBirth = Date{2026, 3, 1}; e.RelationToHead = "" }, nil, "date_of_birth", "dob.future"},
	{"dob future year", func(e *Enrollment) { noPID(e); e.DateOfBirth = Date{Year: 2027} }, nil, "date_of_birth", "dob.future"},
	{"dob today ok", func(e *Enrollment) {
		noPID(e)
		e.DateOfBirth, e.MaritalStatus = Date{2026, 1, 15}, ""
	}, nil, "", ""},
	{"dob before 1900", func(e *Enrollment) { noPID(e); e.DateOfBirth = Date{Year: 1899} }, nil, "date_of_birth", "dob.before_1900"},
	{"dob two-digit year", func(e *Enrollment) { noPID(e); e.DateOfBirth = Date{85, 3, 12} }, nil, "date_of_birth", "dob.before_1900"},
	{"dob age 124", func(e *Enrollment) { noPID(e); e.DateOfBirth = Date{1901, 6, 2} }, nil, "date_of_birth", "dob.too_old"},
	{"dob age 119 ok", func(e *Enrollment) {
		noPID(e)
		e.DateOfBirth, e.RelationToHead, e.Father, e.Mother = Date{1906, 6, 1}, "Chủ hộ", nil, nil
	}, nil, "", ""},
	{"dob 01/01/1950 info", func(e *Enrollment) {
		e.PersonalID, e.DateOfBirth, e.RelationToHead = "042050000123", Date{1950, 1, 1}, "Chủ hộ"
	}, nil, "date_of_birth", "dob.default_jan1"},
	{"dob 01/01/1965 no info", func(e *Enrollment) {
		e.PersonalID, e.DateOfBirth = "042065000123", Date{1965, 1, 1}
	}, nil, "", ""},

	// Mandatory fields.
	{"missing full_name", func(e *Enrollment) { e.FullName = "  " }, nil, "full_name", "field.missing"},
	{"missing date_of_birth", func(e *Enrollment) { e.DateOfBirth = Date{} }, nil, "date_of_birth", "field.missing"},
	{"missing sex", func(e *Enrollment) { e.Sex = "" }, nil, "sex", "field.missing"},
	{"missing ethnicity", func(e *Enrollment) { e.EthnicityCode = "" }, nil, "ethnicity_code", "field.missing"},
	{"missing nationality", func(e *Enrollment) { e.Nationality = []string{" "} }, nil, "nationality", "field.missing"},
	{"missing birth registration", func(e *Enrollment) { e.BirthRegistration = Place{} }, nil, "birth_registration", "field.missing"},
	{"missing permanent residence", func(e *Enrollment) { e.PermanentResidence = Place{CodeList: CodeList2025} }, nil, "permanent_residence", "field.missing"},
	{"missing commune", func(e *Enrollment) { e.Capture.CommuneCode = "" }, nil, "capture.commune_code", "field.missing"},
	{"missing officer", func(e *Enrollment) { e.Capture.Officer = "" }, nil, "capture.officer", "field.missing"},
	{"missing device", func(e *Enrollment) { e.Capture.Device = "" }, nil, "capture.device", "field.missing"},
	{"missing captured_at", func(e *Enrollment) { e.Capture.CapturedAt = time.Time{} }, nil, "capture.captured_at", "field.missing"},
	{"birth registration by text only ok", func(e *Enrollment) { e.BirthRegistration = Place{Text: "Thạch Kênh, Thạch Hà"} }, nil, "", ""},

	// Enumerations.
	{"sex X", func(e *Enrollment) { e.Sex = "X" }, nil, "sex", "sex.invalid"},
	{"ethnicity 56", func(e *Enrollment) { e.EthnicityCode = "56" }, nil, "ethnicity_code", "ethnicity.unknown"},
	{"ethnicity name", func(e *Enrollment) { e.EthnicityCode = "Kinh" }, nil, "ethnicity_code", "ethnicity.unknown"},
	{"ethnicity unpadded", func(e *Enrollment) { e.EthnicityCode = "1" }, nil, "ethnicity_code", "ethnicity.unknown"},
	{"ethnicity 00 ok", func(e *Enrollment) { e.EthnicityCode = "00" }, nil, "", ""},
	{"ethnicity 55 ok", func(e *Enrollment) { e.EthnicityCode = "55" }, nil, "", ""},
	{"blood C", func(e *Enrollment) { e.BloodType = "C" }, nil, "blood_type", "blood_type.invalid"},
	{"blood A++", func(e *Enrollment) { e.BloodType = "A++" }, nil, "blood_type", "blood_type.invalid"},
	{"blood AB- ok", func(e *Enrollment) { e.BloodType = "AB-" }, nil, "", ""},
	{"blood empty ok", func(e *Enrollment) { e.BloodType = "" }, nil, "", ""},
	{"blood undetermined", func(e *Enrollment) { e.BloodType = "Chưa xác định" }, nil, "blood_type", "value.undetermined"},
	{"blood undetermined, no diacritics", func(e *Enrollment) { e.BloodType = "chua xac dinh" }, nil, "blood_type", "value.undetermined"},
	{"blood unknown", func(e *Enrollment) { e.BloodType = "Không rõ" }, nil, "blood_type", "value.undetermined"},
	{"blood dash", func(e *Enrollment) { e.BloodType = "-" }, nil, "blood_type", "value.undetermined"},
	{"marital undetermined", func(e *Enrollment) { e.MaritalStatus = "Chưa xác định" }, nil, "marital_status", "value.undetermined"},
	{"relation undetermined", func(e *Enrollment) { e.RelationToHead = "Không rõ" }, nil, "relation_to_head", "value.undetermined"},
	{"religion undetermined", func(e *Enrollment) { e.Religion = "Chưa rõ" }, nil, "religion", "value.undetermined"},
	{"marital unknown", func(e *Enrollment) { e.MaritalStatus = "Độc thân" }, nil, "marital_status", "marital_status.unknown"},
	{"marital new tone style ok", func(e *Enrollment) { e.MaritalStatus = "Goá" }, nil, "", ""},
	{"marital lower case ok", func(e *Enrollment) { e.MaritalStatus = "đã kết hôn" }, nil, "", ""},
	{"relation unknown", func(e *Enrollment) { e.RelationToHead = "Bạn" }, nil, "relation_to_head", "relation.unknown"},
	{"religion unknown", func(e *Enrollment) { e.Religion = "Jedi" }, nil, "religion", "religion.unknown"},
	{"religion tone style ok", func(e *Enrollment) { e.Religion = "Phật giáo Hoà Hảo" }, nil, "", ""},

	// Units and code lists.
	{"unit district code", func(e *Enrollment) { e.BirthRegistration.UnitCode = "445" }, nil, "birth_registration.unit_code", "unit.malformed"},
	{"unit letters", func(e *Enrollment) { e.Hometown.UnitCode = "1858A" }, nil, "hometown.unit_code", "unit.malformed"},
	{"capture commune 2 digits", func(e *Enrollment) { e.Capture.CommuneCode = "42" }, nil, "capture.commune_code", "unit.malformed"},
	{"code list unknown", func(e *Enrollment) { e.Hometown.CodeList = "2024-01" }, nil, "hometown.code_list", "unit.code_list_unknown"},
	{"capture code list unknown", func(e *Enrollment) { e.Capture.CodeList = "2025" }, nil, "capture.code_list", "unit.code_list_unknown"},
	{"code list missing", func(e *Enrollment) { e.Hometown.CodeList = "" }, nil, "hometown.unit_code", "unit.code_list_missing"},
	{"2023 commune merged away used with 2025", func(e *Enrollment) { e.PermanentResidence.UnitCode = "18070" }, nil, "permanent_residence.unit_code", "unit.unknown"},
	{"capture 2023 commune with 2025 list", func(e *Enrollment) { e.Capture.CommuneCode = "18088" }, nil, "capture.commune_code", "unit.unknown"},
	{"gap code in Hà Tĩnh range", func(e *Enrollment) { e.BirthRegistration.UnitCode = "18106" }, nil, "birth_registration.unit_code", "unit.unknown"},
	{"province 03 does not exist", func(e *Enrollment) { e.Hometown.UnitCode = "03" }, nil, "hometown.unit_code", "unit.unknown"},
	{"old province 10 in 2025 list", func(e *Enrollment) { e.Hometown = Place{UnitCode: "10", CodeList: CodeList2025} }, nil, "hometown.unit_code", "unit.unknown"},
	{"commune outside embedded province: shape only", func(e *Enrollment) {
		e.PermanentResidence = Place{UnitCode: "26734", CodeList: CodeList2025, Text: "Phường Sài Gòn, TP Hồ Chí Minh"}
	}, nil, "", ""},
	{"capture list 2023 after reform", func(e *Enrollment) {
		e.Capture.CodeList = CodeList2023
		e.Capture.CommuneCode = "18586"
	}, nil, "capture.code_list", "capture.code_list_not_in_force"},
	{"capture list 2023 in 2023 ok", func(e *Enrollment) {
		e.Capture.CodeList = CodeList2023
		e.Capture.CapturedAt = time.Date(2023, 4, 20, 20, 0, 0, 0, ict)
	}, nil, "", ""},

	// Text.
	{"invalid UTF-8", func(e *Enrollment) { e.FullName = "Nguy\xffn Văn An" }, nil, "full_name", "text.invalid_utf8"},
	{"invalid UTF-8 in place text", func(e *Enrollment) { e.Hometown.Text = "H\xc3" }, nil, "hometown.text", "text.invalid_utf8"},
	{"name 101 runes", func(e *Enrollment) { e.FullName = strings.Repeat("ễ", 101) }, nil, "full_name", "text.too_long"},
	{"name 10 kB", func(e *Enrollment) { e.FullName = strings.Repeat("Nguyễn ", 1500) }, nil, "full_name", "text.too_long"},
	{"name 100 runes ok", func(e *Enrollment) { e.FullName = "Nguyễn " + strings.Repeat("a", 93) }, nil, "", ""},
	{"occupation 501 runes", func(e *Enrollment) { e.Occupation = strings.Repeat("x", 501) }, nil, "occupation", "text.too_long"},
	{"officer 65 runes", func(e *Enrollment) { e.Capture.Officer = strings.Repeat("x", 65) }, nil, "capture.officer", "text.too_long"},
	{"zero-width space", func(e *Enrollment) { e.FullName = "Nguyễn\u200bVăn An" }, nil, "full_name", "text.forbidden_char"},
	{"bidi override", func(e *Enrollment) { e.FullName = "Nguyễn Văn \u202eAn" }, nil, "full_name", "text.forbidden_char"},
	{"tab in relative name", func(e *Enrollment) { e.Father.FullName = "Nguyễn\tBình" }, nil, "father.full_name", "text.forbidden_char"},
	{"NUL in device", func(e *Enrollment) { e.Capture.Device = "dev\x00" }, nil, "capture.device", "text.forbidden_char"},
	{"name without letters", func(e *Enrollment) { e.FullName = "..." }, nil, "full_name", "name.no_letters"},
	{"other name without letters", func(e *Enrollment) { e.OtherNames = []string{"Tí", "?"} }, nil, "other_names[1]", "name.no_letters"},
	{"too many other names", func(e *Enrollment) { e.OtherNames = strings.Fields(strings.Repeat("Tí ", 11)) }, nil, "other_names", "list.too_long"},
	{"TCVN3 name", func(e *Enrollment) { e.FullName = "NguyÔn V¨n An" }, nil, "full_name", "text.legacy_encoding"},
	{"VNI place text", func(e *Enrollment) { e.Hometown.Text = "Tænh Haø Tónh" }, nil, "hometown.text", "text.legacy_encoding"},
	{"replacement character", func(e *Enrollment) { e.FullName = "Nguy\uFFFDn Văn An" }, nil, "full_name", "text.replacement_char"},
	{"NFD name", func(e *Enrollment) { e.FullName = norm.NFD.String("Nguyễn Văn An") }, nil, "full_name", "text.not_nfc"},
	{"double space", func(e *Enrollment) { e.FullName = "Nguyễn  Văn An" }, nil, "full_name", "text.spacing"},
	{"trailing space", func(e *Enrollment) { e.Mother.FullName = "Trần Thị Lan " }, nil, "mother.full_name", "text.spacing"},
	{"new tone style", func(e *Enrollment) { e.FullName = "Nguyễn Văn Hoà" }, nil, "full_name", "text.tone_style"},
	{"old tone style ok", func(e *Enrollment) { e.FullName = "Nguyễn Văn Hòa" }, nil, "", ""},

	// Relatives and household.
	{"father pid malformed", func(e *Enrollment) { e.Father.PersonalID = "12345" }, nil, "father.personal_id", "relative.pid_malformed"},
	{"mother pid letters", func(e *Enrollment) { e.Mother.PersonalID = "04215800078X" }, nil, "mother.personal_id", "relative.pid_malformed"},
	{"father pid lost zero", func(e *Enrollment) { e.Father.PersonalID = "42055000456" }, nil, "father.personal_id", "pid.lost_leading_zero"},
	{"head date impossible", func(e *Enrollment) { e.HouseholdHead.DateOfBirth = dp(1955, 2, 30) }, nil, "household_head.date_of_birth", "relative.date_invalid"},
	{"spouse without name", func(e *Enrollment) { e.Spouse = &Relative{PersonalID: "042187000111"} }, nil, "spouse.full_name", "relative.name_missing"},
	{"child older than head", func(e *Enrollment) { e.HouseholdHead.DateOfBirth = dp(1990, 1, 1) }, nil, "relation_to_head", "household.child_older_than_head"},
	{"grandchild older than head", func(e *Enrollment) {
		e.RelationToHead = "Cháu"
		e.HouseholdHead.DateOfBirth = &Date{Year: 1986}
	}, nil, "relation_to_head", "household.child_older_than_head"},
	{"same year, head month unknown ok", func(e *Enrollment) { e.HouseholdHead.DateOfBirth = &Date{Year: 1985} }, nil, "", ""},
	{"wife older than head ok", func(e *Enrollment) {
		e.RelationToHead = "Vợ"
		e.HouseholdHead.DateOfBirth = dp(1990, 1, 1)
	}, nil, "", ""},
	{"father pid younger than citizen", func(e *Enrollment) { e.Father.PersonalID = "042090000456" }, nil, "father.personal_id", "parent.younger_than_child"},
	{"mother dob after citizen", func(e *Enrollment) { e.Mother.DateOfBirth = dp(1986, 1, 1) }, nil, "mother.date_of_birth", "parent.younger_than_child"},
}

func TestValidateRules(t *testing.T) {
	for _, tc := range ruleCases {
		t.Run(tc.name, func(t *testing.T) {
			e := validEnrollment()
			tc.mutate(&e)
			ctx := testCtx
			if tc.ctx != nil {
				ctx = *tc.ctx
			}
			fs := Validate(&e, ctx)
			if tc.code == "" {
				if len(fs) != 0 {
					t.Fatalf("want no findings, got:\n%s", fs.Error())
				}
				return
			}
			f, ok := findFinding(fs, tc.field, tc.code)
			if !ok {
				t.Fatalf("want %s on %s, got:\n%s", tc.code, tc.field, fs.Error())
			}
			checkFinding(t, f)
		})
	}
}

func findFinding(fs Findings, field, code string) (Finding, bool) {
	for _, f := range fs {
		if f.Field == field && f.Code == code {
			return f, true
		}
	}
	return Finding{}, false
}

// checkFinding asserts what every finding must have: the severity of its
// rule and messages in both languages naming the field in words.
func checkFinding(t *testing.T, f Finding) {
	t.Helper()
	if want := rules[f.Code].sev; f.Severity != want {
		t.Errorf("%s: severity %v, want %v", f.Code, f.Severity, want)
	}
	en, vi := FieldLabel(f.Field)
	if !strings.Contains(f.Message, en) || !strings.Contains(f.Message, f.Field) {
		t.Errorf("message %q does not name the field (%q)", f.Message, en)
	}
	if !strings.Contains(f.MessageVI, vi) {
		t.Errorf("Vietnamese message %q does not name the field (%q)", f.MessageVI, vi)
	}
	if strings.Contains(f.Message+f.MessageVI, "%!") {
		t.Errorf("bad format: %q / %q", f.Message, f.MessageVI)
	}
}

// TestEveryRuleHasAFailingCase keeps the rule table and the tests in step.
func TestEveryRuleHasAFailingCase(t *testing.T) {
	tested := map[string]bool{}
	for _, tc := range ruleCases {
		tested[tc.code] = true
	}
	for _, tc := range fileRuleCases {
		tested[tc.code] = true
	}
	for _, tc := range decodeFindingCases { // fragments_test.go
		tested[tc.code] = true
	}
	for _, r := range Rules() {
		if !tested[r.Code] {
			t.Errorf("rule %s (%v) has no test case", r.Code, r.Severity)
		}
	}
}

func TestFindingsHelpers(t *testing.T) {
	e := validEnrollment()
	e.PersonalID = "042086000123" // warn
	e.FullName = "Nguyễn  Văn An" // info
	e.Sex = "X"                   // reject
	fs := Validate(&e, testCtx)
	if !fs.Rejected() || fs.Worst() != Reject {
		t.Fatalf("want rejected, got %v", fs)
	}
	for i := 1; i < len(fs); i++ {
		if fs[i].Severity > fs[i-1].Severity {
			t.Fatalf("findings not sorted by severity: %v", fs)
		}
	}
	for _, sev := range []Severity{Info, Warn, Reject} {
		if got := fs.Filter(sev); len(got) != 1 || got[0].Severity != sev {
			t.Errorf("Filter(%v) = %v", sev, got)
		}
	}
	if err := fs.Err(); !errors.Is(err, ErrRejected) {
		t.Errorf("Err() = %v, want ErrRejected", err)
	}
	for _, f := range fs {
		if !strings.Contains(fs.Error(), f.Message) {
			t.Errorf("Error() misses %q", f.Message)
		}
	}
	var clean Findings
	if clean.Err() != nil || clean.Rejected() || clean.Worst() != Info {
		t.Error("empty findings must be clean")
	}
	if Validate(nil, testCtx).Worst() != Reject {
		t.Error("nil record must be rejected")
	}
}

func TestValidateDeterministic(t *testing.T) {
	e := validEnrollment()
	e.PersonalID, e.FullName, e.Sex, e.BloodType = "040186000123", "Nguyễn  Văn Hoà", "X", "Z"
	e.Hometown.CodeList, e.Capture.CodeList = "", CodeList2023
	first := Validate(&e, testCtx)
	for i := 0; i < 20; i++ {
		again := Validate(&e, testCtx)
		if again.Error() != first.Error() {
			t.Fatalf("order changed:\n%s\nvs\n%s", first.Error(), again.Error())
		}
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	e := validEnrollment()
	e.FullName = norm.NFD.String("  Nguyễn Văn Hoà ")
	before := e.FullName
	Validate(&e, testCtx)
	if e.FullName != before {
		t.Fatal("Validate modified the record")
	}
}

func TestSeverityText(t *testing.T) {
	for _, s := range []Severity{Info, Warn, Reject} {
		b, _ := s.MarshalText()
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%v: round trip gave %v, %v", s, back, err)
		}
	}
	if Info.String() != "info" || Warn.String() != "warn" || Reject.String() != "reject" {
		t.Error("severity names")
	}
	if !(Info < Warn && Warn < Reject) {
		t.Error("severity order")
	}
}

func TestFieldLabel(t *testing.T) {
	tests := []struct{ field, en, vi string }{
		{"personal_id", "ID number", "Số định danh cá nhân"},
		{"father.personal_id", "Father's ID number", "Số định danh của cha"},
		{"birth_registration.unit_code", "Code of the birth-registration place", "Mã đơn vị của nơi đăng ký khai sinh"},
		{"other_names[3]", "Other names", "Tên gọi khác"},
		{"capture.commune_code", "Capturing commune code", "Mã xã nơi thu nhận"},
		{"no.such", "no.such", "no.such"},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			en, vi := FieldLabel(tc.field)
			if en != tc.en || vi != tc.vi {
				t.Errorf("FieldLabel(%q) = %q, %q; want %q, %q", tc.field, en, vi, tc.en, tc.vi)
			}
		})
	}
}
