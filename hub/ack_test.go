package hub

import (
	"context"
	"iter"
	"net"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
)

// stuckMatcher is a duplicate detector that blocks on its first Put until
// released: a view that cannot move.
type stuckMatcher struct {
	reconcile.Matcher
	release <-chan struct{}
}

func (m stuckMatcher) Put(key string, profile []byte, region string) {
	<-m.release
	m.Matcher.Put(key, profile, region)
}

func (m stuckMatcher) Profile(rec *enrollment.Enrollment, keys enrollment.MatchKeys) []byte {
	return m.Matcher.Profile(rec, keys)
}

func (m stuckMatcher) Load(p iter.Seq2[string, reconcile.Profiled], q iter.Seq[reconcile.MatchPair]) error {
	return m.Matcher.Load(p, q)
}

// TestSessionsDoNotWaitForTheView: a laptop's whole backlog is acknowledged
// (on the hub's disk, and the laptop knows it) while the hub's view is
// stuck; the view then catches up on its own.
func TestSessionsDoNotWaitForTheView(t *testing.T) {
	hubDir, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "445", Name: "h", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer hubDir.Close()
	release := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sess := syncnet.Options{TickEvery: 50 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}
	h, err := NewDaemon(DaemonConfig{Dir: hubDir, Replicator: replicator.Config{Listener: ln, Session: sess},
		NewMatcher: func() reconcile.Matcher { return stuckMatcher{NewMatcher(), release} }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hubDone := make(chan struct{})
	go func() { h.Run(ctx); close(hubDone) }()
	defer func() { close(release); cancel(); <-hubDone }()

	lap, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586", Name: "l", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer lap.Close()
	es := captures(t, 300) // another origin's chain, carried by the laptop
	if _, err := lap.Log.Ingest(es, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := replicator.New(replicator.Config{Dir: lap, Static: []string{ln.Addr().String()}, Session: sess,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, WakeDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithCancel(ctx)
	lapDone := make(chan struct{})
	go func() { rep.Run(lctx); close(lapDone) }()
	defer func() { lcancel(); <-lapDone }()

	origin := es[0].Origin
	deadline := time.Now().Add(30 * time.Second)
	for {
		peers, _ := rep.Peers()
		acked := false
		for _, p := range peers {
			acked = acked || p.TheirHeads.Seq(origin) == uint64(len(es))
		}
		if acked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hub did not acknowledge the laptop's backlog while its view was stuck")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if lag, _ := h.View().Lag(); lag < uint64(len(es)) {
		t.Fatalf("the view was meant to be stuck, yet it is only %d entries behind", lag)
	}
	t.Logf("%d entries acknowledged with the view %d entries behind", len(es), func() uint64 { l, _ := h.View().Lag(); return l }())
	close(release)
	release = make(chan struct{}) // for the deferred close
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := h.ViewCaughtUp(wctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.View().Stats(); st.Versions != len(es)-1 {
		t.Fatalf("after the release the view holds %d versions, want %d", st.Versions, len(es)-1)
	}
}
