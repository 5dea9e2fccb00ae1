package syncnet_test

import (
	"testing"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
)

// TestSlowBatchIsNotIdle: on a link so thin that one batch takes longer to
// cross than the idle timeout, the receiver must not take the silence
// between whole frames for an idle session: bytes arriving are activity.
// (Closing there cut every batch at the same point: a laptop on 2G with a
// backlog never drained.)
func TestSlowBatchIsNotIdle(t *testing.T) {
	l := newReplica(t, "l1", replication.RoleNode, 5, t.TempDir())
	h := newReplica(t, "h1", replication.RoleHub, 6, t.TempDir())
	// A first contact exchanges the geneses, so that in the slow session
	// the hub has nothing to send and waits idle while the batch crawls in.
	if _, _, err := syncOver(t, l, h, linkemu.NewLink(linkemu.Perfect)); err != nil {
		t.Fatal(err)
	}
	l.capture(t, 150)
	p := linkemu.Bench128k
	p.RateBitsPerSec, p.RTT = 32_000, 40*time.Millisecond
	link := linkemu.NewLink(p) // 32 kbit/s: the ~6 KB batch takes ~1.5 s, the idle timeout is 0.6 s
	resL, resH, err := syncOver(t, l, h, link)
	if err != nil || !resL.Complete {
		t.Fatalf("laptop side: complete=%v err=%v (hub side complete=%v)", resL.Complete, err, resH.Complete)
	}
	lv, _ := l.log.Vector()
	hv, _ := h.log.Vector()
	if hv[l.signer.Origin()] != lv[l.signer.Origin()] {
		t.Fatalf("hub holds %v of %v", hv[l.signer.Origin()], lv[l.signer.Origin()])
	}
	t.Logf("%d B in %v over 32 kbit/s with a 0.6 s idle timeout", resL.BytesOut, resL.Ended.Sub(resL.Started).Round(time.Millisecond))
}
