package synth

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
)

func TestReenrollments(t *testing.T) {
	c := standard(t)
	if got, want := c.stats.Reenrollments, 1000; got != want {
		t.Fatalf("%d re-enrollments, want %d", got, want)
	}
	kinds := map[string]int{}
	unchanged := 0
	for i, tr := range c.truths {
		if tr.DuplicateOf == 0 {
			if len(tr.Noise) != 0 {
				t.Fatalf("original %d has noise %v", i+1, tr.Noise)
			}
			continue
		}
		if tr.DuplicateOf >= tr.Line {
			t.Fatalf("line %d: duplicate_of %d is not earlier", tr.Line, tr.DuplicateOf)
		}
		first := c.truths[tr.DuplicateOf-1]
		if first.Person != tr.Person || first.DuplicateOf != 0 || first.Household != tr.Household {
			t.Fatalf("line %d (%s) points at line %d (%s, duplicate_of %d)", tr.Line, tr.Person, first.Line, first.Person, first.DuplicateOf)
		}
		if n := len(tr.Noise); n < 1 || n > 3 {
			t.Fatalf("line %d: %d noise kinds %v", tr.Line, n, tr.Noise)
		}
		e, o := c.recs[i], c.recs[tr.DuplicateOf-1]
		if e.FullName == o.FullName && e.PersonalID == o.PersonalID && e.DateOfBirth == o.DateOfBirth {
			t.Fatalf("line %d is identical to its original in name, ID and DOB (noise %v)", tr.Line, tr.Noise)
		}
		if e.Capture.Device == o.Capture.Device && e.Capture.CapturedAt.Equal(o.Capture.CapturedAt) {
			t.Fatalf("line %d: same capture as its original", tr.Line)
		}
		if err := checkNoise(e, o, tr.Noise); err != nil {
			t.Fatalf("line %d (noise %v): %v\n  orig %q %s %v\n  noisy %q %s %v", tr.Line, tr.Noise, err,
				o.FullName, o.PersonalID, o.DateOfBirth, e.FullName, e.PersonalID, e.DateOfBirth)
		}
		if e.PersonalID == o.PersonalID {
			unchanged++
		}
		for _, k := range tr.Noise {
			kinds[k]++
		}
	}
	for _, k := range NoiseKinds {
		t.Logf("%-22s %d", k, kinds[k])
		if kinds[k] == 0 {
			t.Errorf("noise kind %s never occurs", k)
		}
	}
	checkShare(t, "ID number unchanged", unchanged, c.stats.Reenrollments, 0.4, 0.62)
}

// checkNoise checks that each declared defect is visible in the record.
func checkNoise(e, o enrollment.Enrollment, kinds []string) error {
	has := func(k string) bool { return contains(kinds, k) }
	switch {
	case has(NoiseNFD) && norm.NFC.IsNormalString(e.FullName):
		return errf("nfd declared but name is NFC")
	case !has(NoiseNFD) && !norm.NFC.IsNormalString(e.FullName) && norm.NFC.IsNormalString(o.FullName):
		return errf("NFD without nfd")
	case has(NoiseNoDiacritics) && !isASCII(e.FullName):
		return errf("no_diacritics declared but name has marks")
	case has(NoiseUppercase) && strings.ToUpper(e.FullName) != e.FullName:
		return errf("uppercase declared but name is not")
	case has(NoiseSpaces) && strings.Join(strings.Fields(e.FullName), " ") == e.FullName:
		return errf("spaces declared but none extra")
	case has(NoiseMiddleDropped) && len(strings.Fields(e.FullName)) >= len(strings.Fields(o.FullName)):
		return errf("middle_dropped but not shorter")
	case has(NoiseMiddleAdded) && len(strings.Fields(e.FullName)) <= len(strings.Fields(o.FullName)):
		return errf("middle_added but not longer")
	case (has(NoiseGivenTypo) || has(NoiseRegionalSpelling)) && lastWord(fold(e.FullName)) == lastWord(fold(o.FullName)):
		return errf("given name spelt another way but it folds the same")
	case has(NoiseDOBYearOff) && e.DateOfBirth.Year-o.DateOfBirth.Year != 1 && o.DateOfBirth.Year-e.DateOfBirth.Year != 1:
		return errf("dob_year_off but years %d and %d", e.DateOfBirth.Year, o.DateOfBirth.Year)
	case has(NoiseParentsOmitted) && (e.Father != nil) == (o.Father != nil) && (e.Mother != nil) == (o.Mother != nil):
		return errf("parents_omitted but the same parents are named")
	case has(NoiseHouseholdMoved) && (e.RelationToHead != "Chủ hộ" || e.PermanentResidence == o.PermanentResidence):
		return errf("household_moved but relation %q, residence %v", e.RelationToHead, e.PermanentResidence)
	}
	return checkIDNoise(e.PersonalID, o.PersonalID, kinds)
}

