package wire

import (
	"encoding/binary"
	"unicode/utf8"
)

// AppendString appends s, length-prefixed (what Reader.Str reads).
func AppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// checkString is the encoder's side of Reader.Str.
func checkString(field, s string, max int) error {
	if len(s) > max {
		return tooLarge("%s: %d bytes, limit %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return invalid("%s: not valid UTF-8", field)
	}
	return nil
}

// UvarintLen is the encoded size of v.
func UvarintLen(v uint64) int {
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
