package capture

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/hub/dedup"
	"fieldsync/replication"
	"fieldsync/replication/epoch"
)

// index is what the app looks things up in: the captures this laptop
// holds (its own and colleagues'), the commune's resident list with the
// statuses set on it (residents.Census, rows kept), and a duplicate
// detector over both (hub/dedup, the hubs' own), so the officer sees a
// probable duplicate before saving. It is built from the log at start and
// kept current with every entry the node appends or ingests. Safe for
// concurrent use.
type index struct {
	mu       sync.Mutex
	census   *residents.Census
	caps     map[replication.EntryID]*capRec
	amended  map[replication.EntryID]bool // targets some amend supersedes
	amendsOf map[replication.EntryID][]replication.EntryID
	voided   map[replication.EntryID]bool // targets a void withdraws
	byPID    map[string]map[replication.EntryID]bool
	dd       *dedup.Index
	listed   map[string]bool // residents put in dd ("r:"+pid)
}

// capRec is one capture (enroll or amend) held.
type capRec struct {
	ID     replication.EntryID
	Kind   replication.Kind
	Target *replication.EntryID // an amend's
	HLC    replication.HLC
	Record *enrollment.Enrollment
	pid    string
	keys   enrollment.MatchKeys
	inDD   bool
}

func newIndex() *index {
	ix := &index{caps: map[replication.EntryID]*capRec{}, amended: map[replication.EntryID]bool{}, amendsOf: map[replication.EntryID][]replication.EntryID{},
		voided: map[replication.EntryID]bool{}, byPID: map[string]map[replication.EntryID]bool{},
		dd: dedup.NewIndex(dedup.DefaultConfig()), listed: map[string]bool{}}
	ix.census = residents.NewCensus(residents.Config{KeepRows: true, Captured: ix.capturedLocked})
	return ix
}

// capturedLocked reports whether a current capture of pid is held (the
// census's Captured; called with mu held).
func (ix *index) capturedLocked(pid string) bool { return len(ix.byPID[pid]) > 0 }

// apply folds entries into the index.
func (ix *index) apply(es []replication.Entry) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	touched := map[string]bool{}
	for i := range es {
		ix.applyOne(&es[i], touched)
	}
	for pid := range touched {
		ix.census.CaptureChanged(pid)
		ix.putResident(pid)
	}
}

func (ix *index) applyOne(e *replication.Entry, touched map[string]bool) {
	kind, payload, id := e.Kind, e.Payload, e.ID()
	if kind == replication.KindReissue {
		r, err := epoch.DecodeReissue(e.Payload)
		if err != nil {
			return
		}
		kind, payload, id = r.Kind, r.Payload, r.Of // counts as its original
	}
	switch kind {
	case replication.KindEnroll:
		var rec enrollment.Enrollment
		if json.Unmarshal(payload, &rec) == nil {
			ix.addCapture(&capRec{ID: id, Kind: kind, HLC: e.HLC, Record: &rec}, touched)
		}
	case replication.KindAmend:
		var a enrollment.Amendment
		if json.Unmarshal(payload, &a) != nil {
			return
		}
		t, err := replication.ParseEntryID(a.Target)
		if err != nil {
			return
		}
		if _, held := ix.caps[id]; held {
			return
		}
		ix.amended[t] = true
		ix.amendsOf[t] = append(ix.amendsOf[t], id)
		ix.refresh(t, touched)
		ix.addCapture(&capRec{ID: id, Kind: kind, Target: &t, HLC: e.HLC, Record: &a.Record}, touched)
	case replication.KindVoid:
		var v enrollment.Voiding
		if json.Unmarshal(payload, &v) != nil {
			return
		}
		if t, err := replication.ParseEntryID(v.Target); err == nil {
			ix.voided[t] = true
			ix.refresh(t, touched)
		}
	case replication.KindResidents:
		if l, err := residents.DecodeList(payload); err == nil {
			ix.census.ApplyList(residents.Ref{Origin: id.Origin.String(), Seq: id.Seq}, uint64(e.HLC), &l)
			for _, r := range l.Residents {
				touched[r.PersonalID] = true
			}
			for _, pid := range l.Removed {
				touched[pid] = true
			}
		}
	case replication.KindStatus:
		if s, err := residents.DecodeStatus(payload); err == nil {
			ix.census.ApplyStatus(residents.Ref{Origin: id.Origin.String(), Seq: id.Seq}, &s)
		}
	}
}

