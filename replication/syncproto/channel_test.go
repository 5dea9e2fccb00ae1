package syncproto_test

import (
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/channel"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// sessionIn is a session of r announcing unit in its Hello; peerUnits,
// when not nil, are the units the roster gives the peer.
func (r *replica) sessionIn(t *testing.T, unit string, peerUnits []string) *syncproto.Session {
	t.Helper()
	cfg := syncproto.DefaultConfig(wire.Hello{Role: string(r.role), Node: r.name, Origin: r.signer.Origin(), Unit: unit})
	cfg.RetransmitTicks = 3
	cfg.PeerUnits = peerUnits
	s, err := syncproto.NewSession(cfg, r.log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// publish writes n resident-list entries to the hub's channel for unit.
func (r *replica) publish(t *testing.T, unit string, n int) replication.OriginID {
	t.Helper()
	var ds []replication.Draft
	for i := range n {
		ds = append(ds, replication.Draft{Kind: replication.KindResidents, Schema: 1, HLC: r.hlc.Next(testTime), Payload: enrollPayload(unit, i)})
	}
	if _, err := channel.Write(r.log, r.signer, "province", "42", unit, ds...); err != nil {
		t.Fatal(err)
	}
	return channel.Origin(r.signer, unit)
}

// TestChannelsGoDownToTheirCommuneOnly: a hub's channel for a commune
// reaches that commune's laptops — from the hub or from a colleague's
// laptop — and no other laptop; hubs get every channel.
func TestChannelsGoDownToTheirCommuneOnly(t *testing.T) {
	h := newReplica("h", replication.RoleHub, 40)
	kenh, hai := h.publish(t, "18586", 30), h.publish(t, "18571", 20)
	a := newReplica("a", replication.RoleNode, 41)  // Thạch Kênh
	b := newReplica("b", replication.RoleNode, 42)  // Thạch Hải
	c := newReplica("c", replication.RoleNode, 43)  // Thạch Kênh, no link to the hub
	h2 := newReplica("h2", replication.RoleHub, 44) // another hub
	held := func(r *replica, o replication.OriginID) uint64 { v, _ := r.log.Vector(); return v.Seq(o) }

	pump(t, a, h, a.sessionIn(t, "18586", nil), h.sessionIn(t, "42", nil), nil)
	if held(a, kenh) != 31 || held(a, hai) != 0 || held(a, h.signer.Origin()) != 1 {
		t.Fatalf("Thạch Kênh's laptop holds %d of its channel (want 31), %d of Thạch Hải's (want 0)", held(a, kenh), held(a, hai))
	}
	pump(t, a, b, a.sessionIn(t, "18586", nil), b.sessionIn(t, "18571", nil), nil)
	if held(b, kenh) != 0 {
		t.Fatalf("a laptop of another commune got %d entries of Thạch Kênh's channel from a colleague", held(b, kenh))
	}
	pump(t, a, c, a.sessionIn(t, "18586", nil), c.sessionIn(t, "18586", nil), nil)
	if held(c, kenh) != 31 {
		t.Fatalf("a colleague's laptop of the same commune holds %d of its channel, want 31", held(c, kenh))
	}
	pump(t, h, h2, h.sessionIn(t, "42", nil), h2.sessionIn(t, "445", nil), nil)
	if held(h2, kenh) != 31 || held(h2, hai) != 21 {
		t.Fatalf("the other hub holds %d and %d of the channels, want every entry", held(h2, kenh), held(h2, hai))
	}
	// The roster's units, not the Hello's, decide when the shell knows them.
	d := newReplica("d", replication.RoleNode, 45)
	pump(t, d, h, d.sessionIn(t, "18571", nil), h.sessionIn(t, "42", []string{"18586"}), nil)
	if held(d, kenh) != 31 || held(d, hai) != 0 {
		t.Fatalf("a laptop whose roster units are Thạch Kênh's, announcing Thạch Hải, got %d/%d entries of the channels", held(d, kenh), held(d, hai))
	}
}

func TestOfferPolicyTable(t *testing.T) {
	node, hub := replication.RoleNode, replication.RoleHub
	for _, c := range []struct {
		name       string
		self, peer replication.Role
		units      []string
		o          syncproto.OfferOrigin
		want       bool
	}{
		{"laptop captures to a hub", node, hub, nil, syncproto.OfferOrigin{Role: node}, true},
		{"colleague's captures to a laptop", node, node, []string{"18586"}, syncproto.OfferOrigin{Role: node}, true},
		{"laptop captures from a hub to a laptop", hub, node, []string{"18586"}, syncproto.OfferOrigin{Role: node}, false},
		{"decisions to a laptop", hub, node, []string{"18586"}, syncproto.OfferOrigin{Role: hub}, true},
		{"own commune's channel to a laptop", hub, node, []string{"18586"}, syncproto.OfferOrigin{Role: hub, Scope: "18586"}, true},
		{"another commune's channel to a laptop", hub, node, []string{"18571"}, syncproto.OfferOrigin{Role: hub, Scope: "18586"}, false},
		{"channel to a laptop of unknown units", node, node, nil, syncproto.OfferOrigin{Role: hub, Scope: "18586"}, false},
		{"channel to a laptop of every unit", hub, node, []string{"*"}, syncproto.OfferOrigin{Role: hub, Scope: "18586"}, true},
		{"channel to a hub", hub, hub, []string{"445"}, syncproto.OfferOrigin{Role: hub, Scope: "18586"}, true},
		{"a laptop's scoped origin is no channel", hub, node, []string{"18586"}, syncproto.OfferOrigin{Role: node, Scope: "18586"}, false},
	} {
		if got := syncproto.Offers(c.self, c.peer, c.units, c.o); got != c.want {
			t.Errorf("%s: offers %v, want %v", c.name, got, c.want)
		}
	}
}
