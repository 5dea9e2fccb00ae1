package reconcile

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"fieldsync/replication"
	"fieldsync/storage/kv"
)

// The view's store layout. Every key starts with a one-letter table name;
// entry IDs are origin then big-endian seq (appendID), so an origin's
// entries sort by seq.
//
//	e/ID                  entry record (entryRec): every entry applied
//	r/ID                  the entry itself, when no Config.Entries reads the log
//	A/ID                  how many current amends name ID (count)
//	a/ID ID               the amends of ID
//	v/ID                  how many voids withdraw ID (count)
//	s/ID                  a re-issue of ID that stands alone: its ID and hash
//	c/KEY                 citizen row (citizenRow)
//	M/KEY                 what the matcher holds of the citizen: region, profile
//	d/SUBJECT 0 ID        a decision (decisionRow)
//	l/KEY 0 SUBJECT       decided pair subjects of a citizen; L/KEY counts them
//	f/ORIGIN ID           a hub's fork notice about ORIGIN: its From
//	q/ID                  an entry held out of the view (quarantineRow)
//	p/PAIRID              a probable duplicate (pairRow)
//	i/KEY 0 PAIRID        the pairs of a citizen
//	Q/c/LEVEL 0 o|r 0 KEY the conflict queues, open (o) or settled (r)
//	Q/p/LEVEL 0 o|r 0 ID  the pair queues
//	o/ORIGIN              an origin's row (originInfo, JSON)
//	g/BUCKET              a digest bucket's sum (digest.go)
//	n/COMMUNE             citizens enrolled in a commune (communeCount)
//	m/NAME                the reconciler's own metadata (counts) and the caller's (Meta)
//	x/NAME/...            a component's keys (Component)
const (
	tEntry      = 'e'
	tPayload    = 'r'
	tAmendCount = 'A'
	tAmends     = 'a'
	tVoids      = 'v'
	tStanding   = 's'
	tCitizen    = 'c'
	tProfile    = 'M'
	tDecision   = 'd'
	tPairDecs   = 'l'
	tPairDecN   = 'L'
	tNotice     = 'f'
	tQuarantine = 'q'
	tPair       = 'p'
	tCitPairs   = 'i'
	tQueue      = 'Q'
	tOrigin     = 'o'
	tBucket     = 'g'
	tCommune    = 'n'
	tMeta       = 'm'
	tComponent  = 'x'
)

func idKey(t byte, id replication.EntryID) []byte {
	return appendID(append(make([]byte, 0, 2+idSize), t, '/'), id)
}

func strKey(t byte, parts ...string) []byte {
	n := 2
	for _, p := range parts {
		n += len(p) + 1
	}
	k := append(make([]byte, 0, n), t, '/')
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}

func originKey(t byte, o replication.OriginID) []byte {
	return append([]byte{t, '/'}, o[:]...)
}

func encodeCount(n uint64) []byte { return binary.AppendUvarint(nil, n) }

func decodeCount(b []byte) uint64 {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return 0
	}
	return n
}

func scoreBits(f float64) uint64 { return math.Float64bits(f) }
func scoreOf(u uint64) float64   { return math.Float64frombits(u) }

// The round: a Reconciler applies entries in rounds, each one store
// transaction. Its reads go through r.b (the round's writes over a
// snapshot of the store); entry records are cached decoded and written
// through; citizen rows are cached and written back at the end of the
// round, after every touched citizen was derived again.

// get reads a key in the round ("" and false when absent); a read error
// fails the round.
func (r *Reconciler) get(key []byte) ([]byte, bool) {
	v, err := r.b.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		r.fail(err)
		return nil, false
	}
	return v, true
}

func (r *Reconciler) set(key, value []byte) {
	if err := r.b.Set(key, value); err != nil {
		r.fail(err)
	}
}

func (r *Reconciler) del(key []byte) {
	if err := r.b.Delete(key); err != nil {
		r.fail(err)
	}
}

// scan lists the keys and values under prefix (copied).
func (r *Reconciler) scan(prefix []byte, fn func(key, value []byte)) {
	err := r.b.Scan(prefix, nil, func(k, v []byte) bool {
		fn(k, v)
		return true
	})
	if err != nil {
		r.fail(err)
	}
}

func (r *Reconciler) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// rec returns the record of id (nil if the view has none). The record is
// the round's: change it only through putRec.
func (r *Reconciler) rec(id replication.EntryID) *entryRec {
	if e, ok := r.recs[id]; ok {
		return e
	}
	v, ok := r.get(idKey(tEntry, id))
	if !ok {
		r.recs[id] = nil
		return nil
	}
	e, err := decodeEntryRec(v)
	if err != nil {
		r.fail(err)
		return nil
	}
	r.recs[id] = e
	return e
}

// putRec writes a record (new or changed).
func (r *Reconciler) putRec(e *entryRec) {
	r.recs[e.ID] = e
	r.set(idKey(tEntry, e.ID), e.encode())
}

// dropRec deletes a record.
func (r *Reconciler) dropRec(id replication.EntryID) {
	r.recs[id] = nil
	r.del(idKey(tEntry, id))
}

// row returns the citizen row of key, creating an empty one if create.
func (r *Reconciler) row(key string, create bool) *citizenRow {
	if c, ok := r.rows[key]; ok && (c != nil || !create) {
		if c == nil && create {
			c = &citizenRow{}
			r.rows[key] = c
		}
		return c
	}
	v, ok := r.get(strKey(tCitizen, key))
	var c *citizenRow
	if ok {
		var err error
		if c, err = decodeCitizenRow(v); err != nil {
			r.fail(err)
			c = nil
		}
	}
	if c == nil && create {
		c = &citizenRow{}
	}
	r.rows[key] = c
	return c
}

// addMember and removeMember keep a row's members sorted.
func (c *citizenRow) addMember(id replication.EntryID) {
	i, found := slices.BinarySearchFunc(c.Members, id, compareIDs)
	if !found {
		c.Members = slices.Insert(c.Members, i, id)
	}
}

func (c *citizenRow) removeMember(id replication.EntryID) {
	if i, found := slices.BinarySearchFunc(c.Members, id, compareIDs); found {
		c.Members = slices.Delete(c.Members, i, i+1)
	}
}

// count reads a counter key; addCount moves it.
func (r *Reconciler) count(key []byte) uint64 {
	v, ok := r.get(key)
	if !ok {
		return 0
	}
	return decodeCount(v)
}

func (r *Reconciler) addCount(key []byte, d int) {
	n := int64(r.count(key)) + int64(d)
	if n <= 0 {
		r.del(key)
		return
	}
	r.set(key, encodeCount(uint64(n)))
}

func compareIDs(a, b replication.EntryID) int {
	if c := replication.CompareOrigin(a.Origin, b.Origin); c != 0 {
		return c
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}