// checkIDNoise checks the ID defects against the original ID (which may
// itself be missing, an original's quirk).
func checkIDNoise(id, orig string, kinds []string) error {
	has := func(k string) bool { return contains(kinds, k) }
	switch {
	case has(NoiseIDMissing) && id != "":
		return errf("id_missing but ID %q", id)
	case has(NoiseIDLostZero) && (len(id) != 11 || id[0] == '0' || "0"+id != orig && orig != ""):
		return errf("id_lost_zero but ID %q", id)
	case has(NoiseIDDigitDropped) && (len(id) != 11 || id[0] != '0'):
		return errf("id_digit_dropped but ID %q", id)
	case (has(NoiseIDTransposed) || has(NoiseIDDigitMistyped)) && (len(id) != 12 || id == orig):
		return errf("digit defect but ID %q (orig %q)", id, orig)
	}
	if len(id) == 11 && id[0] != '0' {
		if _, ok := enrollment.ProvinceByPrefix("0" + id[:2]); !ok {
			return errf("11-digit ID %q pads to an invalid prefix", id)
		}
	}
	if len(id) == 12 {
		if _, ok := enrollment.ProvinceByPrefix(id[:3]); !ok {
			return errf("ID %q has an invalid prefix", id)
		}
	}
	return nil
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestHardNegatives(t *testing.T) {
	c := standard(t)
	counts := map[string]int{}
	for i, tr := range c.truths {
		if tr.SimilarTo == 0 || tr.DuplicateOf != 0 {
			continue
		}
		o := c.truths[tr.SimilarTo-1]
		if o.Person == tr.Person {
			t.Fatalf("line %d: similar_to %d is the same person", tr.Line, tr.SimilarTo)
		}
		e, s := c.recs[i], c.recs[tr.SimilarTo-1]
		switch {
		case c.hasQuirk(i, QuirkJunior) && e.Father != nil && e.Father.DateOfBirth.Year == s.DateOfBirth.Year:
			counts[QuirkJunior]++ // (a junior may also be a twin: his look-alike is his father)
			if fold(e.FullName) != fold(s.FullName) || e.Father.PersonalID != s.PersonalID && s.PersonalID != "" {
				t.Fatalf("line %d: junior %q of %q", tr.Line, e.FullName, s.FullName)
			}
		case c.hasQuirk(i, QuirkTwin):
			counts[QuirkTwin]++
			if e.DateOfBirth != s.DateOfBirth || e.Father == nil || s.Father == nil || e.Father.PersonalID != s.Father.PersonalID {
				t.Fatalf("line %d: twin of %d with another DOB or father", tr.Line, tr.SimilarTo)
			}
		case c.hasQuirk(i, QuirkNamesake):
			counts[QuirkNamesake]++
			if fold(e.FullName) != fold(s.FullName) || e.DateOfBirth.Year != s.DateOfBirth.Year ||
				e.PermanentResidence.UnitCode != s.PermanentResidence.UnitCode {
				t.Fatalf("line %d: namesake %q %d of %q %d", tr.Line, e.FullName, e.DateOfBirth.Year, s.FullName, s.DateOfBirth.Year)
			}
		}
	}
	t.Logf("hard negatives: %v", counts)
	for _, q := range []string{QuirkTwin, QuirkNamesake} {
		if counts[q] < 20 {
			t.Errorf("only %d %s hard negatives", counts[q], q)
		}
	}
}

func TestOriginalsDiffer(t *testing.T) {
	// Natural surface quirks in originals at the §5.5 base rates.
	c := standard(t)
	for _, q := range []string{NoiseNFD, NoiseSpaces, NoiseNoDiacritics, NoiseUppercase, NoiseToneStyle} {
		n := c.stats.Quirks[q]
		if n == 0 {
			t.Errorf("quirk %s never occurs", q)
		}
		t.Logf("quirk %-14s %d", q, n)
	}
}
