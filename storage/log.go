package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// Key layout. Fixed-length origin IDs and big-endian seqs make "every entry
// of origin X from seq N" one ordered prefix scan.
const (
	prefixEntry = 'e' // e | origin(16) | seq(8 BE) → entry encoding
	prefixHead  = 'h' // h | origin(16) → seq(8 BE) | hash(32)
	prefixMeta  = 'm' // m | key → value
)

// Log is the oplog.Log on a Badger database. Writes are serialized by one
// mutex (a single writer, as seq allocation requires) and synced before
// they return.
type Log struct {
	db      *badger.DB
	opts    Options // as opened (VerifyStore reads the tables with them)
	dir     string
	minFree int64      // free-space floor, 0 = unchecked
	writeMu sync.Mutex // serializes every write transaction

	mu     sync.RWMutex // guards closed
	heads  *oplog.Heads // committed heads
	closed bool

	// The append watermark (appended.go), under writeMu.
	appendedF   *os.File
	appendedGen uint64

	// Group commit (commitGroup): Ingest calls that arrive while one
	// commits wait in queue and go in the next transaction together, one
	// sync for all.
	gmu        sync.Mutex
	queue      []*ingestReq
	leading    bool
	groupBytes int // the most payload bytes one group carries
	calls      atomic.Uint64
	groups     atomic.Uint64
}

// IngestGroups returns how many Ingest calls the log took and in how many
// commits (each one sync).
func (b *Log) IngestGroups() (calls, commits uint64) { return b.calls.Load(), b.groups.Load() }

var _ oplog.Log = (*Log)(nil)

// OpenLog opens (creating if needed) the log in opts.Dir, then verifies
// every origin's head: the head entry exists, hashes to the stored head,
// has no successor, and its signature (if held) verifies against the
// origin's genesis key.
//
// With an EncryptionKey, the key is checked against the key registry before
// anything in Dir is touched: a wrong key fails with ErrWrongKey and
// changes nothing on disk.
func OpenLog(opts Options) (*Log, error) {
	mems := memNames(opts.Dir) // before Badger replays them
	db, minFree, err := openBadger(opts)
	if err != nil {
		return nil, err
	}
	b := &Log{db: db, opts: opts, dir: opts.Dir, minFree: minFree, heads: oplog.NewHeads(),
		groupBytes: int(badgerOptions(opts).MemTableSize / 10)}
	if err := b.loadHeads(); err != nil {
		err = b.damaged(err)
		db.Close()
		return nil, err
	}
	if err := b.verifyHeads(); err != nil {
		err = b.damaged(err)
		db.Close()
		return nil, err
	}
	if !opts.InMemory {
		if err := b.checkAppended(mems); err != nil {
			db.Close()
			return nil, err
		}
	}
	return b, nil
}

func entryKey(id replication.EntryID) []byte {
	k := make([]byte, 0, 1+replication.OriginIDSize+8)
	k = append(k, prefixEntry)
	k = append(k, id.Origin[:]...)
	return binary.BigEndian.AppendUint64(k, id.Seq)
}

func headKey(o replication.OriginID) []byte {
	return append([]byte{prefixHead}, o[:]...)
}

func metaKey(key string) []byte { return append([]byte{prefixMeta}, key...) }

func encodeHead(h replication.Head) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+replication.HashSize), h.Seq), h.Hash[:]...)
}

func decodeHead(b []byte) (replication.Head, error) {
	var h replication.Head
	if len(b) != 8+replication.HashSize {
		return h, fmt.Errorf("%w: head record of %d bytes", oplog.ErrCorrupt, len(b))
	}
	h.Seq = binary.BigEndian.Uint64(b)
	copy(h.Hash[:], b[8:])
	return h, nil
}

