package enrollment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxKeyPasses bounds how often NameKey re-applies its pipeline while
// looking for a fixed point (see NameKey).
const maxKeyPasses = 4

// NameKey returns the matching key of a name or place text. The captured
// text is never replaced by it; the key is derived for comparison only.
// The pipeline (DOMAIN.md §7.3):
//
//  1. invalid UTF-8 becomes U+FFFD, then NFC (NFD input from macOS or
//     Windows-1258 matches its NFC twin);
//  2. TCVN3/VNI mojibake is repaired when RepairLegacy detects it;
//  3. look-alikes are mapped: Icelandic Ð/ð (U+00D0/U+00F0) and African
//     Ɖ/ɖ to Đ/đ; curly apostrophes to '; dashes to -; invisible format
//     characters (zero-width, bidi controls) are dropped;
//  4. whitespace is collapsed to single spaces and trimmed;
//  5. lower case (Vietnamese has no special casing, so Unicode's simple
//     mapping is right: Đ → đ, Ỹ → ỹ);
//  6. tone marks are placed by the old convention (hòa, khỏe, thủy; not
//     hoà, khoẻ, thuỷ): a vowel with a quality mark takes the tone, else the
//     last vowel before a final consonant, else the middle of three vowels,
//     else the first of two, so only open oa/oe/uy syllables change. "qu"
//     and "gi" are initials (quý, già; a tone typed on their u/i, as in
//     "qúy" or "gìa", is moved). The old style is chosen because it is the
//     majority in the official unit list (Hòa 408 vs Hoà 89) and the
//     default of Unikey. Words not shaped like a Vietnamese syllable are
//     left as they are.
//
// The letters themselves are never changed: i/y (Lý/Lí, Mỹ/Mĩ) is the
// person's own choice (DOMAIN.md §5.5.4), so those keys differ.
//
// NameKey is idempotent: the pipeline is re-applied until its output stops
// changing (a repaired mojibake can, rarely, look like mojibake again only
// after lower-casing), at most maxKeyPasses times.
func NameKey(s string) string { return fixpoint(nameKeyOnce, s) }

// fixpoint applies f until its output stops changing, at most
// maxKeyPasses more times, which makes the key idempotent.
func fixpoint(f func(string) string, s string) string {
	k := f(s)
	for i := 0; i < maxKeyPasses; i++ {
		next := f(k)
		if next == k {
			break
		}
		k = next
	}
	return k
}

func nameKeyOnce(s string) string {
	s = norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
	s, _ = RepairLegacy(s)
	s = mapLookalikes(s)
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ToLower(s)
	s = canonicalTones(s, styleOld)
	return norm.NFC.String(s)
}

// FoldKey is NameKey without any diacritics and with đ → d: "Nguyễn Thị
// Hòa" → "nguyen thi hoa". It is a blocking key for finding candidate
// duplicates (typed without accents on a phone), never a reason to merge
// (DOMAIN.md §5.5.5). Like NameKey it keeps i and y apart.
func FoldKey(s string) string { return fixpoint(foldOnce, s) }

// foldOnce is one pass of FoldKey. Folding can expose mojibake (a stray
// "ø" after a vowel that lost its accent), hence the fixed point.
func foldOnce(s string) string {
	return FoldNameKey(nameKeyOnce(s)) // the fixed point makes it NameKey-stable too
}

// FoldNameKey is FoldKey's last step alone: it drops every diacritic of a
// text that is already a NameKey and maps đ → d (and Đ → D, should the
// text not be lower case). FoldKey(s) == FoldNameKey(NameKey(s)) for every
// name that is not mojibake of mojibake, and word for word: the fold of a
// NameKey's word is the word of its FoldKey (tests pin it). It is the one
// accent fold of the project; the duplicate detector folds name parts
// with it, at a fraction of FoldKey's cost (a table look-up per letter,
// no allocation for ASCII).
func FoldNameKey(key string) string {
	if isASCII(key) {
		return key
	}
	var b strings.Builder
	b.Grow(len(key))
	for _, r := range key {
		switch f, ok := foldTable[r]; {
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		case ok:
			b.WriteByte(f)
		default:
			return foldSlow(key)
		}
	}
	return b.String()
}

// foldTable maps every Vietnamese letter (both cases) to its ASCII base.
var foldTable = func() map[rune]byte {
	m := map[rune]byte{}
	for _, r := range VietnameseLetters() {
		if f := foldSlow(string(r)); len(f) == 1 {
			m[r] = f[0]
		}
	}
	return m
}()

