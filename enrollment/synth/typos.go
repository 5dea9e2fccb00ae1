package synth

import (
	"math/rand/v2"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Clerical and regional spelling errors of DOMAIN.md §5.5 items 9 and 10,
// applied to one syllable of a name (NFC, as the person writes it).

// keyboardTypo makes one keystroke error in word: a letter dropped,
// doubled, replaced by a QWERTY neighbour, or two adjacent letters
// swapped ("Tuấnn", "Hạh"). The result differs from word and keeps at
// least one letter; a capital first letter stays a capital.
func keyboardTypo(r *rand.Rand, word string) string {
	rs := []rune(word)
	if len(rs) == 0 {
		return word
	}
	for attempt := 0; attempt < 8; attempt++ {
		out := append([]rune(nil), rs...)
		i := r.IntN(len(out))
		switch op := r.IntN(4); {
		case op == 0 && len(out) > 2: // dropped (never down to one letter)
			out = append(out[:i], out[i+1:]...)
		case op == 1: // doubled
			out = append(out[:i+1], out[i:]...)
		case op == 2: // a neighbouring key
			n := qwertyNeighbours[unicode.ToLower(baseLetter(out[i]))]
			if n == "" {
				continue
			}
			c := rune(n[r.IntN(len(n))])
			if unicode.IsUpper(out[i]) {
				c = unicode.ToUpper(c)
			}
			out[i] = c
		case op == 3 && i+1 < len(out) && out[i] != out[i+1]: // swapped
			out[i], out[i+1] = out[i+1], out[i]
		default:
			continue
		}
		if unicode.IsUpper(rs[0]) { // a name part is title case
			for j := range out {
				out[j] = unicode.ToLower(out[j])
			}
			out[0] = unicode.ToUpper(out[0])
		}
		if s := norm.NFC.String(string(out)); s != word {
			return s
		}
	}
	return word + string(rs[len(rs)-1]) // doubled last letter: always a change
}

// baseLetter is a letter without its marks (ấ → a, đ → d).
func baseLetter(c rune) rune {
	s := stripDiacritics(string(c))
	if s == "" {
		return c
	}
	return []rune(s)[0]
}

// qwertyNeighbours are the letters next to each letter on a QWERTY
// keyboard (the layout Vietnamese Telex is typed on).
var qwertyNeighbours = map[rune]string{
	'a': "qwsz", 'b': "vghn", 'c': "xdfv", 'd': "serfcx", 'e': "wsdr", 'f': "drtgvc", 'g': "ftyhbv",
	'h': "gyujnb", 'i': "ujko", 'j': "huikmn", 'k': "jiolm", 'l': "kop", 'm': "njk", 'n': "bhjm",
	'o': "iklp", 'p': "ol", 'q': "wa", 'r': "edft", 's': "awedxz", 't': "rfgy", 'u': "yhji",
	'v': "cfgb", 'w': "qase", 'x': "zsdc", 'y': "tghu", 'z': "asx",
}

// swapHoiNga exchanges the hỏi and ngã tones of word (Dũng ↔ Dủng): the
// two tones merge in North-Central and Southern speech (§5.5 item 9).
// ok is false when word carries neither.
func swapHoiNga(word string) (string, bool) {
	d := []rune(norm.NFD.String(word))
	changed := false
	for i, c := range d {
		switch c {
		case toneHook:
			d[i], changed = toneTilde, true
		case toneTilde:
			d[i], changed = toneHook, true
		}
	}
	return norm.NFC.String(string(d)), changed
}

// regionalSpelling writes word the way a clerk of another region may hear
// it (§5.5 item 9): initials tr/ch, s/x, d/gi/v, finals n/ng and t/c.
// ok is false when word has none of them.
func regionalSpelling(r *rand.Rand, word string) (string, bool) {
	var options []string
	for _, sw := range regionalSwaps {
		if s, ok := sw(word); ok && s != word {
			options = append(options, s)
		}
	}
	if len(options) == 0 {
		return word, false
	}
	return options[r.IntN(len(options))], true
}

// regionalSwaps each rewrite one initial or final consonant, keeping the
// case of the first letter.
var regionalSwaps = []func(string) (string, bool){
	initialSwap("tr", "ch"), initialSwap("ch", "tr"), initialSwap("s", "x"), initialSwap("x", "s"),
	initialSwap("gi", "d"), initialSwap("d", "gi"), initialSwap("v", "d"),
	finalSwap("ng", "n"), finalSwap("n", "ng"), finalSwap("t", "c"), finalSwap("c", "t"),
}

func initialSwap(from, to string) func(string) (string, bool) {
	return func(w string) (string, bool) {
		lw := strings.ToLower(w)
		if !strings.HasPrefix(lw, from) || from == "d" && strings.HasPrefix(lw, "đ") {
			return w, false
		}
		if from == "s" && strings.HasPrefix(lw, "s") && len(lw) > 1 && lw[1] == 'h' {
			return w, false
		}
		rest := string([]rune(w)[len([]rune(from)):])
		out := to + rest
		if unicode.IsUpper([]rune(w)[0]) {
			out = strings.ToUpper(to[:1]) + to[1:] + rest
		}
		return out, true
	}
}

func finalSwap(from, to string) func(string) (string, bool) {
	return func(w string) (string, bool) {
		lw := strings.ToLower(w)
		if !strings.HasSuffix(lw, from) || from == "n" && strings.HasSuffix(lw, "ng") ||
			from == "c" && strings.HasSuffix(lw, "ch") || len([]rune(lw)) <= len(from)+1 {
			return w, false
		}
		return w[:len(w)-len(from)] + to, true
	}
}
