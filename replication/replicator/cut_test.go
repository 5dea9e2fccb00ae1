package replicator_test

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/synctls"
)

var cutFor = flag.Duration("cut", 10*time.Second, "TestSilentCutMidSync: how long the link is silent (the issue's figure: -cut 120s)")

// startCutReplica runs d's replicator with the default timings but the
// liveness timeout, over TLS with the roster.
func startCutReplica(t *testing.T, d *datadir.Dir, anchor []byte, liveness time.Duration, ln net.Listener, dial func(context.Context, string) (net.Conn, error), static ...string) *replicator.Replicator {
	t.Helper()
	rb, err := live.Load(anchor, d.Log)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := synctls.New(d.Signer, rb.AuthorizePeer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := replicator.Config{Dir: d, Static: static, Dial: dial, Auth: auth, Verifier: rb, Listener: ln,
		Session:  syncnet.Options{IdleTimeout: 3 * time.Second, LivenessTimeout: liveness},
		OnIngest: func(_ string, res oplog.IngestResult) { rb.Observe(res.Applied) }}
	if os.Getenv("CUTDEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("who", d.Config.Name)
	}
	rep, err := replicator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rep.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return rep
}

func peerNamed(t *testing.T, rep *replicator.Replicator, name string) replicator.PeerStatus {
	ps, err := rep.Peers()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	return replicator.PeerStatus{}
}

// TestSilentCutMidSync: a laptop uploading to its hub over a 128 kbit/s
// link with 300 ms round trips; mid-transfer the link goes silent (no
// reset: packets dropped, as behind a firewall or a dead upstream) for
// -cut. The laptop's status shows the hub unreachable within the liveness
// timeout, its last contact does not move during the cut (it is what was
// received, not sent), and once the link is back the transfer finishes
// within 5 s; the entries counted out are the entries the hub wrote, not
// every resend. (Before: connected, last contact "0 s ago" and the
// backlog counted out again every 20 s for the whole cut; after it, 19.7 s
// lost on TCP's backed-off timers for 2 s of transfer.)
func TestSilentCutMidSync(t *testing.T) {
	if testing.Short() {
		t.Skip("a cut of seconds to minutes")
	}
	cut := *cutFor
	liveness := syncnet.DefaultLivenessTimeout
	if cut < 2*liveness { // a short run: scale the liveness timeout with the cut
		liveness = cut / 3
	}
	prov := initDir(t, replication.RoleHub, "province", "hub-42")
	lap := initDir(t, replication.RoleNode, "", "node-a")
	addToRoster(t, prov, prov)
	addToRoster(t, prov, lap)
	anchor := roster.SignerFor(prov.Signer).PublicKey()
	bundle, err := roster.Export(prov.Log, anchor)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := live.Import(lap.Log, bundle, anchor); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startCutReplica(t, prov, anchor, liveness, ln, nil)
	link := linkemu.NewLink(linkemu.Bench128k, linkemu.WithSeed(7))
	dial := link.Dialer(nil)
	laptop := startCutReplica(t, lap, anchor, liveness, nil, func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, "tcp", addr) }, ln.Addr().String())
	own := lap.Signer.Origin()
	held := func() uint64 { h, _ := prov.Log.Head(own); return h.Seq }
	wait := func(what string, timeout time.Duration, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > timeout {
				t.Fatalf("%s: not within %v (hub holds %d of the laptop's entries)", what, timeout, held())
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Since(start)
	}

	// A first upload measures the link, as a laptop's earlier sessions do.
	enrollOn(t, lap, laptop, 400, 1)
	wait("the first upload", time.Minute, func() bool { return held() >= 401 })
	wait("the link's rate", 30*time.Second, func() bool { return peerNamed(t, laptop, "hub-42").RateBytesPerSec > 0 })

	t.Logf("after the first upload: entries out %d, hub holds %d", peerNamed(t, laptop, "hub-42").EntriesOut, held())
	enrollOn(t, lap, laptop, 600, 2)
	target := uint64(1001)
	// Batches are ~2 s of the link (~200 entries here): cut after the
	// third, so about one batch (~2 s of transfer) is left.
	wait("the upload to pass 350 of 600", time.Minute, func() bool { return held() >= 401+350 })
	link.Drop()
	cutAt := time.Now()
	atCut := held()
	before := peerNamed(t, laptop, "hub-42")
	took := wait("status to show the hub unreachable", liveness+10*time.Second, func() bool {
		p := peerNamed(t, laptop, "hub-42")
		return !p.Connected && p.Unreachable
	})
	during := peerNamed(t, laptop, "hub-42")
	if during.LastContact.After(cutAt.Add(time.Second)) {
		t.Errorf("last contact %v after the cut began: it must be what was received", during.LastContact.Sub(cutAt))
	}
	t.Logf("cut at %d/%d held; status said unreachable after %v (liveness %v): %q", atCut, target, took.Round(100*time.Millisecond), liveness, during.LastError)
	if rest := cut - time.Since(cutAt); rest > 0 {
		time.Sleep(rest)
	}
	if p := peerNamed(t, laptop, "hub-42"); p.Connected || !p.LastContact.Equal(during.LastContact) && p.LastContact.After(cutAt.Add(time.Second)) {
		t.Errorf("during the cut: connected %v, last contact %v after the cut", p.Connected, p.LastContact.Sub(cutAt))
	}
	link.Heal()
	healed := time.Now()
	if os.Getenv("CUTDEBUG") != "" {
		slog.New(slog.NewTextHandler(os.Stderr, nil)).Info("HEALED")
	}
	firstWord := make(chan time.Duration, 1)
	go func() {
		defer close(firstWord)
		for time.Since(healed) < 10*time.Second {
			ps, err := laptop.Peers()
			if err != nil {
				return
			}
			for _, p := range ps {
				if p.Name == "hub-42" && p.LastContact.After(healed) {
					firstWord <- p.LastContact.Sub(healed)
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	done := wait("the transfer to finish after the link's return", 60*time.Second, func() bool { return held() >= target })
	if d, ok := <-firstWord; ok {
		t.Logf("first word from the hub %v after the link returned", d.Round(10*time.Millisecond))
	}
	t.Logf("link silent %v; the transfer finished %v after the link returned (%d entries of %d were left)", cut, done.Round(100*time.Millisecond), target-atCut, target-1)
	// The bound, 5 s, on the cut (-cut 120s: 3.3 s). The
	// short CI cut gets 8 s on a loaded machine (3.3-3.4 s in 5 runs at
	// load 3, first word 1.9-2.0 s after the return; before the connection
	// attempts were made continuous, 1.5-4.5 s and 2.4-5.6 s); the
	// liveness, status and counter checks are what fail on the code before.
	bound := 5 * time.Second
	if cut < time.Minute {
		bound = 8 * time.Second
	}
	if done > bound {
		t.Errorf("the transfer finished %v after the link returned; want within %v", done, bound)
	}
	// Counters count what was written: the entries counted out are those
	// the hub acknowledged, resends not again.
	wait("the last session to end", time.Minute, func() bool { return !peerNamed(t, laptop, "hub-42").Connected })
	after := peerNamed(t, laptop, "hub-42")
	if out := after.EntriesOut; out < 1000 || out > 1001 {
		t.Errorf("entries out %d (was %d before the cut); the hub wrote %d", out, before.EntriesOut, held()-1)
	}
	if atCut >= target {
		t.Errorf("the upload finished before the cut: the test measured nothing (a busy machine?)")
	}
}
