package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"fieldsync/storage/kv"
)

// The readers: any goroutine, any time, each call on one consistent
// snapshot of the view, never waiting for the round being applied.

// Stats returns the view's counts (as of the last round).
func (r *Reconciler) Stats() Stats { return r.pub.Load().stats }

// Citizen returns the citizen with key in full, or nil.
func (r *Reconciler) Citizen(key string) (*Citizen, error) {
	var c *Citizen
	err := r.read(func(x *reader) error {
		var err error
		c, err = x.citizen(key)
		return err
	})
	return c, err
}

// Keys returns every citizen key, sorted (a scan of every citizen: for
// tests and tools, not for a request).
func (r *Reconciler) Keys() []string {
	var out []string
	r.db.View(func(s kv.Reader) error {
		return s.Scan([]byte{tCitizen, '/'}, nil, func(k, _ []byte) bool {
			out = append(out, string(k[2:]))
			return true
		})
	})
	return out
}

// Matcher returns the reconciler's matcher (nil without one), for its
// owner's readers: it is not safe for use outside the rounds unless its
// type says so.
func (r *Reconciler) Matcher() Matcher { return r.cfg.Matcher }

// MatchProfiles calls fn with every citizen's key and what the matcher was
// given of it (profile, region), sorted by key, from one snapshot of the
// view, until fn returns false: the input of learning a duplicate model,
// read without holding anything the view applies under.
func (r *Reconciler) MatchProfiles(fn func(key string, p Profiled) bool) error {
	return r.db.View(func(s kv.Reader) error {
		var err error
		serr := s.Scan([]byte{tProfile, '/'}, nil, func(k, v []byte) bool {
			p, derr := decodeProfiled(v)
			if derr != nil {
				err = fmt.Errorf("%w: profile row of %s: %v", ErrDamaged, k[2:], derr)
				return false
			}
			p.Profile = bytes.Clone(p.Profile)
			return fn(string(k[2:]), p)
		})
		return errors.Join(err, serr)
	})
}

// QueueQuery selects review items.
type QueueQuery struct {
	// Level is "district:CODE" or "province"; "" means every level.
	Level string
	// Resolved includes settled items.
	Resolved bool
	// After continues a listing: the Cursor of the last item of the page
	// before.
	After string
	// Limit bounds the items returned (0: DefaultQueueLimit, at most
	// MaxQueueLimit).
	Limit int
}

// Limits of a queue page: a page is read from the log in full (each
// version's record).
const (
	DefaultQueueLimit = 200
	MaxQueueLimit     = 2000
)

func (q *QueueQuery) limit() int {
	switch {
	case q.Limit <= 0:
		return DefaultQueueLimit
	case q.Limit > MaxQueueLimit:
		return MaxQueueLimit
	}
	return q.Limit
}

// queue lists item IDs of a queue (c or p) in order, and the cursor after
// the last.
func (x *reader) queue(kind byte, q QueueQuery) (ids []string, next string, err error) {
	prefix := []byte{tQueue, '/', kind, '/'}
	if q.Level != "" {
		prefix = append(append(prefix, q.Level...), 0)
	}
	var from []byte
	if q.After != "" {
		from = append(append([]byte{tQueue, '/', kind, '/'}, q.After...), 0)
	}
	n := q.limit()
	err = x.s.Scan(prefix, from, func(k, v []byte) bool {
		rest := k[4:]
		if !q.Resolved && (len(v) == 0 || v[0] == 0) {
			return true
		}
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return true
		}
		ids = append(ids, string(rest[i+1:]))
		next = string(rest)
		return len(ids) < n
	})
	if len(ids) < n {
		next = ""
	}
	return ids, next, err
}

