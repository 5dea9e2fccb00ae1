package blob

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"sort"
	"sync"
)

// Mem is an in-memory Store for tests and the deterministic simulation.
// Committed blobs are durable the moment Commit returns; a partial write is
// durable up to its last Sync, and Crash drops what was written after it,
// as a kill -9 would. SetCapacity models a disk that fills up.
type Mem struct {
	mu       sync.Mutex
	blobs    map[Hash][]byte
	partials map[Hash]*memPartial
	capacity int64 // bytes (committed + partial); 0 = unlimited
	closed   bool
	gen      uint64 // bumped by Crash: writers of an older generation are dead
}

type memPartial struct {
	id      ID
	data    []byte // written, durable or not
	durable int
	open    bool
}

var _ Store = (*Mem)(nil)

// NewMem returns an empty in-memory store.
func NewMem() *Mem {
	return &Mem{blobs: map[Hash][]byte{}, partials: map[Hash]*memPartial{}}
}

// Reopen models a restart after Close: the same durable state.
func (m *Mem) Reopen() *Mem {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = false
	return m
}

// Crash models a kill -9: every writer dies, and each partial write keeps
// only its synced bytes. The store stays open (a restarted process would
// open the same state).
func (m *Mem) Crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	for _, p := range m.partials {
		p.data = p.data[:p.durable:p.durable]
		p.open = false
	}
}

// SetCapacity limits the bytes held (committed and partial); a write past
// it fails with ErrDiskFull. Zero is unlimited.
func (m *Mem) SetCapacity(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.capacity = n
}

// Tamper flips one bit of a committed blob at off, as a failing disk
// would, so tests can see that reads and verify catch it.
func (m *Mem) Tamper(h Hash, off int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.blobs[h]; ok && off >= 0 && off < int64(len(b)) {
		b[off] ^= 0x01
	}
}

func (m *Mem) usedLocked() int64 {
	var n int64
	for _, b := range m.blobs {
		n += int64(len(b))
	}
	for _, p := range m.partials {
		n += int64(len(p.data))
	}
	return n
}

// Has implements Store.
func (m *Mem) Has(hs []Hash) ([]bool, error) {
	if len(hs) > MaxHasBatch {
		return nil, fmt.Errorf("blob: has of %d hashes, limit %d", len(hs), MaxHasBatch)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	out := make([]bool, len(hs))
	for i, h := range hs {
		_, out[i] = m.blobs[h]
	}
	return out, nil
}

// Stat implements Store.
func (m *Mem) Stat(h Hash) (Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Info{}, ErrClosed
	}
	b, ok := m.blobs[h]
	if !ok {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, h.Short())
	}
	return Info{ID: ID{Hash: h, Size: int64(len(b))}}, nil
}

// Open implements Store: the whole blob is verified before the reader is
// returned.
func (m *Mem) Open(h Hash) (Reader, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	b, ok := m.blobs[h]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, h.Short())
	}
	if HashOf(b) != h {
		return nil, fmt.Errorf("%w: blob %s does not hash to its name", ErrCorrupt, h.Short())
	}
	return &memReader{Reader: bytes.NewReader(append([]byte(nil), b...))}, nil
}

type memReader struct{ *bytes.Reader }

func (r *memReader) Close() error { return nil }

// Begin implements Store.
func (m *Mem) Begin(id ID) (Writer, error) {
	if err := id.Check(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if _, ok := m.blobs[id.Hash]; ok {
		return nil, fmt.Errorf("%w: %s", ErrExists, id)
	}
	p := m.partials[id.Hash]
	switch {
	case p != nil && p.open:
		return nil, fmt.Errorf("%w: %s", ErrBusy, id)
	case p == nil || p.id != id:
		p = &memPartial{id: id}
		m.partials[id.Hash] = p
	}
	p.data = p.data[:p.durable:p.durable] // what Close did not sync is gone
	p.open = true
	return &memWriter{m: m, p: p, gen: m.gen}, nil
}

// Partial implements Store.
func (m *Mem) Partial(h Hash) (Partial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Partial{}, ErrClosed
	}
	p, ok := m.partials[h]
	if !ok {
		return Partial{}, fmt.Errorf("%w: no partial write of %s", ErrNotFound, h.Short())
	}
	return Partial{ID: p.id, Durable: int64(p.durable)}, nil
}

