package oplog

import (
	"sort"
	"strings"
	"sync"

	"fieldsync/replication"
)

// Mem is an in-memory Log for tests and the deterministic simulation. It
// keeps encoded entries, so callers can never alias its state, and a
// "crash" is modelled by keeping the Mem and dropping everything else: every
// write is durable the moment it returns, as on disk.
type Mem struct {
	mu      sync.RWMutex
	entries map[replication.EntryID][]byte
	heads   *Heads
	meta    map[string][]byte
	closed  bool
}

var _ Log = (*Mem)(nil)

// NewMem returns an empty in-memory log.
func NewMem() *Mem {
	return &Mem{
		entries: map[replication.EntryID][]byte{},
		heads:   NewHeads(),
		meta:    map[string][]byte{},
	}
}

// Reopen models a restart: the same durable state behind a fresh handle.
func (m *Mem) Reopen() *Mem {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = false
	return m
}

// Snapshot returns a deep copy of the durable state — entries, heads and
// metadata — as a new, open Mem: a disk image. Writes to either log never
// show in the other. The simulation restores a laptop from one taken
// earlier, or runs a second laptop on one (a clone).
func (m *Mem) Snapshot() *Mem {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := &Mem{
		entries: make(map[replication.EntryID][]byte, len(m.entries)),
		heads:   m.heads.Clone(),
		meta:    make(map[string][]byte, len(m.meta)),
	}
	for id, b := range m.entries {
		c.entries[id] = append([]byte(nil), b...)
	}
	for k, v := range m.meta {
		c.meta[k] = append([]byte(nil), v...)
	}
	return c
}

// memTx buffers one transaction's writes over the committed maps.
type memTx struct {
	m       *Mem
	entries map[replication.EntryID][]byte
	heads   *TxHeads
}

func (t *memTx) Head(o replication.OriginID) (replication.Head, error) { return t.heads.Head(o), nil }

func (t *memTx) Get(id replication.EntryID) (replication.Entry, bool, error) {
	b, ok := t.entries[id]
	if !ok {
		b, ok = t.m.entries[id]
	}
	if !ok {
		return replication.Entry{}, false, nil
	}
	e, err := replication.DecodeEntry(b)
	return e, err == nil, err
}

func (t *memTx) PutEntry(e replication.Entry) error {
	b, err := e.MarshalBinary()
	if err != nil {
		return err
	}
	t.entries[e.ID()] = b
	return nil
}

func (t *memTx) PutHead(o replication.OriginID, h replication.Head) error {
	t.heads.Put(o, h)
	return nil
}

// update runs fn in a transaction and commits its writes if fn succeeds.
func (m *Mem) update(fn func(tx *memTx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	tx := &memTx{m: m, entries: map[replication.EntryID][]byte{}, heads: NewTxHeads(m.heads)}
	if err := fn(tx); err != nil {
		return err
	}
	for id, b := range tx.entries {
		m.entries[id] = b
	}
	m.heads.Publish(tx.heads.Written)
	return nil
}

// Append implements Log.
func (m *Mem) Append(s replication.Signer, drafts []replication.Draft) ([]replication.Entry, error) {
	var out []replication.Entry
	err := m.update(func(tx *memTx) error {
		var err error
		out, err = PlanAppend(tx, s, drafts)
		return err
	})
	return out, err
}

// Ingest implements Log.
func (m *Mem) Ingest(entries []replication.Entry, meta []KV) (IngestResult, error) {
	var res IngestResult
	if err := CheckMeta(meta); err != nil {
		return res, err
	}
	err := m.update(func(tx *memTx) error {
		var err error
		if res, err = PlanIngest(tx, entries); err != nil {
			return err
		}
		m.putMetaLocked(meta)
		return nil
	})
	return res, err
}

// Head implements Log.
func (m *Mem) Head(o replication.OriginID) (replication.Head, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return replication.Head{}, ErrClosed
	}
	return m.heads.Head(o), nil
}

// Vector implements Log.
func (m *Mem) Vector() (replication.Vector, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	return m.heads.Vector(), nil
}

// Get implements Log.
func (m *Mem) Get(id replication.EntryID) (replication.Entry, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return replication.Entry{}, ErrClosed
	}
	b, ok := m.entries[id]
	if !ok {
		return replication.Entry{}, ErrNotFound
	}
	return replication.DecodeEntry(b)
}

// Scan implements Log.
func (m *Mem) Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error {
	if from == 0 {
		from = 1
	}
	for seq := from; ; seq++ {
		e, err := m.Get(replication.EntryID{Origin: o, Seq: seq})
		if err == ErrNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if !fn(e) {
			return nil
		}
	}
}

// GetMeta implements Log.
func (m *Mem) GetMeta(key string) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	v, ok := m.meta[key]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

// PutMeta implements Log.
func (m *Mem) PutMeta(kvs ...KV) error {
	if err := CheckMeta(kvs); err != nil {
		return err
	}
	return m.update(func(*memTx) error { m.putMetaLocked(kvs); return nil })
}

func (m *Mem) putMetaLocked(kvs []KV) {
	for _, kv := range kvs {
		if kv.Value == nil {
			delete(m.meta, kv.Key)
			continue
		}
		m.meta[kv.Key] = append([]byte(nil), kv.Value...)
	}
}

// ScanMeta implements Log.
func (m *Mem) ScanMeta(prefix string, fn func(string, []byte) bool) error {
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	var keys []string
	for k := range m.meta {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = append([]byte(nil), m.meta[k]...)
	}
	m.mu.RUnlock()
	for i, k := range keys {
		if !fn(k, vals[i]) {
			return nil
		}
	}
	return nil
}

// Close implements Log.
func (m *Mem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	return nil
}
