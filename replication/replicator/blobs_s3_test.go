package replicator_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/internal/seaweed"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/s3"
	"fieldsync/replication/datadir"
)

// TestBlobsReachAProvinceOnSeaweedFS: the province keeps its blobs in a
// real SeaweedFS; a laptop's dossiers go up through the district, and
// SeaweedFS is killed and restarted while they do. Every blob reaches the
// object store, verified, each once; no multipart upload is left and
// nothing waits on the province's disk.
func TestBlobsReachAProvinceOnSeaweedFS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs SeaweedFS")
	}
	srv := seaweed.Start(t)
	ctx := context.Background()
	if _, err := srv.Bucket(ctx, "province-blobs"); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(t.TempDir(), "s3.credentials")
	if err := s3.WriteCredentials(creds, srv.Creds); err != nil {
		t.Fatal(err)
	}
	loc := "s3+http://" + srv.Endpoint()[len("http://"):] + "/province-blobs/hub-42?credentials=" + creds
	provDir := t.TempDir()
	d, err := datadir.Init(provDir, datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "province", Unit: "42", Name: "province-42", BlobStore: loc}})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	province := start(t, provDir, replication.RoleHub, "province", "province-42", true)
	defer province.stop()
	if _, ok := province.dir.Blobs.(*s3.Store); !ok {
		t.Fatalf("the province's blob store is %T", province.dir.Blobs)
	}
	district := start(t, t.TempDir(), replication.RoleHub, "district", "hub-445", true, province.addr)
	defer district.stop()
	lap := start(t, t.TempDir(), replication.RoleNode, "", "node-a", false, district.addr)
	defer lap.stop()
	recs := synthtest.Enrollments(t, synth.Config{Count: 40, Seed: 11})
	ids := withBlobs(t, lap, recs, map[string]int{"face": 90_000, "finger_r2": 20_000, "finger_l2": 22_000, "slap_r4": 120_000})

	// Restart SeaweedFS once the first blobs are in it, mid-sync.
	st := province.dir.Blobs.(*s3.Store)
	deadline := time.Now().Add(60 * time.Second)
	for {
		held, _ := st.Has([]blob.Hash{ids[0].Hash, ids[len(ids)/4].Hash})
		if held != nil && (held[0] || held[1]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no blob reached the object store in 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitBlobsFor(t, province, ids, 3*time.Minute)
	u, err := st.Usage()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := srv.Client("province-blobs")
	var uploads int
	c.ListUploads(ctx, "", func(s3.Upload) bool { uploads++; return true })
	t.Logf("%d blobs (%d bytes) in the object store, %d multipart uploads left, health %+v", u.Blobs, u.Bytes, uploads, st.Health())
	if u.Blobs != len(ids) || uploads != 0 {
		t.Fatalf("%d objects for %d blobs, %d uploads left", u.Blobs, len(ids), uploads)
	}
	waitFor(t, "nothing waiting on the province's disk", func() bool { return st.Health().Waiting == 0 })
}

func waitBlobsFor(t *testing.T, r *replica, ids []blob.ID, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		held, err := r.dir.Blobs.Has(hashesOf(ids))
		all := err == nil
		for _, h := range held {
			all = all && h
		}
		if all {
			for _, id := range ids {
				if err := blob.Check(r.dir.Blobs, id.Hash); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s does not hold every blob after %s", r.dir.Config.Name, d)
}

func hashesOf(ids []blob.ID) []blob.Hash {
	out := make([]blob.Hash, len(ids))
	for i, id := range ids {
		out[i] = id.Hash
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
