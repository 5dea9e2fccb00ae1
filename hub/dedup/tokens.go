package dedup

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
)

// tokenTable interns the name parts of the records (a surname, a given
// name, a middle phrase: NameKeys) so that a profile holds 4-byte token
// numbers instead of strings, and what the comparisons need of a name part
// is derived once per distinct part, not once per record. Token numbers
// depend on the order parts were first seen; nothing the Index outputs
// does (comparisons read the strings behind them).
type tokenTable struct {
	byKey map[string]uint32
	toks  []token // toks[0] is the empty part
}

// token is one distinct name part.
type token struct {
	key      string // NameKey, e.g. "nguyễn", "thị minh"
	fold     string // FoldNameKey(key): "nguyen", "thi minh"
	toneless string // key without tone marks, quality marks kept: "nguyên"
	tones    string // one tone code per syllable ('0' none, '1'–'5')
	regional string // regionalKey(fold)
	class    string // surname class: fold with huỳnh→hoàng, võ→vũ
	classReg string // regionalKey(class)
	// syllables: every word is shaped like a Vietnamese syllable (a
	// keystroke error usually leaves a word that is not)
	syllables bool
	tf        tfSlot // the model's term-frequency weights of this part (see Model)
}

// tfSlot holds the term-frequency adjustment (1/16 bit) of a token's fold
// for each field, from the model in use.
type tfSlot struct{ given, surname, middle int32 }

func newTokenTable() *tokenTable {
	return &tokenTable{byKey: map[string]uint32{}, toks: []token{{}}}
}

// intern returns the token number of a NameKey part ("" → 0).
func (t *tokenTable) intern(key string, m *Model) uint32 {
	if key == "" {
		return 0
	}
	if id, ok := t.byKey[key]; ok {
		return id
	}
	tok := newToken(key)
	tok.tf = m.tfOf(tok.fold)
	id := uint32(len(t.toks))
	t.toks = append(t.toks, tok)
	t.byKey[key] = id
	return id
}

func (t *tokenTable) get(id uint32) *token { return &t.toks[id] }

// retf recomputes every token's term-frequency weights for model m.
func (t *tokenTable) retf(m *Model) {
	for i := 1; i < len(t.toks); i++ {
		t.toks[i].tf = m.tfOf(t.toks[i].fold)
	}
}

func newToken(key string) token {
	fold := enrollment.FoldNameKey(key)
	tok := token{key: key, fold: fold, regional: regionalKey(fold), class: surnameClass(fold)}
	tok.classReg = regionalKey(tok.class)
	var toneless strings.Builder
	var tones []byte
	tok.syllables = true
	for _, syl := range strings.Fields(key) {
		tok.syllables = tok.syllables && enrollment.IsSyllable(syl)
		if toneless.Len() > 0 {
			toneless.WriteByte(' ')
		}
		base, tone := splitToneMark(syl)
		toneless.WriteString(base)
		tones = append(tones, tone)
	}
	tok.toneless, tok.tones = toneless.String(), string(tones)
	return tok
}

// splitToneMark returns a syllable without its tone mark (quality marks
// kept, NFC) and the tone's code: '0' none, '1' huyền, '2' sắc, '3' ngã,
// '4' hỏi, '5' nặng.
func splitToneMark(syl string) (string, byte) {
	var b strings.Builder
	tone := byte('0')
	for _, r := range norm.NFD.String(syl) {
		switch r {
		case '\u0300':
			tone = '1'
		case '\u0301':
			tone = '2'
		case '\u0303':
			tone = '3'
		case '\u0309':
			tone = '4'
		case '\u0323':
			tone = '5'
		default:
			if !unicode.Is(unicode.Mn, r) || r == '\u0302' || r == '\u0306' || r == '\u031b' {
				b.WriteRune(r)
			}
		}
	}
	return norm.NFC.String(b.String()), tone
}

// surnameClasses maps the folded regional surname variants to one class
// (DOMAIN.md §5.2: Hoàng↔Huỳnh, Vũ↔Võ are weak-equivalent).
var surnameClasses = map[string]string{"huynh": "hoang", "vo": "vu"}

func surnameClass(fold string) string {
	if c, ok := surnameClasses[fold]; ok {
		return c
	}
	return fold
}

// toneVariant reports whether two parts with the same letters and quality
// marks differ only in tones a clerk confuses: hỏi for ngã (merged in
// North-Central and Southern speech, DOMAIN.md §5.5 item 9) or a tone left
// out (faded, or typed without it).
func toneVariant(a, b *token) bool {
	if a.toneless != b.toneless || len(a.tones) != len(b.tones) {
		return false
	}
	for i := 0; i < len(a.tones); i++ {
		x, y := a.tones[i], b.tones[i]
		if x != y && x != '0' && y != '0' && !(x == '3' && y == '4' || x == '4' && y == '3') {
			return false
		}
	}
	return true
}
