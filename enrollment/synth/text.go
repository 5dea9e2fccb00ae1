package synth

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Vietnamese text transforms used by the noise kinds of DOMAIN.md §5.5.
// They work on one name at a time and never touch addresses (unit names are
// copied exactly as published).

// toneMarks are the five combining tone marks of Vietnamese in NFD.
const (
	toneGrave = '\u0300' // huyền
	toneAcute = '\u0301' // sắc
	toneTilde = '\u0303' // ngã
	toneHook  = '\u0309' // hỏi
	toneDot   = '\u0323' // nặng
)

func isTone(r rune) bool {
	switch r {
	case toneGrave, toneAcute, toneTilde, toneHook, toneDot:
		return true
	}
	return false
}

// toNFD returns the canonical decomposition (macOS, Windows-1258 and some
// IMEs produce it; §5.5(1)).
func toNFD(s string) string { return norm.NFD.String(s) }

// stripDiacritics removes every mark and maps đ→d, Đ→D (§5.5(5)).
func stripDiacritics(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ':
			r = 'd'
		case r == 'Đ':
			r = 'D'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// toneStyle says where a syllable ending in oa, oe or uy carries its tone:
// "old" on the first vowel (hòa, thủy), "new" on the second (hoà, thuỷ).
// §5.5(3): the two spellings are the same name.
type toneStyle int

const (
	oldTone toneStyle = iota
	newTone
)

// hasToneChoice reports whether the syllable ends in oa/oe/uy carrying a
// tone, so that old and new styles differ ("Quý": qu is the onset, no).
func hasToneChoice(syl string) bool {
	base, tone := splitTone(syl)
	return tone != 0 && toneCluster(base) >= 0
}

// splitTone separates a syllable into its toneless NFC form and its tone
// mark (0 if none).
func splitTone(syl string) (string, rune) {
	var b strings.Builder
	var tone rune
	for _, r := range norm.NFD.String(syl) {
		if isTone(r) {
			tone = r
			continue
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String()), tone
}

// toneCluster returns the rune index of the first vowel of a final oa, oe
// or uy cluster in a toneless syllable, or -1.
func toneCluster(base string) int {
	rs := []rune(strings.ToLower(base))
	n := len(rs)
	if n < 2 {
		return -1
	}
	a, b := rs[n-2], rs[n-1]
	switch {
	case a == 'o' && (b == 'a' || b == 'e'):
		return n - 2
	case a == 'u' && b == 'y':
		if n >= 3 && rs[n-3] == 'q' {
			return -1
		}
		return n - 2
	}
	return -1
}

// placeTone renders a syllable with its tone in the given style. Syllables
// without a choice are returned unchanged.
func placeTone(syl string, style toneStyle) string {
	base, tone := splitTone(syl)
	i := toneCluster(base)
	if tone == 0 || i < 0 {
		return syl
	}
	if style == newTone {
		i++
	}
	rs := []rune(base)
	out := string(rs[:i+1]) + string(tone) + string(rs[i+1:])
	return norm.NFC.String(out)
}

// withToneStyle applies style to every syllable of a name.
func withToneStyle(name string, style toneStyle) string {
	parts := strings.Split(name, " ")
	for i, p := range parts {
		parts[i] = placeTone(p, style)
	}
	return strings.Join(parts, " ")
}

// nameHasToneChoice reports whether any syllable has an oa/oe/uy tone.
func nameHasToneChoice(name string) bool {
	for _, p := range strings.Fields(name) {
		if hasToneChoice(p) {
			return true
		}
	}
	return false
}

// upper uppercases a name as printed on the card (§5.5(7)).
func upper(s string) string { return strings.ToUpper(s) }

// isASCII reports whether s has no byte ≥ 0x80.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
