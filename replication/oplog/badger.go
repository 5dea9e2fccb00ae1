package oplog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"fieldsync/replication"
)

// Key layout. Fixed-length origin IDs and big-endian seqs make "every entry
// of origin X from seq N" one ordered prefix scan.
const (
	prefixEntry = 'e' // e | origin(16) | seq(8 BE) → entry encoding
	prefixHead  = 'h' // h | origin(16) → seq(8 BE) | hash(32)
	prefixMeta  = 'm' // m | key → value
)

// Profile sizes Badger's memory for the machine it runs on.
type Profile int

const (
	// ProfileField suits a commune laptop: small memtables and caches.
	ProfileField Profile = iota
	// ProfileHub suits a hub server ingesting a province.
	ProfileHub
	// ProfileSmall keeps memory low where many replicas share a machine:
	// the demo runs a whole province in one process.
	ProfileSmall
)

// Options configures a Badger log.
type Options struct {
	// Dir is the data directory. Required unless InMemory.
	Dir string
	// InMemory keeps everything in memory (tests only).
	InMemory bool
	// EncryptionKey, when set, is the AES-256 master key (MasterKeySize
	// bytes): Badger encrypts every file it writes (AES-CTR) under data keys
	// that it rotates every DataKeyRotation and keeps in its key registry,
	// encrypted under this key; see docs/keys.md.
	EncryptionKey []byte
	// MustExist makes Open fail with ErrNoLog, rather than create an empty
	// log, when Dir holds none: a data directory whose log vanished must
	// not silently start again from nothing.
	MustExist bool
	// MinFreeBytes is the free-space floor: a write is refused with
	// ErrDiskFull, before anything is written or acknowledged, when the
	// disk holding Dir has less free. Zero takes DefaultMinFree of the
	// profile; negative turns the check off (benchmarks, tests).
	MinFreeBytes int64
	// Profile sizes memory; the zero value is ProfileField.
	Profile Profile
	// Logger receives Badger's own warnings and errors; nil discards them.
	Logger *slog.Logger
	// NoSync turns off synced writes. Only benchmarks use it, to measure
	// what durability costs; nothing that acknowledges data may.
	NoSync bool
}

// Badger is the Log on a Badger database: the only code in fieldsync that
// imports Badger. Writes are serialized by one mutex (a single writer, as
// seq allocation requires) and synced before they return.
type Badger struct {
	db      *badger.DB
	dir     string
	minFree int64      // free-space floor, 0 = unchecked
	writeMu sync.Mutex // serializes every write transaction

	mu     sync.RWMutex
	heads  map[replication.OriginID]replication.Head // committed heads
	closed bool
}

var _ Log = (*Badger)(nil)

// Open opens (creating if needed) the log in opts.Dir, then verifies every
// origin's head: the head entry exists, hashes to the stored head, has no
// successor, and its signature (if held) verifies against the origin's
// genesis key.
//
// With an EncryptionKey, the key is checked against the key registry before
// anything in Dir is touched: a wrong key fails with ErrWrongKey and
// changes nothing on disk.
func Open(opts Options) (*Badger, error) {
	if err := checkKeySize(opts.EncryptionKey); err != nil {
		return nil, err
	}
	if !opts.InMemory {
		if err := checkExisting(opts); err != nil {
			return nil, err
		}
		if err := removeEmptyValueLogs(opts.Dir); err != nil {
			return nil, err
		}
	}
	bo := badgerOptions(opts)
	db, err := badger.Open(bo)
	if err != nil {
		return nil, translateOpenError(opts.Dir, err)
	}
	b := &Badger{db: db, dir: opts.Dir, heads: map[replication.OriginID]replication.Head{}}
	if !opts.InMemory {
		b.minFree = minFreeFor(opts.MinFreeBytes, bo)
	}
	if err := b.loadHeads(); err != nil {
		db.Close()
		return nil, err
	}
	if err := b.verifyHeads(); err != nil {
		db.Close()
		return nil, err
	}
	return b, nil
}

// removeEmptyValueLogs deletes zero-length value-log files before Badger
// opens the directory. A kill -9 between Badger creating a .vlog file and
// writing its header leaves one behind, and Badger v4.9.6 then refuses to
// open ("Open existing file: …vlog err: Create a new file": logFile.open
// returns z.NewFile for it and valueLog.open treats that as an error). A
// zero-length file holds no data — not even the 20-byte header every value
// log starts with — so removing it loses nothing. Found by the kill -9 test.
func removeEmptyValueLogs(dir string) error {
	matches, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		return err
	}
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Size() == 0 {
			if err := os.Remove(m); err != nil {
				return fmt.Errorf("oplog: remove empty value log %s: %w", m, err)
			}
		}
	}
	return nil
}

