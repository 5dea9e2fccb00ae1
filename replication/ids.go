package replication

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// OriginIDSize is the length of an origin ID in bytes.
const OriginIDSize = 16

// HashSize is the length of an entry hash in bytes (SHA-256).
const HashSize = sha256.Size

// OriginID names one writer's log: one device key in one epoch. It is derived
// from the public key and the epoch (see DeriveOriginID), so it cannot be
// chosen freely and a new epoch on the same device is a new, separate log.
type OriginID [OriginIDSize]byte

// Hash is the SHA-256 of an entry's canonical unsigned encoding.
type Hash [HashSize]byte

// DeviceID is a short, stable name for a device key: the first 8 bytes of the
// SHA-256 of the ed25519 public key, in hex. It is what the roster and the
// operator see; the key itself is carried by the origin's genesis entry.
type DeviceID string

var originDomain = []byte("fieldsync origin v1\x00")

// DeriveOriginID returns the origin ID of the log written by pub in epoch.
func DeriveOriginID(pub []byte, epoch uint64) OriginID {
	h := sha256.New()
	h.Write(originDomain)
	h.Write(pub)
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], epoch)
	h.Write(e[:])
	var id OriginID
	copy(id[:], h.Sum(nil))
	return id
}

var channelDomain = []byte("fieldsync channel v1\x00")

// MaxScopeBytes bounds a channel's scope (a unit code, see Genesis.Scope).
const MaxScopeBytes = 32

// DeriveChannelOriginID returns the origin ID of the channel a hub's key
// pub writes in epoch for scope (Genesis.Scope): a log of its own, next to
// the key's main origin, that goes down only to the field nodes of that
// unit. An empty scope is the main origin (DeriveOriginID).
func DeriveChannelOriginID(pub []byte, epoch uint64, scope string) OriginID {
	if scope == "" {
		return DeriveOriginID(pub, epoch)
	}
	h := sha256.New()
	h.Write(channelDomain)
	h.Write(pub)
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], epoch)
	h.Write(e[:])
	h.Write([]byte(scope))
	var id OriginID
	copy(id[:], h.Sum(nil))
	return id
}

// DeviceIDOf returns the device ID of an ed25519 public key.
func DeviceIDOf(pub []byte) DeviceID {
	sum := sha256.Sum256(pub)
	return DeviceID(hex.EncodeToString(sum[:8]))
}

// String returns the origin ID in lowercase hex.
func (o OriginID) String() string { return hex.EncodeToString(o[:]) }

// Short returns the first 8 hex digits, for logs and tables.
func (o OriginID) Short() string { return o.String()[:8] }

// IsZero reports whether o is the zero ID.
func (o OriginID) IsZero() bool { return o == OriginID{} }

// MarshalText encodes the ID as hex (used by JSON).
func (o OriginID) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText parses a hex origin ID.
func (o *OriginID) UnmarshalText(b []byte) error {
	id, err := ParseOriginID(string(b))
	if err != nil {
		return err
	}
	*o = id
	return nil
}

// ParseOriginID parses 32 hex digits.
func ParseOriginID(s string) (OriginID, error) {
	var id OriginID
	if len(s) != 2*OriginIDSize {
		return id, fmt.Errorf("%w: origin id must be %d hex digits, got %d characters", ErrMalformed, 2*OriginIDSize, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: origin id: %v", ErrMalformed, err)
	}
	return id, nil
}

// Less orders origin IDs bytewise; every sorted walk uses it.
func (o OriginID) Less(p OriginID) bool { return string(o[:]) < string(p[:]) }

// String returns the hash in lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the first 12 hex digits.
func (h Hash) Short() string { return h.String()[:12] }

// IsZero reports whether h is all zero (the "previous hash" of seq 1).
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes the hash as hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText parses a hex hash.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 2*HashSize {
		return fmt.Errorf("%w: hash must be %d hex digits", ErrMalformed, 2*HashSize)
	}
	_, err := hex.Decode(h[:], b)
	if err != nil {
		return fmt.Errorf("%w: hash: %v", ErrMalformed, err)
	}
	return nil
}

// EntryID names one entry: origin and seq. Its text form is "origin:seq".
type EntryID struct {
	Origin OriginID
	Seq    uint64
}

// String returns "origin:seq" with the full origin in hex.
func (id EntryID) String() string { return fmt.Sprintf("%s:%d", id.Origin, id.Seq) }

// MarshalText encodes the ID as "origin:seq".
func (id EntryID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses "origin:seq".
func (id *EntryID) UnmarshalText(b []byte) error {
	v, err := ParseEntryID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseEntryID parses "origin:seq".
func ParseEntryID(s string) (EntryID, error) {
	if len(s) < 2*OriginIDSize+2 || s[2*OriginIDSize] != ':' {
		return EntryID{}, fmt.Errorf("%w: entry id %q: want <32 hex digits>:<seq>", ErrMalformed, s)
	}
	o, err := ParseOriginID(s[:2*OriginIDSize])
	if err != nil {
		return EntryID{}, err
	}
	var seq uint64
	if _, err := fmt.Sscanf(s[2*OriginIDSize+1:], "%d", &seq); err != nil || seq == 0 {
		return EntryID{}, fmt.Errorf("%w: entry id %q: bad seq", ErrMalformed, s)
	}
	return EntryID{Origin: o, Seq: seq}, nil
}

// Less orders entry IDs by origin, then seq.
func (id EntryID) Less(o EntryID) bool {
	if id.Origin != o.Origin {
		return id.Origin.Less(o.Origin)
	}
	return id.Seq < o.Seq
}
