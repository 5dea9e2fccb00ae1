package reconcile

import (
	"encoding/json"
	"fmt"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/epoch"
)

// Decoded is an entry with the costly, pure part of Apply done: its
// payload decoded, and for a capture its matching keys derived, its record
// validated and the matcher's profile made. That part is most of a hub's
// ingest CPU and reads no reconciler state, so a caller may decode a batch
// on every core, then apply it in order with ApplyDecoded. The result is
// the same as Apply's.
type Decoded struct {
	entry replication.Entry
	rec   entryRec
}

// Entry returns the entry decoded.
func (d *Decoded) Entry() *replication.Entry { return &d.entry }

// Decode does the pure part of Apply for e, with the reconciler's matcher
// making the profile. It is safe for concurrent use with everything,
// ApplyDecoded included.
func (r *Reconciler) Decode(e replication.Entry) *Decoded {
	return decode(e, r.cfg.Matcher)
}

// Decode is Reconciler.Decode for a reconciler without a matcher.
func Decode(e replication.Entry) *Decoded { return decode(e, nil) }

func decode(e replication.Entry, m Matcher) *Decoded {
	d := &Decoded{entry: e}
	rec := &d.rec
	rec.ID, rec.Kind, rec.MKind, rec.Hash, rec.HLC = e.ID(), e.Kind, e.Kind, e.Hash(), e.HLC
	payload := e.Payload
	switch e.Kind {
	case replication.KindGenesis, replication.KindFork:
		rec.Payload = e.Payload
		if _, err := replication.DecodeGenesis(e.Payload); e.Kind == replication.KindGenesis && err != nil {
			rec.Bad = true
		}
		if _, err := epoch.DecodeNotice(e.Payload); e.Kind == replication.KindFork && err != nil {
			rec.Bad = true
		}
		return d
	case replication.KindDedupModel: // a published duplicate model (the matcher's component, Rule 10)
		rec.Payload = e.Payload
		return d
	case replication.KindRoster, replication.KindRevoke:
		rec.Payload, _ = e.MarshalBinary()
		return d
	case replication.KindResolve:
		var res Resolution
		if err := json.Unmarshal(e.Payload, &res); err != nil || res.Subject == "" {
			rec.Bad = true
		}
		rec.Payload = e.Payload
		return d
	case replication.KindReissue:
		ri, err := epoch.DecodeReissue(e.Payload)
		if err != nil {
			rec.Bad = true
			return d
		}
		of := ri.Of
		rec.Of, rec.OfHash, rec.MKind, payload = &of, ri.Hash, ri.Kind, ri.Payload
	}
	decodeCapture(rec, payload, m)
	decodeCensus(rec, payload)
	return d
}

// decodeCapture decodes an enroll, amend or void payload of kind rec.MKind.
func decodeCapture(rec *entryRec, payload []byte, m Matcher) {
	switch rec.MKind {
	case replication.KindEnroll:
		var e enrollment.Enrollment
		if err := json.Unmarshal(payload, &e); err != nil {
			rec.Bad = true
			return
		}
		rec.Version = newVersionData(&e, rec.HLC, m, false)
	case replication.KindAmend:
		var a enrollment.Amendment
		target, err := decodeTarget(payload, &a, &a.Target)
		if err != nil {
			rec.Bad = true
			return
		}
		rec.Version, rec.Target = newVersionData(&a.Record, rec.HLC, m, false), &target
	case replication.KindVoid:
		var v enrollment.Voiding
		target, err := decodeTarget(payload, &v, &v.Target)
		if err != nil {
			rec.Bad = true
			return
		}
		rec.Target = &target
	}
}

