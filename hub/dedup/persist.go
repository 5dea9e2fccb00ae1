package dedup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// A hub's view keeps its citizens and pairs on disk; the Index is its
// in-memory matcher. Three things serve that: a profile the view can
// store (EncodeProfile: everything the Index reads of a record, derived
// once, 40–90 bytes), PutProfile to index it, and Load to rebuild an Index
// at restart from the stored profiles without comparing every citizen
// with its blocks again — only the pairs the view had are re-decided,
// with whatever their decision touches. A journal (KeepJournal, Changes)
// tells the view which pairs to store or drop after each call.

// profileVersion is the first byte of an encoded profile.
const profileVersion = 1

// maxPart bounds a name part in an encoded profile (a NameKey word or
// phrase; enrollment caps names far below this).
const maxPart = 256

// ErrBadProfile is returned (wrapped) when a stored profile does not
// decode.
var ErrBadProfile = errors.New("dedup: bad stored profile")

// EncodeProfile derives the profile of r (its Key and Region aside) in the
// form a view stores. It is pure and safe for concurrent use: a hub may
// compute it while decoding entries, outside any lock.
func EncodeProfile(r *Record) []byte {
	st := derive(r, nil)
	return encodeStored(&st)
}

func encodeStored(st *stored) []byte {
	b := make([]byte, 0, 96)
	b = append(b, profileVersion)
	b = binary.AppendUvarint(b, st.id)
	b = binary.LittleEndian.AppendUint32(b, st.nameFold)
	b = binary.AppendUvarint(b, uint64(st.dob))
	for _, s := range [...]string{st.surname, st.middle, st.given, st.fatherGiven, st.motherGiven} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, r := range [...]relRef{st.father, st.mother, st.head} {
		b = binary.LittleEndian.AppendUint32(b, r.idHash)
		b = binary.LittleEndian.AppendUint32(b, r.fold)
	}
	b = binary.LittleEndian.AppendUint32(b, st.spouseID)
	for _, h := range [...]uint16{st.home, st.homeProv, st.resid} {
		b = binary.LittleEndian.AppendUint16(b, h)
	}
	return append(b, st.birthProv, st.birthProv25, st.sex, st.flags)
}

// decodeProfile reads what EncodeProfile wrote.
func decodeProfile(b []byte) (stored, error) {
	var st stored
	d := decoder{b: b}
	if d.byte() != profileVersion {
		return st, fmt.Errorf("%w: version", ErrBadProfile)
	}
	st.id = d.uvarint()
	st.nameFold = d.u32()
	dob := d.uvarint()
	st.dob = uint32(dob)
	parts := [...]*string{&st.surname, &st.middle, &st.given, &st.fatherGiven, &st.motherGiven}
	for _, p := range parts {
		*p = d.str()
	}
	for _, r := range [...]*relRef{&st.father, &st.mother, &st.head} {
		r.idHash, r.fold = d.u32(), d.u32()
	}
	st.spouseID = d.u32()
	st.home, st.homeProv, st.resid = d.u16(), d.u16(), d.u16()
	st.birthProv, st.birthProv25, st.sex, st.flags = d.byte(), d.byte(), d.byte(), d.byte()
	switch {
	case d.err != nil:
		return st, fmt.Errorf("%w: %v", ErrBadProfile, d.err)
	case len(d.b) != 0:
		return st, fmt.Errorf("%w: %d trailing bytes", ErrBadProfile, len(d.b))
	case st.id >= 1e12 || dob > 1<<22 || st.sex > 2:
		return st, fmt.Errorf("%w: a field out of range", ErrBadProfile)
	}
	return st, nil
}

// decoder reads an encoded profile, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = errors.New(what)
	}
	d.b = nil
}

