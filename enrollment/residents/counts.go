package residents

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"
)

// Counts are a commune's (or a district's) completeness: of the people on
// the lists, who is eligible, and of those who is enrolled, accounted for
// (away, deceased, moved) or missing (refused, not yet, no status).
type Counts struct {
	Residents   int `json:"residents"`
	NotEligible int `json:"not_eligible"`
	Eligible    int `json:"eligible"`
	Enrolled    int `json:"enrolled"`
	Accounted   int `json:"accounted"`
	Missing     int `json:"missing"`
	// Of Accounted: away, deceased, moved. Of Missing: refused.
	Away     int `json:"away"`
	Deceased int `json:"deceased"`
	Moved    int `json:"moved"`
	Refused  int `json:"refused"`
}

// Complete reports whether everyone eligible is enrolled or accounted for.
func (c Counts) Complete() bool { return c.Eligible > 0 && c.Missing == 0 }

// Add sums b into c.
func (c *Counts) Add(b Counts) {
	c.Residents += b.Residents
	c.NotEligible += b.NotEligible
	c.Eligible += b.Eligible
	c.Enrolled += b.Enrolled
	c.Accounted += b.Accounted
	c.Missing += b.Missing
	c.Away += b.Away
	c.Deceased += b.Deceased
	c.Moved += b.Moved
	c.Refused += b.Refused
}

func (c *Counts) add(cat Category, code Code, d int) {
	if cat == CatNone {
		return
	}
	c.Residents += d
	switch cat {
	case CatNotEligible:
		c.NotEligible += d
		return
	case CatEnrolled:
		c.Enrolled += d
	case CatAccounted:
		c.Accounted += d
		switch code {
		case Away:
			c.Away += d
		case Deceased:
			c.Deceased += d
		case MovedOut:
			c.Moved += d
		}
	case CatMissing:
		c.Missing += d
		if code == Refused {
			c.Refused += d
		}
	}
	c.Eligible += d
}

// CommuneCounts are one commune's counts.
type CommuneCounts struct {
	Commune  string `json:"commune"`
	Complete bool   `json:"complete"`
	Counts
}

// m is the in-memory store the queries below read (a stored census is read
// with the Stored functions, from a snapshot).
func (c *Census) m() *memStore {
	if m, ok := c.st.(*memStore); ok {
		return m
	}
	return &memStore{}
}

