package reconcile_test

import (
	"encoding/json"
	"testing"

	"fieldsync/hub"
	"fieldsync/replication"
)

// FuzzApplyPayloads feeds the reconciler entries whose payloads are
// arbitrary bytes under any kind — what a hub holds when a laptop on the
// roster signs garbage. The view must not panic, and two hubs holding the
// same entries must still print one digest whatever the order (Rule 0–9
// stay order-independent over undecodable payloads).
func FuzzApplyPayloads(f *testing.F) {
	good, _ := json.Marshal(record(nil))
	f.Add(uint8(replication.KindEnroll), good, uint8(replication.KindAmend), []byte(`{"target":"x:1","record":{}}`))
	f.Add(uint8(replication.KindVoid), []byte(`{"target":""}`), uint8(replication.KindResolve), []byte(`{"subject":"pair:a|b","decision":"same"}`))
	f.Add(uint8(replication.KindReissue), []byte{0xff, 0, 1}, uint8(replication.KindFork), []byte(`{}`))
	f.Add(uint8(replication.KindRoster), []byte(`null`), uint8(replication.KindRevoke), []byte(`[]`))
	f.Add(uint8(replication.KindEnroll), []byte(`{"personal_id":"042085000123","full_name":"\u0000"}`), uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, k1 uint8, p1 []byte, k2 uint8, p2 []byte) {
		if len(p1)+len(p2) > 1<<16 {
			return
		}
		w := newWorld()
		w.matcher = hub.NewMatcher // the hub's real duplicate detector
		w.addOrigin("hub", replication.RoleHub, "district", 1, 5000)
		w.addOrigin("lap", replication.RoleNode, "", 2, 1000)
		w.add("lap", replication.KindEnroll, good)
		w.add("lap", replication.Kind(k1%12), p1)
		w.add("hub", replication.Kind(k2%12), p2)
		a := w.applyAll("forward", 0).Digest()
		b := w.applyAll("reverse", 0).Digest()
		if a != b {
			t.Fatalf("digest depends on order: %s vs %s", a, b)
		}
	})
}
