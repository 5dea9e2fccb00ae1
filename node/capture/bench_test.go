package capture

import (
	"fmt"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/replication"
)

// benchIndex is an index holding n captures and n residents of one
// commune (generated), as a big commune's laptop does.
func benchIndex(b *testing.B, n int) (*index, []enrollment.Enrollment) {
	b.Helper()
	people := synth.WithPersonalID(synthtest.Enrollments(b, synth.Config{Count: 2*n + n/2, Seed: 7, Commune: "18586", CodeList: enrollment.CodeList2023}), 2*n)
	ix := newIndex()
	var o replication.OriginID
	o[0] = 1
	rows := make([]residents.Resident, 0, n)
	for i, p := range people[n:] {
		rows = append(rows, residents.Resident{PersonalID: p.PersonalID, FullName: p.FullName, DateOfBirth: p.DateOfBirth, Sex: p.Sex, Household: fmt.Sprint(i / 4)})
	}
	payloads, err := residents.EncodeLists(residents.List{Commune: "18586", CodeList: enrollment.CodeList2023, AsOf: "2026-03-01", MinAge: 14}, rows, nil)
	if err != nil {
		b.Fatal(err)
	}
	var es []replication.Entry
	var lo replication.OriginID
	lo[0] = 2
	for i, p := range payloads {
		es = append(es, replication.Entry{Origin: lo, Seq: uint64(i + 2), Kind: replication.KindResidents, Payload: p})
	}
	for i := range people[:n] {
		p := people[i]
		payload, _ := marshal(&p)
		es = append(es, replication.Entry{Origin: o, Seq: uint64(i + 2), Kind: replication.KindEnroll, Payload: payload})
	}
	start := time.Now()
	ix.apply(es)
	b.Logf("index of %d captures and %d residents built in %v", n, len(rows), time.Since(start).Round(time.Millisecond))
	return ix, people
}

// BenchmarkCheck is the laptop's work for one keystroke: validate the
// draft and look it up (the same ID number; probable duplicates among
// 20,000 captures and 20,000 residents).
func BenchmarkCheck(b *testing.B) {
	ix, people := benchIndex(b, 20000)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		d := people[(i*7919)%len(people)]
		d.FullName = d.FullName[:len(d.FullName)-1] // typing: the name not finished
		enrollment.Validate(&d, enrollment.Context{Now: now})
		ix.lookup(&d, "")
		i++
	}
}
