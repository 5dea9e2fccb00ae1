// Package rostertest builds signed roster chains for tests.
package rostertest

import (
	"encoding/json"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/roster"
)

// Chain writes signed entries for one signer, as its log would.
type Chain struct {
	S    *replication.KeySigner
	Seq  uint64
	Prev replication.Hash
}

// NewChain starts a chain with the signer's genesis (role, tier, unit 42).
func NewChain(s *replication.KeySigner, role replication.Role, tier string) (*Chain, replication.Entry) {
	c := &Chain{S: s}
	p, _ := json.Marshal(replication.NewGenesis(s, role, tier, "42"))
	return c, c.Add(replication.Draft{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: p})
}

// Add seals the next entry.
func (c *Chain) Add(d replication.Draft) replication.Entry {
	d.HLC = replication.MakeHLC(int64(1000+c.Seq), 0)
	e := replication.Seal(c.S, d, c.Seq+1, c.Prev)
	c.Seq, c.Prev = e.Seq, e.Hash()
	return e
}

// AddDevice seals a roster entry adding a.
func (c *Chain) AddDevice(t testing.TB, a roster.Add) replication.Entry {
	t.Helper()
	d, err := roster.AddDraft(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c.Add(d)
}

// Revoke seals a revoke entry.
func (c *Chain) Revoke(t testing.TB, r roster.Revoke) replication.Entry {
	t.Helper()
	d, err := roster.RevokeDraft(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c.Add(d)
}

// GenesisOf returns the genesis a signer would write.
func GenesisOf(s *replication.KeySigner, role replication.Role, tier string) replication.Genesis {
	return replication.NewGenesis(s, role, tier, "x")
}
