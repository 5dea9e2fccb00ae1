package pii_test

import (
	"encoding/json"
	"testing"

	"fieldsync/enrollment"
	"fieldsync/enrollment/pii"
)

func TestText(t *testing.T) {
	cases := []struct{ in, masked string }{
		{"", ""},
		{"NGUYỄN VĂN CANARY", "N* V* C*"},
		{"001099012345", "001*******45"},
		{"12345678", "1*"},              // too short for an ID number: a word
		{"Đỗ  Thị", "Đ* T*"},            // the first letter whole, however many bytes
		{"thôn 3, xã A", "t* 3* x* A*"}, // every word
	}
	for _, c := range cases {
		if got := (pii.Masker{}).Text(c.in); got != c.masked {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.masked)
		}
		if got := (pii.Masker{Show: true}).Text(c.in); got != c.in {
			t.Errorf("shown Text(%q) = %q", c.in, got)
		}
	}
}

func TestFindingsReasonsErrors(t *testing.T) {
	rule := enrollment.Rules()[0]
	f := enrollment.Finding{Field: "personal_id", Code: rule.Code, Message: "personal_id \"001099012345\": quoted"}
	cases := []struct {
		name   string
		got    func(m pii.Masker) string
		shown  string
		masked string
	}{
		{"finding", func(m pii.Masker) string { return m.Finding(f) }, f.Message, "personal_id: " + rule.Summary + " [" + rule.Code + "]"},
		{"finding of an unknown rule", func(m pii.Masker) string {
			return m.Finding(enrollment.Finding{Field: "x", Code: "no.such", Message: "m"})
		}, "m", "x: rejected [no.such]"},
		{"reason", func(m pii.Masker) string { return m.Reason(rule.Code, "row quoted") }, "row quoted", rule.Summary},
		{"reason without a rule", func(m pii.Masker) string { return m.Reason("", "row quoted") }, "row quoted", "the row could not be read (the reason quotes it: add --show-pii)"},
		{"decode error", func(m pii.Masker) string { return m.DecodeError(`enrollment: date_of_birth: not a date: "31/02"`) },
			`enrollment: date_of_birth: not a date: "31/02"`, "enrollment: date_of_birth: not valid (the reason quotes the input: add --show-pii to see it)"},
		{"another error", func(m pii.Masker) string { return m.DecodeError("node: frozen") }, "node: frozen", "node: frozen"},
	}
	for _, c := range cases {
		if got := c.got(pii.Masker{Show: true}); got != c.shown {
			t.Errorf("%s shown: %q, want %q", c.name, got, c.shown)
		}
		if got := c.got(pii.Masker{}); got != c.masked {
			t.Errorf("%s masked: %q, want %q", c.name, got, c.masked)
		}
	}
}

// TestJSON: strings under public keys stay, entry IDs under "id" stay,
// everything else (a key nobody declared public included) is masked.
func TestJSON(t *testing.T) {
	in := map[string]any{
		"kind": "enroll", "id": "3f2a00aa:17", "full_name": "NGUYỄN VĂN A",
		"new_field": "SECRET VALUE", "score": 0.9,
		"nested":   []any{map[string]any{"code": "pid.prefix_unknown", "personal_id": "001099012345"}},
		"other_id": map[string]any{"id": "not an entry"},
	}
	got, err := (pii.Masker{}).JSON(in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `{"id":"3f2a00aa:17","kind":"enroll","full_name":"N* V* A*","nested":[{"code":"pid.prefix_unknown","personal_id":"001*******45"}],"new_field":"S* V*","other_id":{"id":"n* a* e*"},"score":0.9}`
	var a, w any
	json.Unmarshal(b, &a)
	json.Unmarshal([]byte(want), &w)
	if ab, _ := json.Marshal(a); string(ab) != func() string { wb, _ := json.Marshal(w); return string(wb) }() {
		t.Errorf("masked JSON:\n %s\nwant\n %s", ab, want)
	}
	shown, err := (pii.Masker{Show: true}).JSON(in)
	if err != nil || shown.(map[string]any)["full_name"] != "NGUYỄN VĂN A" {
		t.Errorf("shown JSON: %v, %v", shown, err)
	}
}
