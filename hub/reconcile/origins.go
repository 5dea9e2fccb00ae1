package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"fieldsync/replication"
	"fieldsync/replication/roster"
	"fieldsync/storage/kv"
)

// originInfo is what the view keeps in memory of one origin (a province
// has a few thousand): its genesis, and the tallies of Rules 0 and 8 that
// say whether a late entry changes a judgement already given.
type originInfo struct {
	Genesis *replication.Genesis `json:"genesis,omitempty"` // nil until its genesis is applied
	Device  replication.DeviceID `json:"device,omitempty"`
	// Judged counts its entries with a record, genesis apart; MaxSeen is
	// the highest such seq.
	Judged  int    `json:"judged,omitempty"`
	MaxSeen uint64 `json:"max_seen,omitempty"`
	// Rule 0: entries admitted and quarantined, and the highest admitted.
	Admitted    int    `json:"admitted,omitempty"`
	Quarantined int    `json:"quarantined,omitempty"`
	MaxAdmitted uint64 `json:"max_admitted,omitempty"`
	// Rule 8: the highest seq applied past the gate, and the first seq a
	// fork notice sets aside (0: none).
	MaxApplied uint64 `json:"max_applied,omitempty"`
	ForkFrom   uint64 `json:"fork_from,omitempty"`
}

func (o *originInfo) isHub() bool {
	return o.Genesis != nil && o.Genesis.Role == replication.RoleHub
}

// origin returns an origin's row, creating it.
func (r *Reconciler) origin(id replication.OriginID) *originInfo {
	o := r.origins[id]
	if o == nil {
		o = &originInfo{}
		r.origins[id] = o
	}
	return o
}

func (r *Reconciler) touch(o replication.OriginID) {
	if r.dirtyOrigins != nil {
		r.dirtyOrigins[o] = true
	}
}

// counts are the view's counters, kept as entries apply.
type counts struct {
	Entries, Citizens, Versions int
	Conflicts, OpenConflicts    int
	Pairs, OpenPairs            int
	Decisions, Invalid          int
	Quarantined                 map[string]int
}

func (c *counts) quarantined(reason roster.Reason, d int) {
	if c.Quarantined == nil {
		c.Quarantined = map[string]int{}
	}
	if c.Quarantined[string(reason)] += d; c.Quarantined[string(reason)] == 0 {
		delete(c.Quarantined, string(reason))
	}
}

func (c *counts) stats() Stats {
	st := Stats{Entries: c.Entries, Citizens: c.Citizens, Versions: c.Versions, Conflicts: c.Conflicts,
		OpenConflicts: c.OpenConflicts, Pairs: c.Pairs, OpenPairs: c.OpenPairs, Decisions: c.Decisions, Invalid: c.Invalid}
	if len(c.Quarantined) > 0 {
		st.Quarantined = maps.Clone(c.Quarantined)
	}
	return st
}

// communeCount is how many citizens the view shows as captured in a
// commune, and the code list their captures name it in.
type communeCount struct {
	Citizens int    `json:"citizens"`
	CodeList string `json:"code_list,omitempty"`
}

func (r *Reconciler) enrolled(commune, codeList string, d int) {
	c := r.communes[commune]
	if c == nil {
		c = &communeCount{}
		r.communes[commune] = c
	}
	c.Citizens += d
	if c.CodeList == "" && d > 0 {
		c.CodeList = codeList
	}
	r.dirtyCommunes[commune] = true
}

var countsKey = strKey(tMeta, "counts")

