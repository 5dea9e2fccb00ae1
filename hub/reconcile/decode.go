package reconcile

import (
	"encoding/json"

	"fieldsync/enrollment"
	"fieldsync/replication"
)

// Decoded is an entry with the costly, pure part of Apply done: its
// payload decoded, and for a capture its matching keys derived and its
// record validated. That part is most of a hub's ingest CPU and reads no
// reconciler state, so a caller may decode a batch concurrently, outside
// whatever lock guards the reconciler, and then apply it in order with
// ApplyDecoded. The result is the same as Apply's.
type Decoded struct {
	entry   replication.Entry
	version *Version             // enroll and amend
	target  *replication.EntryID // amend and void
	invalid bool                 // the payload did not decode
}

// Decode does the pure part of Apply for e. It is safe for concurrent use.
func Decode(e replication.Entry) *Decoded {
	d := &Decoded{entry: e}
	switch e.Kind {
	case replication.KindEnroll:
		var rec enrollment.Enrollment
		if err := json.Unmarshal(e.Payload, &rec); err != nil {
			d.invalid = true
			return d
		}
		d.version = newVersion(&e, &rec)
	case replication.KindAmend:
		var a enrollment.Amendment
		target, err := decodeTarget(e.Payload, &a, &a.Target)
		if err != nil {
			d.invalid = true
			return d
		}
		d.version, d.target = newVersion(&e, &a.Record), &target
	case replication.KindVoid:
		var v enrollment.Voiding
		target, err := decodeTarget(e.Payload, &v, &v.Target)
		if err != nil {
			d.invalid = true
			return d
		}
		d.target = &target
	}
	return d
}

// newVersion builds the version of a capture, validated once: its
// findings serve both the shown-version rule and the citizen shown.
func newVersion(e *replication.Entry, rec *enrollment.Enrollment) *Version {
	v := &Version{ID: e.ID(), Hash: e.Hash(), HLC: e.HLC, Kind: e.Kind, Record: rec, keys: enrollment.Keys(rec)}
	findings := enrollment.Validate(rec, enrollment.Context{Now: e.HLC.Time()})
	v.Warnings, v.notes = countWarnings(findings), notes(findings)
	return v
}

// decodeTarget unmarshals payload into v and parses the target it names.
func decodeTarget(payload []byte, v any, target *string) (replication.EntryID, error) {
	if err := json.Unmarshal(payload, v); err != nil {
		return replication.EntryID{}, err
	}
	return replication.ParseEntryID(*target)
}
