package kv

import (
	"bytes"
	"errors"
)

// ErrNotFound is returned by Get when the key holds nothing.
var ErrNotFound = errors.New("kv: not found")

// ErrTooBig is returned by Update when a transaction holds more than the
// store takes in one commit; nothing of it was written.
var ErrTooBig = errors.New("kv: transaction too big for one commit")

// Reader reads one consistent snapshot.
type Reader interface {
	// Get returns the value at key (the caller's to keep), or ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Scan calls fn with each key that starts with prefix and is ≥ from
	// (nil: from the start of the prefix), in key order, until fn returns
	// false. key and value are valid only during the call.
	Scan(prefix, from []byte, fn func(key, value []byte) bool) error
}

// Txn is a write transaction: it reads its own writes.
type Txn interface {
	Reader
	// Set stores value at key. The transaction keeps both slices: the
	// caller must not change them afterwards.
	Set(key, value []byte) error
	// Delete removes key (nothing if it holds nothing).
	Delete(key []byte) error
}

// DB is an ordered key-value store.
type DB interface {
	// View runs fn on a consistent snapshot.
	View(fn func(r Reader) error) error
	// Update runs fn in a transaction and commits it if fn returns nil:
	// all of it or nothing (ErrTooBig when it does not fit one commit).
	Update(fn func(t Txn) error) error
}

// PrefixEnd returns the first key after every key with prefix (nil when
// there is none: the prefix is all 0xff).
func PrefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// scanStart is where a scan of prefix from from begins.
func scanStart(prefix, from []byte) []byte {
	if bytes.Compare(from, prefix) > 0 {
		return from
	}
	return prefix
}
