package roster

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"fieldsync/replication"
)

// Epoch is the epoch of the roster origin, the log the province writes
// its roster and revoke entries to. Since that origin holds nothing but the
// roster, it can be exported whole (no personal data) and ingested
// anywhere as an ordinary, verified chain.
const Epoch = 1 << 63

// Origin returns the roster origin of the anchor key.
func Origin(anchor ed25519.PublicKey) replication.OriginID {
	return replication.DeriveOriginID(anchor, Epoch)
}

var anchorDomain = []byte("fieldsync roster key v1\x00")

// SignerFor returns the roster signer of the province hub whose device
// signer is given: the trust anchor. Its key is derived from the device
// key (no second secret to keep) but is not the device key, so the hub's
// sessions and decisions are those of a rostered hub like any other, and
// the anchor key does nothing but sign the roster.
func SignerFor(device *replication.KeySigner) *replication.KeySigner {
	h := sha256.New()
	h.Write(anchorDomain)
	h.Write(device.PrivateKey().Seed())
	return replication.NewKeySigner(ed25519.NewKeyFromSeed(h.Sum(nil)), Epoch)
}

// Appender is what Write appends to (oplog.Log).
type Appender interface {
	Append(s replication.Signer, drafts []replication.Draft) ([]replication.Entry, error)
	Head(o replication.OriginID) (replication.Head, error)
}

// Write appends roster or revoke drafts to the roster origin of the
// province hub whose device signer is given (see SignerFor), starting that
// origin with its genesis (a hub of tier and unit) if it is empty. It
// returns the entries written.
func Write(l Appender, province *replication.KeySigner, tier, unit string, drafts ...replication.Draft) ([]replication.Entry, error) {
	s := SignerFor(province)
	h, err := l.Head(s.Origin())
	if err != nil {
		return nil, err
	}
	for _, d := range drafts {
		if d.Kind != replication.KindRoster && d.Kind != replication.KindRevoke {
			return nil, fmt.Errorf("%w: %s", ErrNotRoster, d.Kind)
		}
	}
	if h.Seq == 0 {
		g := replication.NewGenesis(s, replication.RoleHub, tier, unit)
		p, err := encodeGenesis(g)
		if err != nil {
			return nil, err
		}
		hlc := replication.HLC(0)
		if len(drafts) > 0 {
			hlc = drafts[0].HLC
		}
		drafts = append([]replication.Draft{{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: p, HLC: hlc}}, drafts...)
	}
	return l.Append(s, drafts)
}

// Bundle limits: the roster origin of a full roster, with room for
// revocations and re-adds.
const (
	MaxBundleEntries = 4 * MaxDevices
	MaxBundleBytes   = 16 << 20
)

var bundleMagic = []byte("fieldsync roster bundle v1\n")

// EncodeBundle writes a roster export: the magic line, then each entry as
// a 4-byte big-endian length and its stored encoding.
func EncodeBundle(entries []replication.Entry) ([]byte, error) {
	if len(entries) > MaxBundleEntries {
		return nil, tooLarge("bundle of %d entries, limit %d", len(entries), MaxBundleEntries)
	}
	out := append([]byte(nil), bundleMagic...)
	for i := range entries {
		b, err := entries[i].MarshalBinary()
		if err != nil {
			return nil, err
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	if len(out) > MaxBundleBytes {
		return nil, tooLarge("bundle of %d bytes, limit %d", len(out), MaxBundleBytes)
	}
	return out, nil
}

// DecodeBundle parses a roster export. It checks only the encoding; see
// VerifyBundle for what makes it trustworthy.
func DecodeBundle(b []byte) ([]replication.Entry, error) {
	if len(b) > MaxBundleBytes {
		return nil, tooLarge("bundle of %d bytes, limit %d", len(b), MaxBundleBytes)
	}
	if !bytes.HasPrefix(b, bundleMagic) {
		return nil, malformed("not a fieldsync roster bundle")
	}
	b = b[len(bundleMagic):]
	var out []replication.Entry
	for len(b) > 0 {
		if len(out) >= MaxBundleEntries {
			return nil, tooLarge("bundle of more than %d entries", MaxBundleEntries)
		}
		if len(b) < 4 {
			return nil, malformed("bundle truncated in a length")
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) || n > replication.MaxEntryBytes {
			return nil, malformed("bundle entry of %d bytes, %d left", n, len(b))
		}
		e, err := replication.DecodeEntry(b[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		b = b[n:]
	}
	return out, nil
}

// VerifyBundle checks that entries are one anchor origin's whole chain from
// its genesis, every signature verifying under the key its genesis names,
// and nothing but roster and revoke entries after it. anchor, when given,
// must be that key; otherwise the bundle's key is returned for the
// operator to confirm (trust on first use of a file carried from the
// province).
func VerifyBundle(entries []replication.Entry, anchor ed25519.PublicKey) (ed25519.PublicKey, error) {
	if len(entries) == 0 {
		return nil, malformed("empty bundle")
	}
	g, err := replication.VerifyGenesis(&entries[0])
	if err != nil {
		return nil, fmt.Errorf("roster bundle: %w", err)
	}
	if anchor != nil && !bytes.Equal(g.PublicKey, anchor) {
		return nil, fmt.Errorf("%w: roster bundle signed by device %s, the anchor is %s", replication.ErrBadSignature,
			replication.DeviceIDOf(g.PublicKey), replication.DeviceIDOf(anchor))
	}
	if _, err := replication.VerifyChain(g.PublicKey, replication.Hash{}, entries); err != nil {
		return nil, fmt.Errorf("roster bundle: %w", err)
	}
	for _, e := range entries[1:] {
		if e.Kind != replication.KindRoster && e.Kind != replication.KindRevoke {
			return nil, malformed("bundle holds a %s entry", e.Kind)
		}
	}
	return ed25519.PublicKey(g.PublicKey), nil
}

func encodeGenesis(g replication.Genesis) ([]byte, error) { return json.Marshal(g) }

// Scanner is what Export reads (oplog.Log).
type Scanner interface {
	Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error
}

// Export returns the bundle of the anchor's roster origin as src holds it.
func Export(src Scanner, anchor ed25519.PublicKey) ([]byte, error) {
	var entries []replication.Entry
	err := src.Scan(Origin(anchor), 1, func(e replication.Entry) bool {
		entries = append(entries, e)
		return len(entries) <= MaxBundleEntries
	})
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("roster: this replica holds no roster of anchor %s yet", replication.DeviceIDOf(anchor))
	}
	return EncodeBundle(entries)
}
