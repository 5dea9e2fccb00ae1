package syncproto

import (
	"slices"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// The flow policy: which entries and blobs a replica sends to which peer.
// Records go to every hub and, of what hubs wrote, down to the laptops
// they concern; blobs go up only. The replicator's dial rule (who opens a
// session with whom, replicator/uplink.go) is the other half of the
// uplink.

// OfferOrigin is what the offer policy reads of an origin's genesis.
type OfferOrigin struct {
	Role  replication.Role
	Scope string // a hub's downward channel: the unit it is for
}

// offers reports whether a replica with role self sends entries of origin
// o to a peer with role peer serving peerUnits. It is a table by what the
// origin is:
//
//	origin                          to a hub   to a field node
//	field node's                    yes        from a field node only (store-carry-forward)
//	hub's own (decisions, forks,    yes        yes
//	  roster)
//	hub's channel for unit U        yes        when peerUnits include U (or "*")
//	  (replication.DownwardKinds)
//
// Hubs hold everything below them and exchange everything so that every
// hub can show the same view; a 2G link must not pull the district down,
// so a laptop gets from a hub only what hubs wrote, and of the channels
// (resident lists, receipts) only its own commune's — from a hub or from
// a colleague's laptop alike.
func offers(self, peer replication.Role, peerUnits []string, o OfferOrigin) bool {
	switch {
	case peer == replication.RoleHub:
		return true
	case o.Scope != "":
		return o.Role == replication.RoleHub && slices.ContainsFunc(peerUnits, func(u string) bool { return u == o.Scope || u == "*" })
	}
	return self == replication.RoleNode || o.Role == replication.RoleHub
}

// Offers reports whether a replica with role self sends entries of origin
// o to a peer with role peer serving peerUnits (the policy above). Shells
// use it to compute a peer's backlog the way the protocol will send it.
func Offers(self, peer replication.Role, peerUnits []string, o OfferOrigin) bool {
	return offers(self, peer, peerUnits, o)
}

// DefaultTiers ranks hub tiers for UpFlow (the replicator's default too).
var DefaultTiers = map[string]int{"district": 1, "province": 2}

// UpFlow is the blob policy: blobs follow their records up the
// hierarchy. A field node sends them to anyone (its hub, or a colleague
// who carries them: store-carry-forward); a hub sends them only to a hub
// of a higher tier. Nothing flows down: a 2G link must not pull the
// district's blobs onto a laptop.
func UpFlow(tiers map[string]int) func(from, to *wire.Hello) bool {
	return func(from, to *wire.Hello) bool {
		switch {
		case from == nil || to == nil:
			return false
		case from.Role == string(replication.RoleNode):
			return true
		case from.Role == string(replication.RoleHub) && to.Role == string(replication.RoleHub):
			return tiers[to.Tier] > tiers[from.Tier]
		}
		return false
	}
}
