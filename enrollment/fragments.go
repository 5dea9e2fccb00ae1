package enrollment

import (
	"errors"
	"strings"
)

// The rules of Validate also check data that is not a whole enrollment: a
// resident list's rows (package residents) are an ID number, a name, a
// date and a household. These helpers apply the same rule table to such
// fragments, so that every message has the same words, code and severity.

// CheckCode applies the text rules of a code or identifier (valid UTF-8,
// at most MaxCodeRunes, no control, zero-width or bidi characters) to s,
// reported on field.
func CheckCode(field, s string) Findings { return checkFragment(field, s, kindCode, false) }

// CheckName applies the text rules of a name (MaxNameRunes) and its
// quality remarks (legacy encodings, NFD, spacing, tone style).
func CheckName(field, s string) Findings { return checkFragment(field, s, kindName, true) }

// CheckText applies the text rules of free text such as an address
// (MaxTextRunes) and its quality remarks.
func CheckText(field, s string) Findings { return checkFragment(field, s, kindText, true) }

func checkFragment(field, s string, kind textKind, human bool) Findings {
	if s == "" {
		return nil
	}
	if f, ok := checkTextSafety(textField{path: field, value: s, kind: kind, human: human}); !ok {
		return Findings{f}
	}
	if human {
		return textRemarks(field, s)
	}
	return nil
}

// MissingField is the finding of a mandatory field left empty.
func MissingField(field string) Finding { return newFinding(field, "field.missing") }

// CheckCommune applies the unit-code rules to a commune code with its
// code-list version (reported on field and field's code list): five
// digits, a known list, a commune of that list as far as the embedded
// tables tell.
func CheckCommune(field, code, codeList string) Findings {
	if code == "" {
		return Findings{MissingField(field)}
	}
	if !allDigits(code) || len(code) != 5 {
		return Findings{newFinding(field, "unit.malformed", clip(code), bi{"5 digits for a commune", "5 chữ số cho xã"})}
	}
	if codeList != "" && !knownCodeList(codeList) {
		return Findings{newFinding(field, "unit.code_list_unknown", clip(codeList))}
	}
	return checkUnitExists(field, code, codeList)
}

// DecodeFinding turns a decoding error that names its field (a
// *DecodeError from DecodeJSON) into the finding an officer sees on that
// field: a date that cannot be read, a value of the wrong kind. It
// reports false for other errors.
func DecodeFinding(err error) (Finding, bool) {
	var de *DecodeError
	if !errors.As(err, &de) || de.Field == "" {
		return Finding{}, false
	}
	if errors.Is(err, ErrBadDate) {
		quoted := "" // the value, as the error quotes it
		if _, q, ok := strings.Cut(de.Err.Error(), `"`); ok {
			quoted, _, _ = strings.Cut(q, `"`)
		}
		return newFinding(de.Field, "date.unreadable", clip(quoted)), true
	}
	return newFinding(de.Field, "field.unreadable", bi{de.Err.Error(), de.Err.Error()}), true
}
