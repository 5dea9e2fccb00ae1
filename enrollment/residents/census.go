package residents

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"fieldsync/enrollment"
)

// Census folds resident lists, statuses and captures into completeness per
// person and per commune (the rules of the package doc). Apply them in any
// order, with duplicates: what it shows depends only on the set. It is not
// safe for concurrent use.
//
// A census keeps its state in memory (NewCensus: a laptop's one commune,
// rows kept) or in a key-value transaction (NewStoredCensus: a hub's view,
// where a person costs a record on disk and nothing on the heap; the
// Stored* functions read it from a snapshot). The rules are the same code.
type Census struct {
	cfg Config
	st  store
}

// store is where a census keeps its people and counts.
type store interface {
	// person returns what is known of k (nil: nothing). The memory store
	// returns its own; save must follow any change.
	person(k uint64) *person
	// save records p after a change; an empty p (no row, no status) is
	// forgotten.
	save(k uint64, p *person)
	// move adds (d=1) or takes away (d=-1) a person of a category in a
	// commune's counts and members.
	move(commune uint32, k uint64, cat Category, code Code, d int)
	// captured reports whether a capture of pid is held.
	captured(pid string) bool
}

// Config configures a Census.
type Config struct {
	// KeepRows keeps every standing row in memory (Person.Resident).
	KeepRows bool
	// Captured reports whether a capture of an ID number is held (a
	// capture on a laptop). The census asks it when a person first
	// appears; the caller calls CaptureChanged when the answer changes.
	// Nil: nobody is captured. (A stored census keeps its own set:
	// SetCaptured.)
	Captured func(pid string) bool
}

type communeState struct {
	counts  Counts
	members map[uint64]struct{} // people whose standing row is of this commune
}

// ref is an entry reference, ordered by (hlc, origin, seq).
type ref struct {
	hlc    uint64
	origin string
	seq    uint64
}

type rowRef struct {
	ref
	idx     uint16
	removed bool
}

type person struct {
	candidate             // the standing row (Rule R1), when has
	has       bool        // a row or removal is known
	others    []candidate // the rows that do not stand (kept for Retract)
	captured  bool
	cat       Category
	status    *statusSet
}

func (p *person) empty() bool { return !p.has && p.status == nil }

// candidate is one row or removal naming a person, with what counting
// needs of it.
type candidate struct {
	row      rowRef
	commune  uint32
	eligible bool // by age, from its list
	resident *Resident
}

type statusSet struct {
	items      []statusItem
	shown      int // index in items, -1: none
	concurrent bool
}

type statusItem struct {
	at         Ref
	code       Code
	capture    string
	officer    string
	note       string
	setAt      time.Time
	supersedes []Ref
}

// NewCensus returns an empty census in memory.
func NewCensus(cfg Config) *Census {
	return &Census{cfg: cfg, st: &memStore{cfg: cfg, people: map[uint64]*person{}, communes: map[uint32]*communeState{}}}
}

// memStore keeps a census in memory.
type memStore struct {
	cfg      Config
	people   map[uint64]*person
	communes map[uint32]*communeState
}

func (m *memStore) person(k uint64) *person { return m.people[k] }

func (m *memStore) save(k uint64, p *person) {
	if p.empty() {
		delete(m.people, k)
	} else {
		m.people[k] = p
	}
}

func (m *memStore) move(commune uint32, k uint64, cat Category, code Code, d int) {
	cs := m.communes[commune]
	if cs == nil {
		cs = &communeState{members: map[uint64]struct{}{}}
		m.communes[commune] = cs
	}
	cs.counts.add(cat, code, d)
	if d > 0 {
		cs.members[k] = struct{}{}
	} else {
		delete(cs.members, k)
	}
}

func (m *memStore) captured(pid string) bool { return m.cfg.Captured != nil && m.cfg.Captured(pid) }

func less(a, b ref) bool {
	if a.hlc != b.hlc {
		return a.hlc < b.hlc
	}
	if a.origin != b.origin {
		return a.origin < b.origin
	}
	return a.seq < b.seq
}

func rowLess(a, b rowRef) bool {
	if a.ref != b.ref {
		return less(a.ref, b.ref)
	}
	return a.idx < b.idx
}

