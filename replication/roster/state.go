package roster

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"

	"fieldsync/replication"
)

// Reason says why an entry is not admitted. The strings are stable: they
// appear in status, in the view's quarantine and in its digest.
type Reason string

// The reasons, in the order the rules check them.
const (
	// ReasonNoGenesis: the origin's genesis (its key) is not held yet.
	ReasonNoGenesis Reason = "no-genesis"
	// ReasonNotOnRoster: the key was never added by the anchor.
	ReasonNotOnRoster Reason = "not-on-roster"
	// ReasonRoleMismatch: the genesis declares another role or tier than
	// the roster gives the key.
	ReasonRoleMismatch Reason = "role-mismatch"
	// ReasonRevoked: the key was revoked and the entry is past what the
	// revocation keeps.
	ReasonRevoked Reason = "revoked"
	// ReasonNotHub: a decision from a device that is not a hub.
	ReasonNotHub Reason = "not-hub"
	// ReasonNotAnchor: a roster or revoke entry from anyone but the anchor.
	ReasonNotAnchor Reason = "not-anchor"
	// ReasonOutOfScope: a capture of a unit outside the device's scope
	// (decided by the hub's view, which knows the code lists).
	ReasonOutOfScope Reason = "out-of-scope"
)

// ErrFull is returned by Apply when an add would put more than MaxDevices
// devices on the roster; the add is ignored.
var ErrFull = errors.New("roster: full")

// ErrNotRoster is returned by Apply for an entry that is neither a roster
// nor a revoke entry.
var ErrNotRoster = errors.New("roster: not a roster entry")

// Device is one key as the roster describes it.
type Device struct {
	Key   Key                  `json:"key"`
	ID    replication.DeviceID `json:"id"`
	Role  replication.Role     `json:"role"`
	Tier  string               `json:"tier,omitempty"`
	Units []string             `json:"units"`
	Name  string               `json:"name,omitempty"`
	// AddedBy is the add entry in force (the last of the anchor's adds of
	// this key, by origin and seq); zero for the anchor itself.
	AddedBy replication.EntryID `json:"added_by"`
	// Anchor marks the trust anchor's own key: a hub of every scope.
	Anchor bool `json:"anchor,omitempty"`
	// Revoked, with Keep: of each origin in Keep the entries up to its
	// Seq stand; every other entry of the key is quarantined.
	Revoked   bool                  `json:"revoked,omitempty"`
	Keep      []Limit               `json:"keep,omitempty"`
	RevokedBy []replication.EntryID `json:"revoked_by,omitempty"`
}

// Key is an ed25519 public key that prints as hex.
type Key []byte

// MarshalText renders the key in hex.
func (k Key) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(k)), nil }

// UnmarshalText parses a hex key.
func (k *Key) UnmarshalText(b []byte) error {
	v, err := ParseKey(string(b))
	*k = v
	return err
}

// ParseKey parses an ed25519 public key written in hex.
func ParseKey(s string) (Key, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, malformed("device key must be %d hex digits", 2*ed25519.PublicKeySize)
	}
	return b, nil
}

// Limit returns the last seq of origin o that stands for a revoked device
// (0 when none does); for a device not revoked it returns the maximum.
func (d *Device) Limit(o replication.OriginID) uint64 {
	if !d.Revoked {
		return ^uint64(0)
	}
	for _, l := range d.Keep {
		if l.Origin == o {
			return l.Seq
		}
	}
	return 0
}

// Listed reports whether the device may sync: on the roster (or the
// anchor) and not revoked.
func (d *Device) Listed() bool { return d.Anchor || (!d.AddedBy.Origin.IsZero() && !d.Revoked) }

// State is the roster: a pure fold of the anchor's roster and revoke
// entries. It depends only on the set of entries applied, never on their
// order: of several adds of one key, the one with the greatest (origin,
// seq) is in force; revocations are final and combine (an origin kept
// by every revocation keeps the smallest seq any of them allows).
//
// The caller applies only entries whose origin's genesis names the anchor
// key (see live.Roster, and the hub's view). State is not safe for concurrent use.
type State struct {
	anchor  Key
	records map[replication.DeviceID]*record
	revokes map[replication.DeviceID][]revocation
}

