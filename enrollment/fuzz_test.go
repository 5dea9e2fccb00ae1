package enrollment

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fuzzSeedStrings are the hostile texts of RELIABILITY.md §4 item 4.
var fuzzSeedStrings = []string{
	"Nguyễn Văn An", norm.NFD.String("Nguyễn Văn An"), "Nguy\xffn", "Nguyễn\u200bVăn", "An\u202eAn",
	"\u2066x\u2069", strings.Repeat("Nguyễn ", 1500), "Nguyễn  Văn  An ", "Hoà", "Hòa", "Thuỷ",
	"hép møt tÕt", "Xin chaøo caùc baïn", "NGUYÔN V¡N AN", "Ðặng", "qúy", "gìa", "Lý", "Lí", "\x00", "",
}

// fuzzSeedRecords are JSON objects: a valid record and variations.
func fuzzSeedRecords(t testing.TB) [][]byte {
	mk := func(mutate func(e *Enrollment)) []byte {
		e := validEnrollment()
		mutate(&e)
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	seeds := [][]byte{
		mk(func(e *Enrollment) {}),
		mk(func(e *Enrollment) { *e = richEnrollment() }),
		mk(func(e *Enrollment) { e.FullName = norm.NFD.String(e.FullName) }),
		mk(func(e *Enrollment) { e.FullName = "Nguyễn\u200bVăn \u202eAn" }),
		mk(func(e *Enrollment) { e.FullName = strings.Repeat("Nguyễn ", 1500) }),
		mk(func(e *Enrollment) { e.FullName = "Nguyễn  Văn Hoà " }),
		mk(func(e *Enrollment) { e.PersonalID = "04208500O123" }),
		mk(func(e *Enrollment) { e.PersonalID = "０４２０８５０００１２３" }),
		mk(func(e *Enrollment) { e.PersonalID = "003085000123" }),
		mk(func(e *Enrollment) { e.PersonalID = "42085000123" }),
		mk(func(e *Enrollment) { e.PersonalID = "042185000123" }),
		mk(func(e *Enrollment) { e.DateOfBirth = Date{1990, 2, 30} }),
		mk(func(e *Enrollment) { e.DateOfBirth = Date{2031, 1, 1} }),
		mk(func(e *Enrollment) { e.DateOfBirth = Date{Year: 1899} }),
		mk(func(e *Enrollment) { e.PermanentResidence.UnitCode = "18070" }),
		mk(func(e *Enrollment) { e.FullName = "NguyÔn V¨n An" }),
	}
	return append(seeds,
		[]byte(`{"full_name":"Nguy`+"\xff"+`n"}`),
		[]byte(`{"full_name":"A","full_name":"B"}`),
		[]byte(`{"date_of_birth":"30/02/1990","sex":"nu"}`),
		[]byte(`{"date_of_birth":"1985-3"} {}`),
		[]byte(`{"biometrics":[{"size":1e400}]}`),
		[]byte(`{"capture":{"captured_at":"2023-04-10T08:30:00.123+07:00"}}`),
		[]byte(`null`), []byte(`[]`), []byte(``),
	)
}

var fuzzCtx = Context{Now: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), AllowForeignPrefix: true}

// FuzzDecodeJSON: no panic; errors are *DecodeError; an accepted record
// validates and keys without panic, and re-encodes stably.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range fuzzSeedRecords(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeJSON(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		Validate(&e, fuzzCtx)
		Validate(&e, Context{})
		Keys(&e)
		b2, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("accepted record does not marshal: %v", err)
		}
		if len(b2) > MaxRecordBytes {
			return // re-encoding can grow (escapes, defaults); nothing to compare
		}
		e2, err := DecodeJSON(b2)
		if err != nil {
			t.Fatalf("re-encoded record rejected: %v\n%s", err, b2)
		}
		b3, _ := json.Marshal(e2)
		if !bytes.Equal(b2, b3) {
			t.Fatalf("re-encoding not stable:\n%s\n%s", b2, b3)
		}
		if !e.Capture.CapturedAt.Equal(e2.Capture.CapturedAt) {
			t.Fatal("captured_at changed")
		}
		e.Capture.CapturedAt, e2.Capture.CapturedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("decode(encode(e)) != e:\n%+v\n%+v", e, e2)
		}
	})
}