func pinKey(pid string) (uint64, bool) {
	if !isDigits(pid, 12) {
		return 0, false
	}
	n, _ := strconv.ParseUint(pid, 10, 64)
	return n, true
}

func pinString(k uint64) string { return fmt.Sprintf("%012d", k) }

func communeKey(code string) uint32 {
	n, _ := strconv.ParseUint(code, 10, 32)
	return uint32(n)
}

func communeString(k uint32) string { return fmt.Sprintf("%05d", k) }

// get returns what is known of k, or a new person (not saved yet).
func (c *Census) get(k uint64) *person {
	if p := c.st.person(k); p != nil {
		return p
	}
	return &person{captured: c.st.captured(pinString(k))}
}

// ApplyList folds a decoded List written at entry at, whose HLC is hlc
// (Rule R1). Applying it twice changes nothing.
func (c *Census) ApplyList(at Ref, hlc uint64, l *List) { c.foldList(at, hlc, l, false) }

// RetractList is ApplyList's exact inverse: the list no longer counts (a
// later revocation or fork notice set its entry aside).
func (c *Census) RetractList(at Ref, hlc uint64, l *List) { c.foldList(at, hlc, l, true) }

func (c *Census) foldList(at Ref, hlc uint64, l *List, retract bool) {
	asOf, err := parseDay(l.AsOf)
	if err != nil {
		return // DecodeList refuses it; a caller that skipped it gets nothing
	}
	r := ref{hlc: hlc, origin: at.Origin, seq: at.Seq}
	commune := communeKey(l.Commune)
	for i := range l.Residents {
		res := &l.Residents[i]
		if k, ok := pinKey(res.PersonalID); ok {
			cand := candidate{row: rowRef{ref: r, idx: uint16(i)}, commune: commune, eligible: eligibleAt(res.DateOfBirth, asOf, l.MinAge)}
			if c.cfg.KeepRows && !retract {
				cp := *res
				cand.resident = &cp
			}
			c.fold(k, cand, retract)
		}
	}
	for i, pid := range l.Removed {
		if k, ok := pinKey(pid); ok {
			c.fold(k, candidate{row: rowRef{ref: r, idx: uint16(len(l.Residents) + i), removed: true}, commune: commune}, retract)
		}
	}
}

// fold adds a candidate row of person k, or takes it away, and makes the
// latest one stand.
func (c *Census) fold(k uint64, cand candidate, retract bool) {
	p := c.st.person(k)
	if p == nil && retract {
		return
	}
	if p == nil {
		p = c.get(k)
	}
	all := slices.Clone(p.others)
	if p.has {
		all = append(all, p.candidate)
	}
	i := slices.IndexFunc(all, func(x candidate) bool { return x.row == cand.row })
	switch {
	case retract && i < 0, !retract && i >= 0:
		return // not held / already held
	case retract:
		all = slices.Delete(all, i, i+1)
	default:
		all = append(all, cand)
	}
	c.leave(k, p)
	p.has = len(all) > 0
	p.candidate = candidate{}
	if p.has {
		best := 0
		for j := range all {
			if rowLess(all[best].row, all[j].row) {
				best = j
			}
		}
		p.candidate = all[best]
		all = slices.Delete(all, best, best+1)
	}
	p.others = nil
	if len(all) > 0 {
		p.others = slices.Clone(all)
	}
	c.enter(k, p)
	c.st.save(k, p)
}

// leave takes p out of its commune's counts; enter puts it back with its
// category recomputed.
func (c *Census) leave(k uint64, p *person) {
	if !p.has || p.row.removed {
		return
	}
	c.st.move(p.commune, k, p.cat, p.statusCode(), -1)
}

func (c *Census) enter(k uint64, p *person) {
	p.cat = p.category()
	if !p.has || p.row.removed {
		return
	}
	c.st.move(p.commune, k, p.cat, p.statusCode(), 1)
}

// category is Rule R3.
func (p *person) category() Category {
	code := p.statusCode()
	switch {
	case !p.has || p.row.removed:
		return CatNone
	case !p.eligible || code == NotEligible:
		return CatNotEligible
	case p.captured || code == Enrolled:
		return CatEnrolled
	case code == Away || code == Deceased || code == MovedOut:
		return CatAccounted
	}
	return CatMissing
}

func (p *person) statusCode() Code {
	if p.status == nil || p.status.shown < 0 {
		return ""
	}
	return p.status.items[p.status.shown].code
}

