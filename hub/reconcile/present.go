package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/epoch"
	"fieldsync/storage/kv"
)

// What is shown in full — a citizen with its records, their merged fields
// and history, findings and cleaning — is made on demand from the view's
// rows and the records in the log (Config.Entries): the view keeps no
// record in memory, and only the fields its rules compare on disk.

// reader reads the view from one snapshot.
type reader struct {
	r    *Reconciler
	s    kv.Reader
	recs map[replication.EntryID]*entryRec
}

// read runs fn on a snapshot of the view.
func (r *Reconciler) read(fn func(x *reader) error) error {
	return r.db.View(func(s kv.Reader) error {
		return fn(&reader{r: r, s: s, recs: map[replication.EntryID]*entryRec{}})
	})
}

func (x *reader) get(key []byte) ([]byte, bool, error) {
	v, err := x.s.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (x *reader) rec(id replication.EntryID) (*entryRec, error) {
	if e, ok := x.recs[id]; ok {
		return e, nil
	}
	v, ok, err := x.get(idKey(tEntry, id))
	if err != nil || !ok {
		return nil, err
	}
	e, err := decodeEntryRec(v)
	x.recs[id] = e
	return e, err
}

func (x *reader) parentOf(id replication.EntryID) (replication.EntryID, bool) {
	e, err := x.rec(id)
	if err != nil || e == nil || !e.isVersion() || e.Parent == nil {
		return replication.EntryID{}, false
	}
	return *e.Parent, true
}

// entry reads an entry the view holds: from the log, or its own copy.
func (x *reader) entry(id replication.EntryID) (replication.Entry, error) {
	if x.r.cfg.Entries != nil {
		return x.r.cfg.Entries(id)
	}
	v, ok, err := x.get(idKey(tPayload, id))
	if err != nil {
		return replication.Entry{}, err
	}
	if !ok {
		return replication.Entry{}, fmt.Errorf("reconcile: entry %s is not in the view", id)
	}
	return replication.DecodeEntry(v)
}

// row reads a citizen row (nil if none).
func (x *reader) row(key string) (*citizenRow, error) {
	v, ok, err := x.get(strKey(tCitizen, key))
	if err != nil || !ok {
		return nil, err
	}
	return decodeCitizenRow(v)
}

// decision reads one decision as applied.
func (x *reader) decision(subject string, id replication.EntryID) (*Decision, error) {
	v, ok, err := x.get(decisionKey(subject, id))
	if err != nil || !ok {
		return nil, err
	}
	d := decodeDecision(appendID(nil, id), v)
	if d == nil {
		return nil, fmt.Errorf("%w: decision %s", ErrDamaged, id)
	}
	return d, nil
}

// record reads the capture an entry holds (an enroll's record, an
// amend's, a re-issue's original's).
func (x *reader) record(e *entryRec) (*enrollment.Enrollment, error) {
	entry, err := x.entry(e.ID)
	if err != nil {
		return nil, err
	}
	payload := entry.Payload
	if entry.Kind == replication.KindReissue {
		ri, err := epoch.DecodeReissue(entry.Payload)
		if err != nil {
			return nil, err
		}
		payload = ri.Payload
	}
	if e.MKind == replication.KindAmend {
		var a enrollment.Amendment
		err := json.Unmarshal(payload, &a)
		return &a.Record, err
	}
	var rec enrollment.Enrollment
	err = json.Unmarshal(payload, &rec)
	return &rec, err
}

// citizen shows a citizen in full (nil if the view has none).
func (x *reader) citizen(key string) (*Citizen, error) {
	row, err := x.row(key)
	if err != nil || row == nil || len(row.Members) == 0 {
		return nil, err
	}
	c := &Citizen{Key: key, Shown: row.Shown, Region: row.Region, Linked: row.Linked}
	for _, id := range row.Members {
		e, err := x.rec(id)
		if err != nil {
			return nil, err
		}
		if e == nil || e.Version == nil {
			return nil, fmt.Errorf("%w: citizen %s names version %s", ErrDamaged, key, id)
		}
		rec, err := x.record(e)
		if err != nil {
			return nil, fmt.Errorf("reconcile: citizen %s: version %s: %w", key, id, err)
		}
		fs := enrollment.Validate(rec, enrollment.Context{Now: e.HLC.Time()})
		c.Versions = append(c.Versions, Version{ID: e.ID, Hash: e.Hash, HLC: e.HLC, Kind: e.MKind, Record: rec,
			Warnings: countWarnings(fs), notes: notes(fs)})
	}
	if row.Conflict != nil {
		c.Conflict = &Conflict{ID: ConflictID(key), Fields: row.Conflict.Fields, Level: row.Conflict.Level}
		if row.Conflict.Resolved != nil {
			if c.Conflict.Resolved, err = x.decision(ConflictID(key), *row.Conflict.Resolved); err != nil {
				return nil, err
			}
		}
	}
	var shown *Version
	for i := range c.Versions {
		if c.Versions[i].ID == row.Shown {
			shown = &c.Versions[i]
		}
	}
	if shown == nil {
		return nil, fmt.Errorf("%w: citizen %s shows %s, not one of its versions", ErrDamaged, key, row.Shown)
	}
	var own bool
	c.Record, c.History, own = x.merged(shown, c.Versions)
	if own { // the shown record as captured: its findings are known
		c.Findings = shown.notes
	} else {
		c.Findings = notes(enrollment.Validate(c.Record, enrollment.Context{Now: shown.HLC.Time()}))
	}
	c.Cleaning = cleaning(c.Record)
	return c, nil
}

// pair shows a pair (nil if the matcher does not propose it).
func (x *reader) pair(id string) (*Pair, error) {
	v, ok, err := x.get(strKey(tPair, id))
	if err != nil || !ok {
		return nil, err
	}
	p, err := decodePairRow(v)
	if err != nil {
		return nil, err
	}
	a, b, _ := parsePairID(id)
	out := &Pair{ID: id, A: a, B: b, Keys: []string{a, b}, Score: p.Score, Reasons: p.Reasons, Level: level(p.RegionA, p.RegionB), Extra: p.Extra}
	if ex, ok := x.r.cfg.Matcher.(Explainer); ok && len(p.Extra) > 0 {
		out.Model, out.Evidence = ex.Explain(p.Extra)
	}
	if p.Resolved != nil {
		if out.Resolved, err = x.decision(id, *p.Resolved); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// changeable are the fields that legitimately change over a life (Rule 5).
var changeable = [...]string{"current_residence", "marital_status", "occupation"}

// merged is Rule 5: the shown record, with each changeable field taken from
// the latest version that has it. "Latest" is causal and needs no clock: a
// version follows another when the same device wrote it later (a higher
// seq of the same origin) or when it amends the other, directly or along a
// chain. Laptop clocks are wrong, so wall time (and the HLC's wall part)
// never decides. Versions that no such link orders are concurrent; they
// are ordered by hash, so the value shown is the last in that order, and
// the history marks it concurrent for an officer to check. History lists
// every distinct value in causal order. own reports that every field came
// from the shown version itself: rec is then the shown record.
func (x *reader) merged(shown *Version, vs []Version) (rec *enrollment.Enrollment, history map[string][]FieldChange, own bool) {
	order := x.causalOrder(vs)
	history = map[string][]FieldChange{}
	var from [len(changeable)]replication.EntryID // where each field's current value is
	own = true
	for i, f := range changeable {
		changes := x.fieldHistory(order, f)
		if len(changes) == 0 {
			from[i] = shown.ID
			continue
		}
		from[i] = changes[len(changes)-1].Entry
		own = own && from[i] == shown.ID
		if len(changes) > 1 {
			history[f] = changes
		}
	}
	if len(history) == 0 {
		history = nil
	}
	if own {
		return shown.Record, history, true
	}
	byID := make(map[replication.EntryID]*Version, len(vs))
	for i := range vs {
		byID[vs[i].ID] = &vs[i]
	}
	copied := *shown.Record
	for i, f := range changeable {
		setField(&copied, byID[from[i]].Record, f)
	}
	return &copied, history, false
}

// fieldHistory lists the values of f in order; the last is the current one.
func (x *reader) fieldHistory(order []*Version, f string) []FieldChange {
	var changes []FieldChange
	var withValue []*Version
	for _, v := range order {
		val := fieldValue(v.Record, f)
		if val == "" {
			continue
		}
		withValue = append(withValue, v)
		if len(changes) == 0 || changes[len(changes)-1].Value != val {
			changes = append(changes, FieldChange{Value: val, Entry: v.ID, HLC: v.HLC})
		}
	}
	if len(changes) > 0 && !x.dominates(withValue[len(withValue)-1], withValue) {
		changes[len(changes)-1].Concurrent = true
	}
	return changes
}

// causalOrder sorts versions so that a version comes after every version
// it follows; unordered ones by hash. Versions are few per citizen.
func (x *reader) causalOrder(vs []Version) []*Version {
	order := make([]*Version, len(vs))
	for i := range vs {
		order[i] = &vs[i]
	}
	sort.Slice(order, func(i, j int) bool { return string(order[i].Hash[:]) < string(order[j].Hash[:]) })
	out := make([]*Version, 0, len(order))
	placed := map[replication.EntryID]bool{}
	for len(out) < len(order) {
		for _, v := range order { // the lowest-hash version all of whose predecessors are placed
			if !placed[v.ID] && x.readyAfter(v, order, placed) {
				out, placed[v.ID] = append(out, v), true
				break
			}
		}
	}
	return out
}

func (x *reader) readyAfter(v *Version, all []*Version, placed map[replication.EntryID]bool) bool {
	for _, u := range all {
		if u != v && !placed[u.ID] && x.follows(v, u) {
			return false
		}
	}
	return true
}

// follows reports whether b provably comes after a: the same device wrote
// it later, or it amends a (directly or along a chain of amends).
func (x *reader) follows(b, a *Version) bool {
	if b.ID.Origin == a.ID.Origin && b.ID.Seq > a.ID.Seq {
		return true
	}
	id := b.ID
	for n := 0; n < maxLineage; n++ {
		p, ok := x.parentOf(id)
		if !ok {
			return false
		}
		if p == a.ID {
			return true
		}
		id = p
	}
	return false
}

// dominates reports whether v follows every other version in vs.
func (x *reader) dominates(v *Version, vs []*Version) bool {
	for _, u := range vs {
		if u != v && !x.follows(v, u) {
			return false
		}
	}
	return true
}

func fieldValue(e *enrollment.Enrollment, f string) string {
	switch f {
	case "current_residence":
		if e.CurrentResidence != nil {
			return e.CurrentResidence.UnitCode + " " + e.CurrentResidence.Text
		}
	case "marital_status":
		return e.MaritalStatus
	case "occupation":
		return e.Occupation
	}
	return ""
}

func setField(dst, src *enrollment.Enrollment, f string) {
	switch f {
	case "current_residence":
		dst.CurrentResidence = src.CurrentResidence
	case "marital_status":
		dst.MaritalStatus = src.MaritalStatus
	case "occupation":
		dst.Occupation = src.Occupation
	}
}

// notes keeps the warnings and notes of a finding list (a record in the
// view was accepted, so it has no rejections).
func notes(fs enrollment.Findings) enrollment.Findings {
	var out enrollment.Findings
	for _, f := range fs {
		if f.Severity < enrollment.Reject {
			out = append(out, f)
		}
	}
	return out
}

// cleaning lists what the matching keys derive differently from what was
// captured: the captured text stays; the view shows both.
func cleaning(e *enrollment.Enrollment) []Cleaning {
	var out []Cleaning
	if e.PersonalID != "" {
		if pid, _ := enrollment.NormalizePersonalID(e.PersonalID); pid != "" && pid != e.PersonalID {
			out = append(out, Cleaning{Field: "personal_id", From: e.PersonalID, To: pid, Rule: "personal ID cleaned (spaces, dots, full-width digits, lost leading zero)"})
		}
	}
	name := e.FullName
	if repaired, enc := enrollment.RepairLegacy(name); enc != enrollment.LegacyNone {
		out = append(out, Cleaning{Field: "full_name", From: name, To: repaired, Rule: "legacy " + enc.String() + " text repaired"})
		name = repaired
	} else if nfc := norm.NFC.String(name); nfc != name {
		out = append(out, Cleaning{Field: "full_name", From: name, To: nfc, Rule: "Unicode NFC"})
		name = nfc
	}
	if c := strings.Join(strings.Fields(name), " "); c != name {
		out = append(out, Cleaning{Field: "full_name", From: name, To: c, Rule: "spaces collapsed"})
	}
	return out
}