type record struct {
	add Add
	by  replication.EntryID
}

type revocation struct {
	rev Revoke
	by  replication.EntryID
}

// NewState returns an empty roster for the trust anchor's public key.
func NewState(anchor ed25519.PublicKey) *State {
	return &State{anchor: Key(slices.Clone(anchor)), records: map[replication.DeviceID]*record{}, revokes: map[replication.DeviceID][]revocation{}}
}

// Anchor returns the anchor's public key.
func (s *State) Anchor() ed25519.PublicKey { return ed25519.PublicKey(s.anchor) }

// IsAnchor reports whether key is the anchor's.
func (s *State) IsAnchor(key []byte) bool { return bytes.Equal(key, s.anchor) }

// Change is what one Apply changed, for callers that must re-examine the
// entries of the device (the hub's view).
type Change struct {
	Device replication.DeviceID
	// Before and After are the device's record around the change
	// (ok=false: not known to the roster).
	Before, After  Device
	HadBefore, Has bool
	Revocation     bool
}

// Apply folds one roster or revoke entry of the anchor into the state.
// Applying an entry twice changes nothing. A malformed payload returns an
// error wrapping replication.ErrMalformed and changes nothing.
func (s *State) Apply(e replication.Entry) (Change, error) {
	switch e.Kind {
	case replication.KindRoster:
		a, err := DecodeAdd(e.Payload)
		if err != nil {
			return Change{}, err
		}
		return s.applyAdd(a, e.ID())
	case replication.KindRevoke:
		r, err := DecodeRevoke(e.Payload)
		if err != nil {
			return Change{}, err
		}
		return s.applyRevoke(r, e.ID()), nil
	}
	return Change{}, fmt.Errorf("%w: %s", ErrNotRoster, e.Kind)
}

func (s *State) applyAdd(a Add, by replication.EntryID) (Change, error) {
	id := replication.DeviceIDOf(a.Key)
	ch := s.begin(id, a.Key)
	if s.IsAnchor(a.Key) {
		return ch, nil // the anchor is on every roster it signs
	}
	cur, ok := s.records[id]
	switch {
	case ok && !cur.by.Less(by):
		return ch, nil // an add already in force, or an earlier one
	case !ok && len(s.records) >= MaxDevices:
		return ch, fmt.Errorf("%w: %d devices", ErrFull, MaxDevices)
	}
	s.records[id] = &record{add: a, by: by}
	return s.finish(ch, a.Key), nil
}

func (s *State) applyRevoke(r Revoke, by replication.EntryID) Change {
	id := replication.DeviceIDOf(r.Key)
	ch := s.begin(id, r.Key)
	ch.Revocation = true
	if s.IsAnchor(r.Key) {
		return ch // the anchor cannot revoke itself
	}
	for _, have := range s.revokes[id] {
		if have.by == by {
			return ch
		}
	}
	if len(s.revokes) >= MaxDevices && len(s.revokes[id]) == 0 {
		return ch
	}
	s.revokes[id] = append(s.revokes[id], revocation{rev: r, by: by})
	return s.finish(ch, r.Key)
}

func (s *State) begin(id replication.DeviceID, key []byte) Change {
	ch := Change{Device: id}
	ch.Before, ch.HadBefore = s.Device(key)
	return ch
}

func (s *State) finish(ch Change, key []byte) Change {
	ch.After, ch.Has = s.Device(key)
	return ch
}

