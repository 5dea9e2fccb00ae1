package syncnet_test

import (
	"os"
	"testing"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
	"fieldsync/replication/blob/sealed"
)

// TestBlobRateOnLoopback measures the blob lane's rate when the link is
// not the limit: a laptop's dossiers to a hub whose sealed store syncs
// every write, over loopback. FIELDSYNC_BLOBRATE=1 runs it (it writes
// ~24 MB with fsyncs; the figure is in BENCHMARKS.md, "Blob lane on a
// fast link").
func TestBlobRateOnLoopback(t *testing.T) {
	if os.Getenv("FIELDSYNC_BLOBRATE") == "" {
		t.Skip("FIELDSYNC_BLOBRATE=1 runs it")
	}
	store, err := sealed.Open(sealed.Options{Dir: t.TempDir(), Key: make([]byte, 32), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplicaOn(t, "h1", replication.RoleHub, 2, store)
	ids := l.captureDossiers(t, 40, 300_000, 100_000, 100_000, 100_000, 50_000, 50_000)
	start := time.Now()
	resL, resH, err := syncOver(t, l.replica, h.replica, linkemu.NewLink(linkemu.Perfect))
	took := time.Since(start)
	if err != nil || !resL.Complete {
		t.Fatalf("laptop side: complete=%v err=%v", resL.Complete, err)
	}
	h.mustHold(t, ids)
	n := sizeOf(ids)
	t.Logf("%d blobs, %.1f MB in %v: %.2f MB/s; hub wrote %d chunks in %d writes", len(ids), float64(n)/1e6, took.Round(time.Millisecond), float64(n)/1e6/took.Seconds(), resH.Proto.BlobChunksReceived, resH.Proto.BlobChunksWritten)
}