// Communes returns every commune with someone on its list, sorted by code.
func (c *Census) Communes() []CommuneCounts {
	out := make([]CommuneCounts, 0, len(c.m().communes))
	for k, cs := range c.m().communes {
		if cs.counts.Residents == 0 {
			continue
		}
		out = append(out, CommuneCounts{Commune: communeString(k), Complete: cs.counts.Complete(), Counts: cs.counts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Commune < out[j].Commune })
	return out
}

// Commune returns one commune's counts (zero if none is on its list).
func (c *Census) Commune(code string) Counts {
	if cs := c.m().communes[communeKey(code)]; cs != nil {
		return cs.counts
	}
	return Counts{}
}

// Total returns the counts of every commune together.
func (c *Census) Total() Counts {
	var t Counts
	for _, cs := range c.m().communes {
		t.Add(cs.counts)
	}
	return t
}

// Person is one person as the census sees them.
type Person struct {
	PersonalID string   `json:"personal_id"`
	Commune    string   `json:"commune,omitempty"`
	Category   Category `json:"category"`
	Eligible   bool     `json:"eligible"`
	Captured   bool     `json:"captured"`
	// Row is the entry and position of the standing row (Rule R1);
	// Resident is the row itself when the census keeps rows.
	Row      *RowRef   `json:"row,omitempty"`
	Removed  bool      `json:"removed,omitempty"`
	Resident *Resident `json:"resident,omitempty"`
	// Status is the status shown (Rule R2), if any.
	Status *StatusView `json:"status,omitempty"`
}

// RowRef is where a standing row is: the entry and its position.
type RowRef struct {
	Entry Ref `json:"entry"`
	Index int `json:"index"`
}

// StatusView is the status shown of a person.
type StatusView struct {
	Entry   Ref       `json:"entry"`
	Status  Code      `json:"status"`
	Capture string    `json:"capture,omitempty"`
	Officer string    `json:"officer"`
	Note    string    `json:"note,omitempty"`
	SetAt   time.Time `json:"set_at"`
	// Concurrent: another status nothing follows exists (set by another
	// officer who had not seen this one); Others counts every other.
	Concurrent bool `json:"concurrent,omitempty"`
	Others     int  `json:"others,omitempty"`
	// Current are the entries of every status nothing follows: what a new
	// status supersedes.
	Current []Ref `json:"current"`
}

// Person returns what the census knows of pid.
func (c *Census) Person(pid string) (Person, bool) {
	k, ok := pinKey(pid)
	if !ok {
		return Person{}, false
	}
	p := c.m().people[k]
	if p == nil {
		return Person{}, false
	}
	return viewOf(k, p), true
}

func viewOf(k uint64, p *person) Person {
	out := Person{PersonalID: pinString(k), Category: p.cat, Eligible: p.eligible && p.has && !p.row.removed, Captured: p.captured, Resident: p.resident}
	if p.has {
		out.Commune = communeString(p.commune)
		out.Row = &RowRef{Entry: Ref{Origin: p.row.origin, Seq: p.row.seq}, Index: int(p.row.idx)}
		out.Removed = p.row.removed
	}
	if s := p.status; s != nil && s.shown >= 0 {
		it := &s.items[s.shown]
		sv := &StatusView{Entry: it.at, Status: it.code, Capture: it.capture, Officer: it.officer, Note: it.note, SetAt: it.setAt,
			Concurrent: s.concurrent, Others: len(s.items) - 1}
		for i := range s.items {
			if !s.followed(i) {
				sv.Current = append(sv.Current, s.items[i].at)
			}
		}
		slices.SortFunc(sv.Current, func(a, b Ref) int { return compareRefs(a, b) })
		out.Status = sv
	}
	return out
}

func compareRefs(a, b Ref) int {
	switch {
	case a.Origin != b.Origin:
		if a.Origin < b.Origin {
			return -1
		}
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// People returns the people of a commune's list in the given categories
// (all when none is given), sorted by ID number, at most limit (0: no
// limit), and how many there are.
func (c *Census) People(commune string, limit int, cats ...Category) ([]Person, int) {
	cs := c.m().communes[communeKey(commune)]
	if cs == nil {
		return nil, 0
	}
	keys := make([]uint64, 0, len(cs.members))
	for k := range cs.members {
		if p := c.m().people[k]; len(cats) == 0 || slices.Contains(cats, p.cat) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	n := len(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]Person, len(keys))
	for i, k := range keys {
		out[i] = viewOf(k, c.m().people[k])
	}
	return out, n
}

// Len returns the number of people the census tracks (on a list, or with
// a status).
func (c *Census) Len() int { return len(c.m().people) }

// Digest is a SHA-256 over every tracked person's standing row, category
// and status shown, in ID order: two replicas holding the same entries
// and captures print the same digest.
func (c *Census) Digest() string {
	keys := make([]uint64, 0, len(c.m().people))
	for k := range c.m().people {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		p := c.m().people[k]
		fmt.Fprintf(h, "%012d %s", k, p.cat)
		if p.has {
			fmt.Fprintf(h, " row %s:%d/%d %v %05d %v", p.row.origin, p.row.seq, p.row.idx, p.row.removed, p.commune, p.eligible)
		}
		if s := p.status; s != nil && s.shown >= 0 {
			fmt.Fprintf(h, " status %s %s %v", s.items[s.shown].at, s.items[s.shown].code, s.concurrent)
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Residents returns the rows the census keeps (Config.KeepRows), for a
// laptop's look-ups.
func (c *Census) Residents(fn func(p Person) bool) {
	for k, p := range c.m().people {
		if p.resident != nil && !p.row.removed && !fn(viewOf(k, p)) {
			return
		}
	}
}
