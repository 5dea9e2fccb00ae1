package residents

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"fieldsync/storage/kv"
)

// A stored census keeps its state in a key-value store (a hub's view: a
// reconcile.Component's keys), so a province's lists cost nothing on the
// heap. Its keys:
//
//	p/PID            a person: candidate rows, statuses, captured, category
//	n/COMMUNE        a commune's Counts
//	m/COMMUNE/PID    a member of a commune (its standing row is there)
//	c/PID            a capture of PID is held (SetCaptured)
//	d                the census digest: a multiset hash of every person's line
//
// PID is the 12-digit ID number and COMMUNE the 5-digit code, so a scan of
// m/COMMUNE/ lists a commune's people by ID number.

// NewStoredCensus returns the census kept in t. Use it for one
// transaction, then call Flush; the Stored functions read it back from a
// snapshot. line, when set, is told of every person's digest line added
// (sign 1) or removed (-1): the view puts them in its own digest.
func NewStoredCensus(t kv.Txn, line func(pid, line string, sign int)) *Census {
	return &Census{st: &kvStore{t: t, line: line, lines: map[uint64]string{}, counts: map[uint32]*Counts{}}}
}

// SetCaptured records whether a capture of pid is held, and counts the
// person again if it changed (a stored census only; a memory census asks
// Config.Captured).
func (c *Census) SetCaptured(pid string, captured bool) {
	s, ok := c.st.(*kvStore)
	if !ok {
		c.CaptureChanged(pid)
		return
	}
	if _, ok := pinKey(pid); !ok {
		return
	}
	if captured {
		s.set([]byte("c/"+pid), nil)
	} else {
		s.del([]byte("c/" + pid))
	}
	c.CaptureChanged(pid)
}

// Flush writes what a stored census holds back (the counts it changed,
// the digest) and returns the first error its store met.
func (c *Census) Flush() error {
	s, ok := c.st.(*kvStore)
	if !ok {
		return nil
	}
	for k, n := range s.counts {
		key := []byte("n/" + communeString(k))
		if n.Residents == 0 {
			s.del(key)
			continue
		}
		b, _ := json.Marshal(n)
		s.set(key, b)
	}
	s.counts = map[uint32]*Counts{}
	if s.sum != nil {
		s.set([]byte("d"), s.sum.FillBytes(make([]byte, 32)))
		s.sum = nil
	}
	return s.err
}

type kvStore struct {
	t      kv.Txn
	err    error
	line   func(pid, line string, sign int)
	lines  map[uint64]string // each person's digest line as loaded
	counts map[uint32]*Counts
	sum    *big.Int // the digest, once loaded
}

func (s *kvStore) fail(err error) {
	if s.err == nil {
		s.err = fmt.Errorf("residents: census store: %w", err)
	}
}

func (s *kvStore) get(key []byte) ([]byte, bool) {
	v, err := s.t.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		s.fail(err)
		return nil, false
	}
	return v, true
}

func (s *kvStore) set(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	if err := s.t.Set(key, value); err != nil {
		s.fail(err)
	}
}

func (s *kvStore) del(key []byte) {
	if err := s.t.Delete(key); err != nil {
		s.fail(err)
	}
}

func personKey(k uint64) []byte { return []byte("p/" + pinString(k)) }

func (s *kvStore) person(k uint64) *person {
	v, ok := s.get(personKey(k))
	if !ok {
		if _, seen := s.lines[k]; !seen {
			s.lines[k] = ""
		}
		return nil
	}
	p, err := decodePerson(v)
	if err != nil {
		s.fail(fmt.Errorf("person %012d: %w", k, err))
		return nil
	}
	if _, seen := s.lines[k]; !seen {
		s.lines[k] = personLine(k, p)
	}
	return p
}

func (s *kvStore) save(k uint64, p *person) {
	old, seen := s.lines[k]
	if !seen {
		s.person(k)
		old = s.lines[k]
	}
	now := ""
	if p.empty() {
		s.del(personKey(k))
	} else {
		s.set(personKey(k), encodePerson(p))
		now = personLine(k, p)
	}
	if now == old {
		return
	}
	s.lines[k] = now
	pid := pinString(k)
	if old != "" {
		s.digest(pid, old, -1)
	}
	if now != "" {
		s.digest(pid, now, 1)
	}
}

