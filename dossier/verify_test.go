package dossier_test

import (
	"encoding/json"
	"strings"
	"testing"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
)

func TestCheckBlobs(t *testing.T) {
	store := blob.NewMem()
	own, other := replication.OriginID{1}, replication.OriginID{2}
	var entries []replication.Entry
	var ids []blob.ID
	for i := range 4 {
		var refs []enrollment.BlobRef
		for j, slot := range []string{"face", "finger_r2"} {
			b := blobtest.Bytes(uint64(10*i+j), 1000+i)
			id, err := blob.PutBytes(store, b)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			refs = append(refs, enrollment.BlobRef{Kind: slot, SHA256: id.Hash.String(), Size: id.Size})
		}
		o := own
		if i >= 2 {
			o = other
		}
		p, _ := json.Marshal(enrollment.Enrollment{Biometrics: refs})
		entries = append(entries, replication.Entry{Origin: o, Seq: uint64(i + 2), Kind: replication.KindEnroll, Payload: p})
	}
	entries = append(entries, replication.Entry{Origin: own, Seq: 9, Kind: replication.KindEnroll, Payload: []byte(`{"biometrics": 3}`)})
	orphan, _ := blob.PutBytes(store, blobtest.Bytes(99, 500))
	_ = orphan
	// Damage: own record 0's portrait corrupt, own record 1's print gone,
	// other's record 2's portrait gone (pending, not a loss).
	store.Tamper(ids[0].Hash, 10)
	store.Delete(ids[3].Hash)
	store.Delete(ids[4].Hash)
	scan := func(fn func(e *replication.Entry) bool) error {
		for i := range entries {
			if !fn(&entries[i]) {
				break
			}
		}
		return nil
	}
	rep, err := dossier.CheckBlobs(store, scan, dossier.CheckOptions{Own: func(o replication.OriginID) bool { return o == own }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Corrupt != 1 || rep.Missing != 1 || rep.Pending != 1 || rep.Unreadable != 1 || rep.Blobs != 5 || rep.Unreferenced != 1 || rep.Records != 4 {
		t.Fatalf("report %+v", rep)
	}
	text := ""
	for _, p := range rep.Problems {
		text += p.String() + "\n"
	}
	for _, want := range []string{entries[0].ID().String() + " face blob " + ids[0].String(), entries[1].ID().String() + " finger_r2 blob " + ids[3].String() + ": missing", entries[4].ID().String()} {
		if !strings.Contains(text, want) {
			t.Fatalf("problems do not name %q:\n%s", want, text)
		}
	}
	// Released dossiers' blobs are no loss.
	rep, _ = dossier.CheckBlobs(store, scan, dossier.CheckOptions{Own: func(o replication.OriginID) bool { return o == own },
		Released: func(id replication.EntryID) bool { return id == entries[1].ID() }})
	if rep.Missing != 0 || rep.Released != 1 {
		t.Fatalf("released: %+v", rep)
	}
}
