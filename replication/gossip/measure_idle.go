package gossip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"

	"fieldsync/replication"
)

// IdlePreset names a configuration MeasureIdle can measure.
type IdlePreset string

// The presets MeasureIdle knows. All of them run with the pool key, a
// label and real node names, as a deployment would.
const (
	// PresetField is ProfileField as shipped (doc.go has the table).
	PresetField IdlePreset = "field"
	// PresetSketch is the field sketch of LIBRARIES.md §5: probes every
	// 15 s (timeout 8 s), push/pull every 10 min, TCP fallback pings on.
	PresetSketch IdlePreset = "libraries-sketch"
	// PresetWAN is memberlist.DefaultWANConfig.
	PresetWAN IdlePreset = "memberlist-wan"
	// PresetLAN is memberlist.DefaultLANConfig.
	PresetLAN IdlePreset = "memberlist-lan"
)

// IdleOptions configures MeasureIdle. Zero fields take the defaults named.
type IdleOptions struct {
	// Preset is what to measure (default PresetField).
	Preset IdlePreset
	// Laptops is the number of field members besides the hub (default 6).
	Laptops int
	// Scale divides every interval and timeout of the preset, keeping
	// their ratios (default: so that the probe interval becomes at least
	// 250 ms and the probe timeout at least 50 ms: 200× for the field
	// preset, 20× for WAN, 4× for LAN).
	Scale float64
	// Window is the wall-clock time measured (default: 10 s, or three
	// scaled push/pull intervals if that is longer).
	Window time.Duration
	// Origins is how many heads each member holds, which sizes its
	// push/pull state (default 8).
	Origins int
	// NATed makes every laptop advertise an address nothing listens on,
	// as behind carrier NAT without an overlay.
	NATed bool
	// Logger receives the members' logs (default: discarded).
	Logger *slog.Logger
}

// IdleReport is the idle cost of one laptop in a pool that is in sync: no
// heads or metadata change, so all that moves is failure detection,
// memberlist's periodic push/pull, and the pool's refresh push/pull.
type IdleReport struct {
	// Preset is what was measured.
	Preset IdlePreset
	// Members counts the hub and the laptops.
	Members int
	// NATed: the laptops advertised unreachable addresses.
	NATed bool
	// Scale, Window and Simulated: Window of wall-clock time at Scale
	// stands for Simulated = Window × Scale of real time.
	Scale             float64
	Window, Simulated time.Duration
	// The preset's real (unscaled) timings.
	ProbeInterval, ProbeTimeout, GossipInterval, PushPullInterval, RefreshInterval time.Duration
	// LaptopBytesPerHour is the mean over the laptops of the bytes each
	// sent and received, as estimated wire bytes (IPv4/UDP/TCP headers and
	// TCP control packets included), per hour of real time.
	LaptopBytesPerHour float64
	// LaptopMaxBytesPerHour is the busiest laptop's figure.
	LaptopMaxBytesPerHour float64
	// LaptopSentPerHour and LaptopReceivedPerHour split the mean.
	LaptopSentPerHour, LaptopReceivedPerHour float64
	// RefreshBytes is what one refresh push/pull cost a laptop (sent and
	// received), measured separately and included in the figures above at
	// one per RefreshInterval.
	RefreshBytes float64
	// HubBytesPerHour is the hub's figure.
	HubBytesPerHour float64
	// LaptopPacketsPerHour and LaptopStreamsPerHour are per laptop.
	LaptopPacketsPerHour, LaptopStreamsPerHour float64
}