func (b *Log) loadHeads() error {
	stored := map[replication.OriginID]replication.Head{}
	err := b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixHead}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var o replication.OriginID
			copy(o[:], it.Item().Key()[1:])
			err := it.Item().Value(func(v []byte) error {
				h, err := decodeHead(v)
				stored[o] = h
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	b.heads.Publish(stored)
	return err
}

// verifyHeads is the paired assertion for every head: what the head record
// says must match the entries stored.
func (b *Log) verifyHeads() error {
	for o, h := range b.heads.Vector() {
		e, err := b.Get(replication.EntryID{Origin: o, Seq: h.Seq})
		if err != nil {
			return fmt.Errorf("%w: head of %s names seq %d: %v", oplog.ErrCorrupt, o.Short(), h.Seq, err)
		}
		if e.Hash() != h.Hash {
			return fmt.Errorf("%w: head entry %s does not hash to the stored head", oplog.ErrCorrupt, e.ID())
		}
		if _, err := b.Get(replication.EntryID{Origin: o, Seq: h.Seq + 1}); err == nil {
			return fmt.Errorf("%w: origin %s has an entry after its head %d", oplog.ErrCorrupt, o.Short(), h.Seq)
		}
		if err := b.verifyHeadSig(e); err != nil {
			return err
		}
	}
	return nil
}

func (b *Log) verifyHeadSig(e replication.Entry) error {
	if e.Sig == nil {
		return nil
	}
	gen, err := b.Get(replication.EntryID{Origin: e.Origin, Seq: 1})
	if err != nil {
		return fmt.Errorf("%w: origin %s has no genesis: %v", oplog.ErrCorrupt, e.Origin.Short(), err)
	}
	g, err := replication.VerifyGenesis(&gen)
	if err != nil {
		return fmt.Errorf("%w: %v", oplog.ErrCorrupt, err)
	}
	if err := replication.VerifySignature(g.PublicKey, e.Hash(), e.Sig); err != nil {
		return fmt.Errorf("%w: head %s: %v", oplog.ErrCorrupt, e.ID(), err)
	}
	return nil
}

// badgerTx adapts a Badger write transaction to the shared rules.
type badgerTx struct {
	txn   *badger.Txn
	heads *oplog.TxHeads
}

func (t *badgerTx) Head(o replication.OriginID) (replication.Head, error) {
	return t.heads.Head(o), nil
}

func (t *badgerTx) Get(id replication.EntryID) (replication.Entry, bool, error) {
	item, err := t.txn.Get(entryKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return replication.Entry{}, false, nil
	}
	if err != nil {
		return replication.Entry{}, false, err
	}
	var e replication.Entry
	err = item.Value(func(v []byte) error {
		e, err = replication.DecodeEntry(v)
		return err
	})
	if err != nil {
		return e, false, fmt.Errorf("%w: entry %s: %v", oplog.ErrCorrupt, id, err)
	}
	return e, true, nil
}

func (t *badgerTx) PutEntry(e replication.Entry) error {
	v, err := e.MarshalBinary()
	if err != nil {
		return err
	}
	return t.txn.Set(entryKey(e.ID()), v)
}

func (t *badgerTx) PutHead(o replication.OriginID, h replication.Head) error {
	t.heads.Put(o, h)
	return t.txn.Set(headKey(o), encodeHead(h))
}

// update runs fn in one write transaction, commits it (synced), and only
// then publishes the new heads to readers.
func (b *Log) update(fn func(tx *badgerTx) error, after ...func()) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if b.isClosed() {
		return oplog.ErrClosed
	}
	if err := checkFree(b.dir, b.minFree); err != nil {
		return err
	}
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	tx := &badgerTx{txn: txn, heads: oplog.NewTxHeads(b.heads)}
	if err := fn(tx); err != nil {
		return diskFullError(b.dir, err)
	}
	if err := txn.Commit(); err != nil {
		return diskFullError(b.dir, fmt.Errorf("oplog: commit: %w", err))
	}
	b.heads.Publish(tx.heads.Written)
	for _, f := range after { // still under writeMu: in commit order
		f()
	}
	return nil
}

func (b *Log) isClosed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}