func (d *decoder) byte() uint8 {
	if len(d.b) < 1 {
		d.fail("short")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u16() uint16 {
	if len(d.b) < 2 {
		d.fail("short")
		return 0
	}
	v := binary.LittleEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v
}

func (d *decoder) u32() uint32 {
	if len(d.b) < 4 {
		d.fail("short")
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) { // at its shortest: one encoding only
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > maxPart || uint64(len(d.b)) < n {
		d.fail("bad name part")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	if strings.ContainsRune(s, 0) {
		d.fail("NUL in a name part")
		return ""
	}
	return s
}

// PutProfile adds, or replaces, citizen key with a profile EncodeProfile
// made: the same as Put of the record it came from.
func (ix *Index) PutProfile(key string, profile []byte, region string) error {
	st, err := decodeProfile(profile)
	if err != nil {
		return err
	}
	ix.put(key, ix.internProfile(st, key, region))
	return nil
}

// Stored is one citizen for Load: its stored profile and region.
type Stored struct {
	Profile []byte
	Region  string
}

// StoredPair is a pair as a view stored it, for Load: its keys and its
// Extra.
type StoredPair struct {
	A, B  string
	Extra []byte
}

// Load fills an empty Index with citizens whose profiles a view stored,
// and the pairs it had: the blocks are built in bulk (no citizen meets
// its blocks one by one), and only the stored pairs are decided again,
// with every pair around them their decisions depend on. The result is
// the Index that putting the citizens one by one would build, when the
// stored pairs are that Index's pairs. With a journal kept, the stored
// pairs are taken as reported: Changes then lists only what differs from
// them (a stored pair that no longer holds, one judged otherwise), which
// is nothing when the view was in step. A profile that does not decode
// fails the whole Load: the caller rebuilds from the log.
func (ix *Index) Load(citizens iter.Seq2[string, Stored], pairs iter.Seq[StoredPair]) error {
	if ix.live != 0 {
		return errors.New("dedup: Load into an Index that is not empty")
	}
	for key, c := range citizens {
		st, err := decodeProfile(c.Profile)
		if err != nil {
			return fmt.Errorf("citizen %s: %w", key, err)
		}
		p := ix.internProfile(st, key, c.Region)
		s := ix.alloc(p)
		if p.flags&flagKeyIsID == 0 {
			ix.otherKeys[key] = s
			ix.keyOf[s] = key
		}
		if p.id != 0 {
			ix.addID(p.id, s)
		}
	}
	ix.buildBlocks()
	// Decide the stored pairs' endpoints' candidates, and again around
	// every pair found, until nothing new: an excluded pair (a better
	// match elsewhere) is reached through the pair that excludes it.
	var todo []int32
	seen := map[int32]bool{}
	if pairs == nil {
		pairs = func(func(StoredPair) bool) {}
	}
	for sp := range pairs {
		if ix.journal != nil {
			ix.journal.reportedAtLoad(sp)
		}
		for _, k := range [2]string{sp.A, sp.B} {
			if s, ok := ix.slotOf(k); ok && !seen[s] {
				seen[s] = true
				todo = append(todo, s)
			}
		}
	}
	slices.Sort(todo)
	for len(todo) > 0 {
		s := todo[0]
		todo = todo[1:]
		ix.eachCandidate(s, func(t int32) {
			k := newPairKey(s, t)
			if _, done := ix.pairs[k]; done {
				return
			}
			ix.decide(k, true)
			if _, ok := ix.pairs[k]; ok && !seen[t] {
				seen[t] = true
				todo = append(todo, t)
			}
		})
	}
	if ix.journal != nil { // what may differ from the stored pairs is around them
		for s := range seen {
			ix.journal.touched[ix.keyOfSlot(s)] = true
		}
	}
	return nil
}

// Learn learns a model (Train) from citizens as a view stored them, in an
// Index of its own built with Load: a hub learns from a snapshot of its
// view while its matcher goes on judging. It costs a second Index's
// memory for the time it takes (doc.go has both).
func Learn(citizens iter.Seq2[string, Stored], cfg Config, tc TrainConfig) (*Model, error) {
	ix := NewIndex(cfg)
	if err := ix.Load(citizens, nil); err != nil {
		return nil, err
	}
	return ix.Train(tc)
}

// buildBlocks fills the block tables of every family from the profiles:
// level 0 for all, then the next level for the members of every block
// over MaxBlock, and so on — the structure Put builds one record at a
// time (add, remove).
func (ix *Index) buildBlocks() {
	chains := make([][numFamilies]chain, ix.nslots)
	for s := range ix.slots() {
		if ix.prof(s).flags != 0 {
			chains[s] = ix.keyChains(ix.prof(s))
		}
	}
	for f := range numFamilies {
		t := ix.blocks[f]
		var entries []uint64
		for s := range ix.slots() {
			if c := &chains[s][f]; c.n > 0 {
				entries = append(entries, entryOf(c.keys[0], s))
			}
		}
		for l := 0; len(entries) > 0; l++ {
			t.addSorted(entries)
			// members of oversized blocks go one level down
			var next []uint64
			for _, e := range entries {
				k, s := uint32(e>>32), int32(uint32(e))
				if c := &chains[s][f]; t.count(k) > ix.cfg.MaxBlock && l+1 < int(c.n) {
					next = append(next, entryOf(c.keys[l+1], s))
				}
			}
			entries = next
		}
	}
}
