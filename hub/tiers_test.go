package hub

import (
	"maps"
	"testing"

	"fieldsync/hub/reconcile"
	"fieldsync/replication/syncproto"
)

// TestTierRanksAgree: the view ranks tiers (whose decision or model wins)
// with reconcile.DefaultTiers, the uplink (who dials whom, where blobs go)
// with syncproto.DefaultTiers. The view does not depend on the protocol,
// so the table is written twice; this keeps the two copies one table.
func TestTierRanksAgree(t *testing.T) {
	if v, u := reconcile.DefaultTiers(), syncproto.DefaultTiers; !maps.Equal(v, u) {
		t.Errorf("the view ranks tiers %v, the uplink %v", v, u)
	}
}
