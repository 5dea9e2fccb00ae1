package replicator_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/internal/linkemu"
	"fieldsync/replication"
	"fieldsync/replication/blob"
)

// TestFairShareAtTheHub: two laptops of a district, each with a backlog
// of dossiers, and one of them capturing a record every 200 ms while the
// blobs drain, over shaped links (each laptop 4 Mbit/s to the district,
// the district 4 Mbit/s to the province: the district's uplink is the
// bottleneck, shared). One laptop's blob backlog never starves the other's
// records: each new record reaches the province within a few chunk times,
// not behind the backlog; and the district forwards the two laptops'
// dossiers in turn, not one laptop's whole backlog first.
func TestFairShareAtTheHub(t *testing.T) {
	if testing.Short() {
		t.Skip("moves ~10 MB over emulated links")
	}
	shaped := func() func(ctx context.Context, addr string) (net.Conn, error) {
		p := linkemu.Perfect
		p.RateBitsPerSec, p.RTT = 4_000_000, 40*time.Millisecond
		d := linkemu.NewLink(p).Dialer(&net.Dialer{})
		return func(ctx context.Context, addr string) (net.Conn, error) { return d(ctx, "tcp", addr) }
	}
	province := start(t, t.TempDir(), replication.RoleHub, "province", "province-42", true)
	defer province.stop()
	district := startVia(t, t.TempDir(), replication.RoleHub, "district", "hub-445", true, shaped(), province.addr)
	defer district.stop()
	a := startVia(t, t.TempDir(), replication.RoleNode, "", "node-a", false, shaped(), district.addr)
	defer a.stop()
	b := startVia(t, t.TempDir(), replication.RoleNode, "", "node-b", false, shaped(), district.addr)
	defer b.stop()
	sizes := map[string]int{"face": 300_000, "slap_r4": 150_000, "slap_l4": 150_000, "finger_r2": 25_000, "finger_l2": 25_000}
	idsA := withBlobs(t, a, synthtest.Enrollments(t, synth.Config{Count: 8, Seed: 21}), sizes)
	idsB := withBlobs(t, b, synthtest.Enrollments(t, synth.Config{Count: 8, Seed: 22}), sizes)

	// While the blobs drain, b captures; time each record to the province.
	ob := b.dir.Signer.Origin()
	var lat []time.Duration
	fresh := synthtest.Enrollments(t, synth.Config{Count: 400, Seed: 23})
	stopAt := time.Now().Add(60 * time.Second)
	var halfA, halfB int
	for i := 0; time.Now().Before(stopAt) && !holdsAll(province, append(idsA, idsB...)); i++ {
		b.enroll(t, fresh[i:i+1])
		head, _ := b.dir.Log.Head(ob)
		at := time.Now()
		for time.Since(at) < 20*time.Second {
			if h, _ := province.dir.Log.Head(ob); h.Seq >= head.Seq {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		lat = append(lat, time.Since(at))
		if halfA == 0 && heldBytes(province, append(idsA, idsB...))*2 >= sumBytes(append(idsA, idsB...)) {
			halfA, halfB = countHeld(province, idsA), countHeld(province, idsB)
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitBlobs(t, province, append(idsA, idsB...))
	slices.Sort(lat)
	p50, max := lat[len(lat)/2], lat[len(lat)-1]
	// One 16 KiB chunk at 4 Mbit/s is 33 ms; a batch, the wake delay and
	// two hops of 40 ms RTT come on top.
	t.Logf("%d records captured during the drain: latency to the province p50 %s, max %s; at half the blob bytes the province held %d of a's and %d of b's %d blobs",
		len(lat), p50.Round(time.Millisecond), max.Round(time.Millisecond), halfA, halfB, len(idsA))
	if p50 > time.Second || max > 3*time.Second {
		t.Errorf("records waited behind the blobs: p50 %s, max %s", p50, max)
	}
	if halfA < len(idsA)/4 || halfB < len(idsB)/4 {
		t.Errorf("at half the bytes the province held %d and %d blobs of %d each: one laptop's backlog went first", halfA, halfB, len(idsA))
	}
}

func holdsAll(r *replica, ids []blob.ID) bool { return countHeld(r, ids) == len(ids) }

func countHeld(r *replica, ids []blob.ID) int {
	n := 0
	for _, id := range ids {
		if has, _ := r.dir.Blobs.Has([]blob.Hash{id.Hash}); has[0] {
			n++
		}
	}
	return n
}

func heldBytes(r *replica, ids []blob.ID) int64 {
	var n int64
	for _, id := range ids {
		if has, _ := r.dir.Blobs.Has([]blob.Hash{id.Hash}); has[0] {
			n += id.Size
		}
	}
	return n
}

func sumBytes(ids []blob.ID) int64 {
	var n int64
	for _, id := range ids {
		n += id.Size
	}
	return n
}
