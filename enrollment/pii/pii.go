package pii

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"fieldsync/enrollment"
)

// Masker masks personal data unless Show.
type Masker struct{ Show bool }

// Text masks free text word by word: each word keeps its first letter.
// "NGUYỄN VĂN CANARY" → "N* V* C*"; an ID number keeps its province
// prefix and last two digits: "001099012345" → "001*******45".
func (m Masker) Text(s string) string {
	if m.Show || s == "" {
		return s
	}
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = maskWord(w)
	}
	return strings.Join(words, " ")
}

func maskWord(w string) string {
	if n := utf8.RuneCountInString(w); n >= 9 && strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		return w[:3] + strings.Repeat("*", n-5) + w[len(w)-2:]
	}
	r, _ := utf8.DecodeRuneInString(w)
	return string(r) + "*"
}

// Finding is a finding's message, or, masked, its rule's summary (the
// messages quote the values they judge).
func (m Masker) Finding(f enrollment.Finding) string {
	if m.Show {
		return f.Message
	}
	return f.Field + ": " + ruleSummary(f.Code) + " [" + f.Code + "]"
}

// DecodeError masks what an enrollment decoding error quotes of its input
// ("enrollment: date_of_birth: not a date: "…"") and keeps the field;
// other errors (a refusal of the whole capture) carry no input.
func (m Masker) DecodeError(msg string) string {
	if m.Show || !strings.HasPrefix(msg, "enrollment: ") {
		return msg
	}
	field, _, _ := strings.Cut(strings.TrimPrefix(msg, "enrollment: "), ": ")
	return "enrollment: " + field + ": not valid (the reason quotes the input: add --show-pii to see it)"
}

var ruleSummaries = func() map[string]string {
	out := map[string]string{}
	for _, r := range enrollment.Rules() {
		out[r.Code] = r.Summary
	}
	return out
}()

// Reason is a rejected row's reason (its rule's code and message), or,
// masked, its rule's summary: the message may quote the row.
func (m Masker) Reason(code, message string) string {
	switch {
	case m.Show:
		return message
	case code == "":
		return "the row could not be read (the reason quotes it: add --show-pii)"
	}
	return ruleSummary(code)
}

func ruleSummary(code string) string {
	if s, ok := ruleSummaries[code]; ok {
		return s
	}
	return "rejected"
}

// publicKeys are JSON keys whose values are never personal (identifiers
// of entries and codes, kinds, scores, field names): masked JSON keeps
// them. Every other string is masked — an allowlist, so that a field added
// later is masked until someone decides it is not personal.
var publicKeys = map[string]bool{
	"kind": true, "hlc": true, "hash": true, "signed": true, "schema": true, "severity": true,
	"code": true, "field": true, "fields": true, "level": true, "score": true, "verdict": true,
	"rule": true, "entry": true, "shown": true, "tier": true, "region": true, "warnings": true,
	"concurrent": true, "line": true, "supersedes": true, "versions": true, "reasons": true,
	"origin": true, "seq": true, "commune_code": true, "unit_code": true, "code_list": true,
	"captured_at": true, "request_type": true, "sha256": true, "size": true, "target": true,
	"choose": true, "role": true, "unit": true, "device": true, "public_key": true, "epoch": true,
	"masked": true, "payload_bytes": true, "report": true, "rows": true,
	"vi": true, "en": true, "model": true, // a duplicate pair's evidence: fixed sentences, the model's ID
}

// entryIDPattern matches "origin:seq", the ID of an entry.
var entryIDPattern = regexp.MustCompile(`^[0-9a-f]{8,64}:[0-9]{1,20}$`)

// JSON returns v as it should be printed: v itself when shown, else a copy
// with every string outside publicKeys masked.
func (m Masker) JSON(v any) (any, error) {
	if m.Show {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, err
	}
	return m.walk("", g), nil
}

func (m Masker) walk(key string, v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = m.walk(k, x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = m.walk(key, x)
		}
		return t
	case string:
		if publicKeys[key] || (key == "id" && entryIDPattern.MatchString(t)) {
			return t
		}
		return m.Text(t)
	}
	return v
}