// digest adds or removes a line in the census digest (and the caller's).
func (s *kvStore) digest(pid, line string, sign int) {
	if s.sum == nil {
		s.sum = new(big.Int)
		if v, ok := s.get([]byte("d")); ok {
			s.sum.SetBytes(v)
		}
	}
	h := sha256.Sum256([]byte(line))
	x := new(big.Int).SetBytes(h[:])
	if sign > 0 {
		s.sum.Add(s.sum, x)
	} else {
		s.sum.Sub(s.sum, x)
	}
	s.sum.Mod(s.sum, digestModulus)
	if s.line != nil {
		s.line(pid, line, sign)
	}
}

var digestModulus = new(big.Int).Lsh(big.NewInt(1), 256)

func (s *kvStore) move(commune uint32, k uint64, cat Category, code Code, d int) {
	n := s.counts[commune]
	if n == nil {
		n = &Counts{}
		if v, ok := s.get([]byte("n/" + communeString(commune))); ok {
			if err := json.Unmarshal(v, n); err != nil {
				s.fail(fmt.Errorf("counts of %05d: %w", commune, err))
			}
		}
		s.counts[commune] = n
	}
	n.add(cat, code, d)
	key := []byte("m/" + communeString(commune) + "/" + pinString(k))
	if d > 0 {
		s.set(key, nil)
	} else {
		s.del(key)
	}
}

func (s *kvStore) captured(pid string) bool {
	_, ok := s.get([]byte("c/" + pid))
	return ok
}

// personLine is what the digest holds of a person: the standing row, the
// category and the status shown (Census.Digest's line).
func personLine(k uint64, p *person) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%012d %s", k, p.cat)
	if p.has {
		fmt.Fprintf(&b, " row %s:%d/%d %v %05d %v", p.row.origin, p.row.seq, p.row.idx, p.row.removed, p.commune, p.eligible)
	}
	if st := p.status; st != nil && st.shown >= 0 {
		fmt.Fprintf(&b, " status %s %s %v", st.items[st.shown].at, st.items[st.shown].code, st.concurrent)
	}
	return b.String()
}

// The person record: a version byte, then the fields in order, integers
// as uvarints and strings with their length.
const personVersion = 1

// Bounds a record must respect (what the census can make of valid lists
// and statuses, with room): a damaged record is refused, not trusted.
const (
	maxCandidates = 1 << 16
	maxStatuses   = 1 << 16
	maxRecString  = 4 << 10
)

