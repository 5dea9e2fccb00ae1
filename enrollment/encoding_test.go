package enrollment

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf16"
)

func utf16LE(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16BE(s string) []byte {
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func TestOpenTextRefusesOtherEncodingsSayingWhatToDo(t *testing.T) {
	csv := "personal_id,full_name\n042085001234,Nguyễn Văn Thành\n"
	jsonl := `{"full_name":"Nguyễn Văn Thành"}` + "\n"
	for _, tc := range []struct {
		name  string
		in    []byte
		want  string // in the error; "" for accepted
		clean string // what reading gives when accepted
	}{
		{"utf-8", []byte(csv), "", csv},
		{"utf-8 with a BOM: skipped", append([]byte("\xef\xbb\xbf"), jsonl...), "", jsonl},
		{"empty", nil, "", ""},
		{"utf-16le csv", utf16LE(csv, true), "UTF-16 text (little-endian", ""},
		{"utf-16le json lines", utf16LE(jsonl, true), "UTF-16 text (little-endian", ""},
		{"utf-16be", utf16BE(csv), "UTF-16 text (big-endian)", ""},
		{"utf-16 without a BOM", utf16LE(csv, false), "UTF-16 text without a byte-order mark", ""},
		{"utf-32le", append([]byte{0xFF, 0xFE, 0, 0}, "x\x00\x00\x00"...), "UTF-32", ""},
		{"xlsx", []byte("PK\x03\x04\x14\x00\x06\x00"), ".xlsx", ""},
		{"xls", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1}, ".xls", ""},
		{"binary", []byte("abc\x00\x01\x02\x00\x00\x00xyz"), "NUL byte", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br, err := OpenText(bytes.NewReader(tc.in), 0)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(br)
				if string(got) != tc.clean {
					t.Fatalf("read %q, want %q", got, tc.clean)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrEncoding) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a DecodeError (ErrEncoding) saying %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "UTF-8") {
				t.Fatalf("the error does not say what to do: %v", err)
			}
		})
	}
}

func TestCSVHeaderOver64KiB(t *testing.T) {
	header := "personal_id," + strings.Repeat("x", MaxRecordBytes) + "\n1,2\n"
	_, err := NewCSVReader(strings.NewReader(header))
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "header" || !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "64 KiB") || !strings.Contains(err.Error(), "CSV UTF-8") {
		t.Fatalf("%v", err)
	}
}

// FuzzOpenText: OpenText never panics, and what it accepts reads back as
// the input without a leading UTF-8 BOM.
func FuzzOpenText(f *testing.F) {
	f.Add([]byte("personal_id,full_name\n"))
	f.Add([]byte("\xef\xbb\xbf{}\n"))
	f.Add(utf16LE("a,b\n", true))
	f.Add(utf16LE("a,b\n", false))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, in []byte) {
		br, err := OpenText(bytes.NewReader(in), 0)
		if err != nil {
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		got, _ := io.ReadAll(br)
		if !bytes.Equal(got, bytes.TrimPrefix(in, []byte("\xef\xbb\xbf"))) {
			t.Fatalf("read %q from %q", got, in)
		}
	})
}
