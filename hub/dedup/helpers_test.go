package dedup

import (
	"fmt"
	"slices"
	"testing"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
)

// synthRecords generates n records and turns those the validator accepts
// into citizens the way a hub does: keyed by ID number, the first record
// shown; a provisional key per record without one.
func synthRecords(tb testing.TB, n int, seed uint64) []Record {
	return synthRecordsNoise(tb, n, seed, 0.05)
}

// synthRecordsNoise is synthRecords with a share of noisy re-enrollments.
func synthRecordsNoise(tb testing.TB, n int, seed uint64, noise float64) []Record {
	recs, _ := synthPopulation(tb, n, seed, noise)
	return recs
}

// synthPopulation also returns the truth: the synth persons of each key.
func synthPopulation(tb testing.TB, n int, seed uint64, noise float64) ([]Record, map[string][]string) {
	tb.Helper()
	g, err := synth.New(synth.Config{Count: n, Seed: seed, Noise: noise})
	if err != nil {
		tb.Fatal(err)
	}
	persons := map[string][]string{}
	var out []Record
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		e := rec.Enrollment
		if enrollment.Validate(&e, enrollment.Context{Now: e.Capture.CapturedAt}).Rejected() {
			continue
		}
		r := Record{Enrollment: &e, Keys: enrollment.Keys(&e), Region: e.Capture.CommuneCode}
		r.Key = r.Keys.PersonalID
		if r.Key == "" {
			r.Key = fmt.Sprintf("prov:%08d", rec.Line)
		}
		if _, seen := persons[r.Key]; !seen {
			out = append(out, r)
		}
		if !slices.Contains(persons[r.Key], rec.Person) {
			persons[r.Key] = append(persons[r.Key], rec.Person)
		}
	}
	return out, persons
}
