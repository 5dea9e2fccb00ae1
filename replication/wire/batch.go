package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"fieldsync/replication"
)

// Batch body:
//
//	id(uvarint) nranges(uvarint) range* entry* payloads
//	range: origin(16) start(uvarint) prev(32) nentries(uvarint)
//	entry: hlc(uvarint: absolute for the first of a range, zigzag delta
//	       from the previous entry's HLC after) kind(1) schema(uvarint)
//	       paylen(uvarint) sigflag(1: 0 or 1) [sig(64)]
//	payloads: every entry's payload, in entry order, in the columnar form
//	       of columnar.go (templates, then values column by column)
//
// Origin, seq and previous hash are not repeated per entry: the decoder
// rebuilds them (Seq = start+i, Prev = hash of the entry before), so the
// hash chain is checked for free by whoever verifies signatures. Headers
// come first and payloads last so that like sits with like for zstd.

// minEntrySize is hlc + kind + schema + paylen + sigflag, one byte each.
const minEntrySize = 5

// minRangeSize is origin + start + prev + count + one entry.
const minRangeSize = replication.OriginIDSize + 1 + replication.HashSize + 1 + minEntrySize

const (
	sigAbsent  = 0
	sigPresent = 1
)

func appendBatch(dst []byte, b *Batch, l *Limits) ([]byte, error) {
	if len(b.Ranges) > l.MaxRanges {
		return dst, tooLarge("batch ranges: count %d, limit %d", len(b.Ranges), l.MaxRanges)
	}
	if n := b.Entries(); n > l.MaxEntries {
		return dst, tooLarge("batch entries: count %d, limit %d", n, l.MaxEntries)
	}
	dst = binary.AppendUvarint(dst, b.ID)
	dst = binary.AppendUvarint(dst, uint64(len(b.Ranges)))
	for i := range b.Ranges {
		rg := &b.Ranges[i]
		if i > 0 && !b.Ranges[i-1].Origin.Less(rg.Origin) {
			return dst, invalid("batch range %d: origin %s not above the previous %s", i, rg.Origin.Short(), b.Ranges[i-1].Origin.Short())
		}
		if err := checkRange(rg); err != nil {
			return dst, fmt.Errorf("batch range %d (origin %s): %w", i, rg.Origin.Short(), err)
		}
		dst = append(dst, rg.Origin[:]...)
		dst = binary.AppendUvarint(dst, rg.Entries[0].Seq)
		dst = append(dst, rg.Prev[:]...)
		dst = binary.AppendUvarint(dst, uint64(len(rg.Entries)))
	}
	var payloads [][]byte
	total := 0
	for i := range b.Ranges {
		for j := range b.Ranges[i].Entries {
			dst = appendEntryHeader(dst, b.Ranges[i].Entries, j)
			payloads = append(payloads, b.Ranges[i].Entries[j].Payload)
			total += len(b.Ranges[i].Entries[j].Payload)
		}
	}
	if total > l.MaxBodyBytes {
		return dst, tooLarge("batch payloads: %d bytes, limit %d", total, l.MaxBodyBytes)
	}
	return appendColumnar(dst, payloads), nil
}

// checkRange checks that every entry of rg is the one the decoder will
// rebuild.
func checkRange(rg *Range) error {
	if len(rg.Entries) == 0 {
		return invalid("no entries")
	}
	start := rg.Entries[0].Seq
	if start == 0 || (start == 1) != rg.Prev.IsZero() {
		return invalid("%w: starts at seq %d with previous hash %s", replication.ErrBrokenChain, start, rg.Prev.Short())
	}
	prev := rg.Prev
	for i := range rg.Entries {
		if err := checkLink(rg, i, prev); err != nil {
			return err
		}
		if i+1 < len(rg.Entries) {
			prev = rg.Entries[i].Hash()
		}
	}
	return nil
}

// checkLink checks that entry i of rg is the one the decoder will rebuild:
// same origin, seq start+i, previous hash prev, and a valid shape.
func checkLink(rg *Range, i int, prev replication.Hash) error {
	e := &rg.Entries[i]
	switch want := rg.Entries[0].Seq + uint64(i); {
	case e.Origin != rg.Origin:
		return invalid("%w: entry %d is of origin %s", replication.ErrBrokenChain, i, e.Origin.Short())
	case e.Seq != want:
		return invalid("%w: entry %d has seq %d, want %d (entries must be contiguous)", replication.ErrBrokenChain, i, e.Seq, want)
	case e.Prev != prev:
		return invalid("%w: entry %d (seq %d) names previous hash %s, want %s", replication.ErrBrokenChain, i, e.Seq, e.Prev.Short(), prev.Short())
	case e.Kind == 0:
		return invalid("entry %d (seq %d): kind is 0", i, e.Seq)
	case len(e.Payload) > replication.MaxPayloadBytes:
		return tooLarge("entry %d (seq %d): payload %d bytes, limit %d", i, e.Seq, len(e.Payload), replication.MaxPayloadBytes)
	case len(e.Sig) != 0 && len(e.Sig) != replication.SignatureSize:
		return invalid("entry %d (seq %d): signature is %d bytes, want 0 or %d", i, e.Seq, len(e.Sig), replication.SignatureSize)
	}
	return nil
}

