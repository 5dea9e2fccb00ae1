package syncnet_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
	"fieldsync/storage"
)

var codec, _ = wire.NewStreamCodec(wire.DefaultLimits())

type replica struct {
	name   string
	role   replication.Role
	log    oplog.Log
	signer *replication.KeySigner
	// optsHook, if set, adds to the options (the blob lane: blobs_test.go).
	optsHook func(*syncnet.Options)
}

func newReplica(t *testing.T, name string, role replication.Role, seed uint64, dir string) *replica {
	t.Helper()
	l, err := storage.OpenLog(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	r := &replica{name: name, role: role, log: l, signer: oplogtest.NewSigner(seed)}
	g := oplogtest.GenesisDraft(r.signer)
	g.Payload = []byte(fmt.Sprintf(`{"public_key":"%s","epoch":%d,"role":%q,"unit":"18586"}`, b64(r.signer.PublicKey()), r.signer.Epoch(), role))
	if _, err := l.Append(r.signer, []replication.Draft{g}); err != nil {
		t.Fatal(err)
	}
	return r
}

// capture appends n distinct ~700-byte records that compress like real
// enrollments (varied names, IDs, dates), not like repeated text.
func (r *replica) capture(t *testing.T, n int) {
	t.Helper()
	var h replication.HLCState
	for done := 0; done < n; {
		k := min(n-done, 500)
		ds := make([]replication.Draft, k)
		for i := range ds {
			ds[i] = replication.Draft{Kind: replication.KindEnroll, Schema: 1, HLC: h.Next(time.Unix(1.7e9, 0)), Payload: record(r.name, done+i)}
		}
		if _, err := r.log.Append(r.signer, ds); err != nil {
			t.Fatal(err)
		}
		done += k
	}
}

func (r *replica) opts() syncnet.Options {
	cfg := syncproto.DefaultConfig(wire.Hello{Role: string(r.role), Node: r.name, Origin: r.signer.Origin()})
	cfg.MaxBatchBytes = 128 << 10
	o := syncnet.Options{Proto: cfg, Log: r.log, Codec: codec, TickEvery: 200 * time.Millisecond, IdleTimeout: 600 * time.Millisecond}
	if r.optsHook != nil {
		r.optsHook(&o)
	}
	return o
}

// syncOver runs one session between a (dialing through link) and b.
func syncOver(t *testing.T, a, b *replica, link *linkemu.Link) (syncnet.Result, syncnet.Result, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	serverDone := make(chan syncnet.Result, 1)
	go func() {
		conn, err := ln.Accept()
		ln.Close()
		if err != nil {
			serverDone <- syncnet.Result{}
			return
		}
		res, _ := syncnet.Run(ctx, conn, b.opts())
		serverDone <- res
	}()
	conn, err := link.Dialer(&net.Dialer{})(ctx, "tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		<-serverDone
		return syncnet.Result{}, syncnet.Result{}, err
	}
	resA, errA := syncnet.Run(ctx, conn, a.opts())
	return resA, <-serverDone, errA
}

func TestSyncOverRealSockets(t *testing.T) {
	l := newReplica(t, "l1", replication.RoleNode, 1, t.TempDir())
	h := newReplica(t, "h1", replication.RoleHub, 2, t.TempDir())
	l.capture(t, 2000)
	link := linkemu.NewLink(linkemu.Perfect)
	resL, resH, err := syncOver(t, l, h, link)
	if err != nil || !resL.Complete {
		t.Fatalf("laptop side: complete=%v err=%v", resL.Complete, err)
	}
	lv, _ := l.log.Vector()
	hv, _ := h.log.Vector()
	if hv[l.signer.Origin()] != lv[l.signer.Origin()] {
		t.Fatalf("hub holds %v of %v", hv[l.signer.Origin()], lv[l.signer.Origin()])
	}
	t.Logf("2000 entries: laptop sent %d B, hub sent %d B; hub applied %d", resL.BytesOut, resH.BytesOut, resH.Proto.EntriesApplied)
}

func TestCutMidBatchResumesResendingAtMostOneBatch(t *testing.T) {
	// Baseline: one clean transfer of the same backlog.
	base := newReplica(t, "l1", replication.RoleNode, 3, t.TempDir())
	baseHub := newReplica(t, "h1", replication.RoleHub, 4, t.TempDir())
	base.capture(t, 3000)
	clean, _, err := syncOver(t, base, baseHub, linkemu.NewLink(linkemu.Perfect))
	if err != nil {
		t.Fatal(err)
	}

	l := newReplica(t, "l1", replication.RoleNode, 3, t.TempDir())
	h := newReplica(t, "h1", replication.RoleHub, 4, t.TempDir())
	l.capture(t, 3000)
	p := linkemu.Bench128k
	p.RateBitsPerSec = 2_000_000 // fast enough for a test, slow enough to cut mid-batch
	p.RTT = 40 * time.Millisecond
	link := linkemu.NewLink(p)
	go func() { // cut once about half the backlog crossed the link
		for link.Stats().Up.DeliveredBytes < clean.BytesOut/2 {
			time.Sleep(5 * time.Millisecond)
		}
		link.Cut()
	}()
	first, _, err := syncOver(t, l, h, link)
	if err == nil {
		t.Fatal("the cut session should have failed")
	}
	crossed := link.Stats().Up.DeliveredBytes
	link.Heal()
	before := link.Stats().Up.DeliveredBytes
	second, _, err := syncOver(t, l, h, link)
	if err != nil || !second.Complete {
		t.Fatalf("resumed session: %v", err)
	}
	lv, _ := l.log.Vector()
	hv, _ := h.log.Vector()
	if hv[l.signer.Origin()] != lv[l.signer.Origin()] {
		t.Fatalf("after resume the hub holds %v of %v", hv[l.signer.Origin()], lv[l.signer.Origin()])
	}
	total := crossed + (link.Stats().Up.DeliveredBytes - before)
	resent := total - clean.BytesOut
	maxBatch := int64(128<<10) / 3 // a 128 KiB batch compresses at least 3x
	t.Logf("clean %d B; cut after %d B delivered (session wrote %d); resumed %d B; re-sent %d B (max batch ~%d B)",
		clean.BytesOut, crossed, first.BytesOut, link.Stats().Up.DeliveredBytes-before, resent, maxBatch)
	if resent > maxBatch {
		t.Fatalf("re-sent %d bytes, more than one batch", resent)
	}
}
