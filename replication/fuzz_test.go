package replication_test

import (
	"bytes"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
)

// FuzzDecodeEntry: no panic, and an accepted encoding is canonical (it
// re-encodes to the same bytes) and within the size limit.
func FuzzDecodeEntry(f *testing.F) {
	for _, e := range oplogtest.Chain(oplogtest.NewSigner(1), 3, "fuzz") {
		b, _ := e.MarshalBinary()
		f.Add(b)
		f.Add(b[:len(b)/2])
		e.Sig = nil
		b, _ = e.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{1, 2, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := replication.DecodeEntry(b)
		if err != nil {
			return
		}
		if len(b) > replication.MaxEntryBytes {
			t.Fatalf("accepted %d bytes, limit %d", len(b), replication.MaxEntryBytes)
		}
		again, err := e.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted input is not canonical: %v", err)
		}
		_ = e.Hash()
	})
}

// FuzzDecodeGenesis: arbitrary payloads never panic the genesis check.
func FuzzDecodeGenesis(f *testing.F) {
	g := oplogtest.Chain(oplogtest.NewSigner(2), 0, "g")[0]
	f.Add(g.Payload)
	f.Add([]byte(`{"public_key":"AAAA","role":"node"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		e := g
		e.Payload = p
		_, _ = replication.VerifyGenesis(&e)
	})
}
