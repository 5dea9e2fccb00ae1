package replication_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
)

func TestEntryRoundTripIsCanonical(t *testing.T) {
	s := oplogtest.NewSigner(1)
	for _, e := range oplogtest.Chain(s, 3, "rt") {
		b, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := replication.DecodeEntry(b)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := got.MarshalBinary()
		if !bytes.Equal(b, again) || got.Hash() != e.Hash() {
			t.Fatalf("%s does not round-trip", e.ID())
		}
	}
}

func TestDecodeEntryRejects(t *testing.T) {
	s := oplogtest.NewSigner(2)
	good, _ := oplogtest.Chain(s, 1, "x")[1].MarshalBinary()
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, replication.ErrMalformed},
		{"version", append([]byte{9}, good[1:]...), replication.ErrMalformed},
		{"trailing", append(append([]byte{}, good...), 0), replication.ErrMalformed},
		{"truncated signature", good[:len(good)-1], replication.ErrMalformed},
		{"payload length past end", func() []byte {
			b := append([]byte{}, good...)
			b[68] = 0x7f // high byte of the 4-byte payload length at offset 68
			return b
		}(), replication.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := replication.DecodeEntry(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	for i := range len(good) {
		if _, err := replication.DecodeEntry(good[:i]); err == nil {
			t.Fatalf("truncation at %d accepted", i)
		}
	}
}

func TestVerifyChain(t *testing.T) {
	s := oplogtest.NewSigner(3)
	chain := oplogtest.Chain(s, 5, "v")
	if _, err := replication.VerifyChain(s.PublicKey(), replication.Hash{}, chain); err != nil {
		t.Fatal(err)
	}
	g, err := replication.VerifyGenesis(&chain[0])
	if err != nil || !bytes.Equal(g.PublicKey, s.PublicKey()) {
		t.Fatalf("genesis: %v", err)
	}
	// Only the last entry signed: the chain still authenticates the rest.
	sparse := append([]replication.Entry{}, chain...)
	for i := range sparse[:len(sparse)-1] {
		sparse[i].Sig = nil
	}
	if _, err := replication.VerifyChain(s.PublicKey(), replication.Hash{}, sparse); err != nil {
		t.Fatalf("sparse signatures: %v", err)
	}
	mutations := map[string]func([]replication.Entry){
		"payload altered":   func(es []replication.Entry) { es[2].Payload = []byte(`{"full_name":"forged"}`) },
		"seq gap":           func(es []replication.Entry) { es[3].Seq++ },
		"unsigned tail":     func(es []replication.Entry) { es[len(es)-1].Sig = nil },
		"signature flipped": func(es []replication.Entry) { es[4].Sig[0] ^= 1 },
		"other key": func(es []replication.Entry) {
			es[5] = replication.Seal(oplogtest.NewSigner(4), draftOf(es[5]), es[5].Seq, es[5].Prev)
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			es := oplogtest.Chain(s, 5, "v")
			mutate(es)
			if _, err := replication.VerifyChain(s.PublicKey(), replication.Hash{}, es); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func draftOf(e replication.Entry) replication.Draft {
	return replication.Draft{Kind: e.Kind, Schema: e.Schema, Payload: e.Payload, HLC: e.HLC}
}

func TestHLCNeverGoesBackwards(t *testing.T) {
	var c replication.HLCState
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []time.Time{base, base, base.Add(-10 * 365 * 24 * time.Hour), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), base.Add(time.Second)}
	var last replication.HLC
	for i, now := range steps {
		h := c.Next(now)
		if h <= last {
			t.Fatalf("step %d: %v not after %v", i, h, last)
		}
		last = h
	}
	c.Observe(replication.MakeHLC(base.Add(10*365*24*time.Hour).UnixMilli(), 7)) // a clock ten years ahead
	if h := c.Next(base); h <= replication.MakeHLC(base.Add(10*365*24*time.Hour).UnixMilli(), 7) {
		t.Fatalf("after observing a future HLC, %v must order after it", h)
	}
	if got := replication.MakeHLC(5, 65535).String(); got != fmt.Sprint(replication.MakeHLC(5, 65535)) {
		t.Fatal(got)
	}
}

func TestEntryIDText(t *testing.T) {
	id := replication.EntryID{Origin: oplogtest.NewSigner(5).Origin(), Seq: 42}
	got, err := replication.ParseEntryID(id.String())
	if err != nil || got != id {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"", "abc:1", id.Origin.String() + ":0", id.Origin.String() + ":x", id.Origin.String()} {
		if _, err := replication.ParseEntryID(bad); !errors.Is(err, replication.ErrMalformed) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}
