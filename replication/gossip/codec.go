package gossip

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"fieldsync/replication"
)

// reader decodes the package's own wire formats: canonical uvarints,
// length-prefixed strings with a bound, fixed-size byte fields. The first
// error sticks; every later read returns zero values, so a decoder reads
// its fields in a row and checks r.err once.
type reader struct {
	what string // "meta", "heads message", "state": the prefix of errors
	b    []byte
	off  int
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("gossip: decode %s: %w: %s", r.what, replication.ErrMalformed, fmt.Sprintf(format, args...))
	}
}

// byte1 reads one byte.
func (r *reader) byte1(field string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("%s: truncated", field)
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// uvarint reads a canonical (shortest-form) unsigned varint, so that every
// value has exactly one encoding and decode-then-encode gives back the input.
func (r *reader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("%s: bad varint", field)
		return 0
	}
	if n != uvarintLen(v) {
		r.fail("%s: non-canonical varint", field)
		return 0
	}
	r.off += n
	return v
}

// fixed reads exactly n bytes, aliasing the input.
func (r *reader) fixed(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b)-r.off < n {
		r.fail("%s: truncated", field)
		return nil
	}
	out := r.b[r.off : r.off+n]
	r.off += n
	return out
}

// str reads a length-prefixed UTF-8 string of at most max bytes. The
// string is copied out of the input.
func (r *reader) str(max int, field string) string {
	n := r.uvarint(field + " length")
	if r.err != nil {
		return ""
	}
	if n > uint64(max) {
		r.fail("%s: %d bytes, limit %d", field, n, max)
		return ""
	}
	b := r.fixed(int(n), field)
	if r.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		r.fail("%s: not UTF-8", field)
		return ""
	}
	return string(b)
}

// rest reports how many bytes are left.
func (r *reader) rest() int { return len(r.b) - r.off }

// end fails if bytes are left over.
func (r *reader) end() {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// checkStr validates a string field before encoding it.
func checkStr(what, field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("gossip: %s: %s is %d bytes, limit %d: %w", what, field, len(s), max, replication.ErrTooLarge)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("gossip: %s: %s is not UTF-8: %w", what, field, replication.ErrMalformed)
	}
	return nil
}
