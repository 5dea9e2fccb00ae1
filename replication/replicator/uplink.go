package replicator

import (
	"fieldsync/replication"
	"fieldsync/replication/datadir"
)

// The uplink's dial rule: who opens a session with whom. Laptops dial
// their hubs, districts dial the province; what then flows on a session
// (records to every hub, blobs up only) is the protocol's flow policy,
// syncproto/flow.go.

// shouldDial applies "the side that can dial, dials": laptops dial hubs
// (they are behind carrier NAT; hubs never dial them), a hub dials hubs of a
// higher tier, and of two laptops of the same commune (they meet on its
// office LAN) the one with the smaller name dials. Laptops of different
// communes do not sync through gossip: over 2G that would pull a district's
// data onto every laptop; a laptop that must be carried by another commune's
// is configured with it as a static peer.
func shouldDial(self datadir.Config, m Member, tiers map[string]int) bool {
	switch {
	case m.SyncAddr == "":
		return false
	case self.Role == replication.RoleNode && m.Role == replication.RoleHub:
		return true
	case self.Role == replication.RoleNode && m.Role == replication.RoleNode:
		return self.Unit == m.Unit && self.Name < m.Name
	case self.Role == replication.RoleHub && m.Role == replication.RoleHub:
		return tiers[m.Tier] > tiers[self.Tier]
	}
	return false
}
