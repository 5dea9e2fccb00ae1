package enrollment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Legacy names a pre-Unicode Vietnamese encoding whose bytes, read as
// Windows-1252/Latin-1, give the mojibake still found in old district
// spreadsheets (DOMAIN.md §5.5.2).
type Legacy uint8

const (
	LegacyNone  Legacy = iota // Unicode text, or nothing recognisable
	LegacyTCVN3               // TCVN 5712:1993 "ABC" (.VnTime fonts): "hép møt tÕt"
	LegacyVNI                 // VNI-Windows, two bytes per toned letter: "Xin chaøo"
)

// String returns "none", "TCVN3" or "VNI".
func (l Legacy) String() string {
	switch l {
	case LegacyTCVN3:
		return "TCVN3"
	case LegacyVNI:
		return "VNI"
	}
	return "none"
}

// The mapping tables. Both are built at start-up from vowelRows (viet.go),
// so every one of the 134 Vietnamese letters is covered by construction
// and TestLegacyRoundTripEveryLetter checks each of them.
//
// TCVN3 is a single-byte code. tcvn3Rows gives, row by row in the order of
// vowelRows (base, grave, acute, hook, tilde, dot), the byte of each letter
// written as the Latin-1 character it shows as; the plain vowels are ASCII.
// TCVN3 has upper-case code points only for Ă Â Ê Ô Ơ Ư Đ (tcvn3Upper):
// upper-case toned letters were typed with the lower-case codes in an
// upper-case font (.VnTimeH), so EncodeLegacyMojibake writes them with the
// lower-case codes and decoding gives lower case.
var tcvn3Rows = []string{
	"aµ¸¶·¹", "¨»¾¼½Æ", "©ÇÊÈÉË",
	"eÌÐÎÏÑ", "ªÒÕÓÔÖ",
	"i×ÝØÜÞ",
	"oßãáâä", "«åèæçé", "¬êíëìî",
	"uïóñòô", "\u00adõøö÷ù", // ư is 0xAD, which shows as a soft hyphen
	"yúýûüþ",
}

var tcvn3Upper = map[rune]rune{'Ă': '¡', 'Â': '¢', 'Ê': '£', 'Ô': '¤', 'Ơ': '¥', 'Ư': '¦', 'Đ': '§'}

// VNI-Windows writes a toned letter as its base letter followed by one
// mark byte (ơ, ư, đ and the toned i's are single bytes). Upper-case
// letters use the upper-case base and the upper-case form of the same mark
// byte, so the upper-case table is strings.ToUpper of the lower-case one
// ("VIEÄT NAM" for VIỆT NAM).
const (
	vniTones      = "\x00øùûõï" // mark after a plain vowel, by tone
	vniCircumflex = "âàáåãä"    // after a, e, o: â ê ô and their tones
	vniBreve      = "êèéúüë"    // after a: ă and its tones
)

// vniLower returns the VNI bytes (as Latin-1 text) of a lower-case vowel.
func vniLower(base rune, t tone) string {
	mark := func(set string) string { return string([]rune(set)[t]) }
	plain := ""
	if t != toneNone {
		plain = mark(vniTones)
	}
	switch base {
	case 'i':
		return []string{"i", "ì", "í", "æ", "ó", "ò"}[t]
	case 'y':
		if t == toneDot {
			return "î"
		}
		return "y" + plain
	case 'a', 'e', 'o', 'u':
		return string(base) + plain
	case 'â':
		return "a" + mark(vniCircumflex)
	case 'ê':
		return "e" + mark(vniCircumflex)
	case 'ô':
		return "o" + mark(vniCircumflex)
	case 'ă':
		return "a" + mark(vniBreve)
	case 'ơ':
		return "ô" + plain
	case 'ư':
		return "ö" + plain
	}
	return string(base)
}

