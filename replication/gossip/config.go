package gossip

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"

	"fieldsync/replication"
)

// Profile selects the timing and security preset of a pool.
type Profile int

const (
	// ProfileField is for pools with field laptops on thin, metered links
	// (2G/EDGE, satellite): slow probes, no periodic push/pull, no TCP
	// fallback pings, so that a member in sync costs under 30 KB an hour.
	// Failure detection takes minutes. doc.go has the table.
	ProfileField Profile = iota
	// ProfileLAN is for hub pools on office networks and provincial WAN
	// links: memberlist's LAN timings (seconds), encrypted.
	ProfileLAN
	// ProfileLocal is for tests on loopback: memberlist's Local timings,
	// encryption optional. Never use it across a real network.
	ProfileLocal
)

// String returns "field", "lan" or "local".
func (p Profile) String() string {
	switch p {
	case ProfileField:
		return "field"
	case ProfileLAN:
		return "lan"
	case ProfileLocal:
		return "local"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// KeySize is the length of Config.SecretKey: AES-256-GCM.
const KeySize = 32

// Errors returned by Start and the Pool methods.
var (
	// ErrConfig is returned (wrapped) by Start when the Config is invalid;
	// the message says which field.
	ErrConfig = errors.New("gossip: invalid config")
	// ErrClosed is returned by Pool methods called after Shutdown.
	ErrClosed = errors.New("gossip: pool shut down")
)

// KnownPeer is a member this process has seen, as persisted by a
// PeerStore: what the reconnect loop needs to find it again after a
// partition or a restart.
type KnownPeer struct {
	// Name is the peer's member name.
	Name string
	// Addr is the peer's gossip address, "host:port".
	Addr string
	// LastSeen is when this process last knew the peer alive.
	LastSeen time.Time
}

// PeerStore persists known peers across restarts, for the reconnect loop
// (memberlist forgets a member after a partition longer than suspicion +
// GossipToTheDeadTime, and never rejoins it by itself: memberlist#222).
// The caller implements it over its own storage.
//
// LoadPeers is called once, by Start. SavePeer is called from the Pool's
// reconnect goroutine, never from memberlist's goroutines, so it may block
// on a disk write; a new SavePeer for a name replaces the previous one.
type PeerStore interface {
	LoadPeers() ([]KnownPeer, error)
	SavePeer(KnownPeer) error
}

// Config configures a Pool. The zero values of the optional fields are
// replaced by the profile's defaults (see withDefaults).
type Config struct {
	// Name is the member's name in the pool: unique, stable across
	// restarts, at most 128 bytes. Required.
	Name string
	// Pool names the pool, e.g. "district/445" or "province/42". It is
	// memberlist's Label: packets and streams of another pool are dropped,
	// so use distinct pool names (and keys) per pool. Required.
	Pool string

	// BindAddr and BindPort are where the member listens (UDP and TCP on
	// the same port). BindAddr defaults to "0.0.0.0"; BindPort 0 picks a
	// free port (see LocalAddr).
	BindAddr string
	BindPort int
	// AdvertiseAddr and AdvertisePort are what the member tells others to
	// reach it at. Empty/0 mean BindAddr (or, for 0.0.0.0, the first
	// private IP) and the bound port. Behind carrier NAT nothing reaches
	// this address; see doc.go ("NAT").
	AdvertiseAddr string
	AdvertisePort int

	// SecretKey is the pool key: KeySize (32) bytes, AES-256-GCM over every
	// packet and stream. Required except in ProfileLocal. Use a distinct key
	// per pool.
	SecretKey []byte
	// CIDRsAllowed, if set, lists the networks (e.g. the overlay's
	// "10.77.0.0/16") whose members are accepted: memberlist keeps other
	// addresses out of the member list, and the transport drops their
	// datagrams and streams (memberlist alone would still answer their
	// pings and push/pulls). Laptops behind carrier NAT arrive from the
	// carrier's addresses: leave it empty for them unless on an overlay.
	CIDRsAllowed []string

	// Profile is the timing preset (ProfileField, ProfileLAN, ProfileLocal).
	Profile Profile
	// Meta is what the member advertises at start; see UpdateMeta.
	Meta Meta

	// Seeds are members to join at start, as "name/host:port" (the name is
	// needed by memberlist's RequireNodeNames, and by the reconnect loop to
	// tell whether the seed is a member). They are retried by the
	// reconnect loop like known peers, but forever, and rejoined every
	// RefreshInterval. On a laptop, the seeds are its hubs.
	Seeds []string
	// Peers persists known peers for the reconnect loop. Nil keeps them in
	// memory only.
	Peers PeerStore

	// Link, if set, emulates a thin link for every datagram and stream of
	// this member. For tests, the demo and benchmarks: the emulator
	// (internal/linkemu) provides one with Link.Member.
	Link Link

	// Clock times the reconnect loop and LastSeen; nil means the real
	// clock. memberlist itself always runs on real time.
	Clock replication.Clock
	// Logger receives the pool's logs and memberlist's (at their levels);
	// nil discards them.
	Logger *slog.Logger

	// ReconnectInterval is how often the reconnect loop looks for known
	// peers that are not members and joins them (jittered ±20 %).
	// Default: 60 s field, 30 s LAN, 200 ms local.
	ReconnectInterval time.Duration
	// ReconnectMaxBackoff caps the per-peer exponential backoff after
	// failed joins. Default: 5 min field and LAN, 2 s local.
	ReconnectMaxBackoff time.Duration
	// ReconnectTimeout is how long after it was last seen a known peer
	// (not a seed) is still retried. Default 72 h.
	ReconnectTimeout time.Duration
	// RefreshInterval is how often the member rejoins its seeds even
	// though they are alive: one push/pull each, which repairs whatever
	// gossip missed (membership, and both sides' own heads, exactly). It
	// replaces memberlist's periodic push/pull in the field profile, where
	// that would pick random members, NAT'd laptops included. Default:
	// 1 h field; off in LAN (memberlist's push/pull every 5 min does it)
	// and local. Negative disables it.
	RefreshInterval time.Duration
	// AnnounceInterval is the least time between two pushes of the
	// member's metadata (UpdateMeta) and between two flushes of its heads
	// (AnnounceHeads); changes in between are coalesced, so a laptop that
	// enrolls all day does not gossip per enrollment. Default: 60 s field,
	// 1 s LAN, 0 (no coalescing) local.
	AnnounceInterval time.Duration

	// tune, if set, adjusts the memberlist config after the profile is
	// applied (tests and MeasureIdle scale the timings with it).
	tune func(*memberlist.Config)
}

// Defaults of the reconnect loop and announcements per profile.
const (
	defaultReconnectTimeout = 72 * time.Hour
	// reconnectJitter is the ± fraction applied to reconnect waits.
	reconnectJitter = 0.2
	// maxJoinsPerRound bounds the joins the reconnect loop starts per tick.
	maxJoinsPerRound = 8
	// maxJoinsInFlight bounds concurrent joins (each may block TCPTimeout).
	maxJoinsInFlight = 4
	// maxKnownPeers bounds the reconnect loop's peer list.
	maxKnownPeers = 4096
	// maxSeeds bounds Config.Seeds.
	maxSeeds = 64
)

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if c.Name == "" || len(c.Name) > maxNameLen || strings.ContainsAny(c.Name, "/\x00") {
		return bad("name %q: want 1-%d bytes without '/'", c.Name, maxNameLen)
	}
	if c.Pool == "" || len(c.Pool) > memberlist.LabelMaxSize {
		return bad("pool %q: want 1-%d bytes", c.Pool, memberlist.LabelMaxSize)
	}
	switch c.Profile {
	case ProfileField, ProfileLAN:
		if len(c.SecretKey) != KeySize {
			return bad("secret key: %d bytes, want %d (required outside ProfileLocal)", len(c.SecretKey), KeySize)
		}
	case ProfileLocal:
		if c.SecretKey != nil && len(c.SecretKey) != KeySize {
			return bad("secret key: %d bytes, want %d", len(c.SecretKey), KeySize)
		}
	default:
		return bad("unknown profile %d", int(c.Profile))
	}
	if _, err := encodeMeta(c.Meta); err != nil {
		return bad("meta: %v", err)
	}
	if c.BindAddr == "" {
		c.BindAddr = "0.0.0.0"
	}
	if net.ParseIP(c.BindAddr) == nil {
		return bad("bind address %q is not an IP", c.BindAddr)
	}
	if c.BindPort < 0 || c.BindPort > 65535 || c.AdvertisePort < 0 || c.AdvertisePort > 65535 {
		return bad("port out of range")
	}
	if len(c.Seeds) > maxSeeds {
		return bad("%d seeds, limit %d", len(c.Seeds), maxSeeds)
	}
	for _, s := range c.Seeds {
		if _, _, err := splitSeed(s); err != nil {
			return bad("%v", err)
		}
	}
	if _, err := memberlist.ParseCIDRs(c.CIDRsAllowed); err != nil {
		return bad("cidrs: %v", err)
	}
	def := profileDefaults[c.Profile]
	if c.ReconnectInterval <= 0 {
		c.ReconnectInterval = def.reconnect
	}
	if c.ReconnectMaxBackoff <= 0 {
		c.ReconnectMaxBackoff = def.maxBackoff
	}
	c.ReconnectMaxBackoff = max(c.ReconnectMaxBackoff, c.ReconnectInterval)
	if c.ReconnectTimeout <= 0 {
		c.ReconnectTimeout = defaultReconnectTimeout
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = def.refresh
	}
	if c.AnnounceInterval < 0 {
		return bad("negative announce interval")
	}
	if c.AnnounceInterval == 0 {
		c.AnnounceInterval = def.announce
	}
	c.Clock = replication.OrReal(c.Clock)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// splitSeed parses "name/host:port".
func splitSeed(s string) (name, addr string, err error) {
	name, addr, found := strings.Cut(s, "/")
	if !found || name == "" || len(name) > maxNameLen {
		return "", "", fmt.Errorf("seed %q: want name/host:port", s)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", "", fmt.Errorf("seed %q: %v", s, err)
	}
	return name, addr, nil
}

type poolDefaults struct {
	reconnect, maxBackoff, refresh, announce time.Duration
}

var profileDefaults = map[Profile]poolDefaults{
	ProfileField: {reconnect: 60 * time.Second, maxBackoff: 5 * time.Minute, refresh: time.Hour, announce: 60 * time.Second},
	ProfileLAN:   {reconnect: 30 * time.Second, maxBackoff: 5 * time.Minute, refresh: -1, announce: time.Second},
	ProfileLocal: {reconnect: 200 * time.Millisecond, maxBackoff: 2 * time.Second, refresh: -1, announce: 0},
}

// The field profile's memberlist settings; doc.go explains each one.
const (
	fieldProbeInterval       = 90 * time.Second
	fieldProbeTimeout        = 10 * time.Second
	fieldSuspicionMult       = 6
	fieldSuspicionMaxMult    = 2
	fieldIndirectChecks      = 2
	fieldTCPTimeout          = 60 * time.Second
	fieldGossipInterval      = 2 * time.Second
	fieldGossipNodes         = 3
	fieldGossipToTheDeadTime = 10 * time.Minute
	deadNodeReclaimTime      = 60 * time.Second
)

// memberlistConfig returns the memberlist preset for p, before the
// per-member fields (name, addresses, key, label, delegates) are set.
func memberlistConfig(p Profile) *memberlist.Config {
	var c *memberlist.Config
	switch p {
	case ProfileField:
		c = memberlist.DefaultWANConfig()
		c.ProbeInterval = fieldProbeInterval
		c.ProbeTimeout = fieldProbeTimeout
		c.SuspicionMult = fieldSuspicionMult
		c.SuspicionMaxTimeoutMult = fieldSuspicionMaxMult
		c.IndirectChecks = fieldIndirectChecks
		c.TCPTimeout = fieldTCPTimeout
		c.PushPullInterval = 0
		c.GossipInterval = fieldGossipInterval
		c.GossipNodes = fieldGossipNodes
		c.GossipToTheDeadTime = fieldGossipToTheDeadTime
		c.DisableTcpPings = true // Start allows them towards hubs only
	case ProfileLAN:
		c = memberlist.DefaultLANConfig()
		c.TCPTimeout = 30 * time.Second
		c.PushPullInterval = 5 * time.Minute
		c.GossipToTheDeadTime = 5 * time.Minute
	default:
		c = memberlist.DefaultLocalConfig()
	}
	c.EnableCompression = false
	c.GossipVerifyIncoming = true
	c.GossipVerifyOutgoing = true
	c.RequireNodeNames = p != ProfileLocal
	c.DeadNodeReclaimTime = deadNodeReclaimTime
	if p == ProfileLocal {
		c.DeadNodeReclaimTime = time.Second
	}
	c.DelegateProtocolVersion = delegateVersion
	c.DelegateProtocolMin = delegateVersion
	c.DelegateProtocolMax = delegateVersion
	return c
}

// delegateVersion is the version of this package's delegate protocol
// (message kinds and push/pull state) that memberlist checks on join.
const delegateVersion = 1
