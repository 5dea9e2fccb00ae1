package roster_test

import (
	"errors"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/roster"
)

// TestExportImport: the province writes its roster origin, exports it
// whole, and a fresh replica verifies and ingests it as an ordinary chain.
func TestExportImport(t *testing.T) {
	province, laptop := oplogtest.NewSigner(1), oplogtest.NewSigner(2)
	anchor := roster.SignerFor(province)
	prov := oplog.NewMem()
	d, err := roster.AddDraft(roster.Add{Key: laptop.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}}, replication.MakeHLC(5, 0))
	if err != nil {
		t.Fatal(err)
	}
	written, err := roster.Write(prov, province, "province", "42", d)
	if err != nil || len(written) != 2 || written[0].Kind != replication.KindGenesis {
		t.Fatalf("write: %v %v", written, err)
	}
	if _, err := roster.Write(prov, province, "province", "42", d); err != nil { // a second add continues the chain
		t.Fatal(err)
	}
	var chain []replication.Entry
	prov.Scan(roster.Origin(anchor.PublicKey()), 1, func(e replication.Entry) bool { chain = append(chain, e); return true })
	b, err := roster.EncodeBundle(chain)
	if err != nil {
		t.Fatal(err)
	}
	got, err := roster.DecodeBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	key, err := roster.VerifyBundle(got, nil)
	if err != nil || !anchor.PublicKey().Equal(key) {
		t.Fatalf("verify: %v", err)
	}
	if _, err := roster.VerifyBundle(got, oplogtest.NewSigner(9).PublicKey()); !errors.Is(err, replication.ErrBadSignature) {
		t.Fatalf("another anchor: %v", err)
	}

	tampered := append([]replication.Entry(nil), got...)
	tampered[1].Payload = append([]byte(nil), tampered[1].Payload...)
	tampered[1].Payload[10] ^= 1
	if _, err := roster.VerifyBundle(tampered, nil); err == nil {
		t.Fatal("a tampered bundle verified")
	}
	if _, err := roster.Write(prov, province, "province", "42", replication.Draft{Kind: replication.KindEnroll}); !errors.Is(err, roster.ErrNotRoster) {
		t.Fatalf("the roster origin holds roster entries only: %v", err)
	}
}