func (ix *index) addCapture(c *capRec, touched map[string]bool) {
	if _, ok := ix.caps[c.ID]; ok {
		return
	}
	c.keys = enrollment.Keys(c.Record)
	if pid, fs := enrollment.NormalizePersonalID(c.Record.PersonalID); c.Record.PersonalID != "" && !fs.Rejected() {
		c.pid = pid
	}
	ix.caps[c.ID] = c
	ix.refresh(c.ID, touched)
}

// current reports whether a capture stands: nothing amends it and no
// void withdraws it or what it amends.
func (ix *index) current(c *capRec) bool {
	if ix.amended[c.ID] {
		return false
	}
	for id, n := c.ID, 0; n < maxLineage; n++ {
		if ix.voided[id] {
			return false
		}
		p := ix.caps[id]
		if p == nil || p.Target == nil {
			return true
		}
		id = *p.Target
	}
	return true
}

// refresh puts a capture in (or takes it out of) the look-ups after its
// standing may have changed, with every capture amending it.
func (ix *index) refresh(id replication.EntryID, touched map[string]bool) {
	ix.refreshDepth(id, touched, 0)
}

// maxLineage bounds a walk along amends (a cycle, or a chain longer than
// any real one, stops there).
const maxLineage = 1000

func (ix *index) refreshDepth(id replication.EntryID, touched map[string]bool, depth int) {
	c := ix.caps[id]
	if c == nil || depth > maxLineage {
		return
	}
	cur := ix.current(c)
	key := "c:" + id.String()
	if c.pid != "" {
		set := ix.byPID[c.pid]
		if cur {
			if set == nil {
				set = map[replication.EntryID]bool{}
				ix.byPID[c.pid] = set
			}
			set[id] = true
		} else if set != nil {
			delete(set, id)
		}
		touched[c.pid] = true
	}
	switch {
	case cur && !c.inDD:
		ix.dd.Put(dedup.Record{Key: key, Enrollment: c.Record, Keys: c.keys})
		c.inDD = true
	case !cur && c.inDD:
		ix.dd.Delete(key)
		c.inDD = false
	}
	for _, a := range ix.amendsOf[id] {
		if a != id {
			ix.refreshDepth(a, touched, depth+1)
		}
	}
}

// putResident keeps a person's row of the list in the duplicate detector.
func (ix *index) putResident(pid string) {
	key := "r:" + pid
	p, ok := ix.census.Person(pid)
	if !ok || p.Resident == nil || p.Removed {
		if ix.listed[pid] {
			ix.dd.Delete(key)
			delete(ix.listed, pid)
		}
		return
	}
	rec := residentRecord(p.Resident, p.Commune)
	ix.dd.Put(dedup.Record{Key: key, Enrollment: rec, Keys: enrollment.Keys(rec)})
	ix.listed[pid] = true
}

// residentRecord is a row of the list as the enrollment it would be.
func residentRecord(r *residents.Resident, commune string) *enrollment.Enrollment {
	return &enrollment.Enrollment{PersonalID: r.PersonalID, FullName: r.FullName, DateOfBirth: r.DateOfBirth, Sex: r.Sex,
		RelationToHead: r.RelationToHead, PermanentResidence: enrollment.Place{UnitCode: commune, Text: r.Address}}
}

