package enrollment

import (
	"strings"
	"unicode"
)

// This file holds the Vietnamese letter tables and the syllable parser that
// tone-mark canonicalization (normalize.go) and mojibake detection
// (legacy.go) share.

// tone is a Vietnamese tone mark; toneNone is level (thanh ngang).
type tone uint8

const (
	toneNone tone = iota
	toneGrave
	toneAcute
	toneHook
	toneTilde
	toneDot
)

// vowelRows lists each of the 12 vowels (with its quality mark: breve,
// circumflex or horn) in the order base, grave, acute, hook, tilde, dot.
// Together with đ these are the 67 lower-case Vietnamese letters beyond
// ASCII (60 toned + ă â ê ô ơ ư + đ), 134 with upper case.
var vowelRows = []string{
	"aàáảãạ", "ăằắẳẵặ", "âầấẩẫậ",
	"eèéẻẽẹ", "êềếểễệ",
	"iìíỉĩị",
	"oòóỏõọ", "ôồốổỗộ", "ơờớởỡợ",
	"uùúủũụ", "ưừứửữự",
	"yỳýỷỹỵ",
}

// vowelInfo is a vowel letter split into its toneless base and its tone.
type vowelInfo struct {
	base rune
	tone tone
}

// vowelOf maps a lower-case vowel letter to base + tone; composeOf is the
// inverse.
var vowelOf, composeOf = buildVowelTables()

func buildVowelTables() (map[rune]vowelInfo, map[vowelInfo]rune) {
	of, compose := map[rune]vowelInfo{}, map[vowelInfo]rune{}
	for _, row := range vowelRows {
		rs := []rune(row)
		for t, r := range rs {
			vi := vowelInfo{base: rs[0], tone: tone(t)}
			of[r] = vi
			compose[vi] = r
		}
	}
	return of, compose
}

// VietnameseLetters returns the 134 Vietnamese letters that are not plain
// ASCII (67 lower case, then their 67 upper-case forms), in table order.
// Tests and the data generator iterate over them.
func VietnameseLetters() []rune {
	var lower []rune
	for _, row := range vowelRows {
		for i, r := range []rune(row) {
			if i == 0 && r < 0x80 {
				continue // plain a e i o u y
			}
			lower = append(lower, r)
		}
	}
	lower = append(lower, 'đ')
	out := append([]rune(nil), lower...)
	for _, r := range lower {
		out = append(out, unicode.ToUpper(r))
	}
	return out
}

// marked reports vowels that carry a quality mark (breve, circumflex,
// horn); the tone goes on such a vowel when there is one.
func marked(base rune) bool {
	return strings.ContainsRune("ăâêôơư", base)
}

// initials are the Vietnamese initial consonants, longest first so that
// "ngh" is tried before "ng" and "n". "gi" and "qu" are initials whose i/u
// is not part of the vowel nucleus (gia, quý), except for "gì"-like words,
// which the parser retries with "g".
var initials = []string{
	"ngh", "ng", "gh", "gi", "kh", "nh", "ph", "qu", "th", "tr", "ch",
	"b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
}

// finals are the consonants a syllable can end with (semivowel endings
// i/y/o/u are part of the vowel run).
var finals = map[string]bool{"": true, "c": true, "ch": true, "m": true, "n": true, "ng": true, "nh": true, "p": true, "t": true}

// nuclei are the vowel runs (toneless) that Vietnamese syllables have,
// after an initial ("qu" and "gi" included in the initial). A run outside
// this set marks a word as not Vietnamese, which is what tells mojibake
// decoded with the wrong table ("Buứi", "Haứ") from the right one.
var nuclei = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`
		a ă â e ê i o ô ơ u ư y
		ai ao au ay âu ây eo êu ia iê iu oa oă oe oi oo ôi ơi ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê
		iêu oai oay oeo uây uôi uya uyê uyu ươi ươu yêu`) {
		m[n] = true
	}
	return m
}()

// syllable is one lower-case Vietnamese syllable split into parts.
type syllable struct {
	initial string
	vowels  []rune // toneless bases
	final   string
	tone    tone
	toneAt  int // index in vowels, -1 when toneNone
}

// IsSyllable reports whether a lower-case word (a NameKey word) is shaped
// like a Vietnamese syllable: an initial, a vowel run Vietnamese has, a
// final, at most one tone where a convention puts it. "Tuấnn", "Hạh" or
// "lknh" are not — a clerk's keystroke error usually leaves such a word,
// which is how the duplicate detector tells a typo from another name.
func IsSyllable(word string) bool {
	s, ok := parseSyllable(word)
	return ok && s.plausible()
}

