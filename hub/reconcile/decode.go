package reconcile

import (
	"encoding/json"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/epoch"
)

// Decoded is an entry with the costly, pure part of Apply done: its
// payload decoded, and for a capture its matching keys derived and its
// record validated. That part is most of a hub's ingest CPU and reads no
// reconciler state, so a caller may decode a batch concurrently, outside
// whatever lock guards the reconciler, and then apply it in order with
// ApplyDecoded. The result is the same as Apply's.
type Decoded struct {
	entry   replication.Entry
	kind    replication.Kind     // what it means: a re-issue's original kind
	version *Version             // enroll and amend
	target  *replication.EntryID // amend and void, as written
	reissue *epoch.Reissue       // a re-issue's original (Rule 9)
	notice  *epoch.Notice        // a fork notice (Rule 8)
	invalid bool                 // the payload did not decode
}

// Decode does the pure part of Apply for e. It is safe for concurrent use.
func Decode(e replication.Entry) *Decoded {
	d := &Decoded{entry: e, kind: e.Kind}
	payload := e.Payload
	switch e.Kind {
	case replication.KindReissue:
		r, err := epoch.DecodeReissue(e.Payload)
		if err != nil {
			d.invalid = true
			return d
		}
		d.reissue, d.kind, payload = &r, r.Kind, r.Payload
	case replication.KindFork:
		n, err := epoch.DecodeNotice(e.Payload)
		if err != nil {
			d.invalid = true
			return d
		}
		d.notice = &n
		return d
	}
	d.decodeCapture(payload)
	return d
}

// decodeCapture decodes an enroll, amend or void payload of kind d.kind.
func (d *Decoded) decodeCapture(payload []byte) {
	e := &d.entry
	switch d.kind {
	case replication.KindEnroll:
		var rec enrollment.Enrollment
		if err := json.Unmarshal(payload, &rec); err != nil {
			d.invalid = true
			return
		}
		d.version = newVersion(e, d.kind, &rec)
	case replication.KindAmend:
		var a enrollment.Amendment
		target, err := decodeTarget(payload, &a, &a.Target)
		if err != nil {
			d.invalid = true
			return
		}
		d.version, d.target = newVersion(e, d.kind, &a.Record), &target
	case replication.KindVoid:
		var v enrollment.Voiding
		target, err := decodeTarget(payload, &v, &v.Target)
		if err != nil {
			d.invalid = true
			return
		}
		d.target = &target
	}
}

// newVersion builds the version of a capture, validated once: its
// findings serve both the shown-version rule and the citizen shown.
func newVersion(e *replication.Entry, kind replication.Kind, rec *enrollment.Enrollment) *Version {
	v := &Version{ID: e.ID(), Hash: e.Hash(), HLC: e.HLC, Kind: kind, Record: rec, keys: enrollment.Keys(rec)}
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