// appendEntryHeader appends entry i of es without its payload, its HLC
// relative to entry i-1.
func appendEntryHeader(dst []byte, es []replication.Entry, i int) []byte {
	e := &es[i]
	if i == 0 {
		dst = binary.AppendUvarint(dst, uint64(e.HLC))
	} else {
		dst = binary.AppendUvarint(dst, zigzag(uint64(e.HLC-es[i-1].HLC)))
	}
	dst = append(dst, byte(e.Kind))
	dst = binary.AppendUvarint(dst, uint64(e.Schema))
	dst = binary.AppendUvarint(dst, uint64(len(e.Payload)))
	if len(e.Sig) == 0 {
		return append(dst, sigAbsent)
	}
	return append(append(dst, sigPresent), e.Sig...)
}

func decodeBatch(b []byte, l *Limits) (*Batch, error) {
	r := Reader{b: b}
	bt := &Batch{ID: r.Uvarint("batch id")}
	n := r.Count("batch ranges", l.MaxRanges, minRangeSize)
	if r.err != nil {
		return nil, r.err
	}
	if n > 0 {
		bt.Ranges = make([]Range, n)
	}
	budget := l.MaxEntries
	for i := range bt.Ranges {
		decodeRangeHeader(&r, &bt.Ranges[i], &budget)
		if r.err == nil && i > 0 && !bt.Ranges[i-1].Origin.Less(bt.Ranges[i].Origin) {
			r.Fail(malformed("origin %s not above the previous %s", bt.Ranges[i].Origin.Short(), bt.Ranges[i-1].Origin.Short()))
		}
		if r.err != nil {
			return nil, fmt.Errorf("batch range %d: %w", i, r.err)
		}
	}
	lens, err := decodeEntryHeaders(&r, bt, l)
	if err != nil {
		return nil, err
	}
	payloads := decodeColumnar(&r, lens)
	if r.err != nil {
		return nil, fmt.Errorf("batch payloads: %w", r.err)
	}
	linkEntries(bt, payloads)
	if err := r.End("batch"); err != nil {
		return nil, err
	}
	return bt, nil
}

// decodeRangeHeader reads one range header, making room for its entries
// (taken out of *budget).
func decodeRangeHeader(r *Reader, rg *Range, budget *int) {
	rg.Origin = r.origin("origin")
	start := r.Uvarint("start seq")
	rg.Prev = r.hash("prev")
	if r.err == nil && (start == 0 || (start == 1) != rg.Prev.IsZero()) {
		r.Fail(malformed("start seq %d with previous hash %s", start, rg.Prev.Short()))
	}
	n := r.Count("entries", *budget, minEntrySize)
	switch {
	case r.err != nil:
		return
	case n == 0:
		r.Fail(malformed("entries: count 0"))
		return
	case start+uint64(n-1) < start:
		r.Fail(malformed("start seq %d + %d entries overflows", start, n))
		return
	}
	*budget -= n
	rg.Entries = make([]replication.Entry, n)
	for i := range rg.Entries {
		rg.Entries[i].Origin, rg.Entries[i].Seq = rg.Origin, start+uint64(i)
	}
}

// decodeEntryHeaders reads every entry's header and returns the payload
// lengths, bounded in total by the body limit.
func decodeEntryHeaders(r *Reader, bt *Batch, l *Limits) ([]int, error) {
	var lens []int
	total := 0
	for i := range bt.Ranges {
		es := bt.Ranges[i].Entries
		for j := range es {
			plen := decodeEntryHeader(r, es, j)
			total += plen
			if r.err == nil && total > l.MaxBodyBytes {
				r.Fail(tooLarge("batch payloads: %d bytes, limit %d", total, l.MaxBodyBytes))
			}
			if r.err != nil {
				return nil, fmt.Errorf("batch range %d entry %d (seq %d): %w", i, j, es[j].Seq, r.err)
			}
			lens = append(lens, plen)
		}
	}
	return lens, nil
}

// decodeEntryHeader reads the wire fields of entry i of es but its
// payload, and returns the payload's length.
func decodeEntryHeader(r *Reader, es []replication.Entry, i int) int {
	e := &es[i]
	h := r.Uvarint("hlc")
	if i > 0 {
		h = uint64(es[i-1].HLC) + unzigzag(h)
	}
	e.HLC = replication.HLC(h)
	e.Kind = replication.Kind(r.Byte("kind"))
	schema := r.Uvarint("schema")
	plen := r.Uvarint("payload length")
	switch {
	case r.err != nil:
		return 0
	case e.Kind == 0:
		r.Fail(malformed("kind is 0"))
	case schema > 0xffff:
		r.Fail(malformed("schema %d does not fit 16 bits", schema))
	case plen > replication.MaxPayloadBytes:
		r.Fail(tooLarge("payload length %d, limit %d", plen, replication.MaxPayloadBytes))
	}
	e.Schema = uint16(schema)
	switch flag := r.Byte("signature flag"); {
	case r.err != nil:
	case flag == sigPresent:
		e.Sig = bytes.Clone(r.Take(replication.SignatureSize, "signature"))
	case flag != sigAbsent:
		r.Fail(malformed("signature flag %d, want 0 or 1", flag))
	}
	return int(plen)
}

// linkEntries gives each entry its payload and rebuilds the chain: Prev of
// each entry is the hash of the one before (the range's Prev for the first).
func linkEntries(bt *Batch, payloads [][]byte) {
	k := 0
	for i := range bt.Ranges {
		rg := &bt.Ranges[i]
		prev := rg.Prev
		for j := range rg.Entries {
			e := &rg.Entries[j]
			if len(payloads[k]) > 0 {
				e.Payload = payloads[k]
			}
			k++
			e.Prev = prev
			if j+1 < len(rg.Entries) {
				prev = e.Hash()
			}
		}
	}
}
