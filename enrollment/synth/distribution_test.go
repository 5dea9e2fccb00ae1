package synth

import (
	"fmt"
	"strings"
	"testing"

	"fieldsync/enrollment"
)

// share returns k/n and fails if it is outside [lo, hi].
func checkShare(t *testing.T, what string, k, n int, lo, hi float64) {
	t.Helper()
	s := float64(k) / float64(n)
	t.Logf("%s: %d/%d = %.4f (want [%.3f, %.3f])", what, k, n, s, lo, hi)
	if s < lo || s > hi {
		t.Errorf("%s share %.4f outside [%.3f, %.3f]", what, s, lo, hi)
	}
}

func TestSurnameShares(t *testing.T) {
	c := standard(t)
	counts := map[string]int{}
	orig := c.originals()
	for _, i := range orig {
		counts[surnameOf(c.recs[i].FullName)]++
	}
	checkShare(t, "Nguyễn", counts["nguyen"], len(orig), 0.30, 0.40)
	// §5.2: Hà Tĩnh mixes North and South forms: both present.
	for _, s := range []string{"hoang", "huynh", "vu", "vo", "tran", "le", "phan"} {
		if counts[s] < 20 {
			t.Errorf("surname %q: only %d records", s, counts[s])
		}
	}
}

func TestEthnicityAndReligion(t *testing.T) {
	c := standard(t)
	orig := c.originals()
	kinh, catholic, none := 0, 0, 0
	religions := map[string]bool{}
	for _, r := range enrollment.Religions() {
		religions[r.Name] = true
	}
	minority := map[string]bool{}
	for _, i := range orig {
		e := c.recs[i]
		if _, ok := enrollment.EthnicityByCode(e.EthnicityCode); !ok {
			t.Fatalf("record %d: ethnicity %q not in the table", i+1, e.EthnicityCode)
		}
		if !religions[e.Religion] {
			t.Fatalf("record %d: religion %q not in the table", i+1, e.Religion)
		}
		switch {
		case e.EthnicityCode == "01":
			kinh++
		default:
			minority[e.PermanentResidence.UnitCode] = true
		}
		switch e.Religion {
		case "Công giáo":
			catholic++
		case "Không":
			none++
		}
	}
	checkShare(t, "Kinh", kinh, len(orig), 0.98, 0.999)
	checkShare(t, "no religion", none, len(orig), 0.80, 0.97)
	checkShare(t, "Catholic", catholic, len(orig), 0.03, 0.12)
	// Minorities live only in the western mountain communes (§3.1).
	west := map[string]bool{}
	for _, u := range enrollment.Units(enrollment.CodeList2025) {
		for _, k := range u.Constituents {
			if d, ok := enrollment.UnitByCode(enrollment.CodeList2023, k.Code); ok && (d.Parent == "439" || d.Parent == "444") {
				west[u.Code] = true
			}
		}
	}
	for code := range minority {
		if !west[code] {
			t.Errorf("minority household in %s, outside Hương Sơn/Hương Khê", code)
		}
	}
}

func TestCatholicNotUniform(t *testing.T) {
	c := standard(t)
	by := map[string][2]int{} // commune → catholic, total
	for _, i := range c.originals() {
		e := c.recs[i]
		v := by[e.PermanentResidence.UnitCode]
		if e.Religion == "Công giáo" {
			v[0]++
		}
		v[1]++
		by[e.PermanentResidence.UnitCode] = v
	}
	lo, hi := 1.0, 0.0
	for _, v := range by {
		if v[1] < 150 {
			continue
		}
		s := float64(v[0]) / float64(v[1])
		lo, hi = min(lo, s), max(hi, s)
	}
	t.Logf("Catholic share by commune: %.3f – %.3f", lo, hi)
	if hi-lo < 0.08 {
		t.Errorf("Catholic share looks uniform: %.3f – %.3f", lo, hi)
	}
}

