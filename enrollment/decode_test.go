package enrollment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/text/unicode/norm"
)

// richEnrollment uses every field, with Vietnamese text in NFD.
func richEnrollment() Enrollment {
	e := validEnrollment()
	e.FullName = norm.NFD.String("Nguyễn Văn Hoà")
	e.OtherNames = []string{"Tí", norm.NFD.String("Bé Hoà")}
	e.Nationality = []string{"Việt Nam", "Lào"}
	e.BirthPlace = &Place{UnitCode: "18586", CodeList: CodeList2023, Text: "Trạm y tế xã <Thạch Kênh> & \"nhà\""}
	e.CurrentResidence = &Place{Text: norm.NFD.String("Xóm 3, Đông Kinh")}
	e.LegacyIDNumber = "183456789"
	e.Spouse = &Relative{FullName: "Lê Thị Thuý", PersonalID: "042187000111", Nationality: "Việt Nam"}
	e.Biometrics = []BlobRef{
		{Kind: "face", SHA256: strings.Repeat("ab", 32), Size: 48213},
		{Kind: "finger_r1", Exception: "cụt ngón"},
	}
	return e
}

func sameEnrollment(t *testing.T, got, want Enrollment) {
	t.Helper()
	if !got.Capture.CapturedAt.Equal(want.Capture.CapturedAt) {
		t.Fatalf("captured_at %v, want %v", got.Capture.CapturedAt, want.Capture.CapturedAt)
	}
	got.Capture.CapturedAt, want.Capture.CapturedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for name, e := range map[string]Enrollment{"valid": validEnrollment(), "rich": richEnrollment(), "empty": {}} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeJSON(b)
			if err != nil {
				t.Fatal(err)
			}
			sameEnrollment(t, got, e)
		})
	}
}

func TestJSONRoundTripKeepsNFD(t *testing.T) {
	e := richEnrollment()
	b, _ := json.Marshal(e)
	got, err := DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(got.FullName), []byte(e.FullName)) || norm.NFC.IsNormalString(got.FullName) {
		t.Fatalf("full_name %q, want the NFD bytes %q", got.FullName, e.FullName)
	}
	if got.CurrentResidence.Text != e.CurrentResidence.Text {
		t.Fatal("NFD place text changed")
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		field string
		err   error
	}{
		{"unknown field", `{"full_name":"A","nickname":"B"}`, "nickname", ErrUnknownField},
		{"nested unknown field", `{"capture":{"commune":"18586"}}`, "capture.commune", ErrUnknownField},
		{"unknown field in list", `{"biometrics":[{"kind":"face","color":"red"}]}`, "biometrics[0].color", ErrUnknownField},
		{"case differs", `{"FULL_NAME":"A"}`, "FULL_NAME", ErrUnknownField},
		{"duplicate", `{"full_name":"A","full_name":"B"}`, "full_name", ErrDuplicateField},
		{"bad date", `{"date_of_birth":"30/x/1985"}`, "date_of_birth", ErrBadDate},
		{"bad relative date", `{"household_head":{"full_name":"B","date_of_birth":"abc"}}`, "household_head.date_of_birth", ErrBadDate},
		{"bad time", `{"capture":{"captured_at":"yesterday"}}`, "capture.captured_at", ErrBadTime},
		{"number for text", `{"full_name":12}`, "full_name", ErrWrongType},
		{"text for list", `{"nationality":"Việt Nam"}`, "nationality", ErrWrongType},
		{"text for object", `{"father":"Nguyễn Văn B"}`, "father", ErrWrongType},
		{"number in list", `{"other_names":["Tí",3]}`, "other_names[1]", ErrWrongType},
		{"fraction for size", `{"biometrics":[{"size":1.5}]}`, "biometrics[0].size", ErrWrongType},
		{"huge size", `{"biometrics":[{"size":1e400}]}`, "biometrics[0].size", ErrWrongType},
		{"bool for sex", `{"sex":true}`, "sex", ErrWrongType},
		{"date as number", `{"date_of_birth":1985}`, "date_of_birth", ErrWrongType},
		{"list at top", `[]`, "", ErrWrongType},
		{"null at top", `null`, "", ErrWrongType},
		{"two objects", `{} {}`, "", ErrTrailingData},
		{"trailing garbage", `{"full_name":"A"}x`, "", ErrTrailingData},
		{"truncated", `{"full_name":"A"`, "", ErrSyntax},
		{"empty", ``, "", ErrSyntax},
		{"invalid UTF-8", "{\"full_name\":\"Nguy\xffn\"}", "", ErrInvalidUTF8},
		{"too large", `{"occupation":"` + strings.Repeat("x", MaxRecordBytes) + `"}`, "", ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeJSON([]byte(tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Field != tc.field {
				t.Fatalf("err = %#v, want field %q", err, tc.field)
			}
			if tc.field != "" && !strings.Contains(err.Error(), tc.field+": ") {
				t.Errorf("message %q does not name %s", err, tc.field)
			}
		})
	}
}

