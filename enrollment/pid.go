package enrollment

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PersonalIDLen is the number of digits of a personal ID number.
const PersonalIDLen = 12

// maxPIDInput bounds how much of a captured ID number is examined; anything
// longer is rejected as too long without being scanned further.
const maxPIDInput = 64

// Errors returned by DecodePersonalID.
var (
	// ErrPIDFormat is returned when the input is not exactly 12 ASCII
	// digits (normalize it with NormalizePersonalID first).
	ErrPIDFormat = errors.New("enrollment: personal ID is not 12 digits")
	// ErrPIDPrefixUnknown is returned when the first three digits are not
	// one of the 63 province codes. The PIDInfo is still filled in (with a
	// zero Province) so a caller that accepts births registered abroad can
	// use it.
	ErrPIDPrefixUnknown = errors.New("enrollment: personal ID prefix is not a province code")
)

// PIDInfo is what a personal ID number says about its holder (DOMAIN.md
// §1.1-1.2). There is no checksum: the last six digits are random, so
// nothing else can be checked from the number alone.
type PIDInfo struct {
	ProvincePrefix string   // "042"
	Province       Province // zero when the prefix is not a province code
	Century        int      // 20 for 1900-1999, 21 for 2000-2099, ...
	Sex            Sex
	BirthYear      int
}

// DecodePersonalID reads a normalized 12-digit ID number: the
// birth-registration province (digits 1-3), the century/sex digit G (digit
// 4: even male, odd female) and the year, 1900 + 100*floor(G/2) + YY.
func DecodePersonalID(id string) (PIDInfo, error) {
	if len(id) != PersonalIDLen || strings.Trim(id, "0123456789") != "" {
		return PIDInfo{}, fmt.Errorf("%w: %q", ErrPIDFormat, clip(id))
	}
	g := int(id[3] - '0')
	yy := int(id[4]-'0')*10 + int(id[5]-'0')
	info := PIDInfo{
		ProvincePrefix: id[:3],
		Century:        20 + g/2,
		Sex:            Male,
		BirthYear:      1900 + 100*(g/2) + yy,
	}
	if g%2 == 1 {
		info.Sex = Female
	}
	p, ok := ProvinceByPrefix(info.ProvincePrefix)
	if !ok {
		return info, fmt.Errorf("%w: %q", ErrPIDPrefixUnknown, info.ProvincePrefix)
	}
	info.Province = p
	return info, nil
}

// NormalizePersonalID cleans a captured ID number and checks its format,
// reporting on field "personal_id" as Validate does (with
// AllowForeignPrefix off). It returns the 12-digit number, or "" when the
// input is rejected.
//
// Cleaning: spaces (any Unicode space), dots and hyphens are removed and
// full-width digits (U+FF10..U+FF19) become ASCII digits. Then:
//   - 12 digits with one of the 63 province prefixes: accepted.
//   - 11 digits where "0" + digits has a province prefix: accepted with a
//     warning and read as "0" + digits. This is the lead's cleaning rule:
//     spreadsheets drop the leading zero (DOMAIN.md §1.5 lists it as a real
//     defect), and the hub's duplicate detection must see such records
//     under the number the card carries. An 11-digit input that itself
//     starts with 0 is not read this way: a spreadsheet strips every
//     leading zero, so that number lost a digit somewhere else
//     ("04208500012" would otherwise become Cao Bằng's "004208500012").
//     Prefixes 001-008 lose two zeros and stay rejected (10 digits).
//   - anything else: rejected, saying what is wrong.
func NormalizePersonalID(s string) (string, Findings) {
	return checkPID("personal_id", s, false)
}

// checkPID is NormalizePersonalID for any field, optionally accepting
// unknown prefixes (births registered abroad, DOMAIN.md §1.3) with a
// warning.
func checkPID(field, s string, allowForeign bool) (string, Findings) {
	if len(s) > maxPIDInput {
		return "", Findings{newFinding(field, "pid.length", clip(s), countDigits(s))}
	}
	digits, bad := cleanPID(s)
	if bad != 0 {
		return "", Findings{newFinding(field, "pid.not_digits", s, describeRune(bad))}
	}
	switch {
	case len(digits) == PersonalIDLen-1 && digits[0] != '0' && isProvincePrefix("0"+digits[:2]):
		fixed := "0" + digits
		return fixed, Findings{newFinding(field, "pid.lost_leading_zero", s, fixed)}
	case len(digits) != PersonalIDLen:
		return "", Findings{newFinding(field, "pid.length", s, len(digits))}
	case !isProvincePrefix(digits[:3]):
		if allowForeign {
			return digits, Findings{newFinding(field, "pid.prefix_foreign", s, digits[:3])}
		}
		return "", Findings{newFinding(field, "pid.prefix_unknown", s, digits[:3])}
	}
	return digits, nil
}

// cleanPID removes separators and maps full-width digits. It returns the
// digits and the first rune that is neither a digit nor a separator (0 if
// none).
func cleanPID(s string) (string, rune) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case isPIDSeparator(r):
		default:
			return "", r
		}
	}
	return b.String(), 0
}

// isPIDSeparator reports the characters people and spreadsheets put between
// digit groups: spaces of any kind, dots and hyphens (ASCII, Unicode dashes
// and their full-width forms).
func isPIDSeparator(r rune) bool {
	switch {
	case unicode.IsSpace(r), r == '.', r == '-', r == '．', r == '－':
		return true
	case r >= '\u2010' && r <= '\u2015': // hyphen .. horizontal bar
		return true
	}
	return false
}

func isProvincePrefix(p string) bool {
	_, ok := ProvinceByPrefix(p)
	return ok
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if (r >= '0' && r <= '9') || (r >= '０' && r <= '９') {
			n++
		}
	}
	return n
}

// describeRune names a stray character for an officer, in both languages:
// a letter that looks like a digit gets a hint.
func describeRune(r rune) bi {
	switch {
	case r == utf8.RuneError:
		return bi{"a damaged character", "một ký tự bị hỏng"}
	case r == 'O' || r == 'o':
		return bi{fmt.Sprintf("the letter %q (zero is 0)", r), fmt.Sprintf("chữ %q (số không là 0)", r)}
	case r == 'I' || r == 'l':
		return bi{fmt.Sprintf("the letter %q (one is 1)", r), fmt.Sprintf("chữ %q (số một là 1)", r)}
	case unicode.IsLetter(r):
		return bi{fmt.Sprintf("the letter %q", r), fmt.Sprintf("chữ %q", r)}
	}
	return bi{fmt.Sprintf("the character %q", r), fmt.Sprintf("ký tự %q", r)}
}

// clip shortens text quoted in a message so a 10 kB input does not become
// a 10 kB message.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