func encodePerson(p *person) []byte {
	b := make([]byte, 0, 96)
	b = append(b, personVersion)
	var flags byte
	if p.has {
		flags |= 1
	}
	if p.captured {
		flags |= 2
	}
	b = append(b, flags, byte(p.cat))
	if p.has {
		b = appendCandidate(b, &p.candidate)
	}
	b = binary.AppendUvarint(b, uint64(len(p.others)))
	for i := range p.others {
		b = appendCandidate(b, &p.others[i])
	}
	if p.status == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p.status.items)))
	for i := range p.status.items {
		it := &p.status.items[i]
		b = appendRef(b, it.at)
		b = appendString(b, string(it.code))
		b = appendString(b, it.capture)
		b = appendString(b, it.officer)
		b = appendString(b, it.note)
		b = binary.AppendVarint(b, it.setAt.UnixNano())
		b = binary.AppendUvarint(b, uint64(len(it.supersedes)))
		for _, r := range it.supersedes {
			b = appendRef(b, r)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendRef(b []byte, r Ref) []byte {
	return binary.AppendUvarint(appendString(b, r.Origin), r.Seq)
}

func appendCandidate(b []byte, c *candidate) []byte {
	b = binary.AppendUvarint(b, c.row.hlc)
	b = appendRef(b, Ref{Origin: c.row.origin, Seq: c.row.seq})
	b = binary.AppendUvarint(b, uint64(c.row.idx))
	var flags byte
	if c.row.removed {
		flags |= 1
	}
	if c.eligible {
		flags |= 2
	}
	return binary.AppendUvarint(append(b, flags), uint64(c.commune))
}

// ErrBadRecord is returned for a stored census record that does not
// decode.
var ErrBadRecord = errors.New("residents: damaged census record")

type recReader struct {
	b   []byte
	bad bool
}

func (r *recReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recReader) uint(max uint64) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) str() string {
	n := r.uint(maxRecString)
	if r.bad || uint64(len(r.b)) < n {
		r.bad = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *recReader) ref() Ref { return Ref{Origin: r.str(), Seq: r.uint(^uint64(0))} }

func (r *recReader) candidate() candidate {
	var c candidate
	c.row.hlc = r.uint(^uint64(0))
	at := r.ref()
	c.row.origin, c.row.seq = at.Origin, at.Seq
	c.row.idx = uint16(r.uint(1<<16 - 1))
	flags := r.byte()
	c.row.removed, c.eligible = flags&1 != 0, flags&2 != 0
	c.commune = uint32(r.uint(1<<32 - 1))
	return c
}

func decodePerson(b []byte) (*person, error) {
	r := &recReader{b: b}
	if r.byte() != personVersion {
		return nil, ErrBadRecord
	}
	p := &person{}
	flags := r.byte()
	p.has, p.captured = flags&1 != 0, flags&2 != 0
	p.cat = Category(r.byte())
	if p.has {
		p.candidate = r.candidate()
	}
	n := r.uint(maxCandidates)
	for i := uint64(0); i < n && !r.bad; i++ {
		p.others = append(p.others, r.candidate())
	}
	n = r.uint(maxStatuses)
	if n > 0 {
		p.status = &statusSet{}
	}
	for i := uint64(0); i < n && !r.bad; i++ {
		it := statusItem{at: r.ref(), code: Code(r.str()), capture: r.str(), officer: r.str(), note: r.str()}
		it.setAt = time.Unix(0, r.int()).UTC()
		m := r.uint(MaxSupersedes)
		for j := uint64(0); j < m && !r.bad; j++ {
			it.supersedes = append(it.supersedes, r.ref())
		}
		p.status.items = append(p.status.items, it)
	}
	if r.bad || len(r.b) != 0 {
		return nil, ErrBadRecord
	}
	if p.status != nil {
		p.status.decide()
	}
	return p, nil
}

// StoredCommunes reads every commune with someone on its list from a
// stored census's snapshot, sorted by code.
func StoredCommunes(r kv.Reader) ([]CommuneCounts, error) {
	var out []CommuneCounts
	var bad error
	err := r.Scan([]byte("n/"), nil, func(k, v []byte) bool {
		var n Counts
		if err := json.Unmarshal(v, &n); err != nil {
			bad = fmt.Errorf("%w: counts of %s: %w", ErrBadRecord, k, err)
			return false
		}
		if n.Residents > 0 {
			out = append(out, CommuneCounts{Commune: string(k[2:]), Complete: n.Complete(), Counts: n})
		}
		return true
	})
	if err == nil {
		err = bad
	}
	return out, err
}

// StoredCommune reads one commune's counts (zero if none is on its list).
func StoredCommune(r kv.Reader, code string) (Counts, error) {
	var n Counts
	v, err := r.Get([]byte("n/" + code))
	if errors.Is(err, kv.ErrNotFound) {
		return n, nil
	}
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(v, &n); err != nil {
		return n, fmt.Errorf("%w: counts of %s: %w", ErrBadRecord, code, err)
	}
	return n, nil
}

// StoredPerson reads what a stored census knows of pid.
func StoredPerson(r kv.Reader, pid string) (Person, bool, error) {
	k, ok := pinKey(pid)
	if !ok {
		return Person{}, false, nil
	}
	v, err := r.Get(personKey(k))
	if errors.Is(err, kv.ErrNotFound) {
		return Person{}, false, nil
	}
	if err != nil {
		return Person{}, false, err
	}
	p, err := decodePerson(v)
	if err != nil {
		return Person{}, false, fmt.Errorf("person %s: %w", pid, err)
	}
	return viewOf(k, p), true, nil
}

// StoredPeople reads the people of a commune's list in the given
// categories (all when none is given), sorted by ID number, at most limit
// (0: no limit), and how many there are.
func StoredPeople(r kv.Reader, commune string, limit int, cats ...Category) ([]Person, int, error) {
	var out []Person
	total := 0
	prefix := []byte("m/" + commune + "/")
	var bad error
	err := r.Scan(prefix, nil, func(k, _ []byte) bool {
		pid := string(k[len(prefix):])
		p, ok, err := StoredPerson(r, pid)
		if err != nil {
			bad = err
			return false
		}
		if !ok || len(cats) > 0 && !slices.Contains(cats, p.Category) {
			return true
		}
		total++
		if limit <= 0 || len(out) < limit {
			out = append(out, p)
		}
		return true
	})
	if err == nil {
		err = bad
	}
	return out, total, err
}

// StoredDigest reads a stored census's digest: equal on every replica
// holding the same entries and captures (a multiset hash of the lines
// Census.Digest hashes in order).
func StoredDigest(r kv.Reader) (string, error) {
	v, err := r.Get([]byte("d"))
	if errors.Is(err, kv.ErrNotFound) {
		v, err = make([]byte, 32), nil
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(v), nil
}
