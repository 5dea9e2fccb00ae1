package synth

import (
	"sort"
	"strings"
	"testing"

	"fieldsync/enrollment"
)

// TestValidatorAcceptsOriginals runs the package validator over a
// 2025 and a 2023 corpus: originals are never rejected and warn only where the
// generator meant them to (Decree 70 IDs, 01/01 dates, ...); re-enrollments
// are rejected only for id_digit_dropped (11 digits starting with 0: no
// lost leading zero), the one defect meant to be rejected.
func TestValidatorAcceptsOriginals(t *testing.T) {
	validateCorpus(t, standard(t))
	validateCorpus(t, build(t, Config{Count: 5000, Seed: 9, Noise: 0.1, CodeList: enrollment.CodeList2023}))
}

// validateCorpus validates every record of c and logs the findings.
func validateCorpus(t *testing.T, c *corpus) {
	t.Helper()
	codes := map[string]int{}
	for i, e := range c.recs {
		fs := enrollment.Validate(&e, enrollment.Context{Now: e.Capture.CapturedAt})
		for _, f := range fs {
			codes[f.Severity.String()+" "+f.Code]++
			if f.Severity == enrollment.Reject && !(f.Code == "pid.length" && contains(c.truths[i].Noise, NoiseIDDigitDropped)) {
				t.Errorf("line %d (noise %v, quirks %v) rejected: %v", i+1, c.truths[i].Noise, c.truths[i].Quirks, f)
			}
			if f.Severity == enrollment.Warn && !expectedWarning(f.Code, c.truths[i]) {
				t.Errorf("line %d (noise %v, quirks %v): unexpected %v", i+1, c.truths[i].Noise, c.truths[i].Quirks, f)
			}
		}
	}
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-45s %d", k, codes[k])
	}
}

// expectedWarning says whether a warning is one the record was built to
// raise.
func expectedWarning(code string, tr TruthRecord) bool {
	has := func(k string) bool { return contains(tr.Noise, k) || contains(tr.Quirks, k) }
	switch {
	case strings.HasPrefix(code, "pid.year_mismatch"), strings.HasPrefix(code, "pid.sex_mismatch"),
		strings.HasPrefix(code, "pid.province_mismatch"):
		return has(QuirkDecree70Year) || has(QuirkDecree70Sex) || idChanged(tr.Noise) ||
			has(NoiseDOBYearOff) && strings.HasPrefix(code, "pid.year_mismatch")
	case code == "dob.default_jan1":
		return has(NoiseDOB0101)
	case strings.HasPrefix(code, "pid."):
		return idChanged(tr.Noise)
	}
	return false
}

// idChanged: the record carries an ID defect that changes the number.
func idChanged(noise []string) bool {
	for _, k := range noise {
		if strings.HasPrefix(k, "id_") && k != NoiseIDMissing {
			return true
		}
	}
	return false
}
