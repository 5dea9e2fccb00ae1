package wire

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"fieldsync/replication"
)

// reader walks a body. The first error sticks: later reads return zero
// values, so decoders read a whole element and check r.err once.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) left() int { return len(r.b) - r.off }

// uvarint reads a minimal uvarint: a multi-byte varint whose last byte is
// zero has a shorter form, and accepting it would make the encoding
// malleable.
func (r *reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.fail(malformed("%s: truncated varint", field))
		return 0
	case n < 0:
		r.fail(malformed("%s: varint overflows 64 bits", field))
		return 0
	case n > 1 && r.b[r.off+n-1] == 0:
		r.fail(malformed("%s: non-minimal varint", field))
		return 0
	}
	r.off += n
	return v
}

// take returns the next n bytes (aliasing the body) or fails.
func (r *reader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n > r.left() {
		r.fail(malformed("%s: needs %d bytes, %d left", field, n, r.left()))
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

func (r *reader) byte1(field string) byte {
	if p := r.take(1, field); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) origin(field string) (o replication.OriginID) {
	copy(o[:], r.take(replication.OriginIDSize, field))
	return o
}

func (r *reader) hash(field string) (h replication.Hash) {
	copy(h[:], r.take(replication.HashSize, field))
	return h
}

// count reads an element count, refusing more than limit (too large) or
// more than the bytes left could hold at minSize bytes each (malformed),
// so that the caller may allocate count elements.
func (r *reader) count(field string, limit, minSize int) int {
	v := r.uvarint(field)
	switch {
	case r.err != nil:
		return 0
	case v > uint64(limit):
		r.fail(tooLarge("%s: count %d, limit %d", field, v, limit))
		return 0
	case v*uint64(minSize) > uint64(r.left()):
		r.fail(malformed("%s: count %d needs at least %d bytes, %d left", field, v, v*uint64(minSize), r.left()))
		return 0
	}
	return int(v)
}

// str reads a length-prefixed UTF-8 string of at most max bytes.
func (r *reader) str(field string, max int) string {
	n := r.uvarint(field)
	if r.err == nil && n > uint64(max) {
		r.fail(tooLarge("%s: %d bytes, limit %d", field, n, max))
	}
	p := r.take(int(n), field)
	if r.err == nil && !utf8.Valid(p) {
		r.fail(malformed("%s: not valid UTF-8", field))
	}
	return string(p)
}

// end fails if bytes are left after the message.
func (r *reader) end(what string) error {
	if r.err == nil && r.left() != 0 {
		r.fail(malformed("%s: %d trailing bytes", what, r.left()))
	}
	return r.err
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// checkString is the encoder's side of reader.str.
func checkString(field, s string, max int) error {
	if len(s) > max {
		return tooLarge("%s: %d bytes, limit %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return invalid("%s: not valid UTF-8", field)
	}
	return nil
}

// uvarintLen is the encoded size of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// zigzag maps a wrapping difference to an unsigned value, small for small
// differences of either sign. It is a bijection on uint64.
func zigzag(d uint64) uint64 { return d<<1 ^ uint64(int64(d)>>63) }

// unzigzag inverts zigzag.
func unzigzag(u uint64) uint64 { return u>>1 ^ -(u & 1) }

// until returns the bytes up to (not including) the next stop byte and
// moves past it; a missing stop byte fails.
func (r *reader) until(stop byte, field string) []byte {
	if r.err != nil {
		return nil
	}
	i := bytes.IndexByte(r.b[r.off:], stop)
	if i < 0 {
		r.fail(malformed("%s: missing terminator", field))
		return nil
	}
	v := r.b[r.off : r.off+i]
	r.off += i + 1
	return v
}
