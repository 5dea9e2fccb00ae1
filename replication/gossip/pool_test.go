package gossip

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"fieldsync/replication"
)

func TestJoinMembersAndMeta(t *testing.T) {
	t.Parallel()
	hubCfg := localConfig("hub")
	hubCfg.Meta = Meta{Role: replication.RoleHub, Tier: "district", Unit: "445", SyncAddr: "127.0.0.1:7000", Entries: 42, Digest: [8]byte{1, 2, 3}}
	hub := startPool(t, hubCfg)
	a := startPool(t, localConfig("laptop-a", seedOf(hub)))
	b := startPool(t, localConfig("laptop-b", seedOf(hub)))

	for _, p := range []*Pool{hub, a, b} {
		waitFor(t, 5*time.Second, p.Name()+" sees all three", func() bool { return seesAlive(p, "hub", "laptop-a", "laptop-b") })
	}
	ms := b.Members()
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	if !slices.IsSorted(names) {
		t.Errorf("Members not sorted: %v", names)
	}
	for _, m := range ms {
		if m.Name == "hub" {
			if m.Meta != hubCfg.Meta {
				t.Errorf("hub meta seen by b: %+v, want %+v", m.Meta, hubCfg.Meta)
			}
			if m.Addr != hub.LocalAddr() || m.LastSeen.IsZero() {
				t.Errorf("hub member: %+v", m)
			}
		}
	}

	// UpdateMeta spreads (ProfileLocal does not coalesce).
	newMeta := hubCfg.Meta
	newMeta.Entries = 43
	newMeta.Digest = [8]byte{9}
	if err := hub.UpdateMeta(newMeta); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a sees the hub's new meta", func() bool {
		for _, m := range a.Members() {
			if m.Name == "hub" {
				return m.Meta == newMeta
			}
		}
		return false
	})
	if err := hub.UpdateMeta(Meta{SyncAddr: string(make([]byte, 200))}); !errors.Is(err, replication.ErrTooLarge) {
		t.Errorf("oversized meta: %v", err)
	}
}

// Heads spread by epidemic gossip, best effort: each member that learns a
// head relays it 4×⌈log10(N+1)⌉ times to random members, so a member may
// miss one (about 1 % per head and member in a pool of 6). The refresh
// push/pull with the seeds (the hub) repairs the hub's view exactly.
func TestAnnounceHeadsReachEveryMember(t *testing.T) {
	t.Parallel()
	hub := startPool(t, localConfig("hub"))
	pools := []*Pool{hub}
	for _, n := range []string{"l1", "l2", "l3", "l4", "l5"} {
		cfg := localConfig(n, seedOf(hub))
		cfg.RefreshInterval = 300 * time.Millisecond
		pools = append(pools, startPool(t, cfg))
	}
	for _, p := range pools {
		waitFor(t, 5*time.Second, p.Name()+" sees everyone", func() bool { return seesAlive(p, "hub", "l1", "l2", "l3", "l4", "l5") })
	}
	// 60 heads: more than fit in one 1 KB message.
	var heads []replication.OriginHead
	for i := range 60 {
		heads = append(heads, head(i, uint64(10+i)))
	}
	l1 := pools[1]
	l1.AnnounceHeads(heads)
	l1.AnnounceHeads([]replication.OriginHead{head(0, 5)}) // lower: ignored
	want := make(replication.Vector)
	for _, h := range heads {
		want[h.Origin] = prefixHead(h).Head
	}
	if got := l1.HeadsOf("l1"); !got.Equal(want) {
		t.Fatalf("HeadsOf(self) = %d heads, want %d", len(got), len(want))
	}
	waitFor(t, 5*time.Second, "hub learns all of l1's heads", func() bool { return hub.HeadsOf("l1").Equal(want) })
	waitFor(t, 5*time.Second, "gossip queues drain", func() bool {
		for _, p := range pools {
			if p.Stats().QueueDepth > 0 {
				return false
			}
		}
		return true
	})
	got, total := 0, 0
	for _, p := range pools[2:] {
		v := p.HeadsOf("l1")
		for o, h := range want {
			total++
			if v[o] == h {
				got++
			}
		}
	}
	t.Logf("gossip alone delivered %d of %d (member, head) pairs (%.1f %%)", got, total, 100*float64(got)/float64(total))
	if got < total*9/10 {
		t.Errorf("gossip delivered only %d of %d", got, total)
	}

	// A newer head replaces the older one.
	l1.AnnounceHeads([]replication.OriginHead{head(3, 99)})
	waitFor(t, 5*time.Second, "hub learns the newer head", func() bool { return hub.HeadsOf("l1").Seq(origin(3)) == 99 })
	if got := hub.HeadsOf("l1")[origin(3)].Hash; got != prefixHead(head(3, 99)).Hash {
		t.Errorf("hash prefix %x", got[:DigestSize+1])
	}
	for _, p := range pools {
		if s := p.Stats(); s.DecodeErrors != 0 || s.HeadsDropped != 0 || s.HeadConflicts != 0 {
			t.Errorf("%s: %+v", p.Name(), s)
		}
	}
}