// String formats the report on one line.
func (r IdleReport) String() string {
	nat := ""
	if r.NATed {
		nat = ", NATed laptops"
	}
	return fmt.Sprintf("%s: %.1f KB/h per laptop (max %.1f; sent %.1f, received %.1f; %.0f packets/h, %.1f streams/h), hub %.1f KB/h; "+
		"probe %v/%v, gossip %v, push/pull %v, refresh %v; %d members%s; %v at %g× = %v simulated",
		r.Preset, r.LaptopBytesPerHour/1000, r.LaptopMaxBytesPerHour/1000, r.LaptopSentPerHour/1000, r.LaptopReceivedPerHour/1000,
		r.LaptopPacketsPerHour, r.LaptopStreamsPerHour, r.HubBytesPerHour/1000,
		r.ProbeInterval, r.ProbeTimeout, r.GossipInterval, r.PushPullInterval, r.RefreshInterval, r.Members, nat,
		r.Window, r.Scale, r.Simulated.Round(time.Minute))
}

// presetTimings returns the memberlist preset and the pool refresh
// interval of p.
func presetTimings(p IdlePreset) (*memberlist.Config, time.Duration, error) {
	switch p {
	case PresetField:
		return memberlistConfig(ProfileField), profileDefaults[ProfileField].refresh, nil
	case PresetSketch:
		c := memberlist.DefaultWANConfig()
		c.ProbeInterval, c.ProbeTimeout = 15*time.Second, 8*time.Second
		c.SuspicionMult = 8
		c.TCPTimeout = 60 * time.Second
		c.PushPullInterval = 10 * time.Minute
		c.GossipInterval = 2 * time.Second
		c.GossipToTheDeadTime = 10 * time.Minute
		c.EnableCompression = false
		return c, -1, nil
	case PresetWAN:
		return memberlist.DefaultWANConfig(), -1, nil
	case PresetLAN:
		return memberlist.DefaultLANConfig(), -1, nil
	}
	return nil, 0, fmt.Errorf("gossip: unknown idle preset %q", p)
}

// applyTimings copies the timing and behaviour fields of src into c,
// divided by scale; with keepPingPolicy, c's TCP ping settings (the
// field profile's, set by Start) stay.
func applyTimings(c, src *memberlist.Config, scale float64, keepPingPolicy bool) {
	d := func(v time.Duration) time.Duration { return time.Duration(float64(v) / scale) }
	c.TCPTimeout = d(src.TCPTimeout)
	c.IndirectChecks = src.IndirectChecks
	c.RetransmitMult = src.RetransmitMult
	c.SuspicionMult = src.SuspicionMult
	c.SuspicionMaxTimeoutMult = src.SuspicionMaxTimeoutMult
	c.PushPullInterval = d(src.PushPullInterval)
	c.ProbeInterval = d(src.ProbeInterval)
	c.ProbeTimeout = d(src.ProbeTimeout)
	if !keepPingPolicy {
		c.DisableTcpPings = src.DisableTcpPings
		c.DisableTcpPingsForNode = src.DisableTcpPingsForNode
	}
	c.AwarenessMaxMultiplier = src.AwarenessMaxMultiplier
	c.GossipNodes = src.GossipNodes
	c.GossipInterval = d(src.GossipInterval)
	c.GossipToTheDeadTime = d(src.GossipToTheDeadTime)
	c.EnableCompression = src.EnableCompression
	c.DeadNodeReclaimTime = d(src.DeadNodeReclaimTime)
}

