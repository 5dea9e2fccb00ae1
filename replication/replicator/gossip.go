package replicator

import (
	"encoding/json"
	"sync"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/gossip"
	"fieldsync/replication/oplog"
)

// GossipPool adapts a gossip pool (memberlist) to the replicator: members
// with the sync address they advertise and the heads gossip says they
// hold; announcements publish only the heads that changed, plus the vector
// digest in the member's metadata. It stops forwarding changes when the
// pool shuts down. base is the metadata the member advertises (role, tier,
// unit, sync address, origin).
func GossipPool(p *gossip.Pool, base gossip.Meta) Pool {
	g := &gossipPool{p: p, base: base, changed: make(chan struct{}, 1)}
	go g.forward()
	return g
}

type gossipPool struct {
	p       *gossip.Pool
	base    gossip.Meta
	changed chan struct{}

	mu        sync.Mutex
	announced replication.Vector
}

// forward turns the pool's events into coalesced change notifications.
func (g *gossipPool) forward() {
	for range g.p.Events() {
		select {
		case g.changed <- struct{}{}:
		default:
		}
	}
}

func (g *gossipPool) Members() []Member {
	var out []Member
	for _, m := range g.p.Members() {
		if m.Name == g.p.Name() {
			continue
		}
		out = append(out, Member{Name: m.Name, SyncAddr: m.Meta.SyncAddr, Role: m.Meta.Role, Tier: m.Meta.Tier, Unit: m.Meta.Unit,
			Heads: g.p.HeadsOf(m.Name), Alive: m.State == gossip.StateAlive})
	}
	return out
}

func (g *gossipPool) Changed() <-chan struct{} { return g.changed }

// Announce publishes the heads that changed since the last announcement
// and the vector's digest.
func (g *gossipPool) Announce(v replication.Vector) {
	g.mu.Lock()
	var changed []replication.OriginHead
	for _, h := range v.Heads() {
		if g.announced[h.Origin] != h.Head {
			changed = append(changed, h)
		}
	}
	g.announced = v.Clone()
	g.mu.Unlock()
	if len(changed) > 0 {
		g.p.AnnounceHeads(changed)
	}
	meta := g.base
	meta.Digest, meta.Entries = gossip.VectorDigest(v), v.Total()
	_ = g.p.UpdateMeta(meta) // only fails on a closed pool or oversized metadata
}

// MetaPeerStore keeps a pool's known peers in a log's metadata, so that
// the reconnect loop finds them again after a restart.
// The pool saves the peers it saw change once per reconnect tick and at
// shutdown, so writes stay few.
func MetaPeerStore(l oplog.Log, pool string) gossip.PeerStore {
	return metaPeerStore{l: l, prefix: "gossip/" + pool + "/"}
}

type metaPeerStore struct {
	l      oplog.Log
	prefix string
}

// maxKnownPeers bounds the peers loaded (a limit on everything).
const maxKnownPeers = 1024

func (s metaPeerStore) LoadPeers() ([]gossip.KnownPeer, error) {
	var out []gossip.KnownPeer
	err := s.l.ScanMeta(s.prefix, func(_ string, v []byte) bool {
		var p gossip.KnownPeer
		if json.Unmarshal(v, &p) == nil {
			out = append(out, p)
		}
		return len(out) < maxKnownPeers
	})
	return out, err
}

func (s metaPeerStore) SavePeer(p gossip.KnownPeer) error {
	p.LastSeen = p.LastSeen.Truncate(time.Second)
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.l.PutMeta(oplog.KV{Key: s.prefix + p.Name, Value: b})
}