// With gossip off, the periodic refresh (a push/pull with the seeds)
// carries both sides' own heads exactly.
func TestRefreshCarriesHeads(t *testing.T) {
	t.Parallel()
	noGossip := func(c *memberlist.Config) { fastTimings(c); c.GossipInterval = time.Hour }
	hubCfg := localConfig("hub")
	hubCfg.tune = noGossip
	hub := startPool(t, hubCfg)
	lapCfg := localConfig("laptop", seedOf(hub))
	lapCfg.tune = noGossip
	lapCfg.RefreshInterval = 200 * time.Millisecond
	lap := startPool(t, lapCfg)
	waitFor(t, 5*time.Second, "joined", func() bool { return seesAlive(hub, "laptop") })
	lap.AnnounceHeads([]replication.OriginHead{head(1, 5), head(2, 6)})
	hub.AnnounceHeads([]replication.OriginHead{head(9, 7)})
	waitFor(t, 5*time.Second, "hub learns the laptop's heads", func() bool { return hub.HeadsOf("laptop").Seq(origin(2)) == 6 })
	waitFor(t, 5*time.Second, "laptop learns the hub's heads", func() bool { return lap.HeadsOf("hub").Seq(origin(9)) == 7 })
}

// A head announced again before it was gossiped replaces the queued one:
// the queue holds one broadcast per (member, origin).
func TestNamedBroadcastReplacesQueuedHead(t *testing.T) {
	t.Parallel()
	cfg := localConfig("alone")
	cfg.tune = func(c *memberlist.Config) { fastTimings(c); c.GossipInterval = time.Hour }
	p := startPool(t, cfg)
	for seq := uint64(1); seq <= 100; seq++ {
		p.AnnounceHeads([]replication.OriginHead{head(1, seq), head(2, seq)})
	}
	if d := p.Stats().QueueDepth; d != 2 {
		t.Fatalf("queue depth %d after 100 announcements of 2 origins, want 2", d)
	}
	msgs := p.queue.GetBroadcasts(2, 1400)
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	merged := mergeHeadsMsgs(msgs)
	if len(merged) != 1 {
		t.Fatalf("merged into %d messages, want 1", len(merged))
	}
	m, err := decodeHeadsMsg(merged[0])
	if err != nil || len(m.heads) != 2 || m.heads[0].Seq != 100 || m.heads[1].Seq != 100 {
		t.Fatalf("merged message: %+v, %v", m, err)
	}

	// The queue is bounded.
	var many []replication.OriginHead
	for i := range 3 * maxQueuedBroadcasts {
		many = append(many, head(i, 1))
	}
	slicesSortHeads(many)
	p.AnnounceHeads(many)
	if d := p.Stats().QueueDepth; d > maxQueuedBroadcasts {
		t.Fatalf("queue depth %d, limit %d", d, maxQueuedBroadcasts)
	}
}

func slicesSortHeads(hs []replication.OriginHead) {
	slices.SortFunc(hs, func(a, b replication.OriginHead) int { return replication.CompareOrigin(a.Origin, b.Origin) })
}

// A joiner learns the hub's heads from the push/pull state of the join
// itself, with no gossip at all.
func TestJoinCarriesHeadsInState(t *testing.T) {
	t.Parallel()
	noGossip := func(c *memberlist.Config) { fastTimings(c); c.GossipInterval = time.Hour }
	hubCfg := localConfig("hub")
	hubCfg.tune = noGossip
	hub := startPool(t, hubCfg)
	hub.AnnounceHeads([]replication.OriginHead{head(1, 7), head(2, 9)})
	lapCfg := localConfig("laptop", seedOf(hub))
	lapCfg.tune = noGossip
	lap := startPool(t, lapCfg)
	lap.AnnounceHeads([]replication.OriginHead{head(5, 3)})
	waitFor(t, 5*time.Second, "laptop learns the hub's heads on join", func() bool { return lap.HeadsOf("hub").Seq(origin(2)) == 9 })
	if got := hub.HeadsOf("laptop"); got.Seq(origin(5)) != 0 && got.Seq(origin(5)) != 3 {
		t.Errorf("hub's view of laptop: %v", got)
	}
}

// Nobody reads Events: memberlist must keep working, events are dropped
// and the resync flag is set.
func TestEventsNeverBlockMemberlist(t *testing.T) {
	t.Parallel()
	hub := startPool(t, localConfig("hub"))
	var pools []*Pool
	for i := range 4 {
		pools = append(pools, startPool(t, localConfig("m"+string(rune('0'+i)), seedOf(hub))))
	}
	for range eventBuffer + 1 {
		hub.emit(EventUpdate, "filler")
	}
	for i := range 20 {
		hub.AnnounceHeads([]replication.OriginHead{head(i, 1)})
		pools[0].AnnounceHeads([]replication.OriginHead{head(100+i, 1)})
	}
	waitFor(t, 5*time.Second, "hub sees all members despite a full event channel", func() bool {
		return seesAlive(hub, "m0", "m1", "m2", "m3")
	})
	waitFor(t, 5*time.Second, "hub gets m0's heads", func() bool { return len(hub.HeadsOf("m0")) == 20 })
	if !hub.TakeResync() || hub.Stats().EventsDropped == 0 {
		t.Fatal("no resync flag after dropped events")
	}
	if hub.TakeResync() {
		t.Fatal("TakeResync did not clear the flag")
	}
}

func TestShutdownClosesEventsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	p, err := Start(localConfig("solo"))
	if err != nil {
		t.Fatal(err)
	}
	ev := p.Events()
	if err := p.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(); err != nil {
		t.Fatal(err)
	}
	for range ev { // drains and ends
	}
	if err := p.Leave(time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("Leave after Shutdown: %v", err)
	}
	if err := p.UpdateMeta(Meta{}); !errors.Is(err, ErrClosed) {
		t.Errorf("UpdateMeta after Shutdown: %v", err)
	}
	p.AnnounceHeads([]replication.OriginHead{head(1, 1)}) // no panic
	if p.Members() != nil {
		t.Error("Members after Shutdown")
	}
}

func TestLeaveIsSeenAsLeft(t *testing.T) {
	t.Parallel()
	hub := startPool(t, localConfig("hub"))
	lap := startPool(t, localConfig("laptop", seedOf(hub)))
	waitFor(t, 5*time.Second, "hub sees laptop", func() bool { return seesAlive(hub, "laptop") })
	if err := lap.Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "hub sees laptop left", func() bool { return stateOf(hub, "laptop") == StateLeft })
	_ = lap.Shutdown()
	// The reconnect loop does not bring back a member that left: its own
	// loop is stopped, and the hub's join attempts hit a closed port.
	time.Sleep(500 * time.Millisecond)
	if st := stateOf(hub, "laptop"); st != StateLeft && st != StateDead {
		t.Errorf("laptop state %q after leave and shutdown", st)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	base := localConfig("x")
	cases := []struct {
		name string
		mod  func(*Config)
	}{
		{"no name", func(c *Config) { c.Name = "" }},
		{"slash in name", func(c *Config) { c.Name = "a/b" }},
		{"no pool", func(c *Config) { c.Pool = "" }},
		{"field without key", func(c *Config) { c.Profile = ProfileField; c.SecretKey = nil }},
		{"lan short key", func(c *Config) { c.Profile = ProfileLAN; c.SecretKey = make([]byte, 16) }},
		{"seed without name", func(c *Config) { c.Seeds = []string{"127.0.0.1:1"} }},
		{"bad seed", func(c *Config) { c.Seeds = []string{"nohostport"} }},
		{"bad cidr", func(c *Config) { c.CIDRsAllowed = []string{"10.0.0.0/99"} }},
		{"bad bind", func(c *Config) { c.BindAddr = "localhost" }},
		{"bad meta", func(c *Config) { c.Meta.Unit = string(make([]byte, 100)) }},
		{"bad profile", func(c *Config) { c.Profile = 7 }},
	}
	for _, tc := range cases {
		c := base
		tc.mod(&c)
		if _, err := Start(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tc.name, err)
		}
	}
}

// A district hub is a member of two pools at once: two Pools in one
// process, with their own ports, keys and labels, that never mix.
func TestDistrictHubInTwoPools(t *testing.T) {
	t.Parallel()
	district := func(name string, seeds ...string) Config {
		c := localConfig(name, seeds...)
		c.Pool, c.SecretKey = "district/445", testKey(1)
		return c
	}
	province := func(name string, seeds ...string) Config {
		c := localConfig(name, seeds...)
		c.Pool, c.SecretKey = "province/42", testKey(2)
		return c
	}
	prov := startPool(t, province("province-42"))
	hubD := startPool(t, district("district-445"))
	hubP := startPool(t, province("district-445", seedOf(prov)))
	lap := startPool(t, district("laptop-1", seedOf(hubD)))
	waitFor(t, 5*time.Second, "both pools form", func() bool {
		return seesAlive(hubD, "laptop-1") && seesAlive(prov, "district-445") && seesAlive(lap, "district-445")
	})
	hubD.AnnounceHeads([]replication.OriginHead{head(1, 10)})
	hubP.AnnounceHeads([]replication.OriginHead{head(1, 10), head(2, 20)})
	waitFor(t, 5*time.Second, "heads stay in their pool", func() bool {
		return lap.HeadsOf("district-445").Seq(origin(1)) == 10 && prov.HeadsOf("district-445").Seq(origin(2)) == 20
	})
	time.Sleep(200 * time.Millisecond)
	if got := aliveNames(lap); !slices.Equal(got, []string{"district-445", "laptop-1"}) {
		t.Errorf("laptop sees %v", got)
	}
	if got := aliveNames(prov); !slices.Equal(got, []string{"district-445", "province-42"}) {
		t.Errorf("province sees %v", got)
	}
	if lap.HeadsOf("district-445").Seq(origin(2)) != 0 {
		t.Error("a provincial-pool head leaked into the district pool")
	}
	if hubD.LocalAddr() == hubP.LocalAddr() {
		t.Error("the two pools share an address")
	}
}
