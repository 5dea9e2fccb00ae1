package needs_test

import (
	"encoding/json"
	"testing"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
)

// The index counts an origin's dossiers (entries that reference blobs)
// once each, across restarts that examine again from the watermark.
func TestDossierCount(t *testing.T) {
	log, store := oplog.NewMem(), blob.NewMem()
	s := oplogtest.NewSigner(7)
	drafts := []replication.Draft{oplogtest.GenesisDraft(s)}
	var missing blob.ID
	for i := range 6 {
		rec := enrollment.Enrollment{FullName: "A"}
		if i%3 != 2 { // 4 dossiers, 2 records without blobs
			b := blobtest.Bytes(uint64(i), 2000)
			id := blob.IDOf(b)
			if i == 1 {
				missing = id // its blob never comes
			} else if _, err := blob.PutBytes(store, b); err != nil {
				t.Fatal(err)
			}
			rec.Biometrics = []enrollment.BlobRef{{Kind: "face", SHA256: id.Hash.String(), Size: id.Size}}
		}
		p, _ := json.Marshal(rec)
		drafts = append(drafts, replication.Draft{Kind: replication.KindEnroll, Schema: 1, Payload: p, HLC: replication.MakeHLC(int64(100+i), 0)})
	}
	if _, err := log.Append(s, drafts); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		ix, err := needs.Open(log, store, dossier.RefsOf)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // asking twice counts nothing twice
			st, err := ix.Origins([]replication.OriginID{s.Origin()})
			if err != nil {
				t.Fatal(err)
			}
			if got := st[0]; got.Dossiers != 4 || got.Incomplete != 1 || got.MissingBytes != missing.Size || got.Through != 2 {
				t.Fatalf("%s: %+v", when, got)
			}
		}
	}
	check("first")
	check("after a restart")
}
