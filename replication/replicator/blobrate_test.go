package replicator_test

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
)

// TestForwardRateOnLoopback measures how fast a district hub forwards a
// laptop's dossiers to the province when the link is not the limit
// (loopback, real sealed stores syncing every write): the province is
// down while the district receives them, then comes up.
// FIELDSYNC_BLOBRATE=1 runs it (~30 MB written twice, with fsyncs).
func TestForwardRateOnLoopback(t *testing.T) {
	if os.Getenv("FIELDSYNC_BLOBRATE") == "" {
		t.Skip("FIELDSYNC_BLOBRATE=1 runs it")
	}
	pdir := t.TempDir()
	province := start(t, pdir, replication.RoleHub, "province", "province-42", true)
	addr := province.addr
	province.stop()
	district := start(t, t.TempDir(), replication.RoleHub, "district", "hub-445", true, addr)
	defer district.stop()
	lap := start(t, t.TempDir(), replication.RoleNode, "", "node-a", false, district.addr)
	defer lap.stop()
	sizes := map[string]int{"face": 300_000, "slap_r4": 120_000, "slap_l4": 120_000, "slap_thumbs": 60_000, "iris_r": 60_000, "iris_l": 60_000, "signature": 20_000}
	for _, s := range []string{"finger_r1", "finger_r2", "finger_r3", "finger_r4", "finger_r5", "finger_l1", "finger_l2", "finger_l3", "finger_l4", "finger_l5"} {
		sizes[s] = 25_000
	}
	var ids []blob.ID
	for i := range 3 {
		ids = append(ids, withBlobs(t, lap, records(t, 10, uint64(11+i)), sizes)...)
	}
	var total int64
	for _, id := range ids {
		total += id.Size
	}
	start := time.Now()
	waitBlobsFor(t, district, ids, 10*time.Minute)
	t.Logf("laptop → district: %d blobs, %.1f MB in %v: %.2f MB/s", len(ids), float64(total)/1e6, time.Since(start).Round(time.Millisecond), float64(total)/1e6/time.Since(start).Seconds())
	// The province first takes the records alone (as when they came
	// another way: a bundle, an earlier session), then the blobs.
	province = startAtWithout(t, pdir, addr)
	head, _ := lap.dir.Log.Vector()
	waitHolds(t, province, lap.dir.Signer.Origin(), head[lap.dir.Signer.Origin()].Seq)
	province.stop()
	start = time.Now()
	province = startAt(t, pdir, addr)
	defer province.stop()
	waitBlobsFor(t, province, ids, 10*time.Minute)
	t.Logf("district → province: %d blobs, %.1f MB in %v: %.2f MB/s", len(ids), float64(total)/1e6, time.Since(start).Round(time.Millisecond), float64(total)/1e6/time.Since(start).Seconds())
}

// waitBlobsFor waits until r holds every blob of ids (Has, then each
// verified once at the end).
func waitBlobsFor(t *testing.T, r *replica, ids []blob.ID, d time.Duration) {
	t.Helper()
	hs := make([]blob.Hash, len(ids))
	for i, id := range ids {
		hs[i] = id.Hash
	}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		has, err := r.dir.Blobs.Has(hs)
		if err != nil {
			t.Fatal(err)
		}
		all := true
		for _, ok := range has {
			all = all && ok
		}
		if all {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s does not hold every blob after %v", r.dir.Config.Name, d)
}

// startAtWithout restarts a hub at addr without the blob lane.
func startAtWithout(t *testing.T, path, addr string) *replica {
	t.Helper()
	d, err := datadir.Open(path, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := replicator.New(replicator.Config{Dir: d, Listener: ln,
		Session: syncnet.Options{TickEvery: 100 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}, RedialEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{dir: d, rep: rep, addr: addr, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { rep.Run(ctx); close(r.done) }()
	r.stop = func() { cancel(); <-r.done; d.Close() }
	return r
}