// Append implements oplog.Log.
func (b *Log) Append(s replication.Signer, drafts []replication.Draft) ([]replication.Entry, error) {
	var out []replication.Entry
	err := b.update(func(tx *badgerTx) error {
		var err error
		out, err = oplog.PlanAppend(tx, s, drafts)
		return err
	}, func() {
		if n := len(out); n > 0 {
			last := out[n-1]
			b.noteAppended(replication.OriginHead{Origin: last.Origin, Head: replication.Head{Seq: last.Seq, Hash: last.Hash()}})
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Ingest implements oplog.Log. Concurrent calls (a hub's sessions with
// many laptops) are committed in groups: one transaction and one sync for
// every call that arrived while the previous group was committing, each
// call's rules applied in turn as if alone (a call that fails leaves
// nothing in the group), and each returns once the group is on disk.
func (b *Log) Ingest(entries []replication.Entry, meta []oplog.KV) (oplog.IngestResult, error) {
	if err := oplog.CheckMeta(meta); err != nil {
		return oplog.IngestResult{}, err
	}
	req := &ingestReq{entries: entries, meta: meta, done: make(chan struct{}), lead: make(chan struct{})}
	for i := range entries {
		req.bytes += len(entries[i].Payload)
	}
	b.gmu.Lock()
	b.queue = append(b.queue, req)
	leader := !b.leading
	b.leading = true
	b.gmu.Unlock()
	if !leader {
		select {
		case <-req.done:
			return req.result()
		case <-req.lead: // the last leader handed over: this call commits the next group
		}
	}
	b.commitGroup(b.takeGroup())
	b.gmu.Lock()
	if len(b.queue) > 0 {
		close(b.queue[0].lead)
	} else {
		b.leading = false
	}
	b.gmu.Unlock()
	return req.result()
}

// ingestReq is one Ingest call in a group.
type ingestReq struct {
	entries    []replication.Entry
	meta       []oplog.KV
	bytes      int
	res        oplog.IngestResult
	err        error
	done, lead chan struct{}
}

func (r *ingestReq) result() (oplog.IngestResult, error) {
	if r.err != nil {
		return oplog.IngestResult{}, r.err
	}
	return r.res, nil
}

// takeGroup takes the calls waiting, oldest first, up to groupBytes (the
// first whatever its size): the leader's own is the oldest.
func (b *Log) takeGroup() []*ingestReq {
	b.gmu.Lock()
	defer b.gmu.Unlock()
	n, bytes := 0, 0
	for n < len(b.queue) && (n == 0 || bytes+b.queue[n].bytes <= b.groupBytes) {
		bytes += b.queue[n].bytes
		n++
	}
	group := b.queue[:n:n]
	b.queue = b.queue[n:]
	return group
}

// commitGroup writes a group and tells each call.
func (b *Log) commitGroup(group []*ingestReq) {
	b.calls.Add(uint64(len(group)))
	b.groups.Add(1)
	b.commit(group)
	for _, r := range group {
		close(r.done)
	}
}

// commit writes a group in one transaction; if it is too big for one,
// its calls go one by one.
func (b *Log) commit(group []*ingestReq) {
	err := b.update(func(tx *badgerTx) error {
		for _, r := range group {
			r.res, r.err = oplog.IngestResult{}, nil
			rt := &recordingTx{tx: tx, heads: oplog.NewTxHeads(tx.heads), entries: map[replication.EntryID]replication.Entry{}}
			res, err := oplog.PlanIngest(rt, r.entries)
			if err != nil {
				r.err = err // its own fault: nothing of it is written
				continue
			}
			if err := rt.apply(); err != nil {
				return err
			}
			if err := setMeta(tx.txn, r.meta); err != nil {
				return err
			}
			r.res = res
		}
		return nil
	})
	if errors.Is(err, badger.ErrTxnTooBig) && len(group) > 1 {
		for _, r := range group {
			b.commit([]*ingestReq{r})
		}
		return
	}
	if err != nil {
		for _, r := range group {
			r.res, r.err = oplog.IngestResult{}, err
		}
	}
}

// recordingTx applies the ingest rules of one call over the group's
// transaction, keeping its writes until they all pass.
type recordingTx struct {
	tx      *badgerTx
	heads   *oplog.TxHeads // over the group's
	entries map[replication.EntryID]replication.Entry
	order   []replication.EntryID
}

func (t *recordingTx) Head(o replication.OriginID) (replication.Head, error) {
	return t.heads.Head(o), nil
}

func (t *recordingTx) Get(id replication.EntryID) (replication.Entry, bool, error) {
	if e, ok := t.entries[id]; ok {
		return e, true, nil
	}
	return t.tx.Get(id)
}

func (t *recordingTx) PutEntry(e replication.Entry) error {
	if _, ok := t.entries[e.ID()]; !ok {
		t.order = append(t.order, e.ID())
	}
	t.entries[e.ID()] = e
	return nil
}

func (t *recordingTx) PutHead(o replication.OriginID, h replication.Head) error {
	t.heads.Put(o, h)
	return nil
}

func (t *recordingTx) apply() error {
	for _, id := range t.order {
		if err := t.tx.PutEntry(t.entries[id]); err != nil {
			return err
		}
	}
	for o, h := range t.heads.Written {
		if err := t.tx.PutHead(o, h); err != nil {
			return err
		}
	}
	return nil
}

func setMeta(txn *badger.Txn, kvs []oplog.KV) error {
	for _, kv := range kvs {
		var err error
		if kv.Value == nil {
			err = txn.Delete(metaKey(kv.Key))
		} else {
			err = txn.Set(metaKey(kv.Key), kv.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Head implements oplog.Log.
func (b *Log) Head(o replication.OriginID) (replication.Head, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return replication.Head{}, oplog.ErrClosed
	}
	return b.heads.Head(o), nil
}

// Vector implements oplog.Log.
func (b *Log) Vector() (replication.Vector, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, oplog.ErrClosed
	}
	return b.heads.Vector(), nil
}

// Get implements oplog.Log.
func (b *Log) Get(id replication.EntryID) (replication.Entry, error) {
	if b.isClosed() {
		return replication.Entry{}, oplog.ErrClosed
	}
	var e replication.Entry
	err := b.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(entryKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return oplog.ErrNotFound
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			e, err = replication.DecodeEntry(v)
			return err
		})
	})
	return e, err
}

// Scan implements oplog.Log. A scan that stops short of the origin's
// head while fn wanted more read past a damaged block (Badger's iterator
// ends there without an error): that is a *DamageError, never a shorter
// log.
func (b *Log) Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error {
	if b.isClosed() {
		return oplog.ErrClosed
	}
	if from == 0 {
		from = 1
	}
	head := b.heads.Head(o).Seq
	prefix := append([]byte{prefixEntry}, o[:]...)
	last, stopped := from-1, false
	err := b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Seek(entryKey(replication.EntryID{Origin: o, Seq: from})); it.Valid(); it.Next() {
			var e replication.Entry
			err := it.Item().Value(func(v []byte) error {
				var err error
				e, err = replication.DecodeEntry(v)
				return err
			})
			if err != nil {
				return b.damaged(fmt.Errorf("%w: scan %s: %v", oplog.ErrCorrupt, o.Short(), err))
			}
			last = e.Seq
			if !fn(e) {
				stopped = true
				return nil
			}
		}
		return nil
	})
	if err == nil && !stopped && last < head {
		return b.damaged(fmt.Errorf("%w: the entries of origin %s end at seq %d, below its head %d: part of the store does not read", oplog.ErrCorrupt, o.Short(), last, head))
	}
	return err
}

// damaged names the damaged file behind a read error when it can: the
// error Badger gave, or else the first table that does not read whole.
func (b *Log) damaged(err error) error {
	if d := damage(b.dir, b.db, err); d != nil {
		return d
	}
	if !b.opts.InMemory && errors.Is(err, oplog.ErrCorrupt) {
		if d := verifyTables(b.dir, badgerOptions(b.opts), b.db); d != nil {
			return fmt.Errorf("%w (%w)", d, err)
		}
	}
	return err
}

// GetMeta implements oplog.Log.
func (b *Log) GetMeta(key string) ([]byte, error) {
	if b.isClosed() {
		return nil, oplog.ErrClosed
	}
	var out []byte
	err := b.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaKey(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return oplog.ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	return out, err
}

// PutMeta implements oplog.Log.
func (b *Log) PutMeta(kvs ...oplog.KV) error {
	if err := oplog.CheckMeta(kvs); err != nil {
		return err
	}
	return b.update(func(tx *badgerTx) error { return setMeta(tx.txn, kvs) })
}

// ScanMeta implements oplog.Log.
func (b *Log) ScanMeta(prefix string, fn func(string, []byte) bool) error {
	if b.isClosed() {
		return oplog.ErrClosed
	}
	p := metaKey(prefix)
	return b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if !fn(string(bytes.TrimPrefix(it.Item().Key(), []byte{prefixMeta})), v) {
				return nil
			}
		}
		return nil
	})
}

// Close implements oplog.Log. It waits for a write in progress.
func (b *Log) Close() error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return oplog.ErrClosed
	}
	b.closed = true
	b.mu.Unlock()
	if b.appendedF != nil {
		b.appendedF.Close()
	}
	return b.db.Close()
}

// Sync forces a sync of everything written (writes are already synced;
// this exists for callers that turned on NoSync in benchmarks).
func (b *Log) Sync() error { return b.db.Sync() }
