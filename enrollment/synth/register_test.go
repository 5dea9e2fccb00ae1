package synth

import (
	"testing"

	"fieldsync/enrollment"
)

// TestRegisterHoldsEveryone: the register lists every emitted person with
// the ID number and name of their record, and also the people a list has
// that captures do not: children and the absent.
func TestRegisterHoldsEveryone(t *testing.T) {
	g, err := New(Config{Count: 2000, Seed: 5, Commune: "18586", CodeList: enrollment.CodeList2023})
	if err != nil {
		t.Fatal(err)
	}
	emitted := map[string]string{}
	for r, ok := g.Next(); ok; r, ok = g.Next() {
		if r.Enrollment.PersonalID != "" && r.DuplicateOf == 0 {
			emitted[r.Enrollment.PersonalID] = r.Enrollment.FullName
		}
	}
	reg := g.Register()
	byPID := map[string]Resident{}
	var children, absent int
	for _, r := range reg {
		if len(r.PersonalID) != 12 || r.Household == "" || r.Commune != "18586" || r.Hamlet == "" {
			t.Fatalf("resident %+v", r)
		}
		byPID[r.PersonalID] = r
		if !r.Eligible {
			children++
		}
		if r.Eligible && !r.Enrolled {
			absent++
		}
	}
	for pid, name := range emitted {
		if r, ok := byPID[pid]; !ok || !r.Enrolled {
			t.Fatalf("emitted %s (%s) is not on the register as enrolled", pid, name)
		}
	}
	if children == 0 || absent == 0 || len(reg) <= len(emitted) {
		t.Fatalf("register of %d: %d children, %d absent, %d emitted", len(reg), children, absent, len(emitted))
	}
	t.Logf("register of %d people: %d emitted, %d not eligible, %d eligible never captured", len(reg), len(emitted), children, absent)
}
