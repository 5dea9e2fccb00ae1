package reconcile

import (
	"fieldsync/replication"
	"fieldsync/replication/roster"
)

// recState is what the rules made of an entry.
type recState byte

const (
	stateApplied     recState = iota + 1 // in the view (or, for a genesis, known)
	stateQuarantined                     // held out by Rule 0 (listed in q/)
	stateForked                          // set aside by Rule 8 (listed in q/)
	stateInvalid                         // its payload did not decode
	stateAliased                         // a re-issue whose original is in the view (Rule 9)
	stateRoster                          // a roster entry the gate applied
)

// versionData is what the view knows of a capture: every field the rules
// compare, and the matcher's profile of the record. The record itself
// stays in the log. What every capture needs (its citizen key, its
// region and commune) is always kept; the details (identity keys,
// changeable fields, warnings, the profile) only once its citizen has
// another version to compare it with — until then they are known while
// the capture is applied, and read again from the log if ever needed
// (detailed).
type versionData struct {
	PersonalID        string
	Region            string // the old district of the capture commune (review routing)
	Commune, CodeList string
	// Detailed says the fields below are known; keep, that they are kept
	// on disk with the record.
	Detailed, keep bool
	Warnings       int // unknownWarnings until counted
	// Identity (Rule 3), compared by normalized keys.
	Name, DateOfBirth, Sex     string
	BirthPlace, Father, Mother string
	// Changeable fields (Rule 5): their values as fieldValue renders them.
	Residence, Marital, Occupation string
	// Profile is the matcher's compact profile of the record.
	Profile []byte
}

// entryRec is an entry as the view applied it: everything needed to undo
// it, apply it again under another judgement, and derive the citizens it
// touches, without reading the log.
type entryRec struct {
	ID    replication.EntryID
	Kind  replication.Kind // as written
	MKind replication.Kind // what it means: a re-issue's original kind
	Hash  replication.Hash
	HLC   replication.HLC
	State recState
	// Target is what an amend or void names, as written.
	Target *replication.EntryID
	// Parent is the entry an amend supersedes or a void withdraws, after
	// Rule 9 resolved the reference.
	Parent *replication.EntryID
	// Of and OfHash name a re-issue's original (Rule 9).
	Of     *replication.EntryID
	OfHash replication.Hash
	// Version is the capture's data (enroll and amend meanings).
	Version *versionData
	// Key is the citizen this version is current under ("" if none).
	Key string
	// Payload is what other kinds need to be applied again: a decision's
	// resolution, a fork notice, a roster entry (whole), a genesis.
	Payload []byte
	// Bad is set when the payload did not decode (Stats.Invalid).
	Bad bool
	// Unit is the commune a census entry (a resident list, a status)
	// concerns, for Rule 0's scope check (census.go).
	Unit string
}

// invalid reports whether the payload did not decode.
func (e *entryRec) invalid() bool { return e.Bad }

// clone returns a copy whose judgement (State, Parent, Key) is not made
// yet: what applyRec takes.
func (e *entryRec) clone() *entryRec {
	c := *e
	c.State, c.Parent, c.Key = 0, nil, ""
	if e.Version != nil {
		v := *e.Version
		c.Version = &v
	}
	return &c
}

const rowVersion = 1

func (v *versionData) encode(w *wbuf) {
	w.str(v.PersonalID)
	w.str(v.Region)
	w.str(v.Commune)
	w.str(v.CodeList)
	keep := v.Detailed && v.keep
	w.bool(keep)
	if !keep {
		return
	}
	w.int(v.Warnings)
	w.str(v.Name)
	w.str(v.DateOfBirth)
	w.str(v.Sex)
	w.str(v.BirthPlace)
	w.str(v.Father)
	w.str(v.Mother)
	w.str(v.Residence)
	w.str(v.Marital)
	w.str(v.Occupation)
	w.bytes(v.Profile)
}

func decodeVersionData(r *rbuf) *versionData {
	v := &versionData{PersonalID: r.str(), Region: r.str(), Commune: r.str(), CodeList: r.str()}
	if v.Detailed = r.bool(); !v.Detailed {
		return v
	}
	v.keep = true
	v.Warnings, v.Name, v.DateOfBirth, v.Sex = r.int(), r.str(), r.str(), r.str()
	v.BirthPlace, v.Father, v.Mother = r.str(), r.str(), r.str()
	v.Residence, v.Marital, v.Occupation = r.str(), r.str(), r.str()
	v.Profile = r.bytes()
	return v
}

func (e *entryRec) encode() []byte {
	w := &wbuf{b: make([]byte, 0, 256)}
	w.byte(rowVersion)
	w.id(e.ID)
	w.byte(byte(e.Kind))
	w.byte(byte(e.MKind))
	w.hash(e.Hash)
	w.uint(uint64(e.HLC))
	w.byte(byte(e.State))
	w.optID(e.Target)
	w.optID(e.Parent)
	w.optID(e.Of)
	if e.Of != nil {
		w.hash(e.OfHash)
	}
	w.bool(e.Version != nil)
	if e.Version != nil {
		e.Version.encode(w)
	}
	w.str(e.Key)
	w.bytes(e.Payload)
	w.bool(e.Bad)
	w.str(e.Unit)
	return w.b
}

