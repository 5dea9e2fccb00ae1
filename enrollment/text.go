package enrollment

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// textKind decides the length limit of a text field and whether its
// quality (encoding, tone style, spacing) is worth remarks.
type textKind uint8

const (
	kindCode textKind = iota // codes and identifiers: MaxCodeRunes
	kindName                 // names and short values: MaxNameRunes
	kindText                 // free text: MaxTextRunes
)

func (k textKind) limit() int {
	switch k {
	case kindName:
		return MaxNameRunes
	case kindText:
		return MaxTextRunes
	}
	return MaxCodeRunes
}

// textField is one string of the record with its JSON path.
type textField struct {
	path  string
	value string
	kind  textKind
	human bool // a name or place text typed by a person: check its quality
}

// textFields lists every string of the record in a fixed order. Lists are
// walked only up to their limits (the excess is reported once).
func textFields(e *Enrollment) []textField {
	fs := []textField{
		{"personal_id", e.PersonalID, kindCode, false},
		{"full_name", e.FullName, kindName, true},
	}
	for i, n := range e.OtherNames[:min(len(e.OtherNames), MaxOtherNames)] {
		fs = append(fs, textField{fmt.Sprintf("other_names[%d]", i), n, kindName, true})
	}
	fs = append(fs,
		textField{"sex", string(e.Sex), kindCode, false},
		textField{"ethnicity_code", e.EthnicityCode, kindCode, false},
		textField{"religion", e.Religion, kindName, false},
	)
	for i, n := range e.Nationality[:min(len(e.Nationality), MaxNationality)] {
		fs = append(fs, textField{fmt.Sprintf("nationality[%d]", i), n, kindName, false})
	}
	fs = append(fs, placeFields("birth_place", e.BirthPlace)...)
	fs = append(fs, placeFields("birth_registration", &e.BirthRegistration)...)
	fs = append(fs, placeFields("hometown", &e.Hometown)...)
	fs = append(fs, placeFields("permanent_residence", &e.PermanentResidence)...)
	fs = append(fs, placeFields("current_residence", e.CurrentResidence)...)
	fs = append(fs,
		textField{"occupation", e.Occupation, kindText, false},
		textField{"marital_status", e.MaritalStatus, kindName, false},
		textField{"blood_type", e.BloodType, kindCode, false},
		textField{"legacy_id_number", e.LegacyIDNumber, kindCode, false},
	)
	fs = append(fs, relativeFields("father", e.Father)...)
	fs = append(fs, relativeFields("mother", e.Mother)...)
	fs = append(fs, relativeFields("spouse", e.Spouse)...)
	fs = append(fs, relativeFields("household_head", e.HouseholdHead)...)
	c := e.Capture
	fs = append(fs,
		textField{"relation_to_head", e.RelationToHead, kindName, false},
		textField{"capture.commune_code", c.CommuneCode, kindCode, false},
		textField{"capture.code_list", c.CodeList, kindCode, false},
		textField{"capture.officer", c.Officer, kindCode, false},
		textField{"capture.device", c.Device, kindCode, false},
		textField{"capture.request_type", c.RequestType, kindName, false},
	)
	for i, b := range e.Biometrics[:min(len(e.Biometrics), MaxBiometrics)] {
		p := fmt.Sprintf("biometrics[%d].", i)
		fs = append(fs,
			textField{p + "kind", b.Kind, kindCode, false},
			textField{p + "sha256", b.SHA256, kindCode, false},
			textField{p + "exception", b.Exception, kindText, false},
		)
	}
	return fs
}

func placeFields(field string, p *Place) []textField {
	if p == nil {
		return nil
	}
	return []textField{
		{field + ".unit_code", p.UnitCode, kindCode, false},
		{field + ".code_list", p.CodeList, kindCode, false},
		{field + ".text", p.Text, kindText, true},
	}
}

func relativeFields(field string, r *Relative) []textField {
	if r == nil {
		return nil
	}
	return []textField{
		{field + ".full_name", r.FullName, kindName, true},
		{field + ".personal_id", r.PersonalID, kindCode, false},
		{field + ".nationality", r.Nationality, kindName, false},
	}
}

