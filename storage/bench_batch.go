package storage

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"fieldsync/replication"
)

// BatchWriter is the baseline for hub ingest throughput: a Badger database
// opened with exactly the options a log of the same profile gets, written
// through Badger's own bulk path (WriteBatch) with no rules at all — no
// heads, no chain checks, no view. What Ingest adds on top of it is the
// price of the log's guarantees. Benchmarks only.
type BatchWriter struct {
	db *badger.DB
	wb *badger.WriteBatch // open batch, nil between Flushes
}

// OpenBatchWriter opens a fresh baseline database in dir with the options
// of a log of profile p encrypted with key (synced writes, compression,
// encryption, memory sizing).
func OpenBatchWriter(dir string, p Profile, key []byte) (*BatchWriter, error) {
	db, err := badger.Open(badgerOptions(Options{Dir: dir, Profile: p, EncryptionKey: key}))
	if err != nil {
		return nil, fmt.Errorf("storage: batch baseline: %w", err)
	}
	return &BatchWriter{db: db}, nil
}

// EntryKV returns the key and value a log stores for e: the bytes both the
// baseline and Ingest write.
func EntryKV(e *replication.Entry) (key, value []byte, err error) {
	value, err = e.MarshalBinary()
	return entryKey(e.ID()), value, err
}

// Set adds one key and value to the open write batch (opening one if
// needed). Badger commits it in the background when the batch grows past
// its transaction limit; the slices must not change until Flush returns.
func (w *BatchWriter) Set(key, value []byte) error {
	if w.wb == nil {
		w.wb = w.db.NewWriteBatch()
	}
	return w.wb.Set(key, value)
}

// Flush commits everything Set since the last Flush and waits until it is
// written (synced, with the log's options).
func (w *BatchWriter) Flush() error {
	if w.wb == nil {
		return nil
	}
	err := w.wb.Flush()
	w.wb = nil
	return err
}

// Close flushes and closes the baseline database.
func (w *BatchWriter) Close() error {
	ferr := w.Flush()
	if err := w.db.Close(); err != nil {
		return err
	}
	return ferr
}