// ConflictQueue returns a page of the citizens in conflict that q selects
// (by level, then key), and the cursor of the next page ("" at the end).
func (r *Reconciler) ConflictQueue(q QueueQuery) ([]*Citizen, string, error) {
	var out []*Citizen
	var next string
	err := r.read(func(x *reader) error {
		keys, n, err := x.queue('c', q)
		if err != nil {
			return err
		}
		next = n
		for _, k := range keys {
			c, err := x.citizen(k)
			if err != nil {
				return err
			}
			if c != nil {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, next, err
}

// PairQueue returns a page of the probable duplicates q selects, and the
// cursor of the next page.
func (r *Reconciler) PairQueue(q QueueQuery) ([]Pair, string, error) {
	var out []Pair
	var next string
	err := r.read(func(x *reader) error {
		ids, n, err := x.queue('p', q)
		if err != nil {
			return err
		}
		next = n
		for _, id := range ids {
			p, err := x.pair(id)
			if err != nil {
				return err
			}
			if p != nil {
				out = append(out, *p)
			}
		}
		return nil
	})
	return out, next, err
}

// Conflicts returns every citizen with a conflict, sorted by key (every
// level, settled ones too; tests and tools).
func (r *Reconciler) Conflicts() ([]*Citizen, error) {
	var out []*Citizen
	for after := ""; ; {
		page, next, err := r.ConflictQueue(QueueQuery{Resolved: true, After: after, Limit: MaxQueueLimit})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			break
		}
		after = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Pairs returns every probable duplicate, decided or open, sorted by ID.
func (r *Reconciler) Pairs() ([]Pair, error) {
	var out []Pair
	err := r.read(func(x *reader) (err error) {
		out, err = x.pairsUnder([]byte{tPair, '/'})
		return err
	})
	return out, err
}

// pairsUnder returns the pairs whose IDs are the keys under prefix (less
// the prefix), in key order.
func (x *reader) pairsUnder(prefix []byte) ([]Pair, error) {
	var ids []string
	if err := x.s.Scan(prefix, nil, func(k, _ []byte) bool {
		ids = append(ids, string(k[len(prefix):]))
		return true
	}); err != nil {
		return nil, err
	}
	var out []Pair
	for _, id := range ids {
		p, err := x.pair(id)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

// Pair returns the pair with id, if the matcher proposes it.
func (r *Reconciler) Pair(id string) (Pair, bool, error) {
	var p *Pair
	err := r.read(func(x *reader) error {
		var err error
		p, err = x.pair(id)
		return err
	})
	if err != nil || p == nil {
		return Pair{}, false, err
	}
	return *p, true, nil
}

// PairsOf returns the pairs of citizen key, sorted by ID.
func (r *Reconciler) PairsOf(key string) ([]Pair, error) {
	var out []Pair
	err := r.read(func(x *reader) (err error) {
		out, err = x.pairsUnder(append(strKey(tCitPairs, key), 0))
		return err
	})
	return out, err
}

// Decisions returns every decision held on subject, sorted by entry.
func (r *Reconciler) Decisions(subject string) ([]Decision, error) {
	var out []Decision
	err := r.db.View(func(s kv.Reader) error {
		prefix := append(strKey(tDecision, subject), 0)
		return s.Scan(prefix, nil, func(k, v []byte) bool {
			if d := decodeDecision(k[len(prefix):], v); d != nil {
				out = append(out, *d)
			}
			return true
		})
	})
	return out, err
}

// Enrolled returns, per commune, the citizens the view shows as captured
// there and the code list their captures name it in.
func (r *Reconciler) Enrolled() (map[string]EnrolledCount, error) {
	out := map[string]EnrolledCount{}
	err := r.db.View(func(s kv.Reader) error {
		return s.Scan([]byte{tCommune, '/'}, nil, func(k, v []byte) bool {
			var c communeCount
			if json.Unmarshal(v, &c) == nil {
				out[string(k[2:])] = EnrolledCount(c)
			}
			return true
		})
	})
	return out, err
}

// EnrolledCount is Enrolled's count for one commune.
type EnrolledCount struct {
	Citizens int
	CodeList string
}