// text runs the text rules on every string: valid UTF-8, a length limit,
// no control/zero-width/bidi characters (Reject); and for names and place
// texts, remarks on legacy encodings, NFD, spacing and tone style. It
// records which fields passed, so later rules do not pile up findings on
// text that is already rejected.
func (v *validator) text() {
	e := v.e
	v.textOK = map[string]bool{}
	lists := []struct {
		field    string
		n, limit int
	}{
		{"other_names", len(e.OtherNames), MaxOtherNames},
		{"nationality", len(e.Nationality), MaxNationality},
		{"biometrics", len(e.Biometrics), MaxBiometrics},
	}
	for _, l := range lists {
		if l.n > l.limit {
			v.add(newFinding(l.field, "list.too_long", l.n, l.limit))
		}
	}
	for _, t := range textFields(e) {
		if t.value == "" {
			v.textOK[t.path] = true
			continue
		}
		f, ok := checkTextSafety(t)
		if !ok {
			v.add(f)
			continue
		}
		v.textOK[t.path] = true
		if t.human {
			v.add(textRemarks(t.path, t.value)...)
		}
	}
}

// checkTextSafety applies the Reject rules of one string.
func checkTextSafety(t textField) (Finding, bool) {
	if !utf8.ValidString(t.value) {
		return newFinding(t.path, "text.invalid_utf8", firstInvalidByte(t.value)), false
	}
	if n := utf8.RuneCountInString(t.value); n > t.kind.limit() {
		return newFinding(t.path, "text.too_long", n, t.kind.limit()), false
	}
	i := 0
	for _, r := range t.value {
		i++
		if forbidden(r) {
			return newFinding(t.path, "text.forbidden_char", describeForbidden(r), i), false
		}
	}
	return Finding{}, true
}

func firstInvalidByte(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(s)
}

// forbidden reports characters no field may hold: C0/C1 controls (tab and
// newline included: every field is one line), format characters such as
// zero-width spaces and joiners, the byte-order mark and bidi overrides
// (they hide text or reorder it on screen), and line/paragraph
// separators. The soft hyphen U+00AD is allowed because TCVN3 mojibake
// uses it for ư, and that is reported as a legacy encoding instead.
func forbidden(r rune) bool {
	switch {
	case r == '\u00AD':
		return false
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r):
		return true
	case r == '\u2028', r == '\u2029':
		return true
	}
	return false
}

func describeForbidden(r rune) bi {
	names := map[rune]bi{
		'\u200B': {"zero-width space", "khoảng trắng độ rộng 0"},
		'\u200C': {"zero-width non-joiner", "ký tự ẩn ZWNJ"},
		'\u200D': {"zero-width joiner", "ký tự ẩn ZWJ"},
		'\u2060': {"word joiner", "ký tự ẩn nối từ"},
		'\uFEFF': {"byte-order mark", "ký tự BOM"},
		'\u202E': {"right-to-left override", "ký tự đảo chiều phải-sang-trái"},
		'\u202D': {"left-to-right override", "ký tự đảo chiều trái-sang-phải"},
		'\u200F': {"right-to-left mark", "dấu chiều phải-sang-trái"},
		'\t':     {"tab", "ký tự tab"},
		'\n':     {"line break", "xuống dòng"},
		'\r':     {"carriage return", "ký tự về đầu dòng"},
	}
	n, ok := names[r]
	if !ok {
		n = bi{"an invisible control character", "một ký tự điều khiển ẩn"}
	}
	code := fmt.Sprintf("U+%04X ", r)
	return bi{code + n.en, code + n.vi}
}

// textRemarks are the quality findings of a name or place text.
func textRemarks(field, s string) Findings {
	var fs Findings
	if blank(s) {
		return nil
	}
	if enc, fixed := detectLegacy(s); enc != LegacyNone {
		return Findings{newFinding(field, "text.legacy_encoding", clip(s), enc.String(), clip(fixed))}
	}
	if strings.ContainsRune(s, utf8.RuneError) {
		fs = append(fs, newFinding(field, "text.replacement_char", clip(s)))
	}
	if !norm.NFC.IsNormalString(s) {
		fs = append(fs, newFinding(field, "text.not_nfc", clip(s)))
	}
	if s != strings.Join(strings.Fields(s), " ") {
		fs = append(fs, newFinding(field, "text.spacing", clip(s)))
	}
	if w, ok := newStyleWord(s); ok {
		fs = append(fs, newFinding(field, "text.tone_style", clip(s), w, NameKey(s)))
	}
	return fs
}

// newStyleWord returns the first word written in the new tone style.
func newStyleWord(s string) (string, bool) {
	lower := strings.ToLower(norm.NFC.String(s))
	found := ""
	splitWords(lower, func(i, j int) {
		if found != "" {
			return
		}
		if syl, ok := parseSyllable(lower[i:j]); ok && styleOf(syl) == styleNew {
			found = lower[i:j]
		}
	})
	return found, found != ""
}

// blank reports a string with nothing but spaces and invisible characters.
func blank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

func allBlank(ss []string) bool {
	for _, s := range ss {
		if !blank(s) {
			return false
		}
	}
	return true
}

func blankPlace(p Place) bool { return blank(p.UnitCode) && blank(p.Text) }

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
