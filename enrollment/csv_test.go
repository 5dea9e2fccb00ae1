package enrollment

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

const csvHeader = "personal_id,full_name,date_of_birth,sex,ethnicity_code,religion,nationality," +
	"birth_registration_code,birth_registration_code_list,birth_registration_text," +
	"permanent_residence_code,permanent_residence_code_list,permanent_residence_text," +
	"father_name,father_id,household_head_name,household_head_dob,relation_to_head," +
	"commune_code,code_list,officer,device,captured_at"

const csvGoodRow = `042085000123,Nguyễn Văn An,12/03/1985,Nam,Kinh,Không,Việt Nam,` +
	`18586,2023-04,"Xã Thạch Kênh, Huyện Thạch Hà",18586,2025-07,"Thôn Bắc Kinh, Xã Đông Kinh",` +
	`Nguyễn Văn Bình,042055000456,Nguyễn Văn Bình,1955-06-01,Con,` +
	`18586,2025-07,CA-18586-07,dev-0001,2025-09-15T09:30:00+07:00`

func TestCSVReaderGoodRow(t *testing.T) {
	in := "\uFEFF" + csvHeader + "\r\n" + csvGoodRow + "\r\n"
	r, err := NewCSVReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	line, e, err := r.Next()
	if err != nil || line != 2 {
		t.Fatalf("Next() = %d, %v", line, err)
	}
	want := Enrollment{
		PersonalID: "042085000123", FullName: "Nguyễn Văn An", DateOfBirth: Date{1985, 3, 12}, Sex: Male,
		EthnicityCode: "01", Religion: "Không", Nationality: []string{"Việt Nam"},
		BirthRegistration:  Place{UnitCode: "18586", CodeList: CodeList2023, Text: "Xã Thạch Kênh, Huyện Thạch Hà"},
		PermanentResidence: Place{UnitCode: "18586", CodeList: CodeList2025, Text: "Thôn Bắc Kinh, Xã Đông Kinh"},
		Father:             &Relative{FullName: "Nguyễn Văn Bình", PersonalID: "042055000456"},
		HouseholdHead:      &Relative{FullName: "Nguyễn Văn Bình", DateOfBirth: dp(1955, 6, 1)},
		RelationToHead:     "Con",
		Capture: Capture{CommuneCode: "18586", CodeList: CodeList2025, Officer: "CA-18586-07", Device: "dev-0001",
			CapturedAt: time.Date(2025, 9, 15, 9, 30, 0, 0, ict)},
	}
	sameEnrollment(t, e, want)
	if fs := Validate(&e, testCtx); len(fs) != 0 {
		t.Errorf("imported row has findings:\n%s", fs.Error())
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
	if got := strings.Join(r.Columns(), ","); got != csvHeader {
		t.Errorf("Columns() = %s", got)
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name, header, field, mention string
		err                          error
	}{
		{"unknown column", csvHeader + ",nickname", "nickname", "nickname", ErrUnknownField},
		{"repeated column", csvHeader + ",full_name", "full_name", "twice", ErrDuplicateField},
		{"empty column name", csvHeader + ",", "", "no name", ErrBadRow},
		{"missing columns", "full_name,date_of_birth,ethnicity_code,nationality,commune_code,officer,device,captured_at,birth_registration_text",
			"", "sex, permanent_residence_code or permanent_residence_text", ErrBadRow},
		{"empty file", "", "", "empty", ErrBadRow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCSVReader(strings.NewReader(tc.header))
			var de *DecodeError
			if !errors.Is(err, tc.err) || !errors.As(err, &de) || de.Field != tc.field {
				t.Fatalf("err = %v, want %v on %q", err, tc.err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
	if _, err := NewCSVReader(strings.NewReader(strings.ToUpper(csvHeader) + "\n")); err != nil {
		t.Errorf("header case must not matter: %v", err)
	}
}

// TestCSVRows feeds rows one after the other: each bad row gives an error
// naming the column, and reading goes on with the next row.
func TestCSVRows(t *testing.T) {
	good := csvGoodRow
	replace := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	rows := []struct {
		name   string
		row    string
		column string // "" for a row-level error
		err    error
		check  func(e Enrollment) bool
	}{
		{"good", good, "", nil, nil},
		{"bad date", replace("12/03/1985", "12/3/85x"), "date_of_birth", ErrBadDate, nil},
		{"bad time", replace("2025-09-15T09:30:00+07:00", "15/09/2025 9:30"), "captured_at", ErrBadTime, nil},
		{"bad household head dob", replace("1955-06-01", "ngày 1"), "household_head_dob", ErrBadDate, nil},
		{"invalid UTF-8", replace("Nguyễn Văn An", "Nguy\xe1n Văn An"), "full_name", ErrInvalidUTF8, nil},
		{"missing cell", strings.TrimSuffix(good, ",2025-09-15T09:30:00+07:00"), "", ErrBadRow, nil},
		{"stray quote", replace("Nguyễn Văn An", `Nguyễn "Văn" An`), "", ErrBadRow, nil},
		{"after good rows", good, "", nil, nil},
		{"sex and ethnicity variants", replace(",Nam,Kinh,", ",nữ,H'Mông,"), "", nil,
			func(e Enrollment) bool { return e.Sex == Female && e.EthnicityCode == "08" }},
		{"unknown sex kept", replace(",Nam,", ",X,"), "", nil, func(e Enrollment) bool { return e.Sex == "X" }},
		{"list and spaces", replace(",Việt Nam,", `, Việt Nam ; Lào ;,`), "", nil,
			func(e Enrollment) bool { return strings.Join(e.Nationality, "|") == "Việt Nam|Lào" }},
		{"quoted name kept as written", replace("Nguyễn Văn An", `"Nguyễn  Văn ""Tí"" An "`), "", nil,
			func(e Enrollment) bool { return e.FullName == `Nguyễn  Văn "Tí" An ` }},
		{"codes trimmed", replace(",18586,2023-04,", ", 18586 , 2023-04 ,"), "", nil,
			func(e Enrollment) bool { return e.BirthRegistration.UnitCode == "18586" }},
		{"multi-line quoted cell", replace(`"Xã Thạch Kênh, Huyện Thạch Hà"`, "\"Xã Thạch Kênh,\nHuyện Thạch Hà\""), "", nil,
			func(e Enrollment) bool { return strings.Contains(e.BirthRegistration.Text, "\n") }},
		{"too long", replace("Nguyễn Văn An", strings.Repeat("a", MaxRecordBytes)), "", ErrTooLarge, nil},
		{"good at the end", good, "", nil, nil},
	}
	var b strings.Builder
	b.WriteString(csvHeader + "\n")
	for _, r := range rows {
		b.WriteString(r.row + "\n\n") // blank lines between rows are skipped
	}
	cr, err := NewCSVReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	wantLine := 2
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			line, e, err := cr.Next()
			if line != wantLine {
				t.Errorf("line %d, want %d", line, wantLine)
			}
			if !errors.Is(err, r.err) {
				t.Fatalf("err = %v, want %v", err, r.err)
			}
			var de *DecodeError
			if r.err != nil && (!errors.As(err, &de) || de.Field != r.column) {
				t.Fatalf("err = %v, want column %q", err, r.column)
			}
			if r.column != "" && !strings.Contains(err.Error(), r.column) {
				t.Errorf("error %q does not name the column", err)
			}
			if r.check != nil && !r.check(e) {
				t.Errorf("unexpected record %+v", e)
			}
		})
		wantLine += 2 + strings.Count(r.row, "\n")
	}
	if _, _, err := cr.Next(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
}

func TestCSVUnterminatedQuote(t *testing.T) {
	cr, err := NewCSVReader(strings.NewReader(csvHeader + "\n" + `042085000123,"Nguyễn Văn An`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cr.Next(); !errors.Is(err, ErrBadRow) {
		t.Fatalf("want ErrBadRow, got %v", err)
	}
	if _, _, err := cr.Next(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
}

func TestCSVTooManyCells(t *testing.T) {
	cr, err := NewCSVReader(strings.NewReader(csvHeader + "\n" + strings.Repeat(",", 1000) + "\n" + csvGoodRow + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cr.Next(); !errors.Is(err, ErrBadRow) {
		t.Fatalf("want ErrBadRow, got %v", err)
	}
	if _, _, err := cr.Next(); err != nil {
		t.Fatalf("the next row must read: %v", err)
	}
}

// TestImportFormatDoc keeps docs/import-format.md in step with the code.
func TestImportFormatDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/import-format.md")
	if err != nil {
		t.Skipf("docs not present: %v", err)
	}
	for _, c := range CSVColumns() {
		if !strings.Contains(string(doc), "`"+c+"`") {
			t.Errorf("column %s is not documented", c)
		}
	}
}

// TestImportFormatExample reads the example of docs/import-format.md.
func TestImportFormatExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/import-format.md")
	if err != nil {
		t.Skipf("docs not present: %v", err)
	}
	_, block, ok := strings.Cut(string(doc), "```csv\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("no csv example")
	}
	cr, err := NewCSVReader(strings.NewReader(block))
	if err != nil {
		t.Fatal(err)
	}
	_, e, err := cr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if fs := Validate(&e, testCtx); len(fs) != 0 {
		t.Errorf("example has findings:\n%s", fs.Error())
	}
}