// parseSyllable splits a lower-case word into initial, vowel run and
// final. It fails for anything that is not shaped like a Vietnamese
// syllable (foreign or minority words such as "ksor", two tone marks,
// marks on consonants), which callers then leave untouched.
func parseSyllable(word string) (syllable, bool) {
	rs := []rune(word)
	if len(rs) == 0 || len(rs) > 8 {
		return syllable{}, false
	}
	if s, ok := parseFloatingTone(rs); ok {
		return s, true
	}
	for _, ini := range initials {
		if !strings.HasPrefix(word, ini) {
			continue
		}
		if s, ok := parseRest(ini, rs[len([]rune(ini)):]); ok {
			return s, true
		}
	}
	return syllable{}, false
}

// parseFloatingTone parses "gìa", "qúy": a tone typed on the i of "gi" or
// the u of "qu", which are part of the initial. The tone is kept but its
// position marked invalid (-2), so the syllable is canonicalized to "già",
// "quý" and does not count as plausible mojibake.
func parseFloatingTone(rs []rune) (syllable, bool) {
	if len(rs) < 3 || (rs[0] != 'g' && rs[0] != 'q') {
		return syllable{}, false
	}
	want := 'i'
	if rs[0] == 'q' {
		want = 'u'
	}
	v, ok := vowelOf[rs[1]]
	if !ok || v.base != want || v.tone == toneNone {
		return syllable{}, false
	}
	if _, ok := vowelOf[rs[2]]; !ok {
		return syllable{}, false
	}
	s, ok := parseRest(string(rs[0])+string(want), rs[2:])
	if !ok || s.tone != toneNone {
		return syllable{}, false
	}
	s.tone, s.toneAt = v.tone, -2
	return s, true
}

// parseRest parses the vowel run and final after an initial.
func parseRest(ini string, rs []rune) (syllable, bool) {
	s := syllable{initial: ini, toneAt: -1}
	i := 0
	for ; i < len(rs); i++ {
		v, ok := vowelOf[rs[i]]
		if !ok {
			break
		}
		if v.tone != toneNone {
			if s.tone != toneNone {
				return syllable{}, false // two tone marks
			}
			s.tone, s.toneAt = v.tone, len(s.vowels)
		}
		s.vowels = append(s.vowels, v.base)
	}
	if !nuclei[string(s.vowels)] {
		return syllable{}, false
	}
	s.final = string(rs[i:])
	if !finals[s.final] {
		return syllable{}, false
	}
	return s, true
}

// Tone-placement conventions (DOMAIN.md §5.5.3). They differ only for an
// open syllable whose vowels are oa, oe or uy: "hòa, khỏe, thủy" (old,
// tone on the first vowel) versus "hoà, khoẻ, thuỷ" (new, on the second).
const (
	styleOld = iota
	styleNew
)

// tonePosition returns where the tone belongs in s under a convention.
// Rules: a vowel with a quality mark takes it (the last one: ươ → ơ);
// otherwise with a final consonant, the last vowel (hoàng, huỳnh); three
// vowels, the middle one (ngoài, khuỷu); two vowels, the first (mái, kìa),
// except the oa/oe/uy pairs, which depend on the convention. "qu" and "gi"
// are initials, so quý and già already have a single vowel.
func tonePosition(s syllable, style int) int {
	n := len(s.vowels)
	if n == 1 {
		return 0
	}
	for i := n - 1; i >= 0; i-- {
		if marked(s.vowels[i]) {
			return i
		}
	}
	if s.final != "" {
		return n - 1
	}
	if n == 3 {
		return 1
	}
	if isStylePair(s.vowels) && style == styleNew {
		return 1
	}
	return 0
}

// isStylePair reports an oa, oe or uy vowel pair, where the conventions
// differ when the syllable is open.
func isStylePair(v []rune) bool {
	if len(v) != 2 {
		return false
	}
	p := string(v)
	return p == "oa" || p == "oe" || p == "uy"
}

// styleOf reports which convention a toned syllable follows, or -1 when
// the conventions agree for it.
func styleOf(s syllable) int {
	if s.tone == toneNone || s.final != "" || !isStylePair(s.vowels) {
		return -1
	}
	if s.toneAt == 0 {
		return styleOld
	}
	return styleNew
}

// plausible reports whether a toned syllable has its tone where either
// convention puts it; mojibake decoded with the wrong table usually fails.
func (s syllable) plausible() bool {
	if s.tone == toneNone {
		return true
	}
	return s.toneAt == tonePosition(s, styleOld) || s.toneAt == tonePosition(s, styleNew)
}

// render writes the syllable with its tone at position at.
func (s syllable) render(at int) string {
	var b strings.Builder
	b.WriteString(s.initial)
	for i, v := range s.vowels {
		if i == at && s.tone != toneNone {
			v = composeOf[vowelInfo{base: v, tone: s.tone}]
		}
		b.WriteRune(v)
	}
	b.WriteString(s.final)
	return b.String()
}

// splitWords calls fn for each maximal run of letters in s (a word), with
// its byte offsets; separators (spaces, hyphens, apostrophes) are not
// passed.
func splitWords(s string, fn func(start, end int)) {
	start := -1
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(start, i)
			start = -1
		}
	}
	if start >= 0 {
		fn(start, len(s))
	}
}