// Device returns what the roster says of key. ok is false for a key the
// anchor never added (even if it was revoked).
func (s *State) Device(key []byte) (Device, bool) {
	if s.IsAnchor(key) {
		return Device{Key: Key(slices.Clone(key)), ID: replication.DeviceIDOf(key), Role: replication.RoleHub, Anchor: true, Units: []string{"*"}, Name: "trust anchor"}, true
	}
	id := replication.DeviceIDOf(key)
	rec, ok := s.records[id]
	if !ok || !bytes.Equal(rec.add.Key, key) {
		return Device{}, false
	}
	d := Device{Key: Key(slices.Clone(key)), ID: id, Role: rec.add.Role, Tier: rec.add.Tier, Units: slices.Clone(rec.add.Units), Name: rec.add.Name, AddedBy: rec.by}
	s.fillRevocation(&d)
	return d, true
}

// fillRevocation combines the device's revocations: an origin stands only
// as far as every revocation keeps it.
func (s *State) fillRevocation(d *Device) {
	revs := s.revokes[d.ID]
	if len(revs) == 0 {
		return
	}
	d.Revoked = true
	for _, r := range revs {
		d.RevokedBy = append(d.RevokedBy, r.by)
	}
	sort.Slice(d.RevokedBy, func(i, j int) bool { return d.RevokedBy[i].Less(d.RevokedBy[j]) })
	for _, l := range revs[0].rev.Keep {
		seq, everywhere := l.Seq, true
		for _, r := range revs[1:] {
			i := slices.IndexFunc(r.rev.Keep, func(x Limit) bool { return x.Origin == l.Origin })
			if i < 0 {
				everywhere = false
				break
			}
			seq = min(seq, r.rev.Keep[i].Seq)
		}
		if everywhere {
			d.Keep = append(d.Keep, Limit{Origin: l.Origin, Seq: seq})
		}
	}
}

// Devices returns every device the anchor added, sorted by device ID.
func (s *State) Devices() []Device {
	ids := make([]replication.DeviceID, 0, len(s.records))
	for id := range s.records {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]Device, 0, len(ids))
	for _, id := range ids {
		d, _ := s.Device(s.records[id].add.Key)
		out = append(out, d)
	}
	return out
}

// Len returns the number of devices added.
func (s *State) Len() int { return len(s.records) }

// Admits applies the device rules to an entry of kind at seq of origin,
// whose genesis is g: the key must be the anchor or on the roster, with the
// role (and a hub's tier) its genesis declares; a revoked key's entries
// stand only as far as the revocation keeps them; decisions come from hubs;
// roster entries from the anchor alone. Scope is the caller's rule (it
// needs the code lists). It returns the device and "" when admitted.
func (s *State) Admits(g replication.Genesis, origin replication.OriginID, seq uint64, kind replication.Kind) (Device, Reason) {
	d, ok := s.Device(g.PublicKey)
	switch {
	case d.Anchor:
		return d, ""
	case !ok:
		return d, ReasonNotOnRoster
	case kind == replication.KindGenesis:
		return d, "" // identity, not data
	case d.Role != g.Role || d.Role == replication.RoleHub && d.Tier != g.Tier:
		return d, ReasonRoleMismatch
	case seq > d.Limit(origin):
		return d, ReasonRevoked
	case kind == replication.KindRoster || kind == replication.KindRevoke || kind == replication.KindReceipt:
		return d, ReasonNotAnchor // the province alone signs rosters, revocations and receipts
	case (kind == replication.KindResolve || kind == replication.KindFork || kind == replication.KindDedupModel) && d.Role != replication.RoleHub:
		return d, ReasonNotHub
	}
	return d, ""
}

// InScope reports whether a capture of unit (in a code list) is within
// units: equal to one of them, or below one of them as parentOf tells
// (parentOf returns "" at the top). The anchor's scope "*" holds
// everything. The walk up is bounded.
func InScope(units []string, unit string, parentOf func(string) string) bool {
	for n := 0; unit != "" && n < 8; n++ {
		for _, u := range units {
			if u == unit || u == "*" {
				return true
			}
		}
		if parentOf == nil {
			return false
		}
		unit = parentOf(unit)
	}
	return slices.Contains(units, "*")
}
