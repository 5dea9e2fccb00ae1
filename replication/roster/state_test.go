package roster_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/rostertest"
)

func TestAdmits(t *testing.T) {
	anchor := oplogtest.NewSigner(1)
	prov, _ := rostertest.NewChain(anchor, replication.RoleHub, "province")
	laptop, hub, stranger := oplogtest.NewSigner(2), oplogtest.NewSigner(3), oplogtest.NewSigner(4)
	st := roster.NewState(anchor.PublicKey())
	for _, e := range []replication.Entry{
		prov.AddDevice(t, roster.Add{Key: laptop.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}, Name: "laptop"}),
		prov.AddDevice(t, roster.Add{Key: hub.PublicKey(), Role: replication.RoleHub, Tier: "district", Units: []string{"445"}}),
		prov.Revoke(t, roster.Revoke{Key: laptop.PublicKey(), Keep: []roster.Limit{{Origin: laptop.Origin(), Seq: 10}}}),
	} {
		if _, err := st.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	laptopG := rostertest.GenesisOf(laptop, replication.RoleNode, "")
	newEpoch := laptop.WithEpoch(99)
	cases := []struct {
		name   string
		g      replication.Genesis
		origin replication.OriginID
		seq    uint64
		kind   replication.Kind
		want   roster.Reason
	}{
		{"anchor decides", rostertest.GenesisOf(anchor, replication.RoleHub, "province"), anchor.Origin(), 5, replication.KindResolve, ""},
		{"anchor writes the roster", rostertest.GenesisOf(anchor, replication.RoleHub, "province"), anchor.Origin(), 5, replication.KindRoster, ""},
		{"stranger", rostertest.GenesisOf(stranger, replication.RoleNode, ""), stranger.Origin(), 2, replication.KindEnroll, roster.ReasonNotOnRoster},
		{"stranger's genesis", rostertest.GenesisOf(stranger, replication.RoleNode, ""), stranger.Origin(), 1, replication.KindGenesis, roster.ReasonNotOnRoster},
		{"revoked laptop, kept seq", laptopG, laptop.Origin(), 10, replication.KindEnroll, ""},
		{"revoked laptop, later seq", laptopG, laptop.Origin(), 11, replication.KindEnroll, roster.ReasonRevoked},
		{"revoked laptop, new epoch", rostertest.GenesisOf(newEpoch, replication.RoleNode, ""), newEpoch.Origin(), 2, replication.KindEnroll, roster.ReasonRevoked},
		{"laptop posing as hub", rostertest.GenesisOf(laptop, replication.RoleHub, "province"), laptop.Origin(), 2, replication.KindEnroll, roster.ReasonRoleMismatch},
		{"hub with another tier", rostertest.GenesisOf(hub, replication.RoleHub, "province"), hub.Origin(), 2, replication.KindResolve, roster.ReasonRoleMismatch},
		{"hub decides", rostertest.GenesisOf(hub, replication.RoleHub, "district"), hub.Origin(), 2, replication.KindResolve, ""},
		{"laptop decides", laptopG, laptop.Origin(), 3, replication.KindResolve, roster.ReasonNotHub},
		{"hub writes a roster", rostertest.GenesisOf(hub, replication.RoleHub, "district"), hub.Origin(), 2, replication.KindRoster, roster.ReasonNotAnchor},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, got := st.Admits(c.g, c.origin, c.seq, c.kind); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestInScope(t *testing.T) {
	parents := map[string]string{"18586": "445", "445": "42", "18073": "436", "436": "42"}
	parentOf := func(u string) string { return parents[u] }
	cases := []struct {
		units []string
		unit  string
		want  bool
	}{
		{[]string{"18586"}, "18586", true},
		{[]string{"18586"}, "18073", false},
		{[]string{"445"}, "18586", true},
		{[]string{"445"}, "18073", false},
		{[]string{"42"}, "18073", true},
		{[]string{"*"}, "99999", true},
		{[]string{"18586"}, "", false},
	}
	for i, c := range cases {
		if got := roster.InScope(c.units, c.unit, parentOf); got != c.want {
			t.Errorf("%d: InScope(%v, %q) = %v", i, c.units, c.unit, got)
		}
	}
}

// TestFoldIsOrderIndependent folds random sets of adds (several per key,
// from two anchor epochs) and revocations in 300 orders, with duplicates,
// and requires one roster.
func TestFoldIsOrderIndependent(t *testing.T) {
	anchor := oplogtest.NewSigner(1)
	a1, _ := rostertest.NewChain(anchor, replication.RoleHub, "province")
	a2, _ := rostertest.NewChain(anchor.WithEpoch(7), replication.RoleHub, "province")
	rng := rand.New(rand.NewPCG(5, 6))
	var keys []*replication.KeySigner
	for i := range 8 {
		keys = append(keys, oplogtest.NewSigner(uint64(10+i)))
	}
	var es []replication.Entry
	for range 40 {
		c := []*rostertest.Chain{a1, a2}[rng.IntN(2)]
		k := keys[rng.IntN(len(keys))]
		if rng.IntN(4) == 0 {
			keep := []roster.Limit{{Origin: k.Origin(), Seq: uint64(rng.IntN(20))}}
			if rng.IntN(2) == 0 {
				keep = append(keep, roster.Limit{Origin: k.WithEpoch(3).Origin(), Seq: uint64(rng.IntN(20))})
			}
			es = append(es, c.Revoke(t, roster.Revoke{Key: k.PublicKey(), Keep: keep}))
			continue
		}
		es = append(es, c.AddDevice(t, roster.Add{Key: k.PublicKey(), Role: replication.RoleNode, Units: []string{fmt.Sprint(18000 + rng.IntN(5))}}))
	}
	fold := func(es []replication.Entry) []roster.Device {
		st := roster.NewState(anchor.PublicKey())
		for _, e := range es {
			if _, err := st.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		return st.Devices()
	}
	want := fold(es)
	revoked := 0
	for _, d := range want {
		if d.Revoked {
			revoked++
		}
	}
	if len(want) < 5 || revoked < 2 {
		t.Fatalf("the random set must add and revoke several devices: %d devices, %d revoked", len(want), revoked)
	}
	for i := range 300 {
		order := append([]replication.Entry(nil), es...)
		for range len(order) / 4 {
			order = append(order, order[rng.IntN(len(order))])
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		if got := fold(order); !reflect.DeepEqual(got, want) {
			t.Fatalf("order %d folds another roster:\n%+v\nwant\n%+v", i, got, want)
		}
	}
}

func TestRevocationsCombine(t *testing.T) {
	anchor := oplogtest.NewSigner(1)
	prov, _ := rostertest.NewChain(anchor, replication.RoleHub, "province")
	k := oplogtest.NewSigner(2)
	o1, o2 := k.Origin(), k.WithEpoch(5).Origin()
	st := roster.NewState(anchor.PublicKey())
	for _, e := range []replication.Entry{
		prov.AddDevice(t, roster.Add{Key: k.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}}),
		prov.Revoke(t, roster.Revoke{Key: k.PublicKey(), Keep: []roster.Limit{{Origin: o1, Seq: 30}, {Origin: o2, Seq: 4}}}),
		prov.Revoke(t, roster.Revoke{Key: k.PublicKey(), Keep: []roster.Limit{{Origin: o1, Seq: 20}}}),
		prov.AddDevice(t, roster.Add{Key: k.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}, Name: "re-added"}),
	} {
		if _, err := st.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	d, ok := st.Device(k.PublicKey())
	if !ok || !d.Revoked || d.Name != "re-added" || d.Listed() {
		t.Fatalf("a later add renames but does not un-revoke: %+v", d)
	}
	if d.Limit(o1) != 20 || d.Limit(o2) != 0 {
		t.Fatalf("limits: o1 %d (want 20), o2 %d (want 0: not kept by every revocation)", d.Limit(o1), d.Limit(o2))
	}
}

func TestApplyRejects(t *testing.T) {
	anchor := oplogtest.NewSigner(1)
	prov, _ := rostertest.NewChain(anchor, replication.RoleHub, "province")
	st := roster.NewState(anchor.PublicKey())
	bad := prov.Add(replication.Draft{Kind: replication.KindRoster, Schema: 1, Payload: []byte(`{"key":"AA=="}`)})
	if _, err := st.Apply(bad); !errors.Is(err, replication.ErrMalformed) {
		t.Fatalf("malformed add: %v", err)
	}
	enroll := prov.Add(replication.Draft{Kind: replication.KindEnroll, Schema: 1, Payload: []byte(`{}`)})
	if _, err := st.Apply(enroll); !errors.Is(err, roster.ErrNotRoster) {
		t.Fatalf("enroll: %v", err)
	}
	if _, err := st.Apply(prov.AddDevice(t, roster.Add{Key: anchor.PublicKey(), Role: replication.RoleNode, Units: []string{"1"}})); err != nil || st.Len() != 0 {
		t.Fatalf("adding the anchor must change nothing: %v, %d devices", err, st.Len())
	}
	if _, err := st.Apply(prov.Revoke(t, roster.Revoke{Key: anchor.PublicKey()})); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.Device(anchor.PublicKey()); !d.Anchor || d.Revoked {
		t.Fatalf("the anchor cannot be revoked: %+v", d)
	}
}
