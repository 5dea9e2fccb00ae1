package gossip

import (
	"net"
	"strconv"
	"testing"
	"time"

	"fieldsync/internal/linkemu"
)

// After a partition longer than suspicion + GossipToTheDeadTime, both
// sides have forgotten each other and memberlist never rejoins by itself
// (memberlist#222; the control case shows it); the reconnect loop brings
// them back with no call from the test.
func TestReconnectAfterLongPartition(t *testing.T) {
	t.Parallel()
	for _, loop := range []bool{true, false} {
		name := "with reconnect loop"
		if !loop {
			name = "control without"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			partitionAndHeal(t, loop)
		})
	}
}

func partitionAndHeal(t *testing.T, loop bool) {
	interval := 200 * time.Millisecond
	if !loop {
		interval = time.Hour // the first round (at start) joins; then nothing
	}
	hubCfg := localConfig("hub")
	hubCfg.ReconnectInterval = interval
	hub := startPool(t, hubCfg)
	link := linkemu.NewLink(linkemu.Profile{Name: "thin", RTT: 30 * time.Millisecond})
	peers := newMemPeers()
	cfg := localConfig("laptop", seedOf(hub))
	cfg.Link = link.Member()
	cfg.Peers = peers
	cfg.ReconnectInterval = interval
	cfg.ReconnectMaxBackoff = max(time.Second, interval)
	lap := startPool(t, cfg)
	waitFor(t, 5*time.Second, "joined", func() bool { return seesAlive(hub, "laptop") && seesAlive(lap, "hub") })

	start := time.Now()
	link.Cut()
	detect := waitFor(t, 10*time.Second, "both sides declare the other dead", func() bool {
		return stateOf(hub, "laptop") == StateDead && stateOf(lap, "hub") == StateDead
	})
	// Stay cut for GossipToTheDeadTime (500 ms) and a few probe cycles
	// more, so that memberlist reaps the dead member on both sides.
	time.Sleep(time.Second)
	cut := time.Since(start)
	failures := lap.Stats().JoinFailures + hub.Stats().JoinFailures
	link.Heal()
	if !loop {
		time.Sleep(2 * time.Second)
		if seesAlive(hub, "laptop") || seesAlive(lap, "hub") {
			t.Fatal("memberlist rejoined by itself; the control does not show memberlist#222")
		}
		t.Logf("without the reconnect loop: still apart 2 s after the heal (cut %v)", cut.Round(time.Millisecond))
		return
	}
	back := waitFor(t, 10*time.Second, "both sides see each other alive again", func() bool {
		return seesAlive(hub, "laptop") && seesAlive(lap, "hub")
	})
	t.Logf("declared dead after %v, cut for %v (%d failed rejoins during the cut, backoff capped at %v), together again %v after the heal",
		detect.Round(time.Millisecond), cut.Round(time.Millisecond), failures, cfg.ReconnectMaxBackoff, back.Round(time.Millisecond))
	if failures == 0 {
		t.Error("the reconnect loop did not try during the cut")
	}
	if k, ok := peers.get("hub"); !ok || k.Addr != hub.LocalAddr() || k.LastSeen.IsZero() {
		t.Errorf("hub not saved to the peer store: %+v", k)
	}
}

// A member restarted on a new port (same name) is accepted back once the
// others have held it dead for DeadNodeReclaimTime, with push/pull off:
// the restarted member learns of the stale address from the conflict and
// rejoins when the reclaim time has passed.
func TestRestartOnNewPort(t *testing.T) {
	t.Parallel()
	hub := startPool(t, localConfig("hub"))
	peers := newMemPeers()
	cfg := localConfig("laptop", seedOf(hub))
	cfg.Peers = peers
	lap, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "joined", func() bool { return seesAlive(hub, "laptop") })
	oldAddr := lap.LocalAddr()
	_ = lap.Shutdown() // a crash: no leave
	if k, ok := peers.get("hub"); !ok || k.Addr != hub.LocalAddr() {
		t.Fatalf("peer store after shutdown: %+v", k)
	}

	// Restart at once, before the hub has noticed, on another port, with
	// no seeds: only the peer store knows the hub.
	cfg2 := localConfig("laptop")
	cfg2.Peers = peers
	start := time.Now()
	lap2 := startPool(t, cfg2)
	if lap2.LocalAddr() == oldAddr {
		t.Fatal("restarted on the same port")
	}
	waitFor(t, 10*time.Second, "hub accepts the laptop at its new address", func() bool {
		for _, m := range hub.Members() {
			if m.Name == "laptop" {
				return m.State == StateAlive && m.Addr == lap2.LocalAddr()
			}
		}
		return false
	})
	t.Logf("restarted %s -> %s; hub accepted the new address after %v (reclaim wait %v)",
		oldAddr, lap2.LocalAddr(), time.Since(start).Round(time.Millisecond), lap2.reclaim)
	waitFor(t, 5*time.Second, "laptop sees the hub", func() bool { return seesAlive(lap2, "hub") })
}

// A stored peer that never answers is retried with a growing backoff, and
// never delays joining a good seed.
func TestUnreachablePeerBacksOff(t *testing.T) {
	t.Parallel()
	hub := startPool(t, localConfig("hub"))
	dead := closedPort(t)
	cfg := localConfig("laptop", seedOf(hub))
	cfg.Peers = newMemPeers(KnownPeer{Name: "gone", Addr: dead, LastSeen: time.Now()})
	cfg.ReconnectInterval = 50 * time.Millisecond
	cfg.ReconnectMaxBackoff = 400 * time.Millisecond
	lap := startPool(t, cfg)
	waitFor(t, 5*time.Second, "joined the hub", func() bool { return seesAlive(lap, "hub") })
	time.Sleep(1500 * time.Millisecond)
	s := lap.Stats()
	// Without backoff: ~30 attempts in 1.5 s; with it (50, 100, 200, 400,
	// 400 ms ± 20 %): about 6.
	t.Logf("joins %d, failed %d", s.Joins, s.JoinFailures)
	if s.JoinFailures < 3 || s.JoinFailures > 12 {
		t.Errorf("%d failed joins to an unreachable peer in 1.5 s", s.JoinFailures)
	}
}

// closedPort returns "127.0.0.1:port" where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}
