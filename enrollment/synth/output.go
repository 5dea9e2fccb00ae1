package synth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"fieldsync/enrollment"
)

// Stats counts what a generator produced.
type Stats struct {
	Records       int `json:"records"`
	Originals     int `json:"originals"`
	Reenrollments int `json:"reenrollments"`
	Persons       int `json:"persons"` // distinct people emitted
	// Households generated, and all their members (children and absent
	// people included).
	Households       int `json:"households"`
	HouseholdMembers int `json:"household_members"`
	// Eligible members (14+, and the few enrolled younger) and those of
	// them absent, who never appear (DOMAIN.md §6.1: ≈5.6%).
	Eligible int `json:"eligible"`
	Absent   int `json:"absent"`
	// Noise counts re-enrollments per noise kind; Quirks counts records per
	// quirk tag.
	Noise  map[string]int `json:"noise"`
	Quirks map[string]int `json:"quirks"`
	// IDUnchanged: re-enrollments whose ID number is as in the original
	// (same-key conflicts at the hub); SameKey adds the lost-leading-zero
	// ones, which normalize to the same key.
	IDUnchanged int       `json:"id_unchanged"`
	SameKey     int       `json:"same_key"`
	First       time.Time `json:"first_captured_at"`
	Last        time.Time `json:"last_captured_at"`
}

func newStats() Stats { return Stats{Noise: map[string]int{}, Quirks: map[string]int{}} }

// add counts one record.
func (s *Stats) add(r *Record) {
	s.Records++
	if r.DuplicateOf == 0 {
		s.Originals++
	} else {
		s.Reenrollments++
		idKind := slices.ContainsFunc(r.Noise, func(k string) bool { return len(k) > 3 && k[:3] == "id_" })
		if !idKind {
			s.IDUnchanged++
		}
		if !idKind || slices.Contains(r.Noise, NoiseIDLostZero) {
			s.SameKey++
		}
	}
	for _, k := range r.Noise {
		s.Noise[k]++
	}
	for _, q := range r.Quirks {
		s.Quirks[q]++
	}
	at := r.Enrollment.Capture.CapturedAt
	if s.First.IsZero() || at.Before(s.First) {
		s.First = at
	}
	if at.After(s.Last) {
		s.Last = at
	}
}

// TruthRecord is one line of the --truth file: the ground truth of the
// record on the same line of the output.
type TruthRecord struct {
	Line        int      `json:"line"`
	Person      string   `json:"person"`
	Household   string   `json:"household"`
	DuplicateOf int      `json:"duplicate_of"` // line of the person's first record; 0 = original
	Noise       []string `json:"noise,omitempty"`
	Quirks      []string `json:"quirks,omitempty"`
	SimilarTo   int      `json:"similar_to,omitempty"` // line of a look-alike *other* person
}

// Truth returns the record's truth line.
func (r Record) Truth() TruthRecord {
	return TruthRecord{Line: r.Line, Person: r.Person, Household: r.Household,
		DuplicateOf: r.DuplicateOf, Noise: r.Noise, Quirks: r.Quirks, SimilarTo: r.SimilarTo}
}

// WriteJSONLine writes v as one line of JSON (UTF-8 as is, no HTML
// escaping).
func WriteJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Generate streams cfg's records to w as JSON lines (one
// enrollment.Enrollment each) and, if truth is not nil, their
// TruthRecords to truth, line for line.
func Generate(w, truth io.Writer, cfg Config) (Stats, error) {
	g, err := New(cfg)
	if err != nil {
		return Stats{}, err
	}
	err = WriteJSONLines(w, truth, g)
	return g.Stats(), err
}

// WriteJSONLines drains g into w (enrollments) and truth (TruthRecords;
// may be nil), buffered, and returns the first error.
func WriteJSONLines(w, truth io.Writer, g *Generator) error {
	out := bufio.NewWriterSize(w, 1<<16)
	var tw *bufio.Writer
	if truth != nil {
		tw = bufio.NewWriterSize(truth, 1<<16)
	}
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		if err := writeRecord(out, tw, &rec); err != nil {
			return err
		}
	}
	if g.Err() != nil {
		return g.Err()
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// writeRecord writes one output line and its truth line.
func writeRecord(out io.Writer, tw *bufio.Writer, rec *Record) error {
	if err := WriteJSONLine(out, &rec.Enrollment); err != nil {
		return fmt.Errorf("synth: line %d: %w", rec.Line, err)
	}
	if tw != nil {
		if err := WriteJSONLine(tw, rec.Truth()); err != nil {
			return fmt.Errorf("synth: truth line %d: %w", rec.Line, err)
		}
	}
	return nil
}

// ReadTruth reads a truth file written by Generate.
func ReadTruth(r io.Reader) ([]TruthRecord, error) {
	var out []TruthRecord
	dec := json.NewDecoder(r)
	for dec.More() {
		var t TruthRecord
		if err := dec.Decode(&t); err != nil {
			return out, fmt.Errorf("synth: truth line %d: %w", len(out)+1, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// ReadEnrollments reads JSON-lines enrollments (the output of Generate).
func ReadEnrollments(r io.Reader) ([]enrollment.Enrollment, error) {
	var out []enrollment.Enrollment
	dec := json.NewDecoder(r)
	for dec.More() {
		var e enrollment.Enrollment
		if err := dec.Decode(&e); err != nil {
			return out, fmt.Errorf("synth: line %d: %w", len(out)+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}
