// Package needs is a replica's index of incomplete dossiers: per origin,
// the held entries whose referenced blobs are not all held here. The blob
// lane's receiver reads it to tell a sender what to send (syncproto's
// BlobNeeds), and status pages read it to count what is still missing.
//
//	ix, err := needs.Open(log, store, dossier.RefsOf)
//	through, err := ix.Missing(origin, 4096, func(seq uint64) { ... })
//	ix.Recheck(ids...)                  // after blobs of these entries arrived
//	st := ix.Origin(origin)            // incomplete entries, bytes missing
//
// Per origin it keeps a watermark (every entry up to it is complete),
// persisted in the log's metadata, and the incomplete entries above it in
// memory (with the bytes they miss). Entries above what it has examined
// are examined lazily, when asked, at most MaxScan per call; a restart
// examines again from the persisted watermark. Memory is O(origins +
// incomplete entries), not O(entries).
package needs

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
)

// MaxScan bounds the entries one call examines, so that a session asking
// is never held for long; the next call goes on.
const MaxScan = 20_000

// metaPrefix keys the persisted watermarks: metaPrefix + origin (16 bytes)
// → uvarint seq.
const metaPrefix = "blob/needs/through/"

// countPrefix keys the persisted dossier counts: countPrefix + origin →
// uvarint counted-through seq, uvarint entries with blobs up to it.
const countPrefix = "blob/needs/count/"

// Log is what the index reads and writes of the replica's log; oplog.Log
// satisfies it.
type Log interface {
	Head(o replication.OriginID) (replication.Head, error)
	Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error
	Get(id replication.EntryID) (replication.Entry, error)
	GetMeta(key string) ([]byte, error)
	PutMeta(kvs ...oplog.KV) error
	ScanMeta(prefix string, fn func(key string, value []byte) bool) error
}

// Haser is what the index reads of the blob store; blob.Store satisfies it.
type Haser interface {
	Has(hs []blob.Hash) ([]bool, error)
}

// Index is the index of incomplete dossiers. It is safe for concurrent use.
type Index struct {
	log   Log
	store Haser
	refs  blob.RefsFunc

	mu      sync.Mutex
	origins map[replication.OriginID]*origin
}

// origin is what the index knows of one origin.
type origin struct {
	through uint64 // every entry up to here is complete
	saved   uint64 // through as last persisted
	scanned uint64 // every entry up to here was examined
	missing map[uint64]int64
	// counted: entries up to here are counted in dossiers, the entries
	// that reference blobs (persisted apart from the watermark: a restart
	// examines again from the watermark, and must not count twice).
	counted, dossiers, countSaved uint64
}

