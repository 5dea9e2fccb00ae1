package live_test

import (
	"errors"
	"reflect"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
	"fieldsync/replication/roster/rostertest"
)

func TestBook(t *testing.T) {
	anchor, laptop := oplogtest.NewSigner(1), oplogtest.NewSigner(2)
	l := oplog.NewMem()
	prov, g := rostertest.NewChain(anchor, replication.RoleHub, "province")
	add := prov.AddDevice(t, roster.Add{Key: laptop.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}})
	if _, err := l.Ingest([]replication.Entry{g, add}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := live.Load(anchor.PublicKey(), l)
	if err != nil {
		t.Fatal(err)
	}
	if role, err := b.AuthorizePeer(laptop.PublicKey()); err != nil || role != replication.RoleNode {
		t.Fatalf("laptop on the roster: %q, %v", role, err)
	}
	if ok, _, _ := b.Admit(rostertest.GenesisOf(laptop, replication.RoleNode, ""), nil); !ok {
		t.Fatal("the laptop's ranges must be admitted")
	}
	if ok, _, detail := b.Admit(rostertest.GenesisOf(oplogtest.NewSigner(3), replication.RoleNode, ""), nil); ok {
		t.Fatal("a stranger's ranges must be refused")
	} else {
		t.Log(detail)
	}
	rev := prov.Revoke(t, roster.Revoke{Key: laptop.PublicKey(), Keep: []roster.Limit{{Origin: laptop.Origin(), Seq: 3}}})
	if _, err := l.Ingest([]replication.Entry{rev}, nil); err != nil {
		t.Fatal(err)
	}
	b.Observe([]replication.Entry{rev})
	if _, err := b.AuthorizePeer(laptop.PublicKey()); !errors.Is(err, live.ErrNotAuthorized) {
		t.Fatalf("a revoked laptop may not sync: %v", err)
	}
	if ok, _, _ := b.Admit(rostertest.GenesisOf(laptop, replication.RoleNode, ""), nil); !ok {
		t.Fatal("a revoked laptop's ranges are admitted (the view quarantines what is past the revocation)")
	}
	if b.Version() != 2 {
		t.Fatalf("version %d, want 2", b.Version())
	}
	// A fresh live roster over the same log sees the same roster.
	b2, err := live.Load(anchor.PublicKey(), l)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b2.Devices(), b.Devices()) {
		t.Fatal("loading again gives another roster")
	}
}

// TestImport: a fresh replica verifies and ingests the province's export,
// and then authorizes what the roster lists; a bundle of another anchor is
// refused.
func TestImport(t *testing.T) {
	province, laptop := oplogtest.NewSigner(1), oplogtest.NewSigner(2)
	anchor := roster.SignerFor(province).PublicKey()
	prov := oplog.NewMem()
	d, err := roster.AddDraft(roster.Add{Key: laptop.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roster.Write(prov, province, "province", "42", d); err != nil {
		t.Fatal(err)
	}
	bundle, err := roster.Export(prov, anchor)
	if err != nil {
		t.Fatal(err)
	}
	fresh := oplog.NewMem()
	if _, _, err := live.Import(fresh, bundle, oplogtest.NewSigner(9).PublicKey()); !errors.Is(err, replication.ErrBadSignature) {
		t.Fatalf("another anchor's bundle: %v", err)
	}
	key, res, err := live.Import(fresh, bundle, nil)
	if err != nil || !anchor.Equal(key) || len(res.Applied) != 2 {
		t.Fatalf("import: %v, %d applied", err, len(res.Applied))
	}
	if _, res, err = live.Import(fresh, bundle, anchor); err != nil || res.Duplicates != 2 {
		t.Fatalf("import again: %v, %+v", err, res)
	}
	b, err := live.Load(anchor, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AuthorizePeer(laptop.PublicKey()); err != nil {
		t.Fatal(err)
	}
}
