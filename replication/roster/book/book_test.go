package book_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/book"
)

// chain writes signed entries for one signer, as its log would.
type chain struct {
	s    *replication.KeySigner
	seq  uint64
	prev replication.Hash
}

func newChain(s *replication.KeySigner, role replication.Role, tier string) (*chain, replication.Entry) {
	c := &chain{s: s}
	p, _ := json.Marshal(replication.NewGenesis(s, role, tier, "42"))
	return c, c.add(replication.Draft{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: p})
}

func (c *chain) add(d replication.Draft) replication.Entry {
	e := replication.Seal(c.s, d, c.seq+1, c.prev)
	c.seq, c.prev = e.Seq, e.Hash()
	return e
}

func (c *chain) addDevice(t testing.TB, a roster.Add) replication.Entry {
	d, err := roster.AddDraft(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c.add(d)
}

func (c *chain) revoke(t testing.TB, r roster.Revoke) replication.Entry {
	d, err := roster.RevokeDraft(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c.add(d)
}

func genesisOf(s *replication.KeySigner, role replication.Role, tier string) replication.Genesis {
	return replication.NewGenesis(s, role, tier, "x")
}

func TestBook(t *testing.T) {
	anchor, laptop := oplogtest.NewSigner(1), oplogtest.NewSigner(2)
	l := oplog.NewMem()
	prov, g := newChain(anchor, replication.RoleHub, "province")
	add := prov.addDevice(t, roster.Add{Key: laptop.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}})
	if _, err := l.Ingest([]replication.Entry{g, add}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := book.Load(anchor.PublicKey(), l)
	if err != nil {
		t.Fatal(err)
	}
	if role, err := b.AuthorizePeer(laptop.PublicKey()); err != nil || role != replication.RoleNode {
		t.Fatalf("laptop on the roster: %q, %v", role, err)
	}
	if ok, _, _ := b.Admit(genesisOf(laptop, replication.RoleNode, ""), nil); !ok {
		t.Fatal("the laptop's ranges must be admitted")
	}
	if ok, _, detail := b.Admit(genesisOf(oplogtest.NewSigner(3), replication.RoleNode, ""), nil); ok {
		t.Fatal("a stranger's ranges must be refused")
	} else {
		t.Log(detail)
	}
	rev := prov.revoke(t, roster.Revoke{Key: laptop.PublicKey(), Keep: []roster.Limit{{Origin: laptop.Origin(), Seq: 3}}})
	if _, err := l.Ingest([]replication.Entry{rev}, nil); err != nil {
		t.Fatal(err)
	}
	b.Observe([]replication.Entry{rev})
	if _, err := b.AuthorizePeer(laptop.PublicKey()); !errors.Is(err, book.ErrNotAuthorized) {
		t.Fatalf("a revoked laptop may not sync: %v", err)
	}
	if ok, _, _ := b.Admit(genesisOf(laptop, replication.RoleNode, ""), nil); !ok {
		t.Fatal("a revoked laptop's ranges are admitted (the view quarantines what is past the revocation)")
	}
	if b.Version() != 2 {
		t.Fatalf("version %d, want 2", b.Version())
	}
	// A fresh book over the same log sees the same roster.
	b2, err := book.Load(anchor.PublicKey(), l)
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
	if _, _, err := book.Import(fresh, bundle, oplogtest.NewSigner(9).PublicKey()); !errors.Is(err, replication.ErrBadSignature) {
		t.Fatalf("another anchor's bundle: %v", err)
	}
	key, res, err := book.Import(fresh, bundle, nil)
	if err != nil || !anchor.Equal(key) || len(res.Applied) != 2 {
		t.Fatalf("import: %v, %d applied", err, len(res.Applied))
	}
	if _, res, err = book.Import(fresh, bundle, anchor); err != nil || res.Duplicates != 2 {
		t.Fatalf("import again: %v, %+v", err, res)
	}
	b, err := book.Load(anchor, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AuthorizePeer(laptop.PublicKey()); err != nil {
		t.Fatal(err)
	}
}
