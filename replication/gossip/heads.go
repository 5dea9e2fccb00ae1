package gossip

import (
	"encoding/binary"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// Message kinds: the first byte of every payload this package puts into
// memberlist (user broadcasts and push/pull state). The kind names the
// format and its version; a new version is a new kind, and a reader drops
// kinds it does not know (counted in Stats.DecodeErrors).
const (
	// kindHeads is a heads announcement, version 1: "holder holds these
	// origins up to these seqs".
	kindHeads byte = 0x01
	// kindState is the push/pull state, version 1: the sender's own heads.
	kindState byte = 0x02
	// kindLeave is a leave notice, version 1: "holder is leaving the pool"
	// (memberlist tells its delegates that a member is gone, but not
	// whether it left or died).
	kindLeave byte = 0x03
)

// Limits of the heads formats.
const (
	// maxNameLen bounds member names (memberlist node names) in messages
	// and in Config.Name.
	maxNameLen = 128
	// maxHeadsMsgBytes bounds one heads announcement (LIBRARIES.md §4.1:
	// broadcasts ≤ ~1 KB). About 30 heads fit.
	maxHeadsMsgBytes = 1024
	// maxStateBytes bounds the push/pull state (LocalState): about 450
	// heads. A member holding more origins sends the first ones in origin
	// order and says how many it holds in total; the sync protocol, not
	// gossip, is exact.
	maxStateBytes = 16 << 10
	// minHeadBytes is the smallest encoded head: origin, 1-byte seq, prefix.
	minHeadBytes = replication.OriginIDSize + 1 + DigestSize
	// maxTrackedHeads bounds the heads a Pool remembers about other
	// members (HeadsOf), about 5 MB at most. Heads beyond it are dropped
	// and counted (Stats.HeadsDropped).
	maxTrackedHeads = 1 << 16
)

// headsMsg is a decoded heads announcement or push/pull state. Hash holds
// only the DigestSize-byte prefix of each head's hash; the rest is zero.
type headsMsg struct {
	holder string
	heads  []replication.OriginHead // ascending by origin, seq >= 1
	total  uint64                   // kindState only: heads the holder has in all
}

// prefixHead returns h with its hash cut to the advertised prefix.
func prefixHead(h replication.OriginHead) replication.OriginHead {
	var p replication.Hash
	copy(p[:DigestSize], h.Hash[:DigestSize])
	h.Hash = p
	return h
}

func headLen(h replication.OriginHead) int {
	return replication.OriginIDSize + wire.UvarintLen(h.Seq) + DigestSize
}

func appendHead(b []byte, h replication.OriginHead) []byte {
	b = append(b, h.Origin[:]...)
	b = binary.AppendUvarint(b, h.Seq)
	return append(b, h.Hash[:DigestSize]...)
}

// checkHeads verifies that heads are strictly ascending by origin with
// seq >= 1, the canonical order every encoder writes.
func checkHeads(heads []replication.OriginHead) error {
	for i, h := range heads {
		if h.Seq == 0 {
			return fmt.Errorf("gossip: head %d: seq 0: %w", i, replication.ErrMalformed)
		}
		if i > 0 && !heads[i-1].Origin.Less(h.Origin) {
			return fmt.Errorf("gossip: head %d: origins not strictly ascending: %w", i, replication.ErrMalformed)
		}
	}
	return nil
}

// packHeads encodes holder's heads as kindHeads messages of at most
// maxHeadsMsgBytes each, as many heads per message as fit. heads must be
// ascending by origin with seq >= 1 (see checkHeads).
func packHeads(holder string, heads []replication.OriginHead) ([][]byte, error) {
	if err := checkStr("heads message", "holder", holder, maxNameLen); err != nil {
		return nil, err
	}
	if err := checkHeads(heads); err != nil {
		return nil, err
	}
	var out [][]byte
	for len(heads) > 0 {
		hdr := 1 + wire.UvarintLen(uint64(len(holder))) + len(holder)
		n, size := 0, hdr+1
		for n < len(heads) {
			add := headLen(heads[n])
			if size+add+(wire.UvarintLen(uint64(n+1))-1) > maxHeadsMsgBytes {
				break
			}
			size += add
			n++
		}
		if n == 0 { // cannot happen: one head and the longest holder fit
			return nil, fmt.Errorf("gossip: heads message: a head does not fit: %w", replication.ErrTooLarge)
		}
		b := make([]byte, 0, size+2)
		b = append(b, kindHeads)
		b = wire.AppendString(b, holder)
		b = binary.AppendUvarint(b, uint64(n))
		for _, h := range heads[:n] {
			b = appendHead(b, h)
		}
		out = append(out, b)
		heads = heads[n:]
	}
	return out, nil
}

// encodeState encodes holder's heads as the push/pull state, keeping the
// first heads (in origin order) that fit in maxStateBytes:
//
//	kindState holder total(uvarint) count(uvarint) count×head
func encodeState(holder string, heads []replication.OriginHead) ([]byte, error) {
	if err := checkStr("state", "holder", holder, maxNameLen); err != nil {
		return nil, err
	}
	if err := checkHeads(heads); err != nil {
		return nil, err
	}
	hdr := 1 + wire.UvarintLen(uint64(len(holder))) + len(holder) + wire.UvarintLen(uint64(len(heads))) + binary.MaxVarintLen64
	n, size := 0, hdr
	for n < len(heads) && size+headLen(heads[n]) <= maxStateBytes {
		size += headLen(heads[n])
		n++
	}
	b := make([]byte, 0, size)
	b = append(b, kindState)
	b = wire.AppendString(b, holder)
	b = binary.AppendUvarint(b, uint64(len(heads)))
	b = binary.AppendUvarint(b, uint64(n))
	for _, h := range heads[:n] {
		b = appendHead(b, h)
	}
	return b, nil
}

// decodeHeadsMsg parses a kindHeads message. It rejects oversized,
// truncated, non-canonical or unordered input and trailing bytes, with an
// error wrapping replication.ErrMalformed or replication.ErrTooLarge, and
// never allocates more than the input's size allows.
func decodeHeadsMsg(b []byte) (headsMsg, error) {
	if len(b) > maxHeadsMsgBytes {
		return headsMsg{}, fmt.Errorf("gossip: decode heads message: %d bytes, limit %d: %w", len(b), maxHeadsMsgBytes, replication.ErrTooLarge)
	}
	return decodeHeads(b, kindHeads, "heads message")
}

// decodeState parses a kindState push/pull payload, with the same checks
// as decodeHeadsMsg and maxStateBytes as its size limit.
func decodeState(b []byte) (headsMsg, error) {
	if len(b) > maxStateBytes {
		return headsMsg{}, fmt.Errorf("gossip: decode state: %d bytes, limit %d: %w", len(b), maxStateBytes, replication.ErrTooLarge)
	}
	return decodeHeads(b, kindState, "state")
}

func decodeHeads(b []byte, kind byte, what string) (headsMsg, error) {
	r := wire.NewReader(b, "gossip: decode "+what)
	if k := r.Byte("kind"); r.Err() == nil && k != kind {
		r.Malformed("kind 0x%02x, want 0x%02x", k, kind)
	}
	var m headsMsg
	m.holder = r.Str("holder", maxNameLen)
	if r.Err() == nil && m.holder == "" {
		r.Malformed("empty holder")
	}
	if kind == kindState {
		m.total = r.Uvarint("total")
	}
	n := r.Uvarint("count")
	switch {
	case r.Err() != nil:
	case n == 0 && kind == kindHeads:
		r.Malformed("no heads")
	case n > uint64(r.Left()/minHeadBytes):
		r.Malformed("count %d larger than the data", n)
	case kind == kindState && n > m.total:
		r.Malformed("count %d above total %d", n, m.total)
	}
	if r.Err() != nil {
		return headsMsg{}, r.Err()
	}
	m.heads = make([]replication.OriginHead, 0, n)
	for i := uint64(0); i < n && r.Err() == nil; i++ {
		var h replication.OriginHead
		copy(h.Origin[:], r.Take(replication.OriginIDSize, "origin"))
		h.Seq = r.Uvarint("seq")
		copy(h.Hash[:DigestSize], r.Take(DigestSize, "hash prefix"))
		switch {
		case r.Err() != nil:
		case h.Seq == 0:
			r.Malformed("head %d: seq 0", i)
		case i > 0 && !m.heads[i-1].Origin.Less(h.Origin):
			r.Malformed("head %d: origins not strictly ascending", i)
		}
		m.heads = append(m.heads, h)
	}
	r.End(what)
	if r.Err() != nil {
		return headsMsg{}, r.Err()
	}
	return m, nil
}

// headsTable is what gossip says each member holds: holder → origin →
// (seq, hash prefix). Seqs only rise: an announcement of a lower seq than
// the one held is stale (it was overtaken on the way) and is ignored. The
// table holds at most max heads in all.
type headsTable struct {
	byHolder map[string]replication.Vector
	n, max   int
}

func newHeadsTable(max int) *headsTable {
	return &headsTable{byHolder: make(map[string]replication.Vector), max: max}
}

// mergeResult says what a merge changed.
type mergeResult struct {
	raised    []replication.OriginHead // heads that were new or higher
	dropped   int                      // new heads refused for lack of room
	conflicts int                      // same seq, different hash prefix: a fork hint
}

// merge raises holder's heads to hs where hs is ahead.
func (t *headsTable) merge(holder string, hs []replication.OriginHead) mergeResult {
	var res mergeResult
	v := t.byHolder[holder]
	for _, h := range hs {
		h = prefixHead(h)
		old, ok := v[h.Origin]
		switch {
		case !ok && t.n >= t.max:
			res.dropped++
			continue
		case ok && h.Seq < old.Seq:
			continue
		case ok && h.Seq == old.Seq:
			if h.Hash != old.Hash {
				res.conflicts++
			}
			continue
		}
		if v == nil {
			v = make(replication.Vector)
			t.byHolder[holder] = v
		}
		if !ok {
			t.n++
		}
		v[h.Origin] = h.Head
		res.raised = append(res.raised, h)
	}
	return res
}

// vector returns a copy of holder's heads (nil if none are known).
func (t *headsTable) vector(holder string) replication.Vector {
	v, ok := t.byHolder[holder]
	if !ok {
		return nil
	}
	return v.Clone()
}

// forget drops everything known about holder.
func (t *headsTable) forget(holder string) {
	t.n -= len(t.byHolder[holder])
	delete(t.byHolder, holder)
}

// encodeLeave encodes a leave notice for holder: kindLeave holder.
func encodeLeave(holder string) ([]byte, error) {
	if err := checkStr("leave notice", "holder", holder, maxNameLen); err != nil {
		return nil, err
	}
	return wire.AppendString([]byte{kindLeave}, holder), nil
}

// decodeLeave parses a leave notice, with the same strictness as the
// other decoders.
func decodeLeave(b []byte) (string, error) {
	r := wire.NewReader(b, "gossip: decode leave notice")
	if k := r.Byte("kind"); r.Err() == nil && k != kindLeave {
		r.Malformed("kind 0x%02x, want 0x%02x", k, kindLeave)
	}
	holder := r.Str("holder", maxNameLen)
	if r.Err() == nil && holder == "" {
		r.Malformed("empty holder")
	}
	r.End("leave notice")
	if r.Err() != nil {
		return "", r.Err()
	}
	return holder, nil
}