// load reads the in-memory tables back from the store.
func (r *Reconciler) load() error {
	return r.db.View(func(s kv.Reader) error {
		if _, err := s.Get(tornKey); err == nil {
			return ErrTorn
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		if v, err := s.Get(countsKey); err == nil {
			if err := json.Unmarshal(v, &r.counts); err != nil {
				return fmt.Errorf("%w: counts: %v", ErrDamaged, err)
			}
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		var err error
		scan := func(t byte, fn func(k, v []byte)) {
			if err == nil {
				err = s.Scan([]byte{t, '/'}, nil, func(k, v []byte) bool { fn(k[2:], v); return err == nil })
			}
		}
		scan(tOrigin, func(k, v []byte) {
			var o originInfo
			if e := json.Unmarshal(v, &o); e != nil || len(k) != replication.OriginIDSize {
				err = fmt.Errorf("%w: origin row", ErrDamaged)
				return
			}
			var id replication.OriginID
			copy(id[:], k)
			r.origins[id] = &o
			if o.Genesis != nil {
				r.devOrigins[o.Device] = append(r.devOrigins[o.Device], id)
			}
		})
		scan(tBucket, func(k, v []byte) { err = r.digest.load(k, v) })
		scan(tCommune, func(k, v []byte) {
			var c communeCount
			if e := json.Unmarshal(v, &c); e != nil {
				err = fmt.Errorf("%w: commune row", ErrDamaged)
			}
			r.communes[string(k)] = &c
		})
		if err != nil {
			return err
		}
		if err := r.loadRoster(s); err != nil {
			return err
		}
		if err := r.loadComponents(s); err != nil {
			return err
		}
		return r.loadMatcher(s)
	})
}

// loadRoster folds the roster entries the gate applied.
func (r *Reconciler) loadRoster(s kv.Reader) error {
	if r.roster == nil {
		return nil
	}
	for id, o := range r.origins {
		if o.Genesis == nil || !bytes.Equal(o.Genesis.PublicKey, r.cfg.Anchor) {
			continue
		}
		var err error
		serr := s.Scan(originKey(tEntry, id), nil, func(_, v []byte) bool {
			e, derr := decodeEntryRec(v)
			if derr != nil {
				err = derr
				return false
			}
			if e.State == stateRoster {
				if entry, derr := replication.DecodeEntry(e.Payload); derr == nil {
					r.roster.Apply(entry)
				}
			}
			return true
		})
		if err = errors.Join(err, serr); err != nil {
			return err
		}
	}
	return nil
}

// loadMatcher hands the matcher what it held: every citizen's profile,
// every pair.
func (r *Reconciler) loadMatcher(s kv.Reader) error {
	if r.cfg.Matcher == nil {
		return nil
	}
	var err error
	profiles := func(yield func(string, Profiled) bool) {
		serr := s.Scan([]byte{tProfile, '/'}, nil, func(k, v []byte) bool {
			p, derr := decodeProfiled(v)
			if derr != nil {
				err = derr
				return false
			}
			return yield(string(k[2:]), p)
		})
		err = errors.Join(err, serr)
	}
	pairs := func(yield func(MatchPair) bool) {
		serr := s.Scan([]byte{tPair, '/'}, nil, func(k, v []byte) bool {
			p, derr := decodePairRow(v)
			a, b, ok := parsePairID(string(k[2:]))
			if derr != nil || !ok {
				err = errors.Join(derr, fmt.Errorf("%w: pair row", ErrDamaged))
				return false
			}
			return yield(MatchPair{A: a, B: b, Score: p.Score, Reasons: p.Reasons, Extra: p.Extra})
		})
		err = errors.Join(err, serr)
	}
	if lerr := r.cfg.Matcher.Load(profiles, pairs); lerr != nil {
		return fmt.Errorf("reconcile: load the matcher: %w", lerr)
	}
	return err
}

func encodeProfiled(p Profiled) []byte {
	w := &wbuf{}
	w.byte(rowVersion)
	w.str(p.Region)
	w.bytes(p.Profile)
	return w.b
}

func decodeProfiled(b []byte) (Profiled, error) {
	r := &rbuf{b: b}
	if r.byte() != rowVersion {
		r.fail("profile row version")
	}
	p := Profiled{Region: r.str(), Profile: r.bytes()}
	return p, r.done()
}

// flush writes the round's in-memory tables and the caller's metadata.
func (r *Reconciler) flush(meta []Meta) {
	for o := range r.dirtyOrigins {
		b, _ := json.Marshal(r.origins[o])
		r.set(originKey(tOrigin, o), b)
	}
	for c := range r.dirtyCommunes {
		if n := r.communes[c]; n.Citizens <= 0 {
			delete(r.communes, c)
			r.del(strKey(tCommune, c))
		} else {
			b, _ := json.Marshal(n)
			r.set(strKey(tCommune, c), b)
		}
	}
	b, _ := json.Marshal(r.counts)
	r.set(countsKey, b)
	r.digest.flush(r)
	for _, m := range meta {
		r.set(strKey(tMeta, "caller", m.Key), m.Value)
	}
}

// GetMeta reads what the caller wrote with a round (kv.ErrNotFound if
// nothing).
func (r *Reconciler) GetMeta(key string) ([]byte, error) {
	var out []byte
	err := r.db.View(func(s kv.Reader) error {
		var err error
		out, err = s.Get(strKey(tMeta, "caller", key))
		return err
	})
	return out, err
}

// summary is what readers see of the writer's memory, published after
// each round.
type summary struct {
	stats    Stats
	digest   string
	roster   []roster.Device
	rejudged int
	walksCut int
}

func (r *Reconciler) publish() {
	s := &summary{stats: r.counts.stats(), digest: r.digest.hex(), rejudged: r.rejudged, walksCut: r.walksCut}
	if r.roster != nil {
		s.roster = r.roster.Devices()
	}
	r.pub.Store(s)
}

// ScanMeta calls fn with each key (under prefix) and value the caller
// wrote with rounds.
func (r *Reconciler) ScanMeta(prefix string, fn func(key string, value []byte)) error {
	p := strKey(tMeta, "caller", prefix)
	n := len(strKey(tMeta, "caller", ""))
	return r.db.View(func(s kv.Reader) error {
		return s.Scan(p, nil, func(k, v []byte) bool {
			fn(string(k[n:]), append([]byte(nil), v...))
			return true
		})
	})
}