func badgerOptions(opts Options) badger.Options {
	o := badger.DefaultOptions(opts.Dir).
		WithSyncWrites(!opts.NoSync).
		WithDetectConflicts(false). // one writer: nothing to conflict with
		WithLogger(badgerLogger{opts.Logger}).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(1).
		WithBlockCacheSize(16 << 20). // > 0: required with compression or encryption
		WithIndexCacheSize(16 << 20). // > 0: required with encryption (LIBRARIES.md pitfall 3)
		WithEncryptionKeyRotationDuration(DataKeyRotation)
	switch opts.Profile {
	case ProfileSmall:
		o = o.WithMemTableSize(16 << 20).WithNumMemtables(2).WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(8).
			WithBaseTableSize(2 << 20).WithValueLogFileSize(16 << 20).WithBlockCacheSize(4 << 20).WithIndexCacheSize(4 << 20)
	case ProfileHub:
		o = o.WithMemTableSize(64 << 20).WithNumMemtables(3).WithBaseTableSize(8 << 20).
			WithValueLogFileSize(256 << 20).WithBlockCacheSize(128 << 20).WithIndexCacheSize(64 << 20)
	default:
		o = o.WithMemTableSize(32 << 20).WithNumMemtables(2).WithNumLevelZeroTables(2).
			WithNumLevelZeroTablesStall(8).WithBaseTableSize(4 << 20).WithValueLogFileSize(64 << 20)
	}
	if opts.InMemory {
		o = o.WithInMemory(true).WithDir("").WithValueDir("")
	}
	if len(opts.EncryptionKey) > 0 {
		o = o.WithEncryptionKey(opts.EncryptionKey)
	}
	return o
}

func translateOpenError(dir string, err error) error {
	switch {
	case errors.Is(err, badger.ErrEncryptionKeyMismatch):
		return fmt.Errorf("%w (%s): %w", ErrWrongKey, dir, err)
	case strings.Contains(err.Error(), "Cannot acquire directory lock"):
		return fmt.Errorf("%w: %s", ErrLocked, dir)
	}
	return fmt.Errorf("oplog: open %s: %w", dir, err)
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
		return h, fmt.Errorf("%w: head record of %d bytes", ErrCorrupt, len(b))
	}
	h.Seq = binary.BigEndian.Uint64(b)
	copy(h.Hash[:], b[8:])
	return h, nil
}

func (b *Badger) loadHeads() error {
	return b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixHead}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var o replication.OriginID
			copy(o[:], it.Item().Key()[1:])
			err := it.Item().Value(func(v []byte) error {
				h, err := decodeHead(v)
				b.heads[o] = h
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// verifyHeads is the paired assertion for every head: what the head record
// says must match the entries stored.
func (b *Badger) verifyHeads() error {
	for o, h := range b.heads {
		e, err := b.Get(replication.EntryID{Origin: o, Seq: h.Seq})
		if err != nil {
			return fmt.Errorf("%w: head of %s names seq %d: %v", ErrCorrupt, o.Short(), h.Seq, err)
		}
		if e.Hash() != h.Hash {
			return fmt.Errorf("%w: head entry %s does not hash to the stored head", ErrCorrupt, e.ID())
		}
		if _, err := b.Get(replication.EntryID{Origin: o, Seq: h.Seq + 1}); err == nil {
			return fmt.Errorf("%w: origin %s has an entry after its head %d", ErrCorrupt, o.Short(), h.Seq)
		}
		if err := b.verifyHeadSig(e); err != nil {
			return err
		}
	}
	return nil
}

func (b *Badger) verifyHeadSig(e replication.Entry) error {
	if e.Sig == nil {
		return nil
	}
	gen, err := b.Get(replication.EntryID{Origin: e.Origin, Seq: 1})
	if err != nil {
		return fmt.Errorf("%w: origin %s has no genesis: %v", ErrCorrupt, e.Origin.Short(), err)
	}
	g, err := replication.VerifyGenesis(&gen)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := replication.VerifySignature(g.PublicKey, e.Hash(), e.Sig); err != nil {
		return fmt.Errorf("%w: head %s: %v", ErrCorrupt, e.ID(), err)
	}
	return nil
}

// badgerTx adapts a Badger write transaction to the shared rules.
type badgerTx struct {
	txn   *badger.Txn
	heads map[replication.OriginID]replication.Head // written in this txn
	b     *Badger
}

func (t *badgerTx) head(o replication.OriginID) (replication.Head, error) {
	if h, ok := t.heads[o]; ok {
		return h, nil
	}
	t.b.mu.RLock()
	defer t.b.mu.RUnlock()
	return t.b.heads[o], nil
}

func (t *badgerTx) get(id replication.EntryID) (replication.Entry, bool, error) {
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
		return e, false, fmt.Errorf("%w: entry %s: %v", ErrCorrupt, id, err)
	}
	return e, true, nil
}

func (t *badgerTx) putEntry(e replication.Entry) error {
	v, err := e.MarshalBinary()
	if err != nil {
		return err
	}
	return t.txn.Set(entryKey(e.ID()), v)
}

func (t *badgerTx) putHead(o replication.OriginID, h replication.Head) error {
	t.heads[o] = h
	return t.txn.Set(headKey(o), encodeHead(h))
}

// update runs fn in one write transaction, commits it (synced), and only
// then publishes the new heads to readers.
func (b *Badger) update(fn func(tx *badgerTx) error) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if b.isClosed() {
		return ErrClosed
	}
	if err := b.checkFree(); err != nil {
		return err
	}
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	tx := &badgerTx{txn: txn, heads: map[replication.OriginID]replication.Head{}, b: b}
	if err := fn(tx); err != nil {
		return diskFullError(b.dir, err)
	}
	if err := txn.Commit(); err != nil {
		return diskFullError(b.dir, fmt.Errorf("oplog: commit: %w", err))
	}
	b.mu.Lock()
	for o, h := range tx.heads {
		b.heads[o] = h
	}
	b.mu.Unlock()
	return nil
}

