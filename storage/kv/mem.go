package kv

import (
	"bytes"
	"sync"

	"github.com/google/btree"
)

// item is one key and value in a tree; a nil value in a Batch is a
// deletion.
type item struct {
	key, value []byte
	deleted    bool
}

func less(a, b item) bool { return bytes.Compare(a.key, b.key) < 0 }

// Mem is an in-memory DB. View reads a copy-on-write snapshot, so readers
// never wait for a writer; writers are serialized. Values are copied in
// and out: no caller can alias its state.
type Mem struct {
	mu   sync.Mutex // serializes writers; guards tree
	tree *btree.BTreeG[item]
}

var _ DB = (*Mem)(nil)

// NewMem returns an empty in-memory store.
func NewMem() *Mem { return &Mem{tree: btree.NewG(16, less)} }

// View implements DB.
func (m *Mem) View(fn func(r Reader) error) error {
	m.mu.Lock()
	snap := m.tree.Clone()
	m.mu.Unlock()
	return fn(treeReader{snap})
}

// Update implements DB.
func (m *Mem) Update(fn func(t Txn) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := NewBatch(treeReader{m.tree})
	if err := fn(b); err != nil {
		return err
	}
	b.each(func(it item) {
		if it.deleted {
			m.tree.Delete(it)
		} else {
			m.tree.ReplaceOrInsert(item{key: bytes.Clone(it.key), value: bytes.Clone(it.value)})
		}
	})
	return nil
}

// Len returns the number of keys held (tests).
func (m *Mem) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tree.Len()
}

// treeReader reads a tree that nobody writes while it is read.
type treeReader struct{ t *btree.BTreeG[item] }

func (r treeReader) Get(key []byte) ([]byte, error) {
	it, ok := r.t.Get(item{key: key})
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(it.value), nil
}

func (r treeReader) Scan(prefix, from []byte, fn func(key, value []byte) bool) error {
	visit := func(it item) bool {
		if !bytes.HasPrefix(it.key, prefix) {
			return false
		}
		return fn(it.key, it.value)
	}
	start := item{key: scanStart(prefix, from)}
	if end := PrefixEnd(prefix); end != nil {
		r.t.AscendRange(start, item{key: end}, visit)
	} else {
		r.t.AscendGreaterOrEqual(start, visit)
	}
	return nil
}