// MeasureIdle runs a pool of a hub and o.Laptops laptops on loopback with
// the timings of o.Preset scaled down by o.Scale (every interval and
// timeout divided alike, so the protocol does per scaled second what it
// would do per real Scale seconds), waits until it is in sync and quiet,
// counts each member's bytes over o.Window with the transport's wire
// model, and converts to bytes per real hour:
//
//	bytes/h = bytes in Window × 3600 s / (Window × Scale)
//
// The pool's refresh push/pull (PresetField) is measured apart: after the
// window every laptop refreshes once, and that cost is added at one per
// RefreshInterval. The figure does not depend on the machine's speed as
// long as scaled probe timeouts are not missed; a missed one adds
// indirect probes and raises the figure, so it errs high.
func MeasureIdle(ctx context.Context, o IdleOptions) (IdleReport, error) {
	if o.Preset == "" {
		o.Preset = PresetField
	}
	if o.Laptops <= 0 {
		o.Laptops = 6
	}
	if o.Origins <= 0 {
		o.Origins = 8
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	src, refresh, err := presetTimings(o.Preset)
	if err != nil {
		return IdleReport{}, err
	}
	if o.Scale <= 0 {
		o.Scale = min(float64(src.ProbeInterval)/float64(250*time.Millisecond), float64(src.ProbeTimeout)/float64(50*time.Millisecond))
		o.Scale = max(o.Scale, 1)
	}
	scaled := func(v time.Duration) time.Duration { return time.Duration(float64(v) / o.Scale) }
	if o.Window <= 0 {
		o.Window = max(10*time.Second, 3*scaled(src.PushPullInterval))
	}
	r := IdleReport{
		Preset: o.Preset, Members: o.Laptops + 1, NATed: o.NATed, Scale: o.Scale, Window: o.Window,
		Simulated:     time.Duration(float64(o.Window) * o.Scale),
		ProbeInterval: src.ProbeInterval, ProbeTimeout: src.ProbeTimeout, GossipInterval: src.GossipInterval,
		PushPullInterval: src.PushPullInterval, RefreshInterval: max(refresh, 0),
	}

	pools, err := startIdlePool(o, src, refresh)
	defer func() {
		for _, p := range pools {
			_ = p.Shutdown()
		}
	}()
	if err != nil {
		return r, err
	}
	hub, laptops := pools[0], pools[1:]
	if err := settle(ctx, hub, laptops, src, o.Scale); err != nil {
		return r, err
	}
	for _, l := range laptops { // refreshes are measured apart, below
		l.mu.Lock()
		l.mu.nextRefresh = time.Time{}
		l.mu.Unlock()
	}

	before := snapshot(pools)
	if err := sleepCtx(ctx, o.Window); err != nil {
		return r, err
	}
	after := snapshot(pools)
	perHour := 3600 / (o.Window.Seconds() * o.Scale)

	if refresh > 0 {
		if r.RefreshBytes, err = measureRefresh(ctx, laptops); err != nil {
			return r, err
		}
	}
	refreshPerHour := 0.0
	if refresh > 0 {
		refreshPerHour = r.RefreshBytes * float64(time.Hour) / float64(refresh)
	}
	for i, lap := range laptops {
		_ = lap
		b, a := before[i+1], after[i+1]
		sent := float64(a.BytesSent-b.BytesSent) * perHour
		recv := float64(a.BytesReceived-b.BytesReceived) * perHour
		total := sent + recv + refreshPerHour
		r.LaptopBytesPerHour += total / float64(len(laptops))
		r.LaptopSentPerHour += sent / float64(len(laptops))
		r.LaptopReceivedPerHour += recv / float64(len(laptops))
		r.LaptopMaxBytesPerHour = max(r.LaptopMaxBytesPerHour, total)
		r.LaptopPacketsPerHour += float64(a.PacketsSent-b.PacketsSent+a.PacketsReceived-b.PacketsReceived) * perHour / float64(len(laptops))
		r.LaptopStreamsPerHour += float64(a.StreamsOpened-b.StreamsOpened+a.StreamsAccepted-b.StreamsAccepted) * perHour / float64(len(laptops))
	}
	r.HubBytesPerHour = float64(after[0].BytesSent-before[0].BytesSent+after[0].BytesReceived-before[0].BytesReceived)*perHour +
		refreshPerHour*float64(len(laptops))
	return r, nil
}

// startIdlePool starts the hub and the laptops of a measurement.
func startIdlePool(o IdleOptions, src *memberlist.Config, refresh time.Duration) ([]*Pool, error) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	tune := func(c *memberlist.Config) { applyTimings(c, src, o.Scale, o.Preset == PresetField) }
	scaledRefresh := time.Duration(-1)
	if refresh > 0 {
		scaledRefresh = time.Duration(float64(refresh) / o.Scale)
	}
	cfg := func(name string, role replication.Role, seeds ...string) Config {
		return Config{
			Name: name, Pool: "district/445", BindAddr: "127.0.0.1", SecretKey: key, Profile: ProfileField,
			Meta:              Meta{Role: role, Unit: "445", Entries: 1000, SyncAddr: "127.0.0.1:7400"},
			Seeds:             seeds,
			Logger:            o.Logger,
			ReconnectInterval: time.Duration(float64(time.Minute) / o.Scale),
			RefreshInterval:   scaledRefresh,
			tune:              tune,
		}
	}
	var pools []*Pool
	hcfg := cfg("district-445", replication.RoleHub)
	hcfg.Meta.Tier = "district"
	hub, err := Start(hcfg)
	if err != nil {
		return nil, err
	}
	pools = append(pools, hub)
	for i := range o.Laptops {
		c := cfg(fmt.Sprintf("x445-laptop-%02d", i+1), replication.RoleNode, hub.Name()+"/"+hub.LocalAddr())
		c.Meta.SyncAddr = ""
		if o.NATed {
			port, err := unusedPort()
			if err != nil {
				return pools, err
			}
			c.AdvertiseAddr, c.AdvertisePort = "127.0.0.1", port
		}
		p, err := Start(c)
		if err != nil {
			return pools, err
		}
		pools = append(pools, p)
	}
	for i, p := range pools {
		hs := make([]replication.OriginHead, o.Origins)
		for j := range hs {
			hs[j].Origin[0], hs[j].Origin[1] = byte(i), byte(j)
			hs[j].Seq = uint64(1000 + j)
			hs[j].Hash[0] = byte(j)
		}
		p.setOwnHeads(hs)
	}
	return pools, nil
}

