package bundle

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// Keys. Every replica has a bundle key pair, derived from its device
// key's seed (nothing new to store or lose): bundles for it are sealed to
// its public key. A hub publishes its public key in its own log as an
// entry of kind bundle-key, signed like every entry; hub origins flow down
// to laptops, so a laptop that synced once knows its hubs' keys. A laptop
// puts its own public key in each bundle's header (signed), and the hub's
// answer is sealed to it.

const keyPurpose = "fieldsync/bundle/kem/v1"

// kem is the HPKE KEM of bundle keys: ML-KEM-768 with X25519.
func kem() hpke.KEM { return hpke.MLKEM768X25519() }

// KeyOf derives a replica's bundle key pair from its device key.
func KeyOf(device ed25519.PrivateKey) (hpke.PrivateKey, error) {
	ikm, err := hkdf.Key(sha256.New, device.Seed(), nil, keyPurpose, 64)
	if err != nil {
		return nil, err
	}
	return kem().DeriveKeyPair(ikm)
}

// KeySchema is the schema of a bundle-key entry's payload.
const KeySchema = 1

// KeyPayload is a bundle-key entry: the writer's bundle public key.
type KeyPayload struct {
	KEM uint16 `json:"kem"`
	Key []byte `json:"key"`
}

// maxKeyPayload bounds a bundle-key entry's payload.
const maxKeyPayload = 4096

// ParseKey reads a bundle public key from a bundle-key entry's payload
// (or a header's reply key when raw is set).
func ParseKey(payload []byte) (hpke.PublicKey, error) {
	if len(payload) > maxKeyPayload {
		return nil, fmt.Errorf("%w: bundle key of %d bytes", replication.ErrTooLarge, len(payload))
	}
	var p KeyPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("%w: bundle key: %w", replication.ErrMalformed, err)
	}
	if p.KEM != kem().ID() {
		return nil, fmt.Errorf("%w: bundle key of KEM %#x, this build seals with %#x", replication.ErrMalformed, p.KEM, kem().ID())
	}
	pk, err := kem().NewPublicKey(p.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: bundle key: %w", replication.ErrMalformed, err)
	}
	return pk, nil
}

// keyPayload encodes a public key as a bundle-key payload.
func keyPayload(pk hpke.PublicKey) ([]byte, error) {
	return json.Marshal(KeyPayload{KEM: pk.KEM().ID(), Key: pk.Bytes()})
}

// PublishKey appends this replica's bundle-key entry to its own origin,
// unless the origin already holds one with the same key. It returns
// whether it wrote one.
func PublishKey(l oplog.Log, s *replication.KeySigner, now time.Time) (bool, error) {
	priv, err := KeyOf(s.PrivateKey())
	if err != nil {
		return false, err
	}
	payload, err := keyPayload(priv.PublicKey())
	if err != nil {
		return false, err
	}
	found := false
	err = l.Scan(s.Origin(), 1, func(e replication.Entry) bool {
		if e.Kind == replication.KindBundleKey && string(e.Payload) == string(payload) {
			found = true
			return false
		}
		return true
	})
	if err != nil || found {
		return false, err
	}
	h, err := l.Head(s.Origin())
	if err != nil {
		return false, err
	}
	hlc := replication.MakeHLC(now.UnixMilli(), 0)
	if last, err := l.Get(replication.EntryID{Origin: s.Origin(), Seq: h.Seq}); err == nil && last.HLC >= hlc {
		hlc = last.HLC + 1
	}
	_, err = l.Append(s, []replication.Draft{{Kind: replication.KindBundleKey, Schema: KeySchema, Payload: payload, HLC: hlc}})
	return err == nil, err
}

// ErrNoKey: this replica holds no bundle key of the hub named.
var ErrNoKey = errors.New("bundle: no bundle key known for that hub")

// HubKey is a hub's bundle key as a laptop knows it.
type HubKey struct {
	Origin replication.OriginID
	Device ed25519.PublicKey
	Tier   string
	Unit   string
	Key    hpke.PublicKey
}

// HubKeys returns the bundle keys this log holds of hub origins, the
// newest entry of each device winning, verified: the entry is in an origin
// whose genesis is a hub's (the origin's chain was verified at ingest).
func HubKeys(l oplog.Log) ([]HubKey, error) {
	v, err := l.Vector()
	if err != nil {
		return nil, err
	}
	byDevice := map[string]HubKey{}
	var order []string
	for _, oh := range v.Heads() {
		gen, err := l.Get(replication.EntryID{Origin: oh.Origin, Seq: 1})
		if err != nil {
			continue
		}
		g, err := replication.VerifyGenesis(&gen)
		if err != nil || g.Role != replication.RoleHub {
			continue
		}
		var key hpke.PublicKey
		err = l.Scan(oh.Origin, 2, func(e replication.Entry) bool {
			if e.Kind == replication.KindBundleKey {
				if pk, err := ParseKey(e.Payload); err == nil {
					key = pk
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if key == nil {
			continue
		}
		d := string(g.PublicKey)
		if _, ok := byDevice[d]; !ok {
			order = append(order, d)
		}
		byDevice[d] = HubKey{Origin: oh.Origin, Device: g.PublicKey, Tier: g.Tier, Unit: g.Unit, Key: key}
	}
	out := make([]HubKey, 0, len(order))
	for _, d := range order {
		out = append(out, byDevice[d])
	}
	return out, nil
}
