package replication

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// EntryVersion is the version byte of the canonical entry encoding.
const EntryVersion = 1

// MaxPayloadBytes bounds one entry's payload. Enrollment records are a few
// KB; biometrics travel apart, referenced by hash. A limit on everything.
const MaxPayloadBytes = 64 << 10

// SignatureSize is the length of an ed25519 signature.
const SignatureSize = ed25519.SignatureSize

// headerSize is the fixed part of the unsigned encoding:
// version(1) kind(1) schema(2) origin(16) seq(8) prev(32) hlc(8) paylen(4).
const headerSize = 1 + 1 + 2 + OriginIDSize + 8 + HashSize + 8 + 4

// MaxEntryBytes bounds the stored encoding of one entry.
const MaxEntryBytes = headerSize + MaxPayloadBytes + 1 + SignatureSize

// Entry is one immutable record of an origin's append-only log.
//
// The hash covers every field but Sig; Sig, when present, is the origin's
// ed25519 signature over the hash (see SignatureMessage). Entries are never
// updated: a correction is a new entry that names the one it corrects.
//
// Ownership: Payload and Sig are owned by the Entry; decoders return fresh
// slices, so callers may keep them.
type Entry struct {
	Origin  OriginID
	Seq     uint64 // 1, 2, 3, ... no gap, no reuse
	Prev    Hash   // hash of entry Seq-1; zero for Seq 1
	HLC     HLC    // hybrid logical clock at creation
	Kind    Kind
	Schema  uint16 // payload schema version, per kind
	Payload []byte
	// Sig is the signature over Hash(), or nil when this holder did not
	// receive it (a later signed entry covers this one through the chain).
	Sig []byte
}

// ID returns the entry's (origin, seq).
func (e *Entry) ID() EntryID { return EntryID{Origin: e.Origin, Seq: e.Seq} }

// appendUnsigned appends the canonical unsigned encoding to dst.
func (e *Entry) appendUnsigned(dst []byte) []byte {
	dst = append(dst, EntryVersion, byte(e.Kind))
	dst = binary.BigEndian.AppendUint16(dst, e.Schema)
	dst = append(dst, e.Origin[:]...)
	dst = binary.BigEndian.AppendUint64(dst, e.Seq)
	dst = append(dst, e.Prev[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.HLC))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(e.Payload)))
	return append(dst, e.Payload...)
}

// Hash returns the SHA-256 of the canonical unsigned encoding. It is what
// the chain links and what signatures cover.
func (e *Entry) Hash() Hash {
	buf := make([]byte, 0, headerSize+len(e.Payload))
	return sha256.Sum256(e.appendUnsigned(buf))
}

// AppendBinary appends the stored encoding (unsigned encoding, then a
// signature length byte of 0 or 64, then the signature) to dst.
func (e *Entry) AppendBinary(dst []byte) ([]byte, error) {
	if err := e.checkShape(); err != nil {
		return dst, err
	}
	dst = e.appendUnsigned(dst)
	dst = append(dst, byte(len(e.Sig)))
	return append(dst, e.Sig...), nil
}

// MarshalBinary returns the stored encoding.
func (e *Entry) MarshalBinary() ([]byte, error) {
	return e.AppendBinary(make([]byte, 0, headerSize+len(e.Payload)+1+len(e.Sig)))
}

// checkShape checks the limits every encoder and decoder enforces.
func (e *Entry) checkShape() error {
	switch {
	case e.Seq == 0:
		return fmt.Errorf("%w: entry seq is 0 (seqs start at 1)", ErrMalformed)
	case e.Seq == 1 && !e.Prev.IsZero():
		return fmt.Errorf("%w: entry seq 1 has a non-zero previous hash", ErrMalformed)
	case e.Seq > 1 && e.Prev.IsZero():
		return fmt.Errorf("%w: entry seq %d has a zero previous hash", ErrMalformed, e.Seq)
	case len(e.Payload) > MaxPayloadBytes:
		return fmt.Errorf("%w: entry payload is %d bytes, limit %d", ErrTooLarge, len(e.Payload), MaxPayloadBytes)
	case len(e.Sig) != 0 && len(e.Sig) != SignatureSize:
		return fmt.Errorf("%w: entry signature is %d bytes, want %d", ErrMalformed, len(e.Sig), SignatureSize)
	case e.Kind == 0:
		return fmt.Errorf("%w: entry kind is 0", ErrMalformed)
	}
	return nil
}