// newVersionData derives what the view keeps of a capture. Its validation
// warnings are not counted here: Rule 4 needs them only to choose between
// versions of one citizen, one capture in twenty, and validation is the
// costliest step of decoding (warningsOf counts them when needed).
func newVersionData(rec *enrollment.Enrollment, hlc replication.HLC, m Matcher, withWarnings bool) *versionData {
	keys := enrollment.Keys(rec)
	v := &versionData{Detailed: true, Warnings: unknownWarnings,
		PersonalID: keys.PersonalID, Name: keys.Name, DateOfBirth: keys.DateOfBirth, Sex: string(keys.Sex),
		BirthPlace: placeKey(rec.BirthRegistration), Father: relativeKey(rec.Father, keys.FatherName),
		Mother: relativeKey(rec.Mother, keys.MotherName),
		Region: region(rec), Commune: rec.Capture.CommuneCode, CodeList: rec.Capture.CodeList}
	v.Residence = fieldValue(rec, "current_residence")
	v.Marital = fieldValue(rec, "marital_status")
	v.Occupation = fieldValue(rec, "occupation")
	if m != nil {
		v.Profile = m.Profile(rec, keys)
	}
	if withWarnings {
		v.Warnings = countWarnings(enrollment.Validate(rec, enrollment.Context{Now: hlc.Time()}))
	}
	return v
}

// decodeTarget unmarshals payload into v and parses the target it names.
func decodeTarget(payload []byte, v any, target *string) (replication.EntryID, error) {
	if err := json.Unmarshal(payload, v); err != nil {
		return replication.EntryID{}, err
	}
	return replication.ParseEntryID(*target)
}

func countWarnings(fs enrollment.Findings) int {
	n := 0
	for _, f := range fs {
		if f.Severity >= enrollment.Warn {
			n++
		}
	}
	return n
}

func placeKey(p enrollment.Place) string {
	if p.UnitCode != "" {
		return p.UnitCode
	}
	return enrollment.NameKey(p.Text)
}

// relativeKey is a parent's identity: its name key (already derived by
// enrollment.Keys) and ID number.
func relativeKey(rel *enrollment.Relative, nameKey string) string {
	if rel == nil {
		return ""
	}
	pid, _ := enrollment.NormalizePersonalID(rel.PersonalID)
	return nameKey + "|" + pid
}

// unknownWarnings marks a version whose warnings were not counted yet.
const unknownWarnings = -1

// detail makes sure a version's details are known, reading its record
// from the log if they are not; keep writes them with the record, for a
// version compared with others at every derive of its citizen.
func (r *Reconciler) detail(e *entryRec, keep bool) {
	v := e.Version
	if !v.Detailed {
		rec, err := r.recordOf(e)
		if err != nil {
			r.fail(fmt.Errorf("reconcile: read version %s: %w", e.ID, err))
			return
		}
		d := newVersionData(rec, e.HLC, r.cfg.Matcher, keep) // kept: compared with others, warnings and all
		d.keep = v.keep
		*v = *d
	}
	if keep && !v.keep {
		v.keep = true
		r.putRec(e)
	}
}

// warnings counts the validation warnings of a version's record, the
// first time they are needed (Rule 4), and keeps the count in its record.
func (r *Reconciler) warnings(e *entryRec) int {
	r.detail(e, true)
	if e.Version.Warnings != unknownWarnings || r.err != nil {
		return e.Version.Warnings
	}
	rec, err := r.recordOf(e)
	if err != nil {
		r.fail(fmt.Errorf("reconcile: validate %s: %w", e.ID, err))
		return 0
	}
	e.Version.Warnings = countWarnings(enrollment.Validate(rec, enrollment.Context{Now: e.HLC.Time()}))
	r.putRec(e)
	return e.Version.Warnings
}

// recordOf reads the record of a version, in the round: from the log, or
// the view's own copy.
func (r *Reconciler) recordOf(e *entryRec) (*enrollment.Enrollment, error) {
	x := &reader{r: r, s: r.b, recs: map[replication.EntryID]*entryRec{}}
	return x.record(e)
}

// region is the old district of a record's capture commune.
func region(e *enrollment.Enrollment) string {
	return enrollment.DistrictOf(e.Capture.CodeList, e.Capture.CommuneCode)
}
