package synth

import (
	"fmt"
	"testing"
	"time"

	"fieldsync/enrollment"
)

func TestHouseholdConsistency(t *testing.T) {
	c := standard(t)
	for _, i := range c.originals() {
		e, tr := c.recs[i], c.truths[i]
		if err := checkFamily(e); err != nil {
			t.Fatalf("record %d (%s, %s): %v", i+1, tr.Person, tr.Household, err)
		}
	}
	size := float64(c.stats.HouseholdMembers) / float64(c.stats.Households)
	t.Logf("household size %.2f (%d households), enrolled per household %.2f",
		size, c.stats.Households, float64(c.stats.Originals)/float64(c.stats.Households))
	if size < 3.0 || size > 4.0 {
		t.Errorf("mean household size %.2f outside [3, 4]", size)
	}
	checkShare(t, "absent", c.stats.Absent, c.stats.Eligible, 0.05, 0.065)
}

// checkFamily checks one original's relations (DOMAIN.md §2.6, §7 item 4).
func checkFamily(e enrollment.Enrollment) error {
	head := e.HouseholdHead
	if head == nil || head.DateOfBirth == nil {
		return errf("no household head")
	}
	switch e.RelationToHead {
	case "Chủ hộ":
		if fold(head.FullName) != fold(e.FullName) && e.PersonalID != "" && head.PersonalID != e.PersonalID {
			return errf("head is %q", head.FullName)
		}
	case "Vợ", "Chồng":
		if e.Spouse == nil || e.Spouse.PersonalID != head.PersonalID {
			return errf("spouse is not the head")
		}
	case "Con", "Cháu":
		if head.DateOfBirth.Year >= e.DateOfBirth.Year {
			return errf("%s born %d, head born %d", e.RelationToHead, e.DateOfBirth.Year, head.DateOfBirth.Year)
		}
	case "Cha", "Mẹ":
		if head.DateOfBirth.Year <= e.DateOfBirth.Year {
			return errf("parent of the head younger than the head")
		}
	}
	if e.Spouse != nil && e.Spouse.PersonalID == e.PersonalID {
		return errf("married to self")
	}
	return checkParents(e)
}

// checkParents: children carry the father's surname and parents are 18-45
// years older.
func checkParents(e enrollment.Enrollment) error {
	if e.Father != nil && surnameOf(e.FullName) != surnameOf(e.Father.FullName) {
		return errf("surname of %q is not the father's %q", e.FullName, e.Father.FullName)
	}
	for _, p := range []*enrollment.Relative{e.Father, e.Mother} {
		if p == nil {
			continue
		}
		if gap := e.DateOfBirth.Year - p.DateOfBirth.Year; gap < 18 || gap > 45 {
			return errf("parent %q is %d years older", p.FullName, gap)
		}
	}
	return nil
}

type testErr string

func (e testErr) Error() string { return string(e) }

func errf(format string, args ...any) error {
	return testErr(fmt.Sprintf(format, args...))
}

func TestWifeKeepsSurname(t *testing.T) {
	c := standard(t)
	same, wives := 0, 0
	for _, i := range c.originals() {
		e := c.recs[i]
		if e.RelationToHead == "Vợ" {
			wives++
			if surnameOf(e.FullName) == surnameOf(e.Spouse.FullName) {
				same++
			}
		}
	}
	// Wives keep their own surname, which matches the husband's only by
	// chance (mostly Nguyễn × Nguyễn ≈ 12%).
	checkShare(t, "wife shares husband's surname", same, wives, 0.05, 0.2)
}

func TestAges(t *testing.T) {
	c := standard(t)
	start := c.recs[0].Capture.CapturedAt
	var before1960, jan1, young, old int
	for _, i := range c.originals() {
		e := c.recs[i]
		age := ageOn(e.DateOfBirth, start.In(ict))
		if age < 14 && !c.hasQuirk(i, QuirkUnder14) {
			t.Fatalf("record %d: age %d", i+1, age)
		}
		if age > 105 {
			t.Fatalf("record %d: age %d", i+1, age)
		}
		if e.DateOfBirth.Year < 1960 {
			before1960++
			if e.DateOfBirth.Month == 1 && e.DateOfBirth.Day == 1 {
				jan1++
			}
		}
		switch {
		case age < 30:
			young++
		case age >= 60:
			old++
		}
	}
	n := len(c.originals())
	checkShare(t, "01/01 among born before 1960", jan1, before1960, 0.03, 0.065)
	checkShare(t, "aged 14-29", young, n, 0.18, 0.35)
	checkShare(t, "aged 60+", old, n, 0.15, 0.35)
}

func TestCaptureTimes(t *testing.T) {
	// One commune, so that its two stations work for a couple of weeks.
	c := build(t, Config{Count: 6000, Seed: 5, Noise: 0.05, Commune: "18586"})
	start := c.cfg.Defaults().Start
	type key struct {
		device string
		day    string
	}
	perDay := map[key]int{}
	var evening, weekend int
	for i, e := range c.recs {
		at := e.Capture.CapturedAt.In(ict)
		if at.Before(start) || at.After(start.AddDate(0, 3, 0)) {
			t.Fatalf("record %d captured at %v", i+1, at)
		}
		if c.truths[i].DuplicateOf != 0 {
			if orig := c.recs[c.truths[i].DuplicateOf-1].Capture.CapturedAt; !at.After(orig) {
				t.Fatalf("record %d re-enrolled at %v, before its original %v", i+1, at, orig)
			}
			continue
		}
		// Station-day: night shifts past midnight count for the day before.
		day := at.Add(-3 * time.Hour).Format(time.DateOnly)
		perDay[key{e.Capture.Device, day}]++
		if h := at.Hour(); h >= 19 || h < 3 {
			evening++
		}
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekend++
		}
	}
	for k, n := range perDay {
		if n > 400 {
			t.Errorf("%v: %d captures in a station-day (max 400)", k, n)
		}
	}
	checkShare(t, "evening/night captures", evening, len(c.originals()), 0.05, 0.5)
	checkShare(t, "weekend captures", weekend, len(c.originals()), 0.05, 0.5)
}
