package storage

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"fieldsync/storage/kv"
)

// DB is a kv.DB on a Badger database of its own (the hub keeps its view in
// one, beside the log): encrypted like the log, under the same key.
//
// Unless Options.NoSync, a commit is synced before Update returns. A store
// that is derived from the log and names what it was derived from in each
// transaction (the view's watermark) opens with NoSync: a crash then loses
// a suffix of whole transactions, never part of one, and the store picks
// up again from what it names.
type DB struct {
	db      *badger.DB
	dir     string
	opts    Options
	minFree int64

	mu     sync.RWMutex
	closed bool
}

var _ kv.DB = (*DB)(nil)

// Open opens (creating if needed) the store in opts.Dir; see OpenLog for
// the checks on the key.
func Open(opts Options) (*DB, error) {
	db, minFree, err := openBadger(opts)
	if err != nil {
		return nil, err
	}
	return &DB{db: db, dir: opts.Dir, opts: opts, minFree: minFree}, nil
}

// View implements kv.DB: fn reads one snapshot (Badger's MVCC), and never
// waits for a writer.
func (d *DB) View(fn func(r kv.Reader) error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	return d.db.View(func(txn *badger.Txn) error { return fn(dbTxn{txn}) })
}

// Update implements kv.DB.
func (d *DB) Update(fn func(t kv.Txn) error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	if err := checkFree(d.dir, d.minFree); err != nil {
		return err
	}
	txn := d.db.NewTransaction(true)
	defer txn.Discard()
	if err := fn(dbTxn{txn}); err != nil {
		return diskFullError(d.dir, tooBig(err))
	}
	if err := txn.Commit(); err != nil {
		return diskFullError(d.dir, fmt.Errorf("storage: commit: %w", tooBig(err)))
	}
	return nil
}

func tooBig(err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("%w: %w", kv.ErrTooBig, err)
	}
	return err
}

// Sync writes everything committed to disk (for a store opened NoSync).
func (d *DB) Sync() error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	return d.db.Sync()
}

// Close closes the store; it waits for transactions in progress.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	d.closed = true
	return d.db.Close()
}

// dbTxn adapts a Badger transaction to kv.Txn.
type dbTxn struct{ txn *badger.Txn }

func (t dbTxn) Get(key []byte) ([]byte, error) {
	item, err := t.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

func (t dbTxn) Scan(prefix, from []byte, fn func(key, value []byte) bool) error {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	start := prefix
	if bytes.Compare(from, prefix) > 0 {
		start = from
	}
	for it.Seek(start); it.Valid(); it.Next() {
		item := it.Item()
		var stop bool
		err := item.Value(func(v []byte) error {
			stop = !fn(item.Key(), v)
			return nil
		})
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
	return nil
}

func (t dbTxn) Set(key, value []byte) error { return t.txn.Set(key, value) }

func (t dbTxn) Delete(key []byte) error { return t.txn.Delete(key) }