func decodeEntryRec(b []byte) (*entryRec, error) {
	r := &rbuf{b: b}
	if r.byte() != rowVersion {
		r.fail("entry record version")
	}
	e := &entryRec{ID: r.id(), Kind: replication.Kind(r.byte()), MKind: replication.Kind(r.byte()), Hash: r.hash(),
		HLC: replication.HLC(r.uint()), State: recState(r.byte()), Target: r.optID(), Parent: r.optID(), Of: r.optID()}
	if e.Of != nil {
		e.OfHash = r.hash()
	}
	if r.bool() {
		e.Version = decodeVersionData(r)
	}
	e.Key = r.str()
	e.Payload = r.bytes()
	e.Bad = r.bool()
	e.Unit = r.str()
	return e, r.done()
}

// isVersion reports whether the record is a capture in the view (current
// or superseded): what Rule 9 calls held.
func (e *entryRec) isVersion() bool { return e.State == stateApplied && e.Version != nil }

// citizenRow is a citizen as the view keeps it: its current versions, the
// judgements derived from them, and what the counters, queues and digest
// hold of it (so that a change subtracts exactly what was added).
type citizenRow struct {
	Members []replication.EntryID // current versions, sorted
	Shown   replication.EntryID
	Region  string
	// Commune and CodeList are the shown capture's (enrolled per commune).
	Commune, CodeList string
	Conflict          *conflictRow
	Linked            []string
	// Line is the citizen's digest item; Put is the version whose profile
	// the matcher holds (zero before the first derive).
	Line replication.Hash
	Put  replication.EntryID
}

type conflictRow struct {
	Fields   []string
	Level    string
	Resolved *replication.EntryID // the settling decision
}

func (c *citizenRow) encode() []byte {
	w := &wbuf{b: make([]byte, 0, 128)}
	w.byte(rowVersion)
	w.uint(uint64(len(c.Members)))
	for _, id := range c.Members {
		w.id(id)
	}
	w.id(c.Shown)
	w.str(c.Region)
	w.str(c.Commune)
	w.str(c.CodeList)
	w.bool(c.Conflict != nil)
	if c.Conflict != nil {
		w.strs(c.Conflict.Fields)
		w.str(c.Conflict.Level)
		w.optID(c.Conflict.Resolved)
	}
	w.strs(c.Linked)
	w.hash(c.Line)
	w.id(c.Put)
	return w.b
}

func decodeCitizenRow(b []byte) (*citizenRow, error) {
	r := &rbuf{b: b}
	if r.byte() != rowVersion {
		r.fail("citizen row version")
	}
	c := &citizenRow{}
	n := r.uint()
	if n > uint64(len(r.b))/idSize {
		r.fail("member count")
		n = 0
	}
	for range n {
		c.Members = append(c.Members, r.id())
	}
	c.Shown, c.Region, c.Commune, c.CodeList = r.id(), r.str(), r.str(), r.str()
	if r.bool() {
		c.Conflict = &conflictRow{Fields: r.strs(), Level: r.str(), Resolved: r.optID()}
	}
	c.Linked = r.strs()
	c.Line, c.Put = r.hash(), r.id()
	return c, r.done()
}

// decisionRow is a resolve entry as applied: the tier its writer's genesis
// declares is read when it is applied (and again if that changes).
type decisionRow struct {
	Tier       string
	Hash       replication.Hash
	Resolution []byte // JSON, as written
}

func (d *decisionRow) encode() []byte {
	w := &wbuf{}
	w.byte(rowVersion)
	w.str(d.Tier)
	w.hash(d.Hash)
	w.bytes(d.Resolution)
	return w.b
}

func decodeDecisionRow(b []byte) (*decisionRow, error) {
	r := &rbuf{b: b}
	if r.byte() != rowVersion {
		r.fail("decision row version")
	}
	d := &decisionRow{Tier: r.str(), Hash: r.hash(), Resolution: r.bytes()}
	return d, r.done()
}

// pairRow is a probable duplicate as the view keeps it.
type pairRow struct {
	Score            float64
	Reasons          []string
	RegionA, RegionB string
	Extra            []byte // the matcher's own (MatchPair.Extra)
	Resolved         *replication.EntryID
	Line             replication.Hash
}

func (p *pairRow) encode() []byte {
	w := &wbuf{}
	w.byte(rowVersion)
	w.uint(uint64(scoreBits(p.Score)))
	w.strs(p.Reasons)
	w.str(p.RegionA)
	w.str(p.RegionB)
	w.bytes(p.Extra)
	w.optID(p.Resolved)
	w.hash(p.Line)
	return w.b
}

func decodePairRow(b []byte) (*pairRow, error) {
	r := &rbuf{b: b}
	if r.byte() != rowVersion {
		r.fail("pair row version")
	}
	p := &pairRow{Score: scoreOf(r.uint()), Reasons: r.strs(), RegionA: r.str(), RegionB: r.str(), Extra: r.bytes(), Resolved: r.optID(), Line: r.hash()}
	return p, r.done()
}

// quarantineRow is an entry held out of the view, listed.
type quarantineRow struct {
	Kind   replication.Kind
	Reason roster.Reason
	Device replication.DeviceID
}

func (q *quarantineRow) encode() []byte {
	w := &wbuf{}
	w.byte(rowVersion)
	w.byte(byte(q.Kind))
	w.str(string(q.Reason))
	w.str(string(q.Device))
	return w.b
}

func decodeQuarantineRow(b []byte) (*quarantineRow, error) {
	r := &rbuf{b: b}
	if r.byte() != rowVersion {
		r.fail("quarantine row version")
	}
	q := &quarantineRow{Kind: replication.Kind(r.byte()), Reason: roster.Reason(r.str()), Device: replication.DeviceID(r.str())}
	return q, r.done()
}
