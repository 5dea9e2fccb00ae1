package altgen

import (
	"reflect"
	"testing"

	"fieldsync/enrollment"
)

// TestGenerate checks what the bench relies on: the count, determinism,
// the validator's acceptance, re-enrollments differing from their person
// in name, ID or date, each noise kind and look-alike present.
func TestGenerate(t *testing.T) {
	cfg := Config{Records: 20000, Seed: 3}
	recs, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != cfg.Records {
		t.Fatalf("%d records, want %d", len(recs), cfg.Records)
	}
	again, _ := Generate(cfg)
	if !reflect.DeepEqual(recs[:500], again[:500]) {
		t.Fatal("the same config gave other records")
	}
	kinds, looks, rejected := map[string]int{}, map[string]int{}, 0
	first := map[string]*Record{}
	for i := range recs {
		r := &recs[i]
		if fs := enrollment.Validate(&r.Enrollment, enrollment.Context{Now: r.Enrollment.Capture.CapturedAt}); fs.Rejected() {
			rejected++
			t.Logf("rejected: %v %+v", fs, r.Enrollment.DateOfBirth)
		}
		if r.Look != "" && !r.Reenrollment {
			looks[r.Look]++
		}
		if !r.Reenrollment {
			first[r.Person] = r
			continue
		}
		o := first[r.Person]
		if o == nil {
			t.Fatalf("re-enrollment of %s before its first record", r.Person)
		}
		e := &r.Enrollment
		if e.FullName == r.Name && e.PersonalID != "" && e.PersonalID == o.Enrollment.PersonalID && e.DateOfBirth == r.DOB {
			t.Errorf("re-enrollment of %s (%v) has the clean name, ID and date", r.Person, r.Noise)
		}
		for _, k := range r.Noise {
			kinds[k]++
		}
	}
	t.Logf("noise %v", kinds)
	t.Logf("look-alikes %v", looks)
	for _, nr := range noiseRates {
		if kinds[nr.kind] == 0 && nr.p >= 0.01 {
			t.Errorf("noise %s never drawn", nr.kind)
		}
	}
	for _, l := range []string{LookTwin, LookNamesakeDay, LookNamesakeYear} {
		if looks[l] < 10 {
			t.Errorf("only %d %s look-alikes", looks[l], l)
		}
	}
	if rejected > 0 {
		t.Errorf("%d records rejected by the validator", rejected)
	}
}