// Match is a probable duplicate of the draft: a capture on this laptop or
// a person on the commune's list.
type Match struct {
	Kind string `json:"kind"` // "capture" or "resident"
	// SameID: the same ID number (not just a probable match).
	SameID  bool     `json:"same_id"`
	Score   float64  `json:"score,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	// Evidence is the duplicate model's explanation: each line with its
	// weight in bits and its sentence in Vietnamese and English.
	Evidence []dedup.Evidence `json:"evidence,omitempty"`
	// Entry and Record: a capture's; Resident and Person: a list row's.
	Entry    string                 `json:"entry,omitempty"`
	Record   *enrollment.Enrollment `json:"record,omitempty"`
	Person   *residents.Person      `json:"person,omitempty"`
	Resident *residents.Resident    `json:"resident,omitempty"`
}

// maxMatches bounds what one look-up returns.
const maxMatches = 8

// lookup finds what the draft may duplicate: captures and list rows of
// the same ID number, and the detector's probable duplicates; skip is an
// entry the draft amends (it is no duplicate of itself).
func (ix *index) lookup(draft *enrollment.Enrollment, skip string) []Match {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var out []Match
	seen := map[string]bool{}
	if skip != "" {
		seen["c:"+skip] = true
	}
	add := func(key string, m Match) {
		if seen[key] || len(out) >= maxMatches {
			return
		}
		seen[key] = true
		out = append(out, m)
	}
	pid, fs := enrollment.NormalizePersonalID(draft.PersonalID)
	if draft.PersonalID != "" && !fs.Rejected() {
		ids := make([]replication.EntryID, 0, len(ix.byPID[pid]))
		for id := range ix.byPID[pid] {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i].Less(ids[j]) })
		for _, id := range ids {
			add("c:"+id.String(), ix.captureMatch(id, true, 1, nil))
		}
		if p, ok := ix.census.Person(pid); ok && p.Resident != nil && !p.Removed {
			add("r:"+pid, Match{Kind: "resident", SameID: true, Score: 1, Person: &p, Resident: p.Resident})
		}
	}
	const probe = "draft"
	ix.dd.Put(dedup.Record{Key: probe, Enrollment: draft, Keys: enrollment.Keys(draft)})
	pairs := ix.dd.PairsOf(probe)
	ix.dd.Delete(probe)
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].Score > pairs[j].Score })
	for _, p := range pairs {
		other := p.A
		if other == probe {
			other = p.B
		}
		switch {
		case strings.HasPrefix(other, "c:"):
			id, err := replication.ParseEntryID(other[2:])
			if err == nil {
				m := ix.captureMatch(id, false, p.Score, p.Reasons)
				m.Evidence = p.Evidence
				add(other, m)
			}
		case strings.HasPrefix(other, "r:"):
			if pr, ok := ix.census.Person(other[2:]); ok && pr.Resident != nil {
				add(other, Match{Kind: "resident", Score: p.Score, Reasons: p.Reasons, Evidence: p.Evidence, Person: &pr, Resident: pr.Resident})
			}
		}
	}
	return out
}

func (ix *index) captureMatch(id replication.EntryID, same bool, score float64, reasons []string) Match {
	c := ix.caps[id]
	return Match{Kind: "capture", SameID: same, Score: score, Reasons: reasons, Entry: id.String(), Record: c.Record}
}

// capture returns a capture held, and whether it stands.
func (ix *index) capture(id replication.EntryID) (*capRec, bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	c := ix.caps[id]
	if c == nil {
		return nil, false
	}
	return c, ix.current(c)
}

// withCensus runs fn with the census under the lock.
func (ix *index) withCensus(fn func(c *residents.Census)) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	fn(ix.census)
}

// counts returns how many captures the index holds and stand.
func (ix *index) counts() (captures, current int) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, c := range ix.caps {
		if ix.current(c) {
			current++
		}
	}
	return len(ix.caps), current
}

func marshal(e *enrollment.Enrollment) ([]byte, error) { return json.Marshal(e) }