// Open loads the persisted watermarks.
func Open(log Log, store Haser, refs blob.RefsFunc) (*Index, error) {
	ix := &Index{log: log, store: store, refs: refs, origins: map[replication.OriginID]*origin{}}
	var bad error
	err := log.ScanMeta(metaPrefix, func(key string, value []byte) bool {
		var o replication.OriginID
		seq, n := binary.Uvarint(value)
		if len(key) != len(metaPrefix)+len(o) || n <= 0 {
			bad = fmt.Errorf("needs: watermark %q is malformed", key)
			return false
		}
		copy(o[:], key[len(metaPrefix):])
		ix.origins[o] = &origin{through: seq, saved: seq, scanned: seq, missing: map[uint64]int64{}}
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return ix, err
	}
	err = log.ScanMeta(countPrefix, func(key string, value []byte) bool {
		var o replication.OriginID
		through, n := binary.Uvarint(value)
		count, m := binary.Uvarint(value[max(n, 0):])
		if len(key) != len(countPrefix)+len(o) || n <= 0 || m <= 0 {
			bad = fmt.Errorf("needs: dossier count %q is malformed", key)
			return false
		}
		copy(o[:], key[len(countPrefix):])
		st := ix.originLocked(o)
		st.counted, st.dossiers, st.countSaved = through, count, through
		return true
	})
	if err == nil {
		err = bad
	}
	return ix, err
}

func (ix *Index) originLocked(o replication.OriginID) *origin {
	st, ok := ix.origins[o]
	if !ok {
		st = &origin{missing: map[uint64]int64{}}
		ix.origins[o] = st
	}
	return st
}

// Missing calls fn with the seqs of o's held entries whose blobs are not
// all held here, ascending, at most limit, and returns the seq through
// which the answer is complete: the held head, or less when limit or
// MaxScan stopped it (0 when nothing of o is held or examined).
func (ix *Index) Missing(o replication.OriginID, limit int, fn func(seq uint64)) (uint64, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	st := ix.originLocked(o)
	if err := ix.scanLocked(o, st); err != nil {
		return 0, err
	}
	seqs := st.sortedMissing()
	if len(seqs) > limit {
		seqs = seqs[:limit]
		for _, s := range seqs {
			fn(s)
		}
		return seqs[len(seqs)-1], nil
	}
	for _, s := range seqs {
		fn(s)
	}
	return st.scanned, nil
}

func (st *origin) sortedMissing() []uint64 {
	seqs := make([]uint64, 0, len(st.missing))
	for s := range st.missing {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	return seqs
}

// scanLocked examines the entries of o above what was examined, up to the
// held head and at most MaxScan of them.
func (ix *Index) scanLocked(o replication.OriginID, st *origin) error {
	head, err := ix.log.Head(o)
	if err != nil || head.Seq <= st.scanned {
		return err
	}
	n := 0
	var ferr error
	err = ix.log.Scan(o, st.scanned+1, func(e replication.Entry) bool {
		if n >= MaxScan || e.Seq > head.Seq {
			return false
		}
		n++
		missing, refs, err := ix.missingBytes(&e)
		if err != nil {
			ferr = err
			return false
		}
		if missing > 0 {
			st.missing[e.Seq] = missing
		}
		if e.Seq > st.counted {
			st.counted = e.Seq
			if refs {
				st.dossiers++
			}
		}
		st.scanned = e.Seq
		return true
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if err := ix.saveCountLocked(o, st); err != nil {
		return err
	}
	return ix.advanceLocked(o, st)
}

// saveCountLocked persists the dossier count when it moved.
func (ix *Index) saveCountLocked(o replication.OriginID, st *origin) error {
	if st.counted == st.countSaved {
		return nil
	}
	v := binary.AppendUvarint(binary.AppendUvarint(nil, st.counted), st.dossiers)
	if err := ix.log.PutMeta(oplog.KV{Key: countPrefix + string(o[:]), Value: v}); err != nil {
		return err
	}
	st.countSaved = st.counted
	return nil
}

// missingBytes returns the bytes of the blobs e references that are not
// held here, and whether it references any. An entry whose refs do not
// decode references none.
func (ix *Index) missingBytes(e *replication.Entry) (int64, bool, error) {
	refs, err := ix.refs(e)
	if err != nil || len(refs) == 0 {
		return 0, false, nil
	}
	hs := make([]blob.Hash, len(refs))
	for i, r := range refs {
		hs[i] = r.Hash
	}
	held, err := ix.store.Has(hs)
	if err != nil {
		return 0, true, err
	}
	var n int64
	for i, r := range refs {
		if !held[i] {
			n += r.Size
		}
	}
	return n, true, nil
}

// advanceLocked moves the watermark up to the first incomplete entry and
// persists it when it moved.
func (ix *Index) advanceLocked(o replication.OriginID, st *origin) error {
	through := st.scanned
	for s := range st.missing {
		through = min(through, s-1)
	}
	st.through = through
	if st.through == st.saved {
		return nil
	}
	v := binary.AppendUvarint(nil, st.through)
	if err := ix.log.PutMeta(oplog.KV{Key: metaPrefix + string(o[:]), Value: v}); err != nil {
		return err
	}
	st.saved = st.through
	return nil
}

// Recheck examines these entries again (blobs of theirs arrived): those
// now complete leave the index.
func (ix *Index) Recheck(ids ...replication.EntryID) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	changed := map[replication.OriginID]*origin{}
	for _, id := range ids {
		st, ok := ix.origins[id.Origin]
		if !ok {
			continue
		}
		if _, ok := st.missing[id.Seq]; !ok {
			continue
		}
		e, err := ix.log.Get(id)
		if err != nil {
			return err
		}
		n, _, err := ix.missingBytes(&e)
		if err != nil {
			return err
		}
		if n > 0 {
			st.missing[id.Seq] = n
			continue
		}
		delete(st.missing, id.Seq)
		changed[id.Origin] = st
	}
	for o, st := range changed {
		if err := ix.advanceLocked(o, st); err != nil {
			return err
		}
	}
	return nil
}

// OriginNeeds is what one origin's dossiers still miss here.
type OriginNeeds struct {
	Origin replication.OriginID `json:"origin"`
	// Through: every entry up to this seq is complete.
	Through uint64 `json:"through"`
	// Examined: entries up to this seq were examined; above it nothing is
	// known yet.
	Examined uint64 `json:"examined"`
	// Incomplete entries, and the bytes of the blobs they miss.
	Incomplete   int   `json:"incomplete"`
	MissingBytes int64 `json:"missing_bytes"`
	// Dossiers counts the examined entries that reference blobs: the
	// complete ones are Dossiers - Incomplete.
	Dossiers uint64 `json:"dossiers"`
}

// Origins returns, for every origin examined, what it misses, examining
// first what arrived since (at most MaxScan entries per origin).
func (ix *Index) Origins(os []replication.OriginID) ([]OriginNeeds, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	out := make([]OriginNeeds, 0, len(os))
	for _, o := range os {
		st := ix.originLocked(o)
		if err := ix.scanLocked(o, st); err != nil {
			return nil, err
		}
		n := OriginNeeds{Origin: o, Through: st.through, Examined: st.scanned, Incomplete: len(st.missing), Dossiers: st.dossiers}
		for _, b := range st.missing {
			n.MissingBytes += b
		}
		out = append(out, n)
	}
	return out, nil
}