// eligibleAt reports whether someone born dob is at least minAge on asOf,
// counting an unknown day or month as late as it can be (nobody counts as
// eligible before they are); an unknown date of birth counts as eligible.
func eligibleAt(dob enrollment.Date, asOf time.Time, minAge int) bool {
	if dob.Year == 0 {
		return true
	}
	m, d := dob.Month, dob.Day
	if m < 1 || m > 12 {
		m, d = 12, 31
	}
	if last := time.Date(dob.Year, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); d < 1 || d > last {
		d = last
	}
	birthday := time.Date(dob.Year+minAge, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if birthday.Month() != time.Month(m) { // 29 February in a common year
		birthday = time.Date(dob.Year+minAge, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC)
	}
	return !asOf.Before(birthday)
}

// ApplyStatus folds a decoded Status written at entry at (Rule R2). A
// status re-issued under a new epoch is applied with its original's Ref,
// so that it counts once. Applying it twice changes nothing.
func (c *Census) ApplyStatus(at Ref, s *Status) {
	k, ok := pinKey(s.PersonalID)
	if !ok {
		return
	}
	p := c.get(k)
	if p.status == nil {
		p.status = &statusSet{shown: -1}
	}
	for _, it := range p.status.items {
		if it.at == at {
			return
		}
	}
	it := statusItem{at: at, code: s.Status, capture: s.Capture, officer: s.Officer, note: s.Note, setAt: s.SetAt.UTC()}
	for _, sup := range s.Supersedes {
		if r, err := ParseRef(sup); err == nil {
			it.supersedes = append(it.supersedes, r)
		}
	}
	c.leave(k, p)
	p.status.items = append(p.status.items, it)
	p.status.decide()
	c.enter(k, p)
	c.st.save(k, p)
}

// RetractStatus is ApplyStatus's exact inverse.
func (c *Census) RetractStatus(at Ref, s *Status) {
	k, ok := pinKey(s.PersonalID)
	if !ok {
		return
	}
	p := c.st.person(k)
	if p == nil || p.status == nil {
		return
	}
	i := slices.IndexFunc(p.status.items, func(it statusItem) bool { return it.at == at })
	if i < 0 {
		return
	}
	c.leave(k, p)
	p.status.items = slices.Delete(p.status.items, i, i+1)
	if len(p.status.items) == 0 {
		p.status = nil
	} else {
		p.status.decide()
	}
	c.enter(k, p)
	c.st.save(k, p)
}

// decide picks the status shown: the latest (by set_at, origin, seq) of
// those no other status follows.
func (s *statusSet) decide() {
	s.shown, s.concurrent = -1, false
	maximal := 0
	for i := range s.items {
		if s.followed(i) {
			continue
		}
		maximal++
		if s.shown < 0 || statusLess(&s.items[s.shown], &s.items[i]) {
			s.shown = i
		}
	}
	s.concurrent = maximal > 1
}

// followed reports whether another status follows items[i]: written later
// by the same origin, or naming it as superseded.
func (s *statusSet) followed(i int) bool {
	x := s.items[i].at
	for j := range s.items {
		y := &s.items[j]
		if j == i {
			continue
		}
		if y.at.Origin == x.Origin && y.at.Seq > x.Seq || slices.Contains(y.supersedes, x) {
			return true
		}
	}
	return false
}

func statusLess(a, b *statusItem) bool {
	if !a.setAt.Equal(b.setAt) {
		return a.setAt.Before(b.setAt)
	}
	if a.at.Origin != b.at.Origin {
		return a.at.Origin < b.at.Origin
	}
	return a.at.Seq < b.at.Seq
}

// CaptureChanged tells the census that whether a capture of the ID number
// pid is held may have changed (Config.Captured, or a stored census's own
// set, is asked again). Only people on a list or with a status are
// tracked; others cost nothing.
func (c *Census) CaptureChanged(pid string) {
	k, ok := pinKey(pid)
	if !ok {
		return
	}
	p := c.st.person(k)
	if p == nil {
		return
	}
	captured := c.st.captured(pid)
	if p.captured == captured {
		return
	}
	c.leave(k, p)
	p.captured = captured
	c.enter(k, p)
	c.st.save(k, p)
}
