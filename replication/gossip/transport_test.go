package gossip

import (
	"math"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
)

// memberlist's gossip ticker sends nothing while the broadcast queues are
// empty (state.go: gossip returns when getBroadcasts is empty): with
// probes off, a quiet pool is silent, and one announcement costs packets.
func TestNoGossipWhenQueuesAreEmpty(t *testing.T) {
	t.Parallel()
	quiet := func(c *memberlist.Config) {
		fastTimings(c)
		c.ProbeInterval = time.Hour
		c.GossipInterval = 10 * time.Millisecond
	}
	hubCfg := localConfig("hub")
	hubCfg.tune = quiet
	hub := startPool(t, hubCfg)
	lapCfg := localConfig("laptop", seedOf(hub))
	lapCfg.tune = quiet
	lapCfg.ReconnectInterval = time.Hour
	lap := startPool(t, lapCfg)
	waitFor(t, 5*time.Second, "joined", func() bool { return seesAlive(hub, "laptop") && seesAlive(lap, "hub") })
	time.Sleep(500 * time.Millisecond) // memberlist's own alive broadcasts run out
	before := lap.Stats()
	time.Sleep(time.Second) // 100 gossip intervals
	after := lap.Stats()
	if n := after.PacketsSent - before.PacketsSent; n != 0 {
		t.Fatalf("a quiet member sent %d packets in 100 gossip intervals", n)
	}
	lap.AnnounceHeads([]replication.OriginHead{head(1, 1)})
	waitFor(t, 2*time.Second, "the announcement is sent", func() bool { return lap.Stats().PacketsSent > after.PacketsSent })
	waitFor(t, 2*time.Second, "the hub gets it", func() bool { return hub.HeadsOf("laptop").Seq(origin(1)) == 1 })
}

// The transport's own byte count (the wire model in transport.go) agrees
// with the link emulator's count of the same traffic.
func TestCountingAgreesWithLinkEmulator(t *testing.T) {
	t.Parallel()
	hub := startPool(t, localConfig("hub"))
	link := linkemu.NewLink(linkemu.Perfect)
	cfg := localConfig("laptop", seedOf(hub))
	cfg.Link = link.Member()
	lap := startPool(t, cfg)
	waitFor(t, 5*time.Second, "joined", func() bool { return seesAlive(hub, "laptop") && seesAlive(lap, "hub") })
	var hs []replication.OriginHead
	for i := range 40 {
		hs = append(hs, head(i, 3))
	}
	lap.AnnounceHeads(hs)
	time.Sleep(time.Second)
	s, ls := lap.Stats(), link.Stats()
	t.Logf("transport: sent %d B in %d packets + %d streams, received %d B in %d packets; link: up %d B (%d packets), down %d B (%d packets)",
		s.BytesSent, s.PacketsSent, s.StreamsOpened+s.StreamsAccepted, s.BytesReceived, s.PacketsReceived,
		ls.Up.WireBytes, ls.Up.Packets, ls.Down.WireBytes, ls.Down.Packets)
	if s.PacketsSent != ls.Up.Packets || s.PacketsReceived != ls.Down.Packets {
		t.Errorf("packets: transport %d/%d, link %d/%d", s.PacketsSent, s.PacketsReceived, ls.Up.Packets, ls.Down.Packets)
	}
	for _, c := range []struct {
		what       string
		ours, link int64
	}{{"sent", s.BytesSent, ls.Up.WireBytes}, {"received", s.BytesReceived, ls.Down.WireBytes}} {
		if math.Abs(float64(c.ours-c.link)) > 0.15*float64(c.link) {
			t.Errorf("%s: transport counts %d B, link %d B", c.what, c.ours, c.link)
		}
	}
}

// A link cut drops the member's datagrams both ways and resets its
// streams; memberlist on both sides sees it fail.
func TestLinkCutDropsTraffic(t *testing.T) {
	t.Parallel()
	hub := startPool(t, localConfig("hub"))
	link := linkemu.NewLink(linkemu.Profile{Name: "lan-ish", RTT: 20 * time.Millisecond})
	cfg := localConfig("laptop", seedOf(hub))
	cfg.Link = link.Member()
	cfg.ReconnectInterval = time.Hour // no rejoin: this test watches the cut only
	lap := startPool(t, cfg)
	waitFor(t, 5*time.Second, "joined", func() bool { return seesAlive(hub, "laptop") && seesAlive(lap, "hub") })
	link.Cut()
	waitFor(t, 5*time.Second, "hub declares the laptop dead", func() bool { return stateOf(hub, "laptop") == StateDead })
	waitFor(t, 5*time.Second, "laptop declares the hub dead", func() bool { return stateOf(lap, "hub") == StateDead })
	if s := lap.Stats(); s.PacketsDropped == 0 {
		t.Errorf("no packets dropped: %+v", s)
	}
}

// Members of another pool (other key, other label, or no key) cannot join.
func TestForeignMembersCannotJoin(t *testing.T) {
	t.Parallel()
	hub := startPool(t, localConfig("hub"))
	cases := map[string]func(*Config){
		"other key":   func(c *Config) { c.SecretKey = testKey(9) },
		"other label": func(c *Config) { c.Pool = "test/other-pool" },
		"no key":      func(c *Config) { c.SecretKey = nil },
	}
	var foreign []*Pool
	for name, mod := range cases {
		cfg := localConfig("intruder-"+name[:5], seedOf(hub))
		mod(&cfg)
		cfg.ReconnectInterval = 100 * time.Millisecond
		foreign = append(foreign, startPool(t, cfg))
	}
	waitFor(t, 5*time.Second, "every intruder tried and failed to join", func() bool {
		for _, p := range foreign {
			if p.Stats().JoinFailures == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond)
	if got := aliveNames(hub); len(got) != 1 {
		t.Errorf("hub's members: %v", got)
	}
	for _, p := range foreign {
		if got := aliveNames(p); len(got) != 1 || p.HeadsOf("hub") != nil {
			t.Errorf("%s sees %v", p.Name(), got)
		}
		if s := p.Stats(); s.Joins != s.JoinFailures {
			t.Errorf("%s: %d joins, %d failed", p.Name(), s.Joins, s.JoinFailures)
		}
	}
}

// CIDRsAllowed rejects members from other networks (here, loopback
// addresses other than 127.0.0.1).
func TestCIDRsAllowed(t *testing.T) {
	t.Parallel()
	hubCfg := localConfig("hub")
	hubCfg.CIDRsAllowed = []string{"127.0.0.1/32"}
	hub := startPool(t, hubCfg)
	okCfg := localConfig("inside", seedOf(hub))
	inside := startPool(t, okCfg)
	outCfg := localConfig("outside", seedOf(hub))
	outCfg.BindAddr = "127.0.0.2"
	outCfg.ReconnectInterval = 100 * time.Millisecond
	outside, err := Start(outCfg)
	if err != nil {
		t.Skipf("cannot bind 127.0.0.2: %v", err)
	}
	t.Cleanup(func() { _ = outside.Shutdown() })
	waitFor(t, 5*time.Second, "the member inside joins", func() bool { return seesAlive(hub, "inside") && seesAlive(inside, "hub") })
	waitFor(t, 5*time.Second, "the member outside tried", func() bool { return outside.Stats().JoinFailures > 0 })
	time.Sleep(300 * time.Millisecond)
	if seesAlive(hub, "outside") || seesAlive(outside, "hub") {
		t.Error("a member from outside the hub's CIDRs got in")
	}
	if hub.Stats().Rejected == 0 {
		t.Error("nothing rejected")
	}
}
