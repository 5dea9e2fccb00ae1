package replicator_test

import (
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
)

// withBlobs gives each record blobs of the given slots and sizes, stored in
// r's blob store, and returns them.
func withBlobs(t *testing.T, r *replica, recs []enrollment.Enrollment, sizes map[string]int) []blob.ID {
	t.Helper()
	var ids []blob.ID
	for i := range recs {
		recs[i].Biometrics = nil
		j := 0
		for _, slot := range enrollment.Slots {
			size, ok := sizes[slot.Name]
			if !ok {
				continue
			}
			j++
			id, err := blob.PutBytes(r.dir.Blobs, blobtest.Bytes(uint64(i)<<16|uint64(j)|uint64(len(r.dir.Config.Name))<<40, size))
			if err != nil {
				t.Fatal(err)
			}
			recs[i].Biometrics = append(recs[i].Biometrics, enrollment.BlobRef{Kind: slot.Name, SHA256: id.Hash.String(), Size: id.Size})
			ids = append(ids, id)
		}
	}
	return ids
}

// waitBlobs waits until r holds every blob of ids, verified.
func waitBlobs(t *testing.T, r *replica, ids []blob.ID) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		done := true
		for _, id := range ids {
			if err := blob.Check(r.dir.Blobs, id.Hash); err != nil {
				done = false
				break
			}
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s does not hold every blob", r.dir.Config.Name)
}

// TestBlobsGoUpTheHierarchy: a laptop's dossiers reach the district hub
// and, from it, the province, with every blob, verified, in the real
// sealed stores; the province's index of needs is empty for the laptop.
func TestBlobsGoUpTheHierarchy(t *testing.T) {
	province := start(t, t.TempDir(), replication.RoleHub, "province", "province-42", true)
	defer province.stop()
	district := start(t, t.TempDir(), replication.RoleHub, "district", "hub-445", true, province.addr)
	defer district.stop()
	lap := start(t, t.TempDir(), replication.RoleNode, "", "node-a", false, district.addr)
	defer lap.stop()
	recs := records(t, 5, 7)
	ids := withBlobs(t, lap, recs, map[string]int{"face": 90_000, "finger_r2": 20_000, "finger_l2": 22_000, "slap_r4": 120_000})
	lap.enroll(t, recs)
	waitBlobs(t, district, ids)
	waitBlobs(t, province, ids)
	o := lap.dir.Signer.Origin()
	st, err := province.rep.Needs().Origins([]replication.OriginID{o})
	if err != nil || st[0].Incomplete != 0 || st[0].Through != 6 {
		t.Fatalf("province's needs for the laptop: %+v %v", st, err)
	}
	// Nothing flows down: the laptop holds only its own blobs.
	var n int
	lap.dir.Blobs.List(func(blob.Info) bool { n++; return true })
	if n != len(ids) {
		t.Fatalf("the laptop holds %d blobs, its own are %d", n, len(ids))
	}
}