// legacyTable is one encoding: letter → mojibake, and mojibake → letter.
type legacyTable struct {
	enc    map[rune]string
	dec1   map[rune]rune   // single-character mojibake
	dec2   map[string]rune // two-character mojibake (VNI)
	strong map[string]bool // mojibake that real Vietnamese never contains
}

var tcvn3, vni = buildLegacyTables()

func newLegacyTable() *legacyTable {
	return &legacyTable{enc: map[rune]string{}, dec1: map[rune]rune{}, dec2: map[string]rune{}, strong: map[string]bool{}}
}

// add records letter ↔ code; identity pairs (plain a, ì in VNI) are skipped.
func (t *legacyTable) add(letter rune, code string) {
	if code == string(letter) {
		return
	}
	t.enc[letter] = code
	rs := []rune(code)
	if len(rs) == 1 {
		t.dec1[rs[0]] = letter
	} else {
		t.dec2[code] = letter
	}
}

func buildLegacyTables() (tcvn3, vni *legacyTable) {
	tcvn3, vni = newLegacyTable(), newLegacyTable()
	for i, row := range vowelRows {
		letters, codes := []rune(row), []rune(tcvn3Rows[i])
		for j, l := range letters {
			tcvn3.add(l, string(codes[j]))
			v := vowelOf[l]
			lower := vniLower(v.base, v.tone)
			vni.add(l, lower)
			vni.add(unicode.ToUpper(l), strings.ToUpper(lower))
		}
	}
	tcvn3.add('đ', "®")
	for l, c := range tcvn3Upper {
		tcvn3.add(l, string(c))
	}
	vni.add('đ', "ñ")
	vni.add('Đ', "Ñ")
	markStrong(tcvn3)
	markStrong(vni)
	// "oà", "oá", "oã" are VNI for ồ, ố, ỗ but also real text in the new
	// tone style (Hoà, Hoá), so they are not evidence on their own.
	for _, p := range []string{"oà", "oá", "oã", "OÀ", "OÁ", "OÃ"} {
		delete(vni.strong, p)
	}
	return tcvn3, vni
}

// markStrong marks as evidence the codes that cannot occur in Vietnamese
// Unicode text: a single character that is not a Vietnamese letter, or a
// pair (VNI) not in the ambiguous list.
func markStrong(t *legacyTable) {
	for r := range t.dec1 {
		if !isVietLetter(r) {
			t.strong[string(r)] = true
		}
	}
	for p := range t.dec2 {
		t.strong[p] = true
	}
}

// isVietLetter reports a letter of the Vietnamese alphabet in either case.
func isVietLetter(r rune) bool {
	lr := unicode.ToLower(r)
	if lr < 0x80 {
		return lr >= 'a' && lr <= 'z'
	}
	_, ok := vowelOf[lr]
	return ok || lr == 'đ'
}

