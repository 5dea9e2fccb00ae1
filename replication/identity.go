package replication

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
)

// GenesisSchema is the schema version of the genesis payload.
const GenesisSchema = 1

// Role says what a writer is.
type Role string

const (
	// RoleNode is a field laptop.
	RoleNode Role = "node"
	// RoleHub is a district or provincial hub.
	RoleHub Role = "hub"
)

// Genesis is the payload of seq 1 of every origin. It binds the origin ID to
// a device key and an epoch, and says who the writer is. Everything in it is
// signed by the key it names.
type Genesis struct {
	PublicKey []byte `json:"public_key"` // ed25519, 32 bytes (base64 in JSON)
	Epoch     uint64 `json:"epoch"`
	Role      Role   `json:"role"`
	Tier      string `json:"tier,omitempty"` // hubs: "district", "province", ...
	Unit      string `json:"unit"`           // administrative unit code it serves
	// PrevOrigin, when set, is the origin this one replaces: a new epoch
	// after a restore, a clone or a fork notice.
	PrevOrigin *OriginID `json:"prev_origin,omitempty"`
	// PrevSeq is the last seq of PrevOrigin this writer stands behind.
	PrevSeq uint64 `json:"prev_seq,omitempty"`
	// PrevHash is the hash of its PrevSeq entry in this writer's copy: a
	// holder of another entry there has proof (both signed by this key)
	// that the old origin forked.
	PrevHash *Hash `json:"prev_hash,omitempty"`
	// ReissueFrom is the first seq of PrevOrigin this writer re-issues
	// under the new origin (through PrevSeq), because a peer may lack it.
	ReissueFrom uint64 `json:"reissue_from,omitempty"`
	// Scope, when set, makes this origin a hub's downward channel for one
	// administrative unit (a commune): its ID derives from the key, the
	// epoch and the scope (DeriveChannelOriginID), it carries only
	// DownwardKinds, and the sync protocol offers it to a field node only
	// when the node's units include the scope (package syncproto). The key
	// is the hub's own device key, so the roster admits it as that hub.
	Scope string `json:"scope,omitempty"`
}

// DecodeGenesis parses and checks a genesis payload.
func DecodeGenesis(payload []byte) (Genesis, error) {
	var g Genesis
	if err := json.Unmarshal(payload, &g); err != nil {
		return g, fmt.Errorf("%w: genesis payload: %v", ErrMalformed, err)
	}
	if len(g.PublicKey) != ed25519.PublicKeySize {
		return g, fmt.Errorf("%w: genesis public_key is %d bytes, want %d", ErrMalformed, len(g.PublicKey), ed25519.PublicKeySize)
	}
	if g.Role != RoleNode && g.Role != RoleHub {
		return g, fmt.Errorf("%w: genesis role %q, want node or hub", ErrMalformed, g.Role)
	}
	if err := g.checkPrev(); err != nil {
		return g, err
	}
	if err := g.checkScope(); err != nil {
		return g, err
	}
	return g, nil
}

// checkScope checks a channel genesis: a hub's, in no new epoch, with a
// short printable scope.
func (g *Genesis) checkScope() error {
	switch {
	case g.Scope == "":
		return nil
	case g.Role != RoleHub:
		return fmt.Errorf("%w: genesis scope %q on a %s: only hubs write channels", ErrMalformed, g.Scope, g.Role)
	case g.PrevOrigin != nil:
		return fmt.Errorf("%w: genesis scope %q with prev_origin: a channel starts no new epoch", ErrMalformed, g.Scope)
	case len(g.Scope) > MaxScopeBytes:
		return fmt.Errorf("%w: genesis scope of %d bytes, limit %d", ErrMalformed, len(g.Scope), MaxScopeBytes)
	}
	for _, c := range []byte(g.Scope) {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("%w: genesis scope %q: printable ASCII only", ErrMalformed, g.Scope)
		}
	}
	return nil
}

// Channel reports whether the genesis starts a downward channel (Scope).
func (g *Genesis) Channel() bool { return g.Scope != "" }

// checkPrev checks the fields naming a previous epoch hang together.
func (g *Genesis) checkPrev() error {
	switch {
	case g.PrevOrigin == nil && (g.PrevSeq != 0 || g.PrevHash != nil || g.ReissueFrom != 0):
		return fmt.Errorf("%w: genesis prev_seq, prev_hash or reissue_from without prev_origin", ErrMalformed)
	case g.PrevOrigin != nil && (g.PrevSeq == 0 || g.PrevHash == nil):
		return fmt.Errorf("%w: genesis prev_origin needs prev_seq and prev_hash", ErrMalformed)
	case g.ReissueFrom != 0 && (g.ReissueFrom < 2 || g.ReissueFrom > g.PrevSeq):
		return fmt.Errorf("%w: genesis reissue_from %d outside 2..prev_seq %d", ErrMalformed, g.ReissueFrom, g.PrevSeq)
	}
	return nil
}

