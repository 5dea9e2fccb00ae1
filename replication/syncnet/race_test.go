package syncnet_test

import (
	"context"
	"net"
	"testing"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/wire"
)

// TestIdleForWithoutRacingTheSession: the idle timeout that IdleFor picks
// from the peer's Hello is the one the session ends on, and the read loop
// learns it without reading the session (a syncproto.Session is not safe
// for concurrent use: the read loop once read Session.Peer while the
// session loop's Step wrote it, a data race `go test -race` reports here).
// The configured timeout is a minute; IdleFor's 300 ms must end it.
func TestIdleForWithoutRacingTheSession(t *testing.T) {
	l := newReplica(t, "l1", replication.RoleNode, 7, t.TempDir())
	h := newReplica(t, "h1", replication.RoleHub, 8, t.TempDir())
	l.capture(t, 300)
	opts := func(r *replica) syncnet.Options {
		o := r.opts()
		o.IdleTimeout = time.Minute
		o.TickEvery = 50 * time.Millisecond
		o.IdleFor = func(*wire.Hello) time.Duration { return 300 * time.Millisecond }
		return o
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := net.Pipe()
	done := make(chan syncnet.Result, 1)
	go func() {
		res, _ := syncnet.Run(ctx, b, opts(h))
		done <- res
	}()
	resL, err := syncnet.Run(ctx, a, opts(l))
	resH := <-done
	if err != nil || !resL.Complete || !resH.Complete {
		t.Fatalf("sessions did not end idle on IdleFor's timeout: laptop complete=%v err=%v, hub complete=%v", resL.Complete, err, resH.Complete)
	}
	if took := resL.Ended.Sub(resL.Started); took > 20*time.Second {
		t.Fatalf("session took %v: IdleFor's timeout was not applied", took)
	}
	lv, _ := l.log.Vector()
	hv, _ := h.log.Vector()
	if hv[l.signer.Origin()] != lv[l.signer.Origin()] {
		t.Fatalf("hub holds %v of %v", hv[l.signer.Origin()], lv[l.signer.Origin()])
	}
}