// EncodeLegacyMojibake writes s as the given legacy encoding would store
// it, shown as Latin-1 text: the mojibake an old spreadsheet yields. It is
// the inverse of DecodeLegacyMojibake, for tests and the data generator.
// Characters the encoding cannot represent are kept; in TCVN3, upper-case
// toned letters are written with their lower-case codes (see tcvn3Rows).
func EncodeLegacyMojibake(s string, enc Legacy) string {
	t := tableFor(enc)
	if t == nil {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFC.String(s) {
		if _, own := t.enc[r]; !own && enc == LegacyTCVN3 && r >= 0x80 && isVietLetter(r) {
			r = unicode.ToLower(r) // no upper-case code: the lower-case one
		}
		if code, ok := t.enc[r]; ok {
			b.WriteString(code)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// DecodeLegacyMojibake reads s as mojibake of the given encoding and
// returns the Unicode (NFC) text, without checking that s is mojibake;
// RepairLegacy decides that first.
func DecodeLegacyMojibake(s string, enc Legacy) string {
	t := tableFor(enc)
	if t == nil {
		return s
	}
	rs := []rune(norm.NFC.String(s))
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		if i+1 < len(rs) {
			if l, ok := t.dec2[string(rs[i:i+2])]; ok {
				b.WriteRune(l)
				i++
				continue
			}
		}
		if l, ok := t.dec1[rs[i]]; ok {
			b.WriteRune(l)
			continue
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

func tableFor(enc Legacy) *legacyTable {
	switch enc {
	case LegacyTCVN3:
		return tcvn3
	case LegacyVNI:
		return vni
	}
	return nil
}

// maxLegacyScan bounds the text examined for mojibake; longer text is
// never a name or a place and is reported as LegacyNone.
const maxLegacyScan = 4096

// DetectLegacy reports whether s looks like TCVN3 or VNI mojibake
// (DOMAIN.md §5.5.2). The heuristic, conservative because a false
// positive would rewrite a real name:
//  1. s (after NFC) is made only of Latin-1 characters, some non-ASCII:
//     mojibake of these encodings never contains ă, ơ, ư, đ or ệ;
//  2. s holds evidence, a code real Vietnamese never contains: for TCVN3 a
//     character such as µ ¸ ¶ ¨ » ¾ Æ © Ç Ë ® ø (not a Vietnamese letter);
//     for VNI a vowel followed by a mark byte such as "aø", "aù", "oâ",
//     "eä", or ñ for đ ("oà", "oá" are ambiguous with Hoà, Hoá);
//  3. decoding gives words that are all shaped like Vietnamese syllables
//     with the tone on a vowel where one of the conventions puts it.
//
// When both encodings qualify, the one with more evidence wins.
func DetectLegacy(s string) Legacy {
	enc, _ := detectLegacy(s)
	return enc
}

// RepairLegacy decodes s when DetectLegacy finds mojibake, returning the
// Unicode text and the encoding found; otherwise it returns s unchanged and
// LegacyNone.
func RepairLegacy(s string) (string, Legacy) {
	enc, out := detectLegacy(s)
	if enc == LegacyNone {
		return s, LegacyNone
	}
	return out, enc
}

func detectLegacy(s string) (Legacy, string) {
	if len(s) > maxLegacyScan || !utf8.ValidString(s) {
		return LegacyNone, s
	}
	s = norm.NFC.String(s)
	if !latin1Mojibake(s) {
		return LegacyNone, s
	}
	best, bestEv, bestOut := LegacyNone, 0, s
	for _, enc := range []Legacy{LegacyTCVN3, LegacyVNI} {
		t := tableFor(enc)
		ev := t.evidence(s)
		if ev == 0 || ev <= bestEv {
			continue
		}
		out := DecodeLegacyMojibake(s, enc)
		if !allWordsVietnamese(out) {
			continue
		}
		best, bestEv, bestOut = enc, ev, out
	}
	return best, bestOut
}

// latin1Mojibake reports text made only of Latin-1 characters, at least one
// of them beyond ASCII.
func latin1Mojibake(s string) bool {
	high := false
	for _, r := range s {
		if r > 0xFF {
			return false
		}
		if r >= 0x80 {
			high = true
		}
	}
	return high
}

// evidence counts codes in s that real Vietnamese text never contains.
func (t *legacyTable) evidence(s string) int {
	rs := []rune(s)
	n := 0
	for i, r := range rs {
		if t.strong[string(r)] {
			n++
		}
		if i+1 < len(rs) && t.strong[string(rs[i:i+2])] {
			n++
		}
	}
	return n
}

// allWordsVietnamese reports whether every word of s that has a
// non-ASCII letter is a plausible Vietnamese syllable.
func allWordsVietnamese(s string) bool {
	ok := true
	splitWords(s, func(i, j int) {
		w := s[i:j]
		if !ok || isASCII(w) {
			return
		}
		syl, parsed := parseSyllable(strings.ToLower(w))
		ok = parsed && syl.plausible()
	})
	return ok
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