// VerifyGenesis checks that e is a well-formed, self-signed seq 1 whose
// origin derives from its key and epoch, and returns its payload.
func VerifyGenesis(e *Entry) (Genesis, error) {
	if e.Kind != KindGenesis || e.Seq != 1 {
		return Genesis{}, fmt.Errorf("%w: %s is %s, want the genesis at seq 1", ErrBrokenChain, e.ID(), e.Kind)
	}
	g, err := DecodeGenesis(e.Payload)
	if err != nil {
		return g, err
	}
	if DeriveChannelOriginID(g.PublicKey, g.Epoch, g.Scope) != e.Origin {
		return g, fmt.Errorf("%w: genesis of %s names a key, epoch and scope that derive another origin", ErrBadSignature, e.Origin.Short())
	}
	if err := VerifySignature(g.PublicKey, e.Hash(), e.Sig); err != nil {
		return g, fmt.Errorf("genesis of %s: %w", e.Origin.Short(), err)
	}
	return g, nil
}

// Signer signs entry hashes for one origin. Implementations hold the private
// key; nothing else in fieldsync sees it.
type Signer interface {
	Origin() OriginID
	PublicKey() ed25519.PublicKey
	Sign(h Hash) []byte
}

// KeySigner is a Signer backed by an ed25519 private key and an epoch
// (and, for a hub's downward channel, a scope).
type KeySigner struct {
	priv   ed25519.PrivateKey
	epoch  uint64
	scope  string
	origin OriginID
}

// NewKeySigner returns a signer for priv in epoch.
func NewKeySigner(priv ed25519.PrivateKey, epoch uint64) *KeySigner {
	pub := priv.Public().(ed25519.PublicKey)
	return &KeySigner{priv: priv, epoch: epoch, origin: DeriveOriginID(pub, epoch)}
}

// GenerateKeySigner makes a new key pair from rand (crypto/rand.Reader in
// production; a seeded reader in the simulation).
func GenerateKeySigner(rand io.Reader, epoch uint64) (*KeySigner, error) {
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("generate device key: %w", err)
	}
	return NewKeySigner(priv, epoch), nil
}

// Origin returns the origin this signer writes.
func (s *KeySigner) Origin() OriginID { return s.origin }

// Epoch returns the signer's epoch.
func (s *KeySigner) Epoch() uint64 { return s.epoch }

// PublicKey returns the device's public key.
func (s *KeySigner) PublicKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// PrivateKey returns the private key (for saving it at init).
func (s *KeySigner) PrivateKey() ed25519.PrivateKey { return s.priv }

// Sign signs the entry hash h.
func (s *KeySigner) Sign(h Hash) []byte { return ed25519.Sign(s.priv, SignatureMessage(h)) }

// WithEpoch returns a signer for the same key in another epoch.
func (s *KeySigner) WithEpoch(epoch uint64) *KeySigner { return NewKeySigner(s.priv, epoch) }

// Channel returns the signer of the same key's downward channel for scope
// in the same epoch (Genesis.Scope); scope "" is the main origin.
func (s *KeySigner) Channel(scope string) *KeySigner {
	return &KeySigner{priv: s.priv, epoch: s.epoch, scope: scope, origin: DeriveChannelOriginID(s.PublicKey(), s.epoch, scope)}
}

// Scope returns the channel's scope ("" for a main origin).
func (s *KeySigner) Scope() string { return s.scope }

var _ Signer = (*KeySigner)(nil)

// NewGenesis builds the unsigned genesis draft for signer s.
func NewGenesis(s *KeySigner, role Role, tier, unit string) Genesis {
	return Genesis{PublicKey: s.PublicKey(), Epoch: s.epoch, Role: role, Tier: tier, Unit: unit, Scope: s.scope}
}

// Draft is an entry before the log gives it a seq and previous hash.
type Draft struct {
	Kind    Kind
	Schema  uint16
	Payload []byte
	HLC     HLC
}

// Seal turns a draft into a signed entry at seq with previous hash prev.
func Seal(s Signer, d Draft, seq uint64, prev Hash) Entry {
	e := Entry{Origin: s.Origin(), Seq: seq, Prev: prev, HLC: d.HLC, Kind: d.Kind, Schema: d.Schema, Payload: d.Payload}
	e.Sig = s.Sign(e.Hash())
	return e
}
