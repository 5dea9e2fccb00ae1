package live

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/roster"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// ErrNotAuthorized is returned (wrapped) by Roster.AuthorizePeer for a key
// that may not sync with this replica.
var ErrNotAuthorized = errors.New("roster: device not authorized")

// Source is what a Roster reads: the replica's log (oplog.Log satisfies it).
type Source interface {
	Vector() (replication.Vector, error)
	Get(id replication.EntryID) (replication.Entry, error)
	Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error
}

// Roster is a replica's live copy of the roster: the State folded from every
// roster and revoke entry of the anchor's origins in the log, kept current
// as entries arrive (Observe). It authorizes what the sync protocol
// ingests (it is a syncproto.Verifier) and who may open a sync session
// (AuthorizePeer). Safe for concurrent use.
type Roster struct {
	src Source

	mu      sync.Mutex
	state   *roster.State
	anchors map[replication.OriginID]bool // origins whose genesis names the anchor
	invalid int                           // anchor entries that did not decode or did not fit
	version uint64                        // bumped on every change
}

var _ syncproto.Verifier = (*Roster)(nil)

// Load builds the live roster of anchor from what src holds.
func Load(anchor ed25519.PublicKey, src Source) (*Roster, error) {
	if len(anchor) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: roster anchor key of %d bytes", replication.ErrMalformed, len(anchor))
	}
	b := &Roster{src: src, state: roster.NewState(anchor), anchors: map[replication.OriginID]bool{}}
	v, err := src.Vector()
	if err != nil {
		return nil, err
	}
	for _, o := range v.Origins() {
		g, err := src.Get(replication.EntryID{Origin: o, Seq: 1})
		if err != nil {
			return nil, fmt.Errorf("roster: genesis of %s: %w", o.Short(), err)
		}
		if !b.noteGenesis(g) {
			continue
		}
		err = src.Scan(o, 2, func(e replication.Entry) bool {
			b.applyLocked(e)
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("roster: scan %s: %w", o.Short(), err)
		}
	}
	return b, nil
}

// noteGenesis records an origin of the anchor; it reports whether g is one.
func (b *Roster) noteGenesis(g replication.Entry) bool {
	if g.Kind != replication.KindGenesis || g.Seq != 1 {
		return false
	}
	gen, err := replication.DecodeGenesis(g.Payload)
	if err != nil || !b.state.IsAnchor(gen.PublicKey) {
		return false
	}
	b.anchors[g.Origin] = true
	return true
}

func (b *Roster) applyLocked(e replication.Entry) {
	if e.Kind != replication.KindRoster && e.Kind != replication.KindRevoke {
		return
	}
	if _, err := b.state.Apply(e); err != nil {
		b.invalid++
		return
	}
	b.version++
}

// Observe folds entries just written to the log (ingested or appended):
// the anchor's roster and revoke entries change the roster at once.
func (b *Roster) Observe(entries []replication.Entry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range entries {
		if e.Seq == 1 {
			b.noteGenesis(e)
			continue
		}
		if e.Kind != replication.KindRoster && e.Kind != replication.KindRevoke {
			continue
		}
		if b.isAnchorOrigin(e.Origin) {
			b.applyLocked(e)
		}
	}
}

// isAnchorOrigin looks the origin's genesis up in the log when it was not
// seen yet (the log holds every origin from seq 1).
func (b *Roster) isAnchorOrigin(o replication.OriginID) bool {
	if b.anchors[o] {
		return true
	}
	g, err := b.src.Get(replication.EntryID{Origin: o, Seq: 1})
	return err == nil && b.noteGenesis(g)
}

// Anchor returns the trust anchor's key.
func (b *Roster) Anchor() ed25519.PublicKey { return b.state.Anchor() }

// Version increases with every change of the roster.
func (b *Roster) Version() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.version
}

// Devices returns the roster's devices, sorted by device ID.
func (b *Roster) Devices() []roster.Device {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state.Devices()
}

// Device returns what the roster says of key.
func (b *Roster) Device(key []byte) (roster.Device, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state.Device(key)
}

// Invalid counts the anchor's roster entries that did not decode or fit.
func (b *Roster) Invalid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.invalid
}

// Admit is the ingest rule (syncproto.Verifier): a range is refused whole
// when its origin's key is neither the anchor nor on the roster, or when its
// genesis claims another role or tier than the roster gives the key. A
// revoked key's ranges are admitted: which of their entries stand is a
// per-entry rule of the hub's view (revocation from a seq), so that every
// hub holds the same entries and quarantines the same ones.
func (b *Roster) Admit(g replication.Genesis, entries []replication.Entry) (bool, wire.RefuseReason, string) {
	b.mu.Lock()
	d, ok := b.state.Device(g.PublicKey)
	b.mu.Unlock()
	switch {
	case d.Anchor:
		return true, 0, ""
	case !ok:
		return false, wire.RefuseNotAuthorized, fmt.Sprintf("device %s is not on the roster", replication.DeviceIDOf(g.PublicKey))
	case d.Role != g.Role || d.Role == replication.RoleHub && d.Tier != g.Tier:
		return false, wire.RefuseNotAuthorized, fmt.Sprintf("device %s is a %s %s on the roster, its genesis says %s %s", d.ID, d.Tier, d.Role, g.Tier, g.Role)
	}
	return true, 0, ""
}

// AuthorizePeer is the session rule: a peer may sync with this replica when
// its key is the anchor's or on the roster and not revoked. It returns the
// role the peer must announce in its Hello (a laptop posing as a hub would
// be offered everything the hub holds).
func (b *Roster) AuthorizePeer(key ed25519.PublicKey) (replication.Role, error) {
	b.mu.Lock()
	d, ok := b.state.Device(key)
	b.mu.Unlock()
	switch {
	case d.Anchor:
		return replication.RoleHub, nil
	case !ok:
		return "", fmt.Errorf("%w: device %s is not on the roster", ErrNotAuthorized, replication.DeviceIDOf(key))
	case d.Revoked:
		return "", fmt.Errorf("%w: device %s is revoked", ErrNotAuthorized, d.ID)
	}
	return d.Role, nil
}

// PeerUnits returns the units the roster gives key: what a sync session
// with that peer may be offered of the downward channels (syncproto
// Config.PeerUnits). It is never nil: a key the roster does not list
// serves no unit.
func (b *Roster) PeerUnits(key ed25519.PublicKey) []string {
	b.mu.Lock()
	d, ok := b.state.Device(key)
	b.mu.Unlock()
	if !ok || d.Revoked {
		return []string{}
	}
	return d.Units
}

var _ Source = oplog.Log(nil)