// DecodeEntry decodes one stored encoding. It is strict: the encoding must be
// exactly as AppendBinary writes it (no trailing bytes), so that decoding and
// re-encoding give back the same bytes.
func DecodeEntry(b []byte) (Entry, error) {
	e, n, err := decodeEntryPrefix(b)
	if err != nil {
		return Entry{}, err
	}
	if n != len(b) {
		return Entry{}, fmt.Errorf("%w: entry has %d trailing bytes", ErrMalformed, len(b)-n)
	}
	return e, nil
}

func decodeEntryPrefix(b []byte) (Entry, int, error) {
	var e Entry
	if len(b) < headerSize+1 {
		return e, 0, fmt.Errorf("%w: entry is %d bytes, shorter than its %d-byte header", ErrMalformed, len(b), headerSize+1)
	}
	if b[0] != EntryVersion {
		return e, 0, fmt.Errorf("%w: entry version %d, this build reads %d", ErrMalformed, b[0], EntryVersion)
	}
	e.Kind = Kind(b[1])
	e.Schema = binary.BigEndian.Uint16(b[2:])
	p := 4
	copy(e.Origin[:], b[p:])
	p += OriginIDSize
	e.Seq = binary.BigEndian.Uint64(b[p:])
	p += 8
	copy(e.Prev[:], b[p:])
	p += HashSize
	e.HLC = HLC(binary.BigEndian.Uint64(b[p:]))
	p += 8
	plen := binary.BigEndian.Uint32(b[p:])
	p += 4
	if plen > MaxPayloadBytes {
		return Entry{}, 0, fmt.Errorf("%w: entry payload length %d, limit %d", ErrTooLarge, plen, MaxPayloadBytes)
	}
	if uint64(len(b)-p) < uint64(plen)+1 {
		return Entry{}, 0, fmt.Errorf("%w: entry payload length %d exceeds the %d bytes left", ErrMalformed, plen, len(b)-p)
	}
	e.Payload = append([]byte(nil), b[p:p+int(plen)]...)
	p += int(plen)
	slen := int(b[p])
	p++
	if slen != 0 && slen != SignatureSize {
		return Entry{}, 0, fmt.Errorf("%w: entry signature length %d, want 0 or %d", ErrMalformed, slen, SignatureSize)
	}
	if len(b)-p < slen {
		return Entry{}, 0, fmt.Errorf("%w: entry signature truncated", ErrMalformed)
	}
	if slen > 0 {
		e.Sig = append([]byte(nil), b[p:p+slen]...)
		p += slen
	}
	if err := e.checkShape(); err != nil {
		return Entry{}, 0, err
	}
	return e, p, nil
}

var sigDomain = []byte("fieldsync entry v1\x00")

// SignatureMessage is what an origin signs for the entry with hash h. The
// domain prefix keeps an entry signature from being valid for anything else.
func SignatureMessage(h Hash) []byte {
	return append(append(make([]byte, 0, len(sigDomain)+HashSize), sigDomain...), h[:]...)
}

// VerifySignature checks sig over hash h under the ed25519 public key pub.
func VerifySignature(pub ed25519.PublicKey, h Hash, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key is %d bytes", ErrBadSignature, len(pub))
	}
	if len(sig) != SignatureSize {
		return fmt.Errorf("%w: signature is %d bytes", ErrBadSignature, len(sig))
	}
	if !ed25519.Verify(pub, SignatureMessage(h), sig) {
		return ErrBadSignature
	}
	return nil
}

// VerifyChain checks that entries are contiguous from one origin, that the
// first links to prev (the hash of the entry before it; zero if it is seq 1),
// and that every signature present verifies under pub. The last entry must be
// signed: an unsigned tail is not covered by anything. On success it returns
// the hash of the last entry.
func VerifyChain(pub ed25519.PublicKey, prev Hash, entries []Entry) (Hash, error) {
	if len(entries) == 0 {
		return prev, nil
	}
	h := prev
	for i := range entries {
		e := &entries[i]
		if i > 0 && (e.Origin != entries[0].Origin || e.Seq != entries[i-1].Seq+1) {
			return Hash{}, fmt.Errorf("%w: entry %d of the range is %s, not the next of %s", ErrBrokenChain, i, e.ID(), entries[i-1].ID())
		}
		if e.Prev != h {
			return Hash{}, fmt.Errorf("%w: entry %s names previous hash %s, held %s", ErrBrokenChain, e.ID(), e.Prev.Short(), h.Short())
		}
		h = e.Hash()
		if e.Sig != nil {
			if err := VerifySignature(pub, h, e.Sig); err != nil {
				return Hash{}, fmt.Errorf("entry %s: %w", e.ID(), err)
			}
		}
	}
	if entries[len(entries)-1].Sig == nil {
		return Hash{}, fmt.Errorf("%w: range ends at %s without a signature", ErrBadSignature, entries[len(entries)-1].ID())
	}
	return h, nil
}
