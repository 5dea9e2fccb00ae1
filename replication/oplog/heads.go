package oplog

import (
	"sync"

	"fieldsync/replication"
)

// Heads is a log's committed head of every origin, kept in memory: what
// Head and Vector answer without touching the store. It is the one
// bookkeeping both logs share (Mem here, the Badger log in package
// storage). Readers may call it from any goroutine; a log publishes a
// transaction's heads only after the transaction committed.
type Heads struct {
	mu sync.RWMutex
	m  map[replication.OriginID]replication.Head
}

// NewHeads returns an empty table.
func NewHeads() *Heads { return &Heads{m: map[replication.OriginID]replication.Head{}} }

// Head returns o's committed head (zero if none).
func (h *Heads) Head(o replication.OriginID) replication.Head {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.m[o]
}

// Vector returns a copy of every head.
func (h *Heads) Vector() replication.Vector {
	h.mu.RLock()
	defer h.mu.RUnlock()
	v := make(replication.Vector, len(h.m))
	for o, hd := range h.m {
		v[o] = hd
	}
	return v
}

// Publish makes a committed transaction's heads visible (TxHeads.Written).
func (h *Heads) Publish(written map[replication.OriginID]replication.Head) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for o, hd := range written {
		h.m[o] = hd
	}
}

// Clone returns an independent copy (a snapshot of the log).
func (h *Heads) Clone() *Heads {
	return &Heads{m: h.Vector()}
}

// headReader is what a transaction's heads read beneath what it wrote:
// the committed table, or an enclosing transaction.
type headReader interface {
	Head(o replication.OriginID) replication.Head
}

// TxHeads is a transaction's view of the heads: what it wrote, over what
// lies beneath (the committed Heads, or an enclosing TxHeads when one
// transaction runs several checked parts).
type TxHeads struct {
	under   headReader
	Written map[replication.OriginID]replication.Head
}

// NewTxHeads returns a transaction's heads over under.
func NewTxHeads(under headReader) *TxHeads {
	return &TxHeads{under: under, Written: map[replication.OriginID]replication.Head{}}
}

// Head returns o's head as of the transaction.
func (t *TxHeads) Head(o replication.OriginID) replication.Head {
	if hd, ok := t.Written[o]; ok {
		return hd
	}
	return t.under.Head(o)
}

// Put records o's new head in the transaction.
func (t *TxHeads) Put(o replication.OriginID, hd replication.Head) { t.Written[o] = hd }