func TestIDNumbers(t *testing.T) {
	c := standard(t)
	orig := c.originals()
	seen := map[string]int{}
	prefix042, withID, mismatch, tagged := 0, 0, 0, 0
	for _, i := range orig {
		e := c.recs[i]
		if e.PersonalID == "" {
			if !c.hasQuirk(i, NoiseIDMissing) {
				t.Fatalf("record %d: no ID and no id_missing quirk", i+1)
			}
			continue
		}
		withID++
		if j, dup := seen[e.PersonalID]; dup {
			t.Fatalf("ID %s on originals %d and %d", e.PersonalID, j+1, i+1)
		}
		seen[e.PersonalID] = i
		if strings.HasPrefix(e.PersonalID, "042") {
			prefix042++
		}
		decree70 := c.hasQuirk(i, QuirkDecree70Year) || c.hasQuirk(i, QuirkDecree70Sex)
		if decree70 {
			tagged++
		}
		if bad := idMismatch(e); bad != decree70 {
			t.Fatalf("record %d: ID %s, sex %s, born %v: mismatch=%v but decree70 quirk=%v", i+1, e.PersonalID, e.Sex, e.DateOfBirth, bad, decree70)
		} else if bad {
			mismatch++
		}
	}
	checkShare(t, "prefix 042", prefix042, withID, 0.80, 0.95)
	checkShare(t, "Decree 70 mismatch", mismatch, withID, 0.004, 0.012)
	// Relatives' IDs are the same universe: unique per person.
	for _, i := range orig {
		e := c.recs[i]
		for _, r := range []*enrollment.Relative{e.Father, e.Mother, e.Spouse} {
			if r == nil {
				continue
			}
			if j, ok := seen[r.PersonalID]; ok && fold(c.recs[j].FullName) != fold(r.FullName) && !c.hasQuirk(j, NoiseSurnameVariant) {
				t.Fatalf("record %d: relative %q has ID %s of record %d %q", i+1, r.FullName, r.PersonalID, j+1, c.recs[j].FullName)
			}
		}
	}
}

// idMismatch reports whether the ID's century/sex digit or year disagrees
// with the recorded sex and date of birth (DOMAIN.md §1.2).
func idMismatch(e enrollment.Enrollment) bool {
	id := e.PersonalID
	g := int(id[3] - '0')
	year := 1900 + 100*(g/2) + int(id[4]-'0')*10 + int(id[5]-'0')
	female := g%2 == 1
	return year != e.DateOfBirth.Year || female != (e.Sex == enrollment.Female)
}

func TestShapes(t *testing.T) {
	c := standard(t)
	relations := setOf(enrollment.Relations)
	marital := setOf(enrollment.MaritalStatuses)
	for _, i := range c.originals() {
		e := c.recs[i]
		if err := checkShape(e, relations, marital); err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		if elsewhere := e.CurrentResidence.UnitCode != e.PermanentResidence.UnitCode; elsewhere != c.hasQuirk(i, QuirkCurrentElsewhere) {
			t.Fatalf("record %d: current %s, permanent %s, quirks %v", i+1, e.CurrentResidence.UnitCode, e.PermanentResidence.UnitCode, c.truths[i].Quirks)
		}
	}
}

func setOf(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// checkShape is the basic shape check every original must pass.
func checkShape(e enrollment.Enrollment, relations, marital map[string]bool) error {
	if e.PersonalID != "" {
		if len(e.PersonalID) != 12 || strings.Trim(e.PersonalID, "0123456789") != "" {
			return fmt.Errorf("ID %q is not 12 digits", e.PersonalID)
		}
		if _, ok := enrollment.ProvinceByPrefix(e.PersonalID[:3]); !ok {
			return fmt.Errorf("ID %q: bad prefix", e.PersonalID)
		}
	}
	if e.Sex != enrollment.Male && e.Sex != enrollment.Female {
		return fmt.Errorf("sex %q", e.Sex)
	}
	if _, ok := enrollment.UnitByCode(e.Capture.CodeList, e.Capture.CommuneCode); !ok || len(e.Capture.CommuneCode) != 5 {
		return fmt.Errorf("capture commune %s not in %s", e.Capture.CommuneCode, e.Capture.CodeList)
	}
	for _, p := range []enrollment.Place{e.PermanentResidence, *e.CurrentResidence, e.BirthRegistration, e.Hometown} {
		if err := checkPlace(p); err != nil {
			return err
		}
	}
	if !relations[e.RelationToHead] || !marital[e.MaritalStatus] {
		return fmt.Errorf("relation %q, marital %q", e.RelationToHead, e.MaritalStatus)
	}
	if e.FullName == "" || e.DateOfBirth.Year == 0 || e.Capture.Officer == "" || len(e.Capture.Device) != 16 {
		return fmt.Errorf("missing name, DOB, officer or device")
	}
	return nil
}

// checkPlace: the code resolves in its list and the text is the unit's
// name as published, followed by its district (2023) and province.
func checkPlace(p enrollment.Place) error {
	if len(p.UnitCode) == 2 {
		pr, ok := enrollment.ProvinceByCode(p.UnitCode)
		if !ok || pr.Name != p.Text || p.CodeList != enrollment.CodeList2023 {
			return fmt.Errorf("province place %+v", p)
		}
		return nil
	}
	u, ok := enrollment.UnitByCode(p.CodeList, p.UnitCode)
	if !ok {
		return fmt.Errorf("place %+v: unknown unit", p)
	}
	want := u.Name + ", Tỉnh Hà Tĩnh"
	if p.CodeList == enrollment.CodeList2023 {
		d, _ := enrollment.UnitByCode(p.CodeList, u.Parent)
		want = u.Name + ", " + d.Name + ", Tỉnh Hà Tĩnh"
	}
	if p.Text != want {
		return fmt.Errorf("place text %q, want %q", p.Text, want)
	}
	return nil
}
