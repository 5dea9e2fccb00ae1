package dossier

import (
	"encoding/binary"
	"fmt"
	"slices"

	"fieldsync/replication"
)

// ReceiptSchema is the schema version of a KindReceipt payload.
const ReceiptSchema = 1

// receiptVersion is the payload's first byte.
const receiptVersion = 1

// MaxReceiptSeqs bounds the seqs a receipt names past its Through: the
// payload stays under 33 KB, well within an entry's limit.
const MaxReceiptSeqs = 4096

// receiptHeader: version(1) origin(16) through(8) through-hash(32) count(2).
const receiptHeader = 1 + replication.OriginIDSize + 8 + replication.HashSize + 2

// Receipt is the provincial hub's signed statement that it holds, whole and
// verified, the dossiers of one laptop origin: every entry up to Through
// (whose hash is ThroughHash: the receipt is for that branch of the chain)
// and the entries Also names above it. A laptop may then drop the blobs of
// those dossiers after its retention age; their records stay. It is
// signed by the anchor (the roster key; the province hub's device key in
// open mode) in its downward channel of the laptop's commune (package
// replication/channel), so it reaches that commune's laptops only.
type Receipt struct {
	Origin      replication.OriginID
	Through     uint64
	ThroughHash replication.Hash
	Also        []uint64 // ascending, each > Through
}

// Encode returns the canonical payload of a KindReceipt entry.
func (r *Receipt) Encode() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, receiptHeader+8*len(r.Also))
	b = append(b, receiptVersion)
	b = append(b, r.Origin[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Through)
	b = append(b, r.ThroughHash[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Also)))
	for _, s := range r.Also {
		b = binary.BigEndian.AppendUint64(b, s)
	}
	return b, nil
}

func (r *Receipt) check() error {
	switch {
	case r.Origin.IsZero():
		return fmt.Errorf("%w: receipt for the zero origin", replication.ErrMalformed)
	case len(r.Also) > MaxReceiptSeqs:
		return fmt.Errorf("%w: receipt names %d seqs, limit %d", replication.ErrTooLarge, len(r.Also), MaxReceiptSeqs)
	case r.Through == 0 && !r.ThroughHash.IsZero():
		return fmt.Errorf("%w: receipt through seq 0 with a hash", replication.ErrMalformed)
	case r.Through > 0 && r.ThroughHash.IsZero():
		return fmt.Errorf("%w: receipt through seq %d without its hash", replication.ErrMalformed, r.Through)
	case r.Through == 0 && len(r.Also) == 0:
		return fmt.Errorf("%w: receipt names nothing", replication.ErrMalformed)
	}
	prev := r.Through
	for _, s := range r.Also {
		if s <= prev {
			return fmt.Errorf("%w: receipt seqs must ascend above %d (got %d after %d)", replication.ErrMalformed, r.Through, s, prev)
		}
		prev = s
	}
	return nil
}

// DecodeReceipt parses a KindReceipt payload.
func DecodeReceipt(b []byte) (Receipt, error) {
	var r Receipt
	if len(b) < receiptHeader {
		return r, fmt.Errorf("%w: receipt of %d bytes, header is %d", replication.ErrMalformed, len(b), receiptHeader)
	}
	if b[0] != receiptVersion {
		return r, fmt.Errorf("%w: receipt version %d, want %d", replication.ErrMalformed, b[0], receiptVersion)
	}
	p := b[1:]
	copy(r.Origin[:], p)
	p = p[replication.OriginIDSize:]
	r.Through = binary.BigEndian.Uint64(p)
	p = p[8:]
	copy(r.ThroughHash[:], p)
	p = p[replication.HashSize:]
	n := int(binary.BigEndian.Uint16(p))
	p = p[2:]
	if n > MaxReceiptSeqs {
		return r, fmt.Errorf("%w: receipt names %d seqs, limit %d", replication.ErrTooLarge, n, MaxReceiptSeqs)
	}
	if len(p) != 8*n {
		return r, fmt.Errorf("%w: receipt declares %d seqs in %d bytes", replication.ErrMalformed, n, len(p))
	}
	if n > 0 {
		r.Also = make([]uint64, n)
		for i := range r.Also {
			r.Also[i] = binary.BigEndian.Uint64(p[8*i:])
		}
	}
	return r, r.check()
}

// Covers reports whether the receipt covers seq (the caller checks the
// branch: its own entry at Through must hash to ThroughHash).
func (r *Receipt) Covers(seq uint64) bool {
	if seq <= r.Through {
		return true
	}
	_, ok := slices.BinarySearch(r.Also, seq)
	return ok
}
