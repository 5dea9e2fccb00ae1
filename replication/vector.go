package replication

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// Head is what a replica holds of one origin: the highest contiguous seq and
// the hash of that entry. Seq 0 (zero hash) means nothing held.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash Hash   `json:"hash"`
}

// OriginHead is a Head with the origin it belongs to.
type OriginHead struct {
	Origin OriginID
	Head
}

// Vector is a version vector: origin → head. A replica always holds a
// gap-free prefix of each origin's log, so the vector says exactly which
// entries it holds, and the delta for a peer is every entry above the peer's
// vector. The zero value (nil) is an empty vector; use Clone before
// modifying a vector you did not create.
type Vector map[OriginID]Head

// Seq returns the seq held of origin o (0 if none).
func (v Vector) Seq(o OriginID) uint64 { return v[o].Seq }

// Origins returns the origins in ascending order. Every walk over a vector
// that produces output goes through here, so that output is deterministic.
func (v Vector) Origins() []OriginID {
	out := make([]OriginID, 0, len(v))
	for o := range v {
		out = append(out, o)
	}
	slices.SortFunc(out, compareOrigin)
	return out
}

// Heads returns the heads in ascending origin order.
func (v Vector) Heads() []OriginHead {
	out := make([]OriginHead, 0, len(v))
	for _, o := range v.Origins() {
		out = append(out, OriginHead{Origin: o, Head: v[o]})
	}
	return out
}

// Clone returns a copy of v.
func (v Vector) Clone() Vector {
	out := make(Vector, len(v))
	for o, h := range v {
		out[o] = h
	}
	return out
}

// Merge raises v to w's head for each origin where w is ahead, and returns v
// (allocated if nil). Merge is commutative, associative and idempotent on
// the seqs; on equal seqs the existing hash is kept.
func (v Vector) Merge(w Vector) Vector {
	if v == nil {
		v = make(Vector, len(w))
	}
	for o, h := range w {
		if h.Seq > v[o].Seq {
			v[o] = h
		}
	}
	return v
}

// Covers reports whether v holds at least everything w holds.
func (v Vector) Covers(w Vector) bool {
	for o, h := range w {
		if v[o].Seq < h.Seq {
			return false
		}
	}
	return true
}

// Equal reports whether v and w hold the same seqs and hashes.
func (v Vector) Equal(w Vector) bool {
	n, m := 0, 0
	for _, h := range v {
		if h.Seq > 0 {
			n++
		}
	}
	for o, h := range w {
		if h.Seq == 0 {
			continue
		}
		m++
		if v[o] != h {
			return false
		}
	}
	return n == m
}

// Total returns the number of entries the vector covers.
func (v Vector) Total() uint64 {
	var t uint64
	for _, h := range v {
		t += h.Seq
	}
	return t
}

// Digest returns a SHA-256 over the sorted heads: equal digests mean equal
// vectors. It is small enough to gossip.
func (v Vector) Digest() Hash {
	h := sha256.New()
	var buf [8]byte
	for _, oh := range v.Heads() {
		if oh.Seq == 0 {
			continue
		}
		h.Write(oh.Origin[:])
		binary.BigEndian.PutUint64(buf[:], oh.Seq)
		h.Write(buf[:])
		h.Write(oh.Hash[:])
	}
	var d Hash
	copy(d[:], h.Sum(nil))
	return d
}

func compareOrigin(a, b OriginID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// CompareOrigin orders origin IDs bytewise (for slices.SortFunc).
func CompareOrigin(a, b OriginID) int { return compareOrigin(a, b) }
