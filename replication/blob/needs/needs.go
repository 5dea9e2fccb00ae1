// Package needs is a replica's index of incomplete dossiers: per origin,
// the held entries whose referenced blobs are not all held here. The blob
// lane's receiver reads it to tell a sender what to send (syncproto's
// BlobNeeds), and status pages read it to count what is still missing.
//
//	ix, err := needs.Open(log, store, dossier.RefsOf)
//	through, err := ix.Missing(origin, 4096, func(seq uint64) { ... })
//	ix.Recheck(ids...)                  // after blobs of these entries arrived
//	more, err := ix.Examine(origins)    // off the request path: what arrived since
//	st := ix.Counts(origins)            // readers: what was examined, no I/O
//
// Per origin it keeps a watermark (every entry up to it is complete),
// persisted in the log's metadata, and the incomplete entries above it in
// memory (with the bytes they miss). Entries above what it has examined
// are examined by Examine (a hub runs it on its own goroutine as entries
// arrive) or when a session asks (Missing), at most MaxScan per origin and
// call, and what moved is saved in one metadata write per call; a restart
// examines again from the persisted watermark. Readers (dashboards,
// /metrics, status) call Counts, which reads what was last examined and
// published: no log read, no write, no lock the examining holds across
// I/O. Memory is O(origins + incomplete entries), not O(entries).
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
// → uvarint seq, uvarint entries with blobs up to it (a watermark saved
// without that count, by an older version, is examined again from 0).
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

// maxMetaPerWrite bounds the watermarks and counts saved in one metadata
// write (a round over many origins writes in chunks of this many).
const maxMetaPerWrite = 4096

// Index is the index of incomplete dossiers. It is safe for concurrent use.
type Index struct {
	log   Log
	store Haser
	refs  blob.RefsFunc

	// mu guards the examining state: held across log reads, blob look-ups
	// and metadata writes, never by readers.
	mu      sync.Mutex
	origins map[replication.OriginID]*origin
	// dirty: origins whose watermark or count moved since saved.
	dirty map[replication.OriginID]struct{}

	// published is what readers see: OriginID → OriginNeeds as of the
	// last change of that origin (Counts).
	published sync.Map
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
	missingBytes                  int64 // the sum of missing
	// dossiersThrough counts the entries with blobs up to through (saved
	// with the watermark); refsAbove lists those above it examined, so
	// that readers can tell the dossiers counted but not examined again
	// since a restart (not known complete yet) from the complete ones.
	dossiersThrough uint64
	refsAbove       []uint64
}

