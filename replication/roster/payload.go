package roster

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"

	"fieldsync/replication"
)

// Schema is the payload schema version of roster and revoke entries.
const Schema = 1

// Limits, each with its reason.
const (
	// MaxDevices bounds the devices of one roster: a province has 100-300
	// laptops and a few dozen hubs; sized for ten times that.
	MaxDevices = 4096
	// MaxUnits bounds a device's scope (a hub of a large district).
	MaxUnits = 256
	// MaxUnitBytes bounds one unit code (codes are 2-5 digits).
	MaxUnitBytes = 32
	// MaxNameBytes bounds a device's name and a revocation's note.
	MaxNameBytes = 128
	// MaxKeep bounds the origins a revocation keeps: one per epoch the
	// device ever started (a restore, a clone, a fork notice).
	MaxKeep = 64
	// MaxPayloadBytes bounds the encoding of one roster payload.
	MaxPayloadBytes = 16 << 10
)

// Add is the payload of a KindRoster entry: the anchor puts a device key on
// the roster with its role and scope, or replaces the record of a key
// already on it (a new scope, a new name).
type Add struct {
	// Key is the device's ed25519 public key.
	Key []byte `json:"key"`
	// Role is what the device may write: node (captures) or hub (decisions).
	Role replication.Role `json:"role"`
	// Tier is a hub's tier; it must match the tier its genesis declares,
	// since decisions rank by tier.
	Tier string `json:"tier,omitempty"`
	// Units is the device's scope: the unit codes whose captures it may
	// write (a commune, or a district or province holding communes).
	Units []string `json:"units"`
	// Name is for operators.
	Name string `json:"name,omitempty"`
}

// Revoke is the payload of a KindRevoke entry: the anchor withdraws a device
// key. Of each origin named in Keep, the entries up to Seq stand (what the
// province held before the device was lost); everything else the key ever
// writes, in any epoch, is quarantined. Revocation is clock-free and final.
type Revoke struct {
	Key  []byte  `json:"key"`
	Keep []Limit `json:"keep,omitempty"`
	Note string  `json:"note,omitempty"`
}

// Limit is the last seq of an origin that a revocation keeps.
type Limit struct {
	Origin replication.OriginID `json:"origin"`
	Seq    uint64               `json:"seq"`
}

var (
	unitPattern = regexp.MustCompile(`^[0-9A-Za-z._-]{1,32}$`)
	tierPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
)

// Validate checks an Add's fields and puts its units in canonical order.
func (a *Add) Validate() error {
	if err := checkKey(a.Key); err != nil {
		return err
	}
	switch {
	case a.Role != replication.RoleNode && a.Role != replication.RoleHub:
		return malformed("role %q, want node or hub", a.Role)
	case a.Role == replication.RoleHub && !tierPattern.MatchString(a.Tier):
		return malformed("a hub needs a tier such as district or province, got %q", a.Tier)
	case a.Role == replication.RoleNode && a.Tier != "":
		return malformed("tier %q: only hubs have a tier", a.Tier)
	case len(a.Units) == 0:
		return malformed("no unit: a device needs a scope")
	case len(a.Units) > MaxUnits:
		return tooLarge("%d units, limit %d", len(a.Units), MaxUnits)
	}
	for _, u := range a.Units {
		if !unitPattern.MatchString(u) {
			return malformed("unit %q", clip(u))
		}
	}
	slices.Sort(a.Units)
	a.Units = slices.Compact(a.Units)
	return checkText("name", a.Name)
}

// Validate checks a Revoke's fields and puts Keep in canonical order (by
// origin; one limit per origin).
func (r *Revoke) Validate() error {
	if err := checkKey(r.Key); err != nil {
		return err
	}
	if len(r.Keep) > MaxKeep {
		return tooLarge("%d kept origins, limit %d", len(r.Keep), MaxKeep)
	}
	slices.SortFunc(r.Keep, func(a, b Limit) int { return bytes.Compare(a.Origin[:], b.Origin[:]) })
	for i := 1; i < len(r.Keep); i++ {
		if r.Keep[i].Origin == r.Keep[i-1].Origin {
			return malformed("origin %s kept twice", r.Keep[i].Origin.Short())
		}
	}
	return checkText("note", r.Note)
}

// EncodeAdd returns the canonical payload of a roster entry.
func EncodeAdd(a Add) ([]byte, error) {
	a.Units = slices.Clone(a.Units)
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(a)
}

// EncodeRevoke returns the canonical payload of a revoke entry.
func EncodeRevoke(r Revoke) ([]byte, error) {
	r.Keep = slices.Clone(r.Keep)
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// DecodeAdd parses a roster entry's payload. It is strict: unknown fields,
// invalid values and any encoding other than the canonical one that
// EncodeAdd writes are refused, so one add has exactly one encoding.
func DecodeAdd(b []byte) (Add, error) {
	var a Add
	if err := decodeStrict(b, &a); err != nil {
		return Add{}, err
	}
	if err := checkCanonical(b, a, EncodeAdd); err != nil {
		return Add{}, err
	}
	return a, nil
}

// DecodeRevoke parses a revoke entry's payload, as strictly as DecodeAdd.
func DecodeRevoke(b []byte) (Revoke, error) {
	var r Revoke
	if err := decodeStrict(b, &r); err != nil {
		return Revoke{}, err
	}
	if err := checkCanonical(b, r, EncodeRevoke); err != nil {
		return Revoke{}, err
	}
	return r, nil
}

func decodeStrict(b []byte, v any) error {
	if len(b) > MaxPayloadBytes {
		return tooLarge("roster payload of %d bytes, limit %d", len(b), MaxPayloadBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed("%v", err)
	}
	if dec.More() {
		return malformed("trailing data")
	}
	return nil
}

func checkCanonical[T any](b []byte, v T, encode func(T) ([]byte, error)) error {
	c, err := encode(v)
	if err != nil {
		return err
	}
	if !bytes.Equal(c, b) {
		return malformed("not the canonical encoding")
	}
	return nil
}

func checkKey(k []byte) error {
	if len(k) != ed25519.PublicKeySize {
		return malformed("key of %d bytes, want %d", len(k), ed25519.PublicKeySize)
	}
	return nil
}

func checkText(field, s string) error {
	if len(s) > MaxNameBytes {
		return tooLarge("%s of %d bytes, limit %d", field, len(s), MaxNameBytes)
	}
	if !utf8.ValidString(s) {
		return malformed("%s is not UTF-8", field)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return malformed("%s has a control character", field)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: roster: %s", replication.ErrMalformed, fmt.Sprintf(format, args...))
}

func tooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: roster: %s", replication.ErrTooLarge, fmt.Sprintf(format, args...))
}

// AddDraft returns the draft of a roster entry putting a on the roster.
func AddDraft(a Add, hlc replication.HLC) (replication.Draft, error) {
	p, err := EncodeAdd(a)
	if err != nil {
		return replication.Draft{}, err
	}
	return replication.Draft{Kind: replication.KindRoster, Schema: Schema, Payload: p, HLC: hlc}, nil
}

// RevokeDraft returns the draft of a revoke entry.
func RevokeDraft(r Revoke, hlc replication.HLC) (replication.Draft, error) {
	p, err := EncodeRevoke(r)
	if err != nil {
		return replication.Draft{}, err
	}
	return replication.Draft{Kind: replication.KindRevoke, Schema: Schema, Payload: p, HLC: hlc}, nil
}
