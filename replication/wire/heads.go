package wire

import (
	"encoding/binary"
	"fmt"

	"fieldsync/replication"
)

// Summary body: count, then per head origin(16) seq(uvarint) hash(32),
// origins strictly ascending, seq > 0.
//
// Ack body: batch id(uvarint), heads as in a summary, refusal count, then
// per refusal origin(16) seq(uvarint) reason(1, non-zero) detail(uvarint
// length + UTF-8, at most MaxDetailBytes).

// minHeadSize is origin + 1-byte seq + hash.
const minHeadSize = replication.OriginIDSize + 1 + replication.HashSize

// minRefusalSize is origin + seq + reason + detail length.
const minRefusalSize = replication.OriginIDSize + 1 + 1 + 1

func appendHeads(dst []byte, heads []replication.OriginHead, limit int, what string) ([]byte, error) {
	if len(heads) > limit {
		return dst, tooLarge("%s heads: count %d, limit %d", what, len(heads), limit)
	}
	dst = binary.AppendUvarint(dst, uint64(len(heads)))
	for i := range heads {
		h := &heads[i]
		if h.Seq == 0 {
			return dst, invalid("%s head %d: seq is 0", what, i)
		}
		if i > 0 && !heads[i-1].Origin.Less(h.Origin) {
			return dst, invalid("%s head %d: origin %s not above the previous %s", what, i, h.Origin.Short(), heads[i-1].Origin.Short())
		}
		dst = append(dst, h.Origin[:]...)
		dst = binary.AppendUvarint(dst, h.Seq)
		dst = append(dst, h.Hash[:]...)
	}
	return dst, nil
}

func decodeHeads(r *Reader, limit int, what string) ([]replication.OriginHead, error) {
	n := r.Count(what+" heads", limit, minHeadSize)
	if r.err != nil || n == 0 {
		return nil, r.err
	}
	heads := make([]replication.OriginHead, n)
	for i := range heads {
		h := &heads[i]
		h.Origin = r.origin("origin")
		h.Seq = r.Uvarint("seq")
		h.Hash = r.hash("hash")
		switch {
		case r.err != nil:
		case h.Seq == 0:
			r.Fail(malformed("seq is 0"))
		case i > 0 && !heads[i-1].Origin.Less(h.Origin):
			r.Fail(malformed("origin %s not above the previous %s", h.Origin.Short(), heads[i-1].Origin.Short()))
		}
		if r.err != nil {
			return nil, fmt.Errorf("%s head %d: %w", what, i, r.err)
		}
	}
	return heads, nil
}

func appendSummary(dst []byte, s *Summary, l *Limits) ([]byte, error) {
	return appendHeads(dst, s.Heads, l.MaxHeads, "summary")
}

func decodeSummary(b []byte, l *Limits) (*Summary, error) {
	r := Reader{b: b}
	heads, err := decodeHeads(&r, l.MaxHeads, "summary")
	if err != nil {
		return nil, err
	}
	if err := r.End("summary"); err != nil {
		return nil, err
	}
	return &Summary{Heads: heads}, nil
}

func appendAck(dst []byte, a *Ack, l *Limits) ([]byte, error) {
	dst = binary.AppendUvarint(dst, a.BatchID)
	dst, err := appendHeads(dst, a.Heads, l.MaxHeads, "ack")
	if err != nil {
		return dst, err
	}
	if len(a.Refused) > l.MaxRefusals {
		return dst, tooLarge("ack refusals: count %d, limit %d", len(a.Refused), l.MaxRefusals)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.Refused)))
	for i := range a.Refused {
		f := &a.Refused[i]
		if f.Reason == 0 {
			return dst, invalid("ack refusal %d: reason is 0", i)
		}
		if err := checkString("detail", f.Detail, MaxDetailBytes); err != nil {
			return dst, fmt.Errorf("ack refusal %d: %w", i, err)
		}
		dst = append(dst, f.Origin[:]...)
		dst = binary.AppendUvarint(dst, f.Seq)
		dst = append(dst, byte(f.Reason))
		dst = AppendString(dst, f.Detail)
	}
	return dst, nil
}

func decodeAck(b []byte, l *Limits) (*Ack, error) {
	r := Reader{b: b}
	a := &Ack{BatchID: r.Uvarint("ack batch id")}
	heads, err := decodeHeads(&r, l.MaxHeads, "ack")
	if err != nil {
		return nil, err
	}
	a.Heads = heads
	if a.Refused, err = decodeRefusals(&r, l.MaxRefusals); err != nil {
		return nil, err
	}
	if err := r.End("ack"); err != nil {
		return nil, err
	}
	return a, nil
}

func decodeRefusals(r *Reader, limit int) ([]Refusal, error) {
	n := r.Count("ack refusals", limit, minRefusalSize)
	if r.err != nil || n == 0 {
		return nil, r.err
	}
	out := make([]Refusal, n)
	for i := range out {
		f := &out[i]
		f.Origin = r.origin("origin")
		f.Seq = r.Uvarint("seq")
		f.Reason = RefuseReason(r.Byte("reason"))
		if r.err == nil && f.Reason == 0 {
			r.Fail(malformed("reason is 0"))
		}
		f.Detail = r.Str("detail", MaxDetailBytes)
		if r.err != nil {
			return nil, fmt.Errorf("ack refusal %d: %w", i, r.err)
		}
	}
	return out, nil
}