// Open loads the persisted watermarks.
func Open(log Log, store Haser, refs blob.RefsFunc) (*Index, error) {
	ix := &Index{log: log, store: store, refs: refs, origins: map[replication.OriginID]*origin{}, dirty: map[replication.OriginID]struct{}{}}
	var bad error
	err := log.ScanMeta(metaPrefix, func(key string, value []byte) bool {
		var o replication.OriginID
		seq, n := binary.Uvarint(value)
		if len(key) != len(metaPrefix)+len(o) || n <= 0 {
			bad = fmt.Errorf("needs: watermark %q is malformed", key)
			return false
		}
		count, m := binary.Uvarint(value[n:])
		if m <= 0 {
			seq, count = 0, 0 // saved without its count: examine again
		}
		copy(o[:], key[len(metaPrefix):])
		ix.origins[o] = &origin{through: seq, saved: seq, scanned: seq, missing: map[uint64]int64{}, dossiersThrough: count}
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
	for o, st := range ix.origins {
		ix.publishLocked(o, st)
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
	if _, err := ix.scanLocked(o, st); err != nil {
		return 0, err
	}
	if err := ix.saveLocked(); err != nil {
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
// held head and at most MaxScan of them, and publishes what moved; what
// moved is saved by the next saveLocked. more: MaxScan stopped it below
// the head.
func (ix *Index) scanLocked(o replication.OriginID, st *origin) (more bool, err error) {
	head, err := ix.log.Head(o)
	if err != nil || head.Seq <= st.scanned {
		return false, err
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
			st.missingBytes += missing
		}
		if refs {
			st.refsAbove = append(st.refsAbove, e.Seq)
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
	ix.advanceLocked(o, st)
	return st.scanned < head.Seq, err
}

// saveLocked persists the watermarks and counts that moved, in one
// metadata write (or a few, for very many origins).
func (ix *Index) saveLocked() error {
	var kvs []oplog.KV
	var saved []*origin
	flush := func() error {
		if len(kvs) == 0 {
			return nil
		}
		if err := ix.log.PutMeta(kvs...); err != nil {
			return err
		}
		for _, st := range saved {
			st.countSaved, st.saved = st.counted, st.through
		}
		kvs, saved = kvs[:0], saved[:0]
		return nil
	}
	for o := range ix.dirty {
		st := ix.origins[o]
		if st.counted != st.countSaved {
			v := binary.AppendUvarint(binary.AppendUvarint(nil, st.counted), st.dossiers)
			kvs = append(kvs, oplog.KV{Key: countPrefix + string(o[:]), Value: v})
		}
		if st.through != st.saved {
			v := binary.AppendUvarint(binary.AppendUvarint(nil, st.through), st.dossiersThrough)
			kvs = append(kvs, oplog.KV{Key: metaPrefix + string(o[:]), Value: v})
		}
		saved = append(saved, st)
		if len(kvs) >= maxMetaPerWrite {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	clear(ix.dirty)
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

// advanceLocked moves the watermark up to the first incomplete entry,
// marks the origin to save when its watermark or count moved, and
// publishes it to readers.
func (ix *Index) advanceLocked(o replication.OriginID, st *origin) {
	through := st.scanned
	for s := range st.missing {
		through = min(through, s-1)
	}
	st.through = through
	n := 0
	for n < len(st.refsAbove) && st.refsAbove[n] <= through {
		n++
	}
	st.dossiersThrough += uint64(n)
	st.refsAbove = slices.Delete(st.refsAbove, 0, n)
	if st.through != st.saved || st.counted != st.countSaved {
		ix.dirty[o] = struct{}{}
	}
	ix.publishLocked(o, st)
}

// publishLocked makes st what readers of o see. Dossiers counted but not
// examined since a restart are not known complete: incomplete until the
// next examining says.
func (ix *Index) publishLocked(o replication.OriginID, st *origin) {
	known := st.dossiersThrough + uint64(len(st.refsAbove))
	incomplete := len(st.missing)
	if st.dossiers > known {
		incomplete += int(st.dossiers - known)
	}
	ix.published.Store(o, OriginNeeds{Origin: o, Through: st.through, Examined: st.scanned, Incomplete: incomplete,
		MissingBytes: st.missingBytes, Dossiers: st.dossiers})
}

// Recheck examines these entries again (blobs of theirs arrived): those
// now complete leave the index.
func (ix *Index) Recheck(ids ...replication.EntryID) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	changed := map[replication.OriginID]*origin{}
	err := ix.recheckLocked(ids, changed)
	for o, st := range changed { // what changed before an error stands
		ix.advanceLocked(o, st)
	}
	if err != nil {
		return err
	}
	return ix.saveLocked()
}

func (ix *Index) recheckLocked(ids []replication.EntryID, changed map[replication.OriginID]*origin) error {
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
		st.missingBytes += n - st.missing[id.Seq]
		if n > 0 {
			st.missing[id.Seq] = n
		} else {
			delete(st.missing, id.Seq)
		}
		changed[id.Origin] = st
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
	// Incomplete entries, and the bytes of the blobs they miss. After a
	// restart, the dossiers above the watermark count as incomplete until
	// examined again (their bytes are not in MissingBytes).
	Incomplete   int   `json:"incomplete"`
	MissingBytes int64 `json:"missing_bytes"`
	// Dossiers counts the examined entries that reference blobs: the
	// complete ones are Dossiers - Incomplete.
	Dossiers uint64 `json:"dossiers"`
}

// Examine examines, for each of these origins, the entries that arrived
// since the last call (at most MaxScan per origin), publishes what it
// found to readers and saves what moved in one metadata write. more: some
// origin has more to examine (call again). It holds the index for one
// origin at a time: sessions asking (Missing, Recheck) wait for one
// origin's scan at most. Examine is for a goroutine fed by ingest, never
// for a request path.
func (ix *Index) Examine(os []replication.OriginID) (more bool, err error) {
	for _, o := range os {
		ix.mu.Lock()
		m, err := ix.scanLocked(o, ix.originLocked(o))
		ix.mu.Unlock()
		if err != nil {
			return false, err
		}
		more = more || m
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return more, ix.saveLocked()
}

// Counts returns what readers see of these origins: what was examined and
// published last (zero for an origin not examined yet). It reads no log,
// writes nothing and waits on no examining: a dashboard, /metrics and
// status call it at every request, whatever the hub is ingesting.
func (ix *Index) Counts(os []replication.OriginID) []OriginNeeds {
	out := make([]OriginNeeds, len(os))
	for i, o := range os {
		if v, ok := ix.published.Load(o); ok {
			out[i] = v.(OriginNeeds)
		} else {
			out[i] = OriginNeeds{Origin: o}
		}
	}
	return out
}

// Origins examines these origins (Examine, one call) and returns what
// they miss (Counts): for tools and ingest-side callers that need the
// answer up to date; readers call Counts.
func (ix *Index) Origins(os []replication.OriginID) ([]OriginNeeds, error) {
	if _, err := ix.Examine(os); err != nil {
		return nil, err
	}
	return ix.Counts(os), nil
}
