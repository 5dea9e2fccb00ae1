package channel_test

import (
	"encoding/json"
	"errors"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/channel"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
)

func residents(n int) []replication.Draft {
	out := make([]replication.Draft, n)
	for i := range out {
		out[i] = replication.Draft{Kind: replication.KindResidents, Schema: 1, Payload: []byte(`{"commune":"18586"}`), HLC: replication.MakeHLC(int64(1000+i), 0)}
	}
	return out
}

func TestWriteStartsAVerifiableChannelOnce(t *testing.T) {
	l := oplog.NewMem()
	hub := oplogtest.NewSigner(1)
	es, err := channel.Write(l, hub, "province", "42", "18586", residents(2)...)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].Kind != replication.KindGenesis || es[0].Origin != channel.Origin(hub, "18586") {
		t.Fatalf("first write: %d entries, want the genesis and 2", len(es))
	}
	g, err := replication.VerifyGenesis(&es[0])
	if err != nil {
		t.Fatal(err)
	}
	if g.Scope != "18586" || g.Role != replication.RoleHub || g.Tier != "province" || !g.Channel() {
		t.Fatalf("channel genesis %+v", g)
	}
	if _, err := replication.VerifyChain(g.PublicKey, replication.Hash{}, es); err != nil {
		t.Fatalf("the channel's chain does not verify with the hub's key: %v", err)
	}
	es, err = channel.Write(l, hub, "province", "42", "18586", residents(1)...)
	if err != nil || len(es) != 1 || es[0].Seq != 4 {
		t.Fatalf("second write: %v, %d entries", err, len(es))
	}
	if channel.Origin(hub, "18586") == hub.Origin() || channel.Origin(hub, "18586") == channel.Origin(hub, "18571") {
		t.Fatal("channels must be origins of their own")
	}
}

func TestWriteRefusesWhatIsNotForAChannel(t *testing.T) {
	l := oplog.NewMem()
	hub := oplogtest.NewSigner(2)
	for name, c := range map[string]struct {
		scope string
		kind  replication.Kind
	}{
		"no scope":      {"", replication.KindResidents},
		"a capture":     {"18586", replication.KindEnroll},
		"a decision":    {"18586", replication.KindResolve},
		"spaces":        {"18 586", replication.KindResidents},
		"too long":      {"123456789012345678901234567890123", replication.KindResidents},
		"a status note": {"18586", replication.KindStatus},
	} {
		_, err := channel.Write(l, hub, "province", "42", c.scope, replication.Draft{Kind: c.kind, Payload: []byte("{}")})
		if !errors.Is(err, replication.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if v, _ := l.Vector(); v.Total() != 0 {
		t.Fatalf("refused writes left %d entries", v.Total())
	}
}

// TestChannelGenesisRules: a scope changes the origin a genesis must
// derive; only hubs write channels; a channel starts no new epoch.
func TestChannelGenesisRules(t *testing.T) {
	s := oplogtest.NewSigner(3)
	sealed := func(g replication.Genesis, o replication.OriginID) replication.Entry {
		p, _ := json.Marshal(g)
		return replication.Seal(signerAt{s, o}, replication.Draft{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: p}, 1, replication.Hash{})
	}
	ch := s.Channel("18586")
	good := replication.NewGenesis(ch, replication.RoleHub, "district", "445")
	if _, err := replication.VerifyGenesis(ptr(sealed(good, ch.Origin()))); err != nil {
		t.Fatalf("a channel genesis: %v", err)
	}
	if _, err := replication.VerifyGenesis(ptr(sealed(good, s.Origin()))); !errors.Is(err, replication.ErrBadSignature) {
		t.Fatalf("a channel genesis under the main origin's ID: %v, want ErrBadSignature", err)
	}
	node := good
	node.Role = replication.RoleNode
	if _, err := replication.VerifyGenesis(ptr(sealed(node, ch.Origin()))); !errors.Is(err, replication.ErrMalformed) {
		t.Fatalf("a laptop's channel: %v, want ErrMalformed", err)
	}
	prev := good
	o, h := s.Origin(), replication.Hash{1}
	prev.PrevOrigin, prev.PrevSeq, prev.PrevHash = &o, 3, &h
	if _, err := replication.VerifyGenesis(ptr(sealed(prev, ch.Origin()))); !errors.Is(err, replication.ErrMalformed) {
		t.Fatalf("a channel starting a new epoch: %v, want ErrMalformed", err)
	}
	if replication.DeriveChannelOriginID(s.PublicKey(), s.Epoch(), "") != s.Origin() {
		t.Fatal("an empty scope must derive the main origin")
	}
}

func ptr(e replication.Entry) *replication.Entry { return &e }

// signerAt signs with a key for any origin (to forge a mismatched one).
type signerAt struct {
	*replication.KeySigner
	origin replication.OriginID
}

func (s signerAt) Origin() replication.OriginID { return s.origin }