// setOwnHeads records hs as announced without queueing them: a member
// that has been in sync for a while has nothing queued.
func (p *Pool) setOwnHeads(hs []replication.OriginHead) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range hs {
		p.mu.own[h.Origin] = h.Head
	}
}

// settle waits until every laptop and the hub see each other alive and
// memberlist's join broadcasts have run out.
func settle(ctx context.Context, hub *Pool, laptops []*Pool, src *memberlist.Config, scale float64) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := hub.Stats().Members == len(laptops)+1
		for _, l := range laptops {
			ok = ok && len(aliveOf(l.Members(), hub.Name())) == 1
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("gossip: measure idle: the pool did not form in 30 s")
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	quiet := time.Duration(float64(30*src.GossipInterval+3*src.ProbeInterval) / scale)
	return sleepCtx(ctx, quiet)
}

func aliveOf(ms []Member, names ...string) []string {
	var out []string
	for _, m := range ms {
		for _, n := range names {
			if m.Name == n && m.State == StateAlive {
				out = append(out, n)
			}
		}
	}
	return out
}

// measureRefresh makes every laptop refresh once and returns the mean
// bytes (sent and received) it cost a laptop.
func measureRefresh(ctx context.Context, laptops []*Pool) (float64, error) {
	before := snapshot(laptops)
	for _, l := range laptops {
		l.mu.Lock()
		l.mu.nextRefresh = l.cfg.Clock.Now()
		l.mu.Unlock()
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < len(laptops); {
		if laptops[i].Stats().Joins > before[i].Joins {
			i++
			continue
		}
		if time.Now().After(deadline) {
			return 0, errors.New("gossip: measure idle: refresh did not happen")
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			return 0, err
		}
	}
	if err := sleepCtx(ctx, 100*time.Millisecond); err != nil { // let the streams close
		return 0, err
	}
	after := snapshot(laptops)
	var sum float64
	for i := range laptops {
		sum += float64(after[i].BytesSent - before[i].BytesSent + after[i].BytesReceived - before[i].BytesReceived)
	}
	return sum / float64(len(laptops)), nil
}

func snapshot(pools []*Pool) []Stats {
	out := make([]Stats, len(pools))
	for i, p := range pools {
		out[i] = p.Stats()
	}
	return out
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unusedPort returns a loopback port nothing listens on (it was free a
// moment ago).
func unusedPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return strconv.Atoi(p)
}
