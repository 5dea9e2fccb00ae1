package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/synctls"
	"fieldsync/replication/wire"
)

// Defaults, each a limit with a reason.
const (
	// DefaultRedialEvery is the anti-entropy floor: even with nothing known
	// to exchange, a target is synced at least this often, so nothing
	// depends on gossip alone. A round costs a laptop about 6 KB (a TLS
	// handshake of 3.9 KB and a summary exchange): hourly, that and the
	// field profile's gossip (22.9 KB/h) stay under the 30 KB/h idle
	// budget (BENCHMARKS.md).
	DefaultRedialEvery = time.Hour
	// DefaultMinBackoff and DefaultMaxBackoff bound redials after a failed
	// contact while there is something to exchange (jittered exponential
	// backoff). The maximum is short because a link may be up for only a
	// few minutes: a laptop with a backlog must notice it within seconds.
	// A failed dial costs a few packets; with nothing to exchange, a failed
	// contact waits for the next anti-entropy round instead.
	DefaultMinBackoff = 1 * time.Second
	DefaultMaxBackoff = 15 * time.Second
	// DefaultWakeDelay batches a burst of captures into one contact.
	DefaultWakeDelay = 3 * time.Second
	// DefaultHubIdleTimeout keeps a session between two hubs open while
	// quiet: hubs sit on office links, and an open session carries a
	// decision made above down to them at once (the parent never dials).
	DefaultHubIdleTimeout = 24 * time.Hour
	// DefaultHandshakeTimeout bounds an accepted connection from accept to
	// an authenticated session (the TLS handshake): a
	// handshake is ~4 KB, under 4 s even at 9.6 kbit/s with a satellite's
	// round trips, and a connection that stalls holds a pending place only
	// this long (admission.go).
	DefaultHandshakeTimeout = synctls.HandshakeTimeout
	// maxTargets bounds how many peers one replica dials.
	maxTargets = 256
)

// Config configures a Replicator.
type Config struct {
	Dir    *datadir.Dir
	Codec  *wire.Codec
	Clock  replication.Clock
	Logger *slog.Logger
	// Listener accepts sync sessions; nil means this replica only dials
	// (a laptop behind carrier NAT).
	Listener net.Listener
	// Advertise is the sync address put in gossip metadata (Listener's
	// address by default).
	Advertise string
	// Static are addresses dialed whatever gossip says: the parent hub,
	// configured peers.
	Static []string
	// Dial opens a connection; nil means a plain TCP dial. Tests, the demo
	// and benchmarks pass the link emulator's dialer; TLS wraps here.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// Pools are the gossip pools this replica is a member of.
	Pools []Pool
	// Proto tunes the protocol (batch sizes, window); Self is filled in.
	Proto syncproto.Config
	// Session tunes sessions over connections (ticks, idle close).
	Session syncnet.Options
	// Verifier authorizes ranges beyond their signatures (the roster).
	Verifier syncproto.Verifier
	// Auth, when set, runs every session over mutual TLS with the device
	// keys (package synctls), after Dial or accept: a peer whose key
	// the roster does not authorize is refused at the handshake, and a
	// peer's Hello must name the origin and role its certificate and the
	// roster give it. Nil runs sessions over the bare connection (open
	// mode: tests, a lab).
	Auth *synctls.Config
	// Tiers ranks hub tiers: a hub dials hubs of a higher rank. Default
	// syncproto.DefaultTiers ({"district": 1, "province": 2}).
	Tiers map[string]int
	// RedialEvery, MinBackoff, MaxBackoff, WakeDelay, HubIdleTimeout,
	// HandshakeTimeout: see the defaults.
	RedialEvery, MinBackoff, MaxBackoff, WakeDelay, HubIdleTimeout, HandshakeTimeout time.Duration
	// OnIngest is called after each batch from any peer is durably written
	// (a hub feeds its view here), also for a batch all already held
	// (res.Applied empty: a replay).
	OnIngest func(peer string, res oplog.IngestResult)
	// OnEvent receives forks and refusals from every session.
	OnEvent func(peer string, ev syncproto.Event)
	// OnSessionEnd is told when a session ends, with its error if it failed
	// (peer is "" when it failed before the peer said who it is).
	OnSessionEnd func(peer string, err error)
	// Blobs, when set, moves the blobs entries reference (blobs.go).
	Blobs *BlobConfig
}

func (c *Config) fill() error {
	if c.Dir == nil {
		return fmt.Errorf("replicator: Config.Dir is required")
	}
	c.Clock = replication.OrReal(c.Clock)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Codec == nil { // frames travel in the session's zstd stream
		codec, err := wire.NewStreamCodec(wire.DefaultLimits())
		if err != nil {
			return err
		}
		c.Codec = codec
	}
	if c.Tiers == nil {
		c.Tiers = maps.Clone(syncproto.DefaultTiers)
	}
	if c.RedialEvery == 0 {
		c.RedialEvery = DefaultRedialEvery
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.WakeDelay == 0 {
		c.WakeDelay = DefaultWakeDelay
	}
	if c.HubIdleTimeout == 0 {
		c.HubIdleTimeout = DefaultHubIdleTimeout
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.Session.LivenessTimeout == 0 {
		c.Session.LivenessTimeout = syncnet.DefaultLivenessTimeout
	}
	if len(c.Static) > maxTargets {
		return fmt.Errorf("replicator: %d static targets, limit %d", len(c.Static), maxTargets)
	}
	cfg := c.Dir.Config
	c.Proto.Self = wire.Hello{Version: syncproto.ProtocolVersion, Origin: c.Dir.Signer.Origin(),
		Role: string(cfg.Role), Tier: cfg.Tier, Unit: cfg.Unit, Node: cfg.Name}
	c.Proto.Verifier = c.Verifier
	if err := c.Proto.Validate(); err != nil {
		return err
	}
	if c.Advertise == "" && c.Listener != nil {
		c.Advertise = c.Listener.Addr().String()
	}
	return nil
}

// Pool is a gossip pool as the replicator uses it; package gossip provides
// one over memberlist (see PoolFromGossip in the shells).
type Pool interface {
	// Members returns the pool's live members other than this one.
	Members() []Member
	// Changed receives when membership or gossiped heads changed.
	Changed() <-chan struct{}
	// Announce publishes this replica's heads (small digests).
	Announce(v replication.Vector)
}

// Member is a pool member as gossip describes it.
type Member struct {
	Name     string
	SyncAddr string
	Role     replication.Role
	Tier     string
	Unit     string
	// Heads is what gossip says the member holds (may lag).
	Heads replication.Vector
	// Alive: gossip hears from the member now (not suspected or dead).
	Alive bool
}
