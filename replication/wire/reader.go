package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"fieldsync/replication"
)

// Reader walks a binary body: canonical uvarints, counts bounded by a
// limit and by the bytes left, bounded UTF-8 strings, fixed-size fields.
// It is fieldsync's one binary reader: this package's decoders (the sync
// wire) and gossip's (metadata, heads, leave notices) use it. The first
// error sticks: later reads return zero values, so a decoder reads a whole
// element and checks Err once. Errors wrap replication.ErrMalformed or
// ErrTooLarge and name the field.
type Reader struct {
	b   []byte
	off int
	err error
	// what prefixes every error ("gossip: decode meta"); empty for the
	// sync wire, whose frame errors say where they come from.
	what string
}

// NewReader returns a Reader over b whose errors start with what.
func NewReader(b []byte, what string) *Reader { return &Reader{b: b, what: what} }

// Err returns the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err unless an error came first.
func (r *Reader) Fail(err error) {
	if r.err != nil {
		return
	}
	if r.what != "" {
		err = fmt.Errorf("%s: %w", r.what, err)
	}
	r.err = err
}

// Malformed fails with an error wrapping replication.ErrMalformed.
func (r *Reader) Malformed(format string, args ...any) { r.Fail(malformed(format, args...)) }

// Left returns how many bytes are left.
func (r *Reader) Left() int { return len(r.b) - r.off }

// Uvarint reads a minimal uvarint: a multi-byte varint whose last byte is
// zero has a shorter form, and accepting it would make the encoding
// malleable.
func (r *Reader) Uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.Fail(malformed("%s: truncated varint", field))
		return 0
	case n < 0:
		r.Fail(malformed("%s: varint overflows 64 bits", field))
		return 0
	case n > 1 && r.b[r.off+n-1] == 0:
		r.Fail(malformed("%s: non-minimal varint", field))
		return 0
	}
	r.off += n
	return v
}

// Take returns the next n bytes (aliasing the body) or fails.
func (r *Reader) Take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n > r.Left() {
		r.Fail(malformed("%s: needs %d bytes, %d left", field, n, r.Left()))
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

// Byte reads one byte.
func (r *Reader) Byte(field string) byte {
	if p := r.Take(1, field); p != nil {
		return p[0]
	}
	return 0
}

func (r *Reader) origin(field string) (o replication.OriginID) {
	copy(o[:], r.Take(replication.OriginIDSize, field))
	return o
}

func (r *Reader) hash(field string) (h replication.Hash) {
	copy(h[:], r.Take(replication.HashSize, field))
	return h
}

// Count reads an element count, refusing more than limit (too large) or
// more than the bytes left could hold at minSize bytes each (malformed),
// so that the caller may allocate count elements.
func (r *Reader) Count(field string, limit, minSize int) int {
	v := r.Uvarint(field)
	switch {
	case r.err != nil:
		return 0
	case v > uint64(limit):
		r.Fail(tooLarge("%s: count %d, limit %d", field, v, limit))
		return 0
	case v*uint64(minSize) > uint64(r.Left()):
		r.Fail(malformed("%s: count %d needs at least %d bytes, %d left", field, v, v*uint64(minSize), r.Left()))
		return 0
	}
	return int(v)
}

// Str reads a length-prefixed UTF-8 string of at most max bytes.
func (r *Reader) Str(field string, max int) string {
	n := r.Uvarint(field)
	if r.err == nil && n > uint64(max) {
		r.Fail(tooLarge("%s: %d bytes, limit %d", field, n, max))
	}
	p := r.Take(int(n), field)
	if r.err == nil && !utf8.Valid(p) {
		r.Fail(malformed("%s: not valid UTF-8", field))
	}
	return string(p)
}

// End fails if bytes are left after the message.
func (r *Reader) End(what string) error {
	if r.err == nil && r.Left() != 0 {
		r.Fail(malformed("%s: %d trailing bytes", what, r.Left()))
	}
	return r.err
}

// Until returns the bytes up to (not including) the next stop byte and
// moves past it; a missing stop byte fails.
func (r *Reader) Until(stop byte, field string) []byte {
	if r.err != nil {
		return nil
	}
	i := bytes.IndexByte(r.b[r.off:], stop)
	if i < 0 {
		r.Fail(malformed("%s: missing terminator", field))
		return nil
	}
	v := r.b[r.off : r.off+i]
	r.off += i + 1
	return v
}
