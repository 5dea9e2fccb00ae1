package reconcile

import (
	"encoding/binary"
	"errors"
	"fmt"

	"fieldsync/replication"
)

// The view's rows are small binary records: a varint-prefixed field list
// in a fixed order, versioned by its first byte. What is on disk is read
// back only by this package; a row that does not decode means the view
// store is damaged (ErrDamaged), and the view is rebuilt from the log.

// ErrDamaged is returned when a row of the view store does not decode.
var ErrDamaged = errors.New("reconcile: view store damaged")

// idSize is an entry ID in a key: origin, then seq big-endian, so an
// origin's entries sort by seq.
const idSize = replication.OriginIDSize + 8

func appendID(b []byte, id replication.EntryID) []byte {
	b = append(b, id.Origin[:]...)
	return binary.BigEndian.AppendUint64(b, id.Seq)
}

func readID(b []byte) replication.EntryID {
	var id replication.EntryID
	copy(id.Origin[:], b)
	id.Seq = binary.BigEndian.Uint64(b[replication.OriginIDSize:])
	return id
}

// wbuf writes a row.
type wbuf struct{ b []byte }

func (w *wbuf) uint(x uint64)  { w.b = binary.AppendUvarint(w.b, x) }
func (w *wbuf) int(x int)      { w.b = binary.AppendVarint(w.b, int64(x)) }
func (w *wbuf) byte(x byte)    { w.b = append(w.b, x) }
func (w *wbuf) str(s string)   { w.uint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *wbuf) bytes(p []byte) { w.uint(uint64(len(p))); w.b = append(w.b, p...) }
func (w *wbuf) id(id replication.EntryID) {
	w.b = appendID(w.b, id)
}
func (w *wbuf) hash(h replication.Hash) { w.b = append(w.b, h[:]...) }
func (w *wbuf) bool(x bool) {
	if x {
		w.byte(1)
	} else {
		w.byte(0)
	}
}
func (w *wbuf) strs(ss []string) {
	w.uint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}
func (w *wbuf) optID(id *replication.EntryID) {
	w.bool(id != nil)
	if id != nil {
		w.id(*id)
	}
}

// rbuf reads a row; the first error sticks and every read after it
// returns zero values.
type rbuf struct {
	b   []byte
	err error
}

func (r *rbuf) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrDamaged, what)
	}
	r.b = nil
}

// Varints and booleans must be written as this package writes them
// (canonical): a row decodes from one encoding only.

func (r *rbuf) uint() uint64 {
	x, n := binary.Uvarint(r.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, x)) {
		r.fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *rbuf) int() int {
	x, n := binary.Varint(r.b)
	if n <= 0 || n != len(binary.AppendVarint(nil, x)) {
		r.fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return int(x)
}

func (r *rbuf) byte() byte {
	if len(r.b) < 1 {
		r.fail("byte")
		return 0
	}
	x := r.b[0]
	r.b = r.b[1:]
	return x
}

func (r *rbuf) take(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.fail("length")
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *rbuf) str() string   { return string(r.take(r.uint())) }
func (r *rbuf) bytes() []byte { return append([]byte(nil), r.take(r.uint())...) }
func (r *rbuf) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("boolean")
	return false
}

func (r *rbuf) id() replication.EntryID {
	p := r.take(idSize)
	if p == nil {
		return replication.EntryID{}
	}
	return readID(p)
}

func (r *rbuf) hash() replication.Hash {
	var h replication.Hash
	copy(h[:], r.take(replication.HashSize))
	return h
}

func (r *rbuf) strs() []string {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail("list length")
		return nil
	}
	var out []string
	for range n {
		out = append(out, r.str())
	}
	return out
}

func (r *rbuf) optID() *replication.EntryID {
	if !r.bool() {
		return nil
	}
	id := r.id()
	return &id
}

// done reports the error, if any, including bytes left over.
func (r *rbuf) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}