// Delete implements Store.
func (m *Mem) Delete(h Hash) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	_, held := m.blobs[h]
	p, partial := m.partials[h]
	switch {
	case partial && p.open:
		return fmt.Errorf("%w: %s", ErrBusy, h.Short())
	case !held && !partial:
		return fmt.Errorf("%w: %s", ErrNotFound, h.Short())
	}
	delete(m.blobs, h)
	delete(m.partials, h)
	return nil
}

// List implements Store.
func (m *Mem) List(fn func(Info) bool) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	infos := make([]Info, 0, len(m.blobs))
	for h, b := range m.blobs {
		infos = append(infos, Info{ID: ID{Hash: h, Size: int64(len(b))}})
	}
	m.mu.Unlock()
	sort.Slice(infos, func(i, j int) bool { return bytes.Compare(infos[i].Hash[:], infos[j].Hash[:]) < 0 })
	for _, in := range infos {
		if !fn(in) {
			break
		}
	}
	return nil
}

// ListPartial implements Store.
func (m *Mem) ListPartial(fn func(Partial) bool) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	ps := make([]Partial, 0, len(m.partials))
	for _, p := range m.partials {
		ps = append(ps, Partial{ID: p.id, Durable: int64(p.durable)})
	}
	m.mu.Unlock()
	sort.Slice(ps, func(i, j int) bool { return bytes.Compare(ps[i].Hash[:], ps[j].Hash[:]) < 0 })
	for _, p := range ps {
		if !fn(p) {
			break
		}
	}
	return nil
}

// Usage implements Store.
func (m *Mem) Usage() (Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Usage{}, ErrClosed
	}
	var u Usage
	for _, b := range m.blobs {
		u.Blobs++
		u.Bytes += int64(len(b))
	}
	for _, p := range m.partials {
		u.Partials++
		u.PartialBytes += int64(p.durable)
	}
	return u, nil
}

// Close implements Store.
func (m *Mem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	for _, p := range m.partials {
		p.open = false
	}
	m.gen++
	return nil
}

type memWriter struct {
	m      *Mem
	p      *memPartial
	gen    uint64
	closed bool
}

// live reports whether the writer may act; call with m.mu held.
func (w *memWriter) live() error {
	if w.closed || w.m.closed || w.gen != w.m.gen {
		return ErrClosed
	}
	return nil
}

func (w *memWriter) ID() ID { return w.p.id }

func (w *memWriter) Offset() int64 {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return int64(len(w.p.data))
}

func (w *memWriter) Durable() int64 {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return int64(w.p.durable)
}

func (w *memWriter) Write(b []byte) (int, error) {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if err := w.live(); err != nil {
		return 0, err
	}
	if int64(len(w.p.data))+int64(len(b)) > w.p.id.Size {
		return 0, fmt.Errorf("%w: blob %s: %d bytes written past its size", ErrMismatch, w.p.id, int64(len(w.p.data))+int64(len(b))-w.p.id.Size)
	}
	if c := w.m.capacity; c > 0 && w.m.usedLocked()+int64(len(b)) > c {
		return 0, fmt.Errorf("%w: blob %s: %d bytes do not fit", ErrDiskFull, w.p.id, len(b))
	}
	w.p.data = append(w.p.data, b...)
	return len(b), nil
}

func (w *memWriter) Sync() error {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if err := w.live(); err != nil {
		return err
	}
	w.p.durable = len(w.p.data)
	return nil
}

func (w *memWriter) Commit() error {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if err := w.live(); err != nil {
		return err
	}
	id := w.p.id
	if int64(len(w.p.data)) < id.Size {
		return fmt.Errorf("%w: blob %s: %d of %d bytes", ErrIncomplete, id, len(w.p.data), id.Size)
	}
	w.closed = true
	delete(w.m.partials, id.Hash)
	if got := sha256.Sum256(w.p.data); got != id.Hash {
		return fmt.Errorf("%w: blob %s: the bytes hash to %s", ErrMismatch, id, Hash(got).Short())
	}
	w.m.blobs[id.Hash] = append([]byte(nil), w.p.data...)
	return nil
}

func (w *memWriter) Abort() error {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if err := w.live(); err != nil {
		return err
	}
	w.closed = true
	delete(w.m.partials, w.p.id.Hash)
	return nil
}

func (w *memWriter) Close() error {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if err := w.live(); err != nil {
		return err
	}
	w.closed = true
	w.p.open = false
	return nil
}

var _ io.Writer = (*memWriter)(nil)
