package replicator_test

import (
	"encoding/binary"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/blob"
)

// withBlobs makes each record a dossier with files of the given slots and
// sizes (real containers, from the generator: a capture checks them) and
// saves them on r; it returns the blobs' IDs.
func withBlobs(t *testing.T, r *replica, recs []enrollment.Enrollment, sizes map[string]int) []blob.ID {
	t.Helper()
	var ids []blob.ID
	ds := make([]node.Dossier, len(recs))
	for i := range recs {
		recs[i].Biometrics = nil
		ds[i].Record = recs[i]
		j := 0
		for _, slot := range enrollment.Slots {
			size, ok := sizes[slot.Name]
			if !ok {
				continue
			}
			j++
			spec := synth.BlobSpec{Slot: slot.Name, Format: slot.Formats[0], Size: size}
			binary.LittleEndian.PutUint64(spec.Seed[:], uint64(i)<<16|uint64(j)|uint64(len(r.dir.Config.Name))<<40)
			data := spec.Bytes()
			ds[i].Files = append(ds[i].Files, node.File{Slot: slot.Name, Name: slot.Name + spec.Ext(), Data: data})
			ids = append(ids, blob.IDOf(data))
		}
	}
	res, err := r.node.SaveDossiers(ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res {
		if x.Err != nil {
			t.Fatal(x.Err)
		}
	}
	r.rep.Wake()
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
	recs := synthtest.Enrollments(t, synth.Config{Count: 5, Seed: 7})
	ids := withBlobs(t, lap, recs, map[string]int{"face": 90_000, "finger_r2": 20_000, "finger_l2": 22_000, "slap_r4": 120_000})
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
