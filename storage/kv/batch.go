package kv

import (
	"bytes"

	"github.com/google/btree"
)

// Batch buffers writes over a base Reader and reads through them: Get and
// Scan see the base as changed by the writes so far. A caller works out a
// whole step in a Batch, then writes it into a transaction with WriteTo
// (or drops it). A Batch is not safe for concurrent use.
type Batch struct {
	base   Reader
	writes *btree.BTreeG[item]
	bytes  int // keys and values buffered, for Size
}

var _ Txn = (*Batch)(nil)

// NewBatch returns an empty batch over base.
func NewBatch(base Reader) *Batch { return &Batch{base: base, writes: btree.NewG(16, less)} }

// Get implements Reader.
func (b *Batch) Get(key []byte) ([]byte, error) {
	if it, ok := b.writes.Get(item{key: key}); ok {
		if it.deleted {
			return nil, ErrNotFound
		}
		return bytes.Clone(it.value), nil
	}
	return b.base.Get(key)
}

// Scan implements Reader: the base's keys and the batch's, merged in key
// order, the batch's winning.
func (b *Batch) Scan(prefix, from []byte, fn func(key, value []byte) bool) error {
	var mine []item
	start := item{key: scanStart(prefix, from)}
	collect := func(it item) bool {
		if !bytes.HasPrefix(it.key, prefix) {
			return false
		}
		mine = append(mine, it)
		return true
	}
	b.writes.AscendGreaterOrEqual(start, collect)
	stopped := false
	err := b.base.Scan(prefix, from, func(k, v []byte) bool {
		for len(mine) > 0 && bytes.Compare(mine[0].key, k) <= 0 {
			it := mine[0]
			mine = mine[1:]
			same := bytes.Equal(it.key, k)
			if !it.deleted && !fn(it.key, it.value) {
				stopped = true
				return false
			}
			if same {
				return true // the batch's write replaces the base's value
			}
		}
		if !fn(k, v) {
			stopped = true
			return false
		}
		return true
	})
	if err != nil || stopped {
		return err
	}
	for _, it := range mine {
		if !it.deleted && !fn(it.key, it.value) {
			return nil
		}
	}
	return nil
}

// Set implements Txn.
func (b *Batch) Set(key, value []byte) error {
	b.put(item{key: key, value: value})
	return nil
}

// Delete implements Txn.
func (b *Batch) Delete(key []byte) error {
	b.put(item{key: key, deleted: true})
	return nil
}

func (b *Batch) put(it item) {
	if old, ok := b.writes.ReplaceOrInsert(it); ok {
		b.bytes -= len(old.key) + len(old.value)
	}
	b.bytes += len(it.key) + len(it.value)
}

// Len returns the number of keys written or deleted.
func (b *Batch) Len() int { return b.writes.Len() }

// Size returns the bytes of keys and values buffered.
func (b *Batch) Size() int { return b.bytes }

// WriteTo writes the batch into t, in key order.
func (b *Batch) WriteTo(t Txn) error {
	var err error
	b.each(func(it item) {
		if err != nil {
			return
		}
		if it.deleted {
			err = t.Delete(it.key)
		} else {
			err = t.Set(it.key, it.value)
		}
	})
	return err
}

// Each calls fn with every key written or deleted, in key order, until fn
// returns false.
func (b *Batch) Each(fn func(key, value []byte, deleted bool) bool) {
	b.writes.Ascend(func(it item) bool { return fn(it.key, it.value, it.deleted) })
}

// Reset empties the batch and puts it over base.
func (b *Batch) Reset(base Reader) {
	b.base = base
	b.writes.Clear(false)
	b.bytes = 0
}

func (b *Batch) each(fn func(item)) {
	b.writes.Ascend(func(it item) bool { fn(it); return true })
}
