// Package synthtest gives tests generated people in one call: the helper
// every test package used to write for itself (a synth generator drained
// into a slice). A harness: shipped code never links it.
package synthtest

import (
	"testing"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
)

// Enrollments returns the records a generator with cfg emits, in order;
// a bad config fails t.
func Enrollments(t testing.TB, cfg synth.Config) []enrollment.Enrollment {
	t.Helper()
	es, err := synth.Enrollments(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// WithPersonalID returns n generated records that carry a 12-digit
// personal ID number, drawn in order from a generator with cfg (whose
// Count must leave room: about one generated person in five has none);
// fewer fails t.
func WithPersonalID(t testing.TB, cfg synth.Config, n int) []enrollment.Enrollment {
	t.Helper()
	es := synth.WithPersonalID(Enrollments(t, cfg), n)
	if len(es) < n {
		t.Fatalf("generated %d people with an ID number of %d records, want %d", len(es), cfg.Count, n)
	}
	return es
}
