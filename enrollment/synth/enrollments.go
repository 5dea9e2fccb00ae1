package synth

import (
	"fmt"

	"fieldsync/enrollment"
)

// Enrollments returns the records a generator with cfg emits, in order,
// as a slice (no files): the one way tests, benchmarks and tools take
// generated people whole. Memory grows with cfg.Count (~2 KB a record);
// stream with New and Next for large counts.
func Enrollments(cfg Config) ([]enrollment.Enrollment, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	out := make([]enrollment.Enrollment, 0, g.cfg.Count)
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		out = append(out, rec.Enrollment)
	}
	if err := g.Err(); err != nil {
		return nil, fmt.Errorf("synth: after %d records: %w", len(out), err)
	}
	return out, nil
}

// WithPersonalID returns the first n of es that carry a 12-digit personal
// ID number (fewer if es holds fewer): people a look-up by number finds.
func WithPersonalID(es []enrollment.Enrollment, n int) []enrollment.Enrollment {
	out := make([]enrollment.Enrollment, 0, n)
	for _, e := range es {
		if len(out) == n {
			break
		}
		if len(e.PersonalID) == 12 {
			out = append(out, e)
		}
	}
	return out
}