func (b *Badger) isClosed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}

// Append implements Log.
func (b *Badger) Append(s replication.Signer, drafts []replication.Draft) ([]replication.Entry, error) {
	var out []replication.Entry
	err := b.update(func(tx *badgerTx) error {
		var err error
		out, err = planAppend(tx, s, drafts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Ingest implements Log.
func (b *Badger) Ingest(entries []replication.Entry, meta []KV) (IngestResult, error) {
	var res IngestResult
	if err := checkMeta(meta); err != nil {
		return res, err
	}
	err := b.update(func(tx *badgerTx) error {
		var err error
		if res, err = planIngest(tx, entries); err != nil {
			return err
		}
		return setMeta(tx.txn, meta)
	})
	if err != nil {
		return IngestResult{}, err
	}
	return res, nil
}

func setMeta(txn *badger.Txn, kvs []KV) error {
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

// Head implements Log.
func (b *Badger) Head(o replication.OriginID) (replication.Head, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return replication.Head{}, ErrClosed
	}
	return b.heads[o], nil
}

// Vector implements Log.
func (b *Badger) Vector() (replication.Vector, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, ErrClosed
	}
	v := make(replication.Vector, len(b.heads))
	for o, h := range b.heads {
		v[o] = h
	}
	return v, nil
}

// Get implements Log.
func (b *Badger) Get(id replication.EntryID) (replication.Entry, error) {
	if b.isClosed() {
		return replication.Entry{}, ErrClosed
	}
	var e replication.Entry
	err := b.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(entryKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
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

// Scan implements Log.
func (b *Badger) Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error {
	if b.isClosed() {
		return ErrClosed
	}
	if from == 0 {
		from = 1
	}
	prefix := append([]byte{prefixEntry}, o[:]...)
	return b.db.View(func(txn *badger.Txn) error {
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
				return fmt.Errorf("%w: scan %s: %v", ErrCorrupt, o.Short(), err)
			}
			if !fn(e) {
				return nil
			}
		}
		return nil
	})
}

// GetMeta implements Log.
func (b *Badger) GetMeta(key string) ([]byte, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	var out []byte
	err := b.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaKey(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	return out, err
}

// PutMeta implements Log.
func (b *Badger) PutMeta(kvs ...KV) error {
	if err := checkMeta(kvs); err != nil {
		return err
	}
	return b.update(func(tx *badgerTx) error { return setMeta(tx.txn, kvs) })
}

// ScanMeta implements Log.
func (b *Badger) ScanMeta(prefix string, fn func(string, []byte) bool) error {
	if b.isClosed() {
		return ErrClosed
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

// Close implements Log. It waits for a write in progress.
func (b *Badger) Close() error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.closed = true
	b.mu.Unlock()
	return b.db.Close()
}

// Sync forces a sync of everything written (writes are already synced;
// this exists for callers that turned on NoSync in benchmarks).
func (b *Badger) Sync() error { return b.db.Sync() }

// badgerLogger forwards Badger's log lines to slog: errors and warnings as
// such, its chatty info and debug lines at debug level.
type badgerLogger struct{ l *slog.Logger }

func (a badgerLogger) log(level slog.Level, format string, args []any) {
	if a.l == nil {
		return
	}
	a.l.Log(context.Background(), level, strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "badger")
}

func (a badgerLogger) Errorf(f string, v ...any)   { a.log(slog.LevelError, f, v) }
func (a badgerLogger) Warningf(f string, v ...any) { a.log(slog.LevelWarn, f, v) }
func (a badgerLogger) Infof(f string, v ...any)    { a.log(slog.LevelDebug, f, v) }
func (a badgerLogger) Debugf(f string, v ...any)   { a.log(slog.LevelDebug, f, v) }
