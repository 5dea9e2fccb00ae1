package main

import (
	"encoding/json"
	"flag"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"fieldsync/enrollment"
)

// Personal data on standard output.
//
// Commands that show citizens' records (log, conflicts, duplicates,
// rejected, enroll's findings) print them to an operator, on purpose. On a
// terminal they show everything. Written anywhere else — a file, a pipe,
// a log collector — names, ID numbers, dates and free text are masked,
// unless --show-pii says the operator means to export them. So nothing
// personal lands in a file by accident (a redirect, a scrollback log, a
// cron job), and an export is a deliberate, visible act. docs/keys.md
// records this policy.

// addShowPII registers --show-pii.
func addShowPII(fs *flag.FlagSet) *bool {
	return fs.Bool("show-pii", false, "print personal data even when the output is not a terminal (a file or a pipe)")
}

// masker masks personal data unless show.
type masker struct{ show bool }

func newMasker(e *env, showFlag bool) masker { return masker{show: showFlag || isTerminal(e.stdout)} }

// text masks free text word by word: each word keeps its first letter.
// "NGUYỄN VĂN CANARY" → "N* V* C*"; an ID number keeps its province
// prefix and last two digits: "001099012345" → "001*******45".
func (m masker) text(s string) string {
	if m.show || s == "" {
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

// findingText is a finding's message, or, masked, its rule's summary (the
// messages quote the values they judge).
func (m masker) findingText(f enrollment.Finding) string {
	if m.show {
		return f.Message
	}
	return f.Field + ": " + ruleSummary(f.Code) + " [" + f.Code + "]"
}

// decodeError masks what an enrollment decoding error quotes of its input
// ("enrollment: date_of_birth: not a date: "…"") and keeps the field;
// other errors (a refusal of the whole capture) carry no input.
func (m masker) decodeError(msg string) string {
	if m.show || !strings.HasPrefix(msg, "enrollment: ") {
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

// json returns v as it should be printed: v itself when shown, else a copy
// with every string outside publicKeys masked.
func (m masker) json(v any) (any, error) {
	if m.show {
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

func (m masker) walk(key string, v any) any {
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
		return m.text(t)
	}
	return v
}
