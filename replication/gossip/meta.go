package gossip

import (
	"encoding/binary"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// DigestSize is the length of the vector-digest prefix a member advertises
// in its Meta and of the hash prefix carried by head announcements.
const DigestSize = 8

// Limits of the Meta encoding. A member's metadata rides in every alive
// message memberlist gossips, so it is kept small; memberlist panics when
// NodeMeta returns more than memberlist.MetaMaxSize (512) bytes, and the
// encoder refuses anything over maxMetaBytes long before that.
const (
	// metaVersion is the version byte of the encoding written by this code.
	// A reader accepts any version >= 1: version 1 fields come first in
	// every later version, and a later version may only append fields.
	metaVersion = 1
	// maxRoleLen bounds Meta.Role ("node", "hub").
	maxRoleLen = 16
	// maxTierLen bounds Meta.Tier ("district", "province").
	maxTierLen = 32
	// maxUnitLen bounds Meta.Unit (an administrative unit code).
	maxUnitLen = 32
	// maxSyncAddrLen bounds Meta.SyncAddr: "host:port", with room for a
	// bracketed IPv6 address or a short DNS name.
	maxSyncAddrLen = 96
	// maxMetaBytes is the largest encoding this code writes: the version
	// byte, four strings at their limits with their length prefixes, the
	// origin, the digest and a 10-byte varint. It is checked against
	// memberlist.MetaMaxSize by a test.
	maxMetaBytes = 1 + (2 + maxRoleLen) + (2 + maxTierLen) + (2 + maxUnitLen) + (2 + maxSyncAddrLen) +
		replication.OriginIDSize + DigestSize + binary.MaxVarintLen64
	// maxMetaInput is the largest metadata a reader accepts from a peer
	// (memberlist's own limit): later versions may be longer than ours.
	maxMetaInput = 512
)

// Meta is what a member advertises about itself in its memberlist node
// metadata: enough for a peer to decide whether and where to sync with it,
// without a round trip. It is gossiped with every alive message, so it
// stays under maxMetaBytes; UpdateMeta rejects a Meta whose strings are
// over their limits.
type Meta struct {
	// Role is what the member is: replication.RoleNode (a field laptop) or
	// replication.RoleHub.
	Role replication.Role
	// Tier names a hub's tier ("district", "province"); empty for laptops.
	Tier string
	// Unit is the administrative unit code the member serves.
	Unit string
	// SyncAddr is "host:port" of the member's sync listener (a TCP stream
	// with application-level acks). Empty for a member that only dials
	// out: a laptop behind carrier NAT has no address anyone can dial.
	SyncAddr string
	// Origin is the member's own origin (its writer log), or zero.
	Origin replication.OriginID
	// Digest is the first DigestSize bytes of the member's
	// replication.Vector.Digest(): two members with equal digests hold the
	// same entries, so they need not sync. See VectorDigest.
	Digest [DigestSize]byte
	// Entries is the number of entries the member holds (Vector.Total()).
	Entries uint64
}

// VectorDigest returns the digest prefix a member advertises for vector v.
func VectorDigest(v replication.Vector) [DigestSize]byte {
	var d [DigestSize]byte
	full := v.Digest()
	copy(d[:], full[:])
	return d
}

// InSyncWith reports whether m and o advertise the same vector digest and
// entry count: then neither holds an entry the other lacks (up to the
// 64-bit prefix; the sync protocol's summary exchange is exact).
func (m Meta) InSyncWith(o Meta) bool { return m.Digest == o.Digest && m.Entries == o.Entries }

// validate checks m's fields against their limits.
func (m Meta) validate() error {
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"role", string(m.Role), maxRoleLen},
		{"tier", m.Tier, maxTierLen},
		{"unit", m.Unit, maxUnitLen},
		{"sync address", m.SyncAddr, maxSyncAddrLen},
	} {
		if err := checkStr("meta", f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// encodeMeta returns the version-1 encoding of m:
//
//	version(1) role tier unit syncAddr origin(16) digest(8) entries(uvarint)
//
// where each string is a uvarint length and its UTF-8 bytes.
func encodeMeta(m Meta) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, maxMetaBytes)
	b = append(b, metaVersion)
	b = wire.AppendString(b, string(m.Role))
	b = wire.AppendString(b, m.Tier)
	b = wire.AppendString(b, m.Unit)
	b = wire.AppendString(b, m.SyncAddr)
	b = append(b, m.Origin[:]...)
	b = append(b, m.Digest[:]...)
	b = binary.AppendUvarint(b, m.Entries)
	if len(b) > maxMetaBytes { // cannot happen after validate; a limit, asserted
		return nil, fmt.Errorf("gossip: meta: %d bytes, limit %d: %w", len(b), maxMetaBytes, replication.ErrTooLarge)
	}
	return b, nil
}

// decodeMeta parses metadata a peer advertised. It rejects empty, oversized,
// truncated and non-canonical input, strings over their limits and (in
// version 1) trailing bytes, with an error wrapping replication.ErrMalformed
// or replication.ErrTooLarge. Fields appended by later versions are ignored.
func decodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) > maxMetaInput {
		return m, fmt.Errorf("gossip: decode meta: %d bytes, limit %d: %w", len(b), maxMetaInput, replication.ErrTooLarge)
	}
	r := wire.NewReader(b, "gossip: decode meta")
	v := r.Byte("version")
	if r.Err() == nil && v == 0 {
		r.Malformed("version 0")
	}
	m.Role = replication.Role(r.Str("role", maxRoleLen))
	m.Tier = r.Str("tier", maxTierLen)
	m.Unit = r.Str("unit", maxUnitLen)
	m.SyncAddr = r.Str("sync address", maxSyncAddrLen)
	copy(m.Origin[:], r.Take(replication.OriginIDSize, "origin"))
	copy(m.Digest[:], r.Take(DigestSize, "digest"))
	m.Entries = r.Uvarint("entries")
	if v == metaVersion {
		r.End("meta")
	}
	if r.Err() != nil {
		return Meta{}, r.Err()
	}
	return m, nil
}