func TestDecodeJSONAccepts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(e Enrollment) bool
	}{
		{"nulls", `{"full_name":null,"father":null,"nationality":null,"date_of_birth":null}`, func(e Enrollment) bool { return e.Father == nil }},
		{"sex forms", `{"sex":"nu"}`, func(e Enrollment) bool { return e.Sex == Female }},
		{"unknown sex kept", `{"sex":"X"}`, func(e Enrollment) bool { return e.Sex == "X" }},
		{"vietnamese date", `{"date_of_birth":"12/03/1985"}`, func(e Enrollment) bool { return e.DateOfBirth == Date{1985, 3, 12} }},
		{"impossible date decodes", `{"date_of_birth":"1985-02-30"}`, func(e Enrollment) bool { return e.DateOfBirth == Date{1985, 2, 30} }},
		{"escapes", `{"full_name":"Nguy\u1ec5n"}`, func(e Enrollment) bool { return e.FullName == "Nguyễn" }},
		{"whitespace", " \n{ \"full_name\" : \"A\" }\n ", func(e Enrollment) bool { return e.FullName == "A" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := DecodeJSON([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(e) {
				t.Errorf("unexpected %+v", e)
			}
		})
	}
}

func mustJSON(t *testing.T, e Enrollment) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJSONLinesReader(t *testing.T) {
	good := mustJSON(t, validEnrollment())
	long := `{"occupation":"` + strings.Repeat("x", MaxRecordBytes+100) + `"}`
	in := strings.Join([]string{
		good,               // 1
		`{"full_name":1}`,  // 2: bad
		"",                 // 3: blank
		long,               // 4: too long, skipped
		good + "\r",        // 5: CRLF
		`{"nickname":"x"}`, // 6: bad
		"   ",              // 7: blank
		good,               // 8: no final newline
	}, "\n")
	type result struct {
		line int
		err  error
	}
	want := []result{{1, nil}, {2, ErrWrongType}, {4, ErrTooLarge}, {5, nil}, {6, ErrUnknownField}, {8, nil}}
	lr := NewJSONLinesReader(strings.NewReader(in))
	for _, w := range want {
		line, e, err := lr.Next()
		if line != w.line || !errors.Is(err, w.err) || (err == nil && e.FullName != "Nguyễn Văn An") {
			t.Fatalf("Next() = %d, %v; want line %d, %v", line, err, w.line, w.err)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("line %d", w.line)) {
			t.Errorf("error %q does not give the line", err)
		}
	}
	for i := 0; i < 2; i++ {
		if _, _, err := lr.Next(); err != io.EOF {
			t.Fatalf("want io.EOF, got %v", err)
		}
	}
}

func TestJSONLinesReaderReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(mustJSON(t, validEnrollment())+"\n"), iotest.ErrReader(boom))
	lr := NewJSONLinesReader(r)
	if _, _, err := lr.Next(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, _, err := lr.Next(); !errors.Is(err, boom) {
			t.Fatalf("want the read error, got %v", err)
		}
	}
}

func TestJSONLinesReaderTooLongLast(t *testing.T) {
	lr := NewJSONLinesReader(strings.NewReader(strings.Repeat("x", 3*MaxRecordBytes)))
	if _, _, err := lr.Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
	if _, _, err := lr.Next(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
}