// foldSlow drops every combining mark after canonical decomposition, for
// text with letters outside the Vietnamese alphabet.
func foldSlow(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteByte('d')
		case r == 'Đ':
			b.WriteByte('D')
		default:
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// mapLookalikes replaces characters that look like Vietnamese ones (or like
// ordinary punctuation) by the real thing, and drops invisible format
// characters, so that keys do not depend on them.
func mapLookalikes(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 'Ð', 'Ɖ': // U+00D0 Icelandic Eth, U+0189 African D
			return 'Đ'
		case 'ð', 'ɖ':
			return 'đ'
		case '’', '‘', 'ʼ', '`', '´', 'ʻ':
			return '\''
		case '‐', '‑', '‒', '–', '—', '−':
			return '-'
		}
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// canonicalTones rewrites every Vietnamese-shaped word of a lower-case
// string with its tone placed by the given convention.
func canonicalTones(s string, style int) string {
	var b strings.Builder
	last := 0
	splitWords(s, func(i, j int) {
		b.WriteString(s[last:i])
		b.WriteString(canonicalWord(s[i:j], style))
		last = j
	})
	b.WriteString(s[last:])
	return b.String()
}

func canonicalWord(w string, style int) string {
	syl, ok := parseSyllable(w)
	if !ok || syl.tone == toneNone {
		return w
	}
	return syl.render(tonePosition(syl, style))
}

// MatchKeys are the keys a hub derives from an enrollment to find records
// of the same person. All are derived; none is written back. Empty means
// unknown or unusable (e.g. a rejected personal ID).
type MatchKeys struct {
	// PersonalID is the cleaned 12-digit number ("" when absent or
	// malformed); an 11-digit number with a lost leading zero is padded
	// (see NormalizePersonalID), and an unknown prefix is kept.
	PersonalID string `json:"personal_id,omitempty"`
	// Name is NameKey(full_name); NameFold is FoldKey(full_name), for
	// blocking only.
	Name     string `json:"name"`
	NameFold string `json:"name_fold"`
	// Surname, Middle and Given split Name: the first word, the words in
	// between (joined by a space, often empty or "văn"/"thị") and the last
	// word. A one-word name has only Given.
	Surname string `json:"surname,omitempty"`
	Middle  string `json:"middle,omitempty"`
	Given   string `json:"given,omitempty"`
	// DateOfBirth is the canonical form "YYYY-MM-DD", "YYYY-MM" or "YYYY",
	// so precision is part of the key.
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Sex         Sex    `json:"sex,omitempty"` // Nam or Nữ; "" if invalid
	// BirthProvince is the pre-2025 province code ("42") of the
	// birth-registration place resolved through the historical list (the
	// code space of ID-number prefixes), "" when unknown or ambiguous (a
	// 2025 province made of several old ones). BirthProvince2025 is its
	// successor code from 1 July 2025, known more often; use it to block.
	BirthProvince     string `json:"birth_province,omitempty"`
	BirthProvince2025 string `json:"birth_province_2025,omitempty"`
	// FatherName and MotherName are NameKeys of the parents' names.
	FatherName string `json:"father_name,omitempty"`
	MotherName string `json:"mother_name,omitempty"`
}

// Keys derives the matching keys of e. It does not validate e; call
// Validate first and decide what to do with rejected records.
func Keys(e *Enrollment) MatchKeys {
	k := MatchKeys{
		Name:        NameKey(e.FullName),
		NameFold:    FoldKey(e.FullName),
		DateOfBirth: e.DateOfBirth.String(),
	}
	if e.PersonalID != "" {
		// A number with an unknown (foreign) prefix is still the same
		// number on both records, so it keys too.
		k.PersonalID, _ = checkPID("personal_id", e.PersonalID, true)
	}
	words := strings.Fields(k.Name)
	switch n := len(words); {
	case n == 1:
		k.Given = words[0]
	case n >= 2:
		k.Surname, k.Given = words[0], words[n-1]
		k.Middle = strings.Join(words[1:n-1], " ")
	}
	if e.Sex == Male || e.Sex == Female {
		k.Sex = e.Sex
	}
	old := birthProvinces(e.BirthRegistration)
	if len(old) == 1 {
		k.BirthProvince = old[0]
	}
	if len(old) > 0 {
		p, _ := ProvinceByCode(old[0])
		k.BirthProvince2025 = p.SuccessorCode
	}
	if e.Father != nil {
		k.FatherName = NameKey(e.Father.FullName)
	}
	if e.Mother != nil {
		k.MotherName = NameKey(e.Mother.FullName)
	}
	return k
}
