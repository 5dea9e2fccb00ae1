package dedup

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A hub's view stores its pairs on disk and shows them without asking the
// Index (which is not safe for concurrent use): Pair.Extra is what it
// keeps with each pair so that Explain can render the pair later, from
// any goroutine — the model that judged it, its points, and each
// comparison's level and weight as that model gave them. The Index reads
// it back at Load to know which pairs the view already holds as they are.
//
//	version byte (extraVersion)
//	uvarint len, model ID
//	zig-zag varint points (sixteenths of a bit)
//	per known comparison, in comparison order:
//	    byte comparison<<4 | level, zig-zag varint weight16<<1 | counted

// extraVersion is the first byte of an encoded Extra.
const extraVersion = 1

// maxModelID bounds a model ID in an Extra (IDs are 16 hex digits).
const maxModelID = 64

// ErrBadExtra is returned (wrapped) by DecodeExtra.
var ErrBadExtra = errors.New("dedup: bad stored pair explanation")

// Explanation is a pair's Extra decoded.
type Explanation struct {
	Model    string
	Points16 int32
	Evidence []Evidence
	pat      pattern
}

// encodeExtra renders what a pair of pattern pat was judged with.
func encodeExtra(model string, points int32, pat pattern, w *[numCmp]int32, use *[numCmp]bool) []byte {
	b := make([]byte, 0, 2+len(model)+4+numCmp*3)
	b = append(b, extraVersion)
	b = binary.AppendUvarint(b, uint64(len(model)))
	b = append(b, model...)
	b = binary.AppendVarint(b, int64(points))
	for c := 0; c < numCmp; c++ {
		l := pat.level(c)
		if l == 0 || levelTexts[c][l].code == "" {
			continue
		}
		v := int64(w[c]) << 1
		if use[c] {
			v |= 1
		}
		b = append(b, byte(c<<4|l))
		b = binary.AppendVarint(b, v)
	}
	return b
}

// DecodeExtra reads a Pair.Extra: the model, the points and the evidence
// with its sentences. Only the encoding Pair.Extra writes decodes
// (comparisons in order, each once, levels that exist, varints at their
// shortest).
func DecodeExtra(b []byte) (Explanation, error) {
	var x Explanation
	d := decoder{b: b}
	if d.byte() != extraVersion {
		return x, fmt.Errorf("%w: version", ErrBadExtra)
	}
	n := d.uvarint()
	if n > maxModelID || uint64(len(d.b)) < n {
		return x, fmt.Errorf("%w: model ID", ErrBadExtra)
	}
	x.Model, d.b = string(d.b[:n]), d.b[n:]
	pts := d.varint()
	if pts < -1<<30 || pts > 1<<30 {
		return x, fmt.Errorf("%w: points out of range", ErrBadExtra)
	}
	x.Points16 = int32(pts)
	last := -1
	for d.err == nil && len(d.b) > 0 {
		cl := d.byte()
		c, l := int(cl>>4), int(cl&15)
		v := d.varint()
		switch {
		case d.err != nil: // cut short: c and l are not to be used
			return x, fmt.Errorf("%w: %v", ErrBadExtra, d.err)
		case c <= last || c >= numCmp || l == 0 || l >= numLevelsOf[c] || levelTexts[c][l].code == "":
			return x, fmt.Errorf("%w: comparison %d level %d", ErrBadExtra, c, l)
		case v>>1 < -1<<20 || v>>1 > 1<<20:
			return x, fmt.Errorf("%w: weight out of range", ErrBadExtra)
		}
		last = c
		x.pat.set(c, l)
		t := levelTexts[c][l]
		x.Evidence = append(x.Evidence, Evidence{Code: t.code, Weight: float64(v>>1) / 16, Counted: v&1 == 1, VI: t.vi, EN: t.en})
	}
	if d.err != nil {
		return x, fmt.Errorf("%w: %v", ErrBadExtra, d.err)
	}
	return x, nil
}

// known is the pattern with only the levels an Extra records.
func (p pattern) known() pattern {
	for c := 0; c < numCmp; c++ {
		if l := p.level(c); l != 0 && levelTexts[c][l].code == "" {
			p.set(c, 0)
		}
	}
	return p
}

// varint reads a zig-zag varint at its shortest encoding.
func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}