// FuzzCSVRow reads arbitrary bytes as the body of a CSV file with every
// column: no panic, no endless loop, every error typed, every accepted row
// validates.
func FuzzCSVRow(f *testing.F) {
	f.Add([]byte(csvGoodRow))
	f.Add([]byte(csvGoodRow + "\r\n" + csvGoodRow))
	f.Add([]byte(`"unterminated`))
	f.Add([]byte(`a,"b""c",d` + "\n\n,,,\n"))
	f.Add([]byte("\xff\xfe,\"\n\"x"))
	for _, s := range fuzzSeedStrings {
		f.Add([]byte(s + "," + s))
	}
	header := strings.Join(CSVColumns(), ",") + "\n"
	f.Fuzz(func(t *testing.T, body []byte) {
		cr, err := NewCSVReader(io.MultiReader(strings.NewReader(header), bytes.NewReader(body)))
		if err != nil {
			t.Fatalf("header rejected: %v", err)
		}
		for i := 0; ; i++ {
			if i > len(body)+1 {
				t.Fatal("reader does not advance")
			}
			_, e, err := cr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("error %v is not a *DecodeError", err)
				}
				continue
			}
			Validate(&e, fuzzCtx)
			Keys(&e)
		}
	})
}

// FuzzNameKey: keys are idempotent and valid UTF-8; legacy repair never
// panics and keeps UTF-8 valid.
func FuzzNameKey(f *testing.F) {
	for _, s := range fuzzSeedStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := NameKey(s)
		if !utf8.ValidString(k) {
			t.Fatalf("NameKey(%q) = %q is not valid UTF-8", s, k)
		}
		if k2 := NameKey(k); k2 != k {
			t.Fatalf("NameKey not idempotent on %q: %q then %q", s, k, k2)
		}
		fk := FoldKey(s)
		if fk2 := FoldKey(fk); fk2 != fk || !utf8.ValidString(fk) {
			t.Fatalf("FoldKey not idempotent on %q: %q then %q", s, fk, fk2)
		}
		if r, enc := RepairLegacy(s); utf8.ValidString(s) && !utf8.ValidString(r) {
			t.Fatalf("RepairLegacy(%q) = %q (%v) broke UTF-8", s, r, enc)
		}
		if utf8.ValidString(s) {
			m := EncodeLegacyMojibake(s, LegacyVNI)
			if got := DecodeLegacyMojibake(m, LegacyVNI); utf8.ValidString(got) == false {
				t.Fatalf("VNI round trip broke UTF-8 on %q", s)
			}
		}
	})
}

// FuzzNormalizePersonalID: an accepted number is 12 ASCII digits that
// decodes and is a fixed point; a rejected one has a Reject finding.
func FuzzNormalizePersonalID(f *testing.F) {
	for _, s := range []string{"042085000123", "42085000123", "04208500O123", "０４２０８５０００１２３",
		"003085000123", "042 085.000-123", "", "\xff", strings.Repeat("9", 100), "04208500012"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, fs := NormalizePersonalID(s)
		if len(fs) > 1 {
			t.Fatalf("more than one finding: %v", fs)
		}
		if id == "" {
			if !fs.Rejected() {
				t.Fatalf("%q rejected without a Reject finding: %v", s, fs)
			}
			return
		}
		if fs.Rejected() {
			t.Fatalf("%q accepted as %q with a Reject finding", s, id)
		}
		if _, err := DecodePersonalID(id); err != nil {
			t.Fatalf("accepted %q does not decode: %v", id, err)
		}
		if again, fs2 := NormalizePersonalID(id); again != id || len(fs2) != 0 {
			t.Fatalf("%q is not a fixed point: %q %v", id, again, fs2)
		}
	})
}
