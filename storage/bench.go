package storage

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// BareWriter is the baseline for append latency: a Badger database opened
// with the same options as the log (synced writes), written one key per
// transaction. It is what a durable append costs at the very least on this
// disk; Append adds seq allocation, the head record, hashing and signing.
// Benchmarks only.
type BareWriter struct{ db *badger.DB }

// OpenBareWriter opens a fresh baseline database in dir.
func OpenBareWriter(dir string) (*BareWriter, error) {
	db, err := badger.Open(badgerOptions(Options{Dir: dir}))
	if err != nil {
		return nil, fmt.Errorf("storage: bare baseline: %w", err)
	}
	return &BareWriter{db: db}, nil
}

// Write stores value under key i in one synced transaction.
func (w *BareWriter) Write(i int, value []byte) error {
	key := fmt.Appendf(nil, "bench-%09d", i)
	return w.db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) })
}

// Close closes the baseline database.
func (w *BareWriter) Close() error { return w.db.Close() }
