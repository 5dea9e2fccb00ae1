package replicator

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/synctls"
	"fieldsync/replication/wire"
)

// maxAccepted bounds concurrent inbound sessions of authenticated peers (a
// hub with hundreds of laptops reconnecting at once queues the rest after
// their handshakes); admission.go bounds the connections before that.
const maxAccepted = 64

// connectTimeout bounds one TCP connection attempt (connect): covers a
// SYN lost once (the kernel resends it after 1 s) on a link with 800 ms
// round trips. The TLS handshake that follows has its
// own bound (Config.HandshakeTimeout).
const connectTimeout = 3 * time.Second

// quickRedials is the budget of redials at MinBackoff after a session
// that moved entries broke (target.quickRedials).
const quickRedials = 30

// Replicator runs a replica's sync sessions: it accepts them on its
// listener, dials its targets when there is something to exchange (or at
// least every RedialEvery), and keeps what it learns about each peer.
type Replicator struct {
	cfg Config

	mu       sync.Mutex
	peers    *peerTable
	targets  map[string]*target // by address
	sessions map[chan struct{}]bool
	roles    map[replication.OriginID]syncproto.OfferOrigin
	active   map[string]int // sessions per peer name
	lastSent replication.Hash
	rng      *rand.Rand
	// announceCh asks the announcer (one goroutine, started by Run) to
	// publish the heads: one goroutine, so an older vector can never be
	// published after a newer one; a channel of one, so a burst of Wakes
	// is one announcement of the latest heads.
	announceCh chan struct{}
	blobs      *blobLane // the blob lane, when on
	// pending are accepted connections not yet authenticated; inboundBy
	// is each authenticated device's inbound session (admission.go).
	pending   *pendingPool
	inboundBy map[string][]*inboundClaim
	log       *slog.Logger
}

// target is one address this replica dials. Its dial loop owns it; name
// alone is also written by others (a pool learning the member's name) and
// is read and written under Replicator.mu only (targetName).
type target struct {
	addr string
	name string // learned from the peer's Hello or its gossip
	wake chan struct{}
	// seen receives when gossip sees the peer again (alive after not
	// being, or with news): a contact waiting out a dead link's timers is
	// abandoned and a new one starts at once.
	seen     chan struct{}
	failures int
	// settled is the backlog a complete session left behind: what the peer
	// will not take (a forked or unauthorized origin). Only a backlog above
	// it calls for a new contact, or a refused range would be redialed in a
	// loop.
	settled uint64
	// quickRedials is how many failed contacts may still be retried at
	// MinBackoff rather than on the growing backoff: a session that moved
	// entries refills it, because a link that just carried one and broke
	// is most likely blinking (2G drops for seconds at a time), and the
	// exponential backoff would overshoot such an outage by up to its own
	// length. Bounded, so a peer that breaks every session is still
	// backed off.
	quickRedials int
	// contactStarted is when the last contact began (dialLoop's).
	contactStarted time.Time
	// blobsLeft: a session did blob work and broke before it was complete,
	// so the peer may still lack blobs this replica holds (a backlog the
	// entry counts do not show).
	blobsLeft bool
}

// New builds a replicator; Run starts it.
func New(cfg Config) (*Replicator, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	peers, err := loadPeers(cfg.Dir.Log)
	if err != nil {
		cfg.Logger.Warn("some persisted peer states could not be read", "err", err)
	}
	r := &Replicator{
		cfg: cfg, peers: peers, targets: map[string]*target{}, sessions: map[chan struct{}]bool{},
		roles: map[replication.OriginID]syncproto.OfferOrigin{}, active: map[string]int{},
		rng:        rand.New(rand.NewPCG(uint64(cfg.Clock.Now().UnixNano()), 0x5eed)),
		announceCh: make(chan struct{}, 1),
		pending:    newPendingPool(maxPending, maxPendingPerAddr), inboundBy: map[string][]*inboundClaim{},
		log: cfg.Logger,
	}
	if err := r.openBlobs(); err != nil {
		return nil, err
	}
	for _, addr := range cfg.Static {
		r.addTarget(addr, "")
	}
	return r, nil
}

// Admission returns how many accepted connections are waiting to
// authenticate now, and how many were closed so far to make room for
// newer ones (a flood of idle or stalled connections; admission.go).
func (r *Replicator) Admission() (pending, evicted int) { return r.pending.stats() }

// Advertise returns the sync address this replica advertises ("" if it
// only dials).
func (r *Replicator) Advertise() string { return r.cfg.Advertise }

// Run serves and dials until ctx ends.
func (r *Replicator) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if r.cfg.Listener != nil {
		wg.Add(1)
		go func() { defer wg.Done(); r.serve(ctx) }()
	}
	r.mu.Lock()
	for _, t := range r.targets {
		wg.Add(1)
		go func() { defer wg.Done(); r.dialLoop(ctx, t) }()
	}
	r.mu.Unlock()
	wg.Add(1)
	go func() { defer wg.Done(); r.announceLoop(ctx) }()
	for _, p := range r.cfg.Pools {
		wg.Add(1)
		go func() { defer wg.Done(); r.watchPool(ctx, p, &wg) }()
	}
	<-ctx.Done()
	return ctx.Err()
}

// Wake tells running sessions and dial loops that the log changed: new
// captures go out at the next contact, batched by WakeDelay.
func (r *Replicator) Wake() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ch := range r.sessions {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	for _, t := range r.targets {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	select {
	case r.announceCh <- struct{}{}:
	default: // an announcement is pending: it will read the latest heads
	}
}

// Peers returns every known peer with its backlog computed now.
func (r *Replicator) Peers() ([]PeerStatus, error) {
	ours, err := r.cfg.Dir.Log.Vector()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := sortedPeers(r.peers)
	now := r.cfg.Clock.Now()
	for i := range out {
		out[i] = out[i].withBacklog(r.cfg.Dir.Config.Role, ours, r.originOfLocked).withLiveness(now, r.cfg.Session.LivenessTimeout)
	}
	return out, nil
}

// PeerStatuses reads persisted peer states from a log without a running
// replicator (for `fieldsync status` when the daemon is down).
func PeerStatuses(l oplog.Log, self replication.Role) ([]PeerStatus, error) {
	t, err := loadPeers(l)
	if err != nil {
		return nil, err
	}
	ours, err := l.Vector()
	if err != nil {
		return nil, err
	}
	origins := map[replication.OriginID]syncproto.OfferOrigin{}
	originOf := func(o replication.OriginID) syncproto.OfferOrigin { return offerOrigin(l, origins, o) }
	out := sortedPeers(t)
	for i := range out {
		out[i] = out[i].withBacklog(self, ours, originOf)
	}
	return out, nil
}

// unitsVerifier is a Verifier that also knows the units each key serves
// (the live roster, roster/live).
type unitsVerifier interface {
	PeerUnits(key ed25519.PublicKey) []string
}

// originOfLocked returns what an origin's genesis declares to the offer
// policy (cached).
func (r *Replicator) originOfLocked(o replication.OriginID) syncproto.OfferOrigin {
	return offerOrigin(r.cfg.Dir.Log, r.roles, o)
}

func offerOrigin(l oplog.Log, cache map[replication.OriginID]syncproto.OfferOrigin, o replication.OriginID) syncproto.OfferOrigin {
	if oo, ok := cache[o]; ok {
		return oo
	}
	oo := syncproto.OfferOrigin{Role: replication.RoleNode}
	if e, err := l.Get(replication.EntryID{Origin: o, Seq: 1}); err == nil {
		if g, err := replication.DecodeGenesis(e.Payload); err == nil {
			oo = syncproto.OfferOrigin{Role: g.Role, Scope: g.Scope}
		}
	}
	cache[o] = oo
	return oo
}

// serve accepts connections. Each is pending (admission.go) until it
// has authenticated, within HandshakeTimeout; then its session runs in one
// of maxAccepted slots, the peer's only inbound session here.
func (r *Replicator) serve(ctx context.Context) {
	go func() { <-ctx.Done(); r.cfg.Listener.Close() }()
	slots := make(chan struct{}, maxAccepted)
	var wg sync.WaitGroup
	defer wg.Wait()
	var pause time.Duration
	for {
		conn, err := r.cfg.Listener.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors (a flood), or the like: wait and
			// go on accepting, as net/http does; never stop serving.
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			r.log.Warn("accept failed", "cause", "accept", "err", err, "retry_in", pause)
			if !r.sleep(ctx, pause) {
				return
			}
			continue
		}
		pause = 0
		p := r.pending.admit(hostOf(conn.RemoteAddr()), conn)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.serveConn(ctx, conn, p, slots)
		}()
	}
}

// serveConn authenticates one accepted connection and runs its session.
func (r *Replicator) serveConn(ctx context.Context, conn net.Conn, p *pending, slots chan struct{}) {
	conn, peer, err := r.authenticate(ctx, conn)
	r.pending.release(p)
	if err != nil {
		r.log.Warn("refused a sync connection", "cause", "handshake", "from", hostOf(conn.RemoteAddr()), "err", err)
		if r.cfg.OnSessionEnd != nil {
			r.cfg.OnSessionEnd("", err)
		}
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if peer != nil {
		c := &inboundClaim{cancel: cancel}
		c.recv.Store(time.Now().UnixNano())
		defer r.claimInbound(string(peer.Device()), c)()
		conn = &recvConn{Conn: conn, claim: c}
	}
	select {
	case slots <- struct{}{}:
	case <-sctx.Done():
		conn.Close()
		return
	}
	defer func() { <-slots }()
	r.session(sctx, conn, "", peer, 0)
}

// authenticate runs the TLS handshake with a roster key on an accepted
// connection, within HandshakeTimeout. On error conn is closed; the
// returned conn is the original then (for its address).
func (r *Replicator) authenticate(ctx context.Context, raw net.Conn) (net.Conn, *synctls.Peer, error) {
	raw.SetDeadline(time.Now().Add(r.cfg.HandshakeTimeout))
	conn := raw
	var peer *synctls.Peer
	if r.cfg.Auth != nil {
		hctx, cancel := context.WithTimeout(ctx, r.cfg.HandshakeTimeout)
		c, p, err := r.cfg.Auth.Server(hctx, conn)
		cancel()
		if err != nil {
			return raw, nil, err
		}
		conn, peer = c, &p
	}
	raw.SetDeadline(time.Time{})
	return conn, peer, nil
}

// claimInbound registers an authenticated device's inbound session. A
// device runs one session with a listener at a time, so when a new one
// arrives, an older one that has received nothing for staleInbound is
// stuck on a link that was cut: it is cancelled. Older ones still
// receiving stay (two clones of a laptop's disk both syncing), up to
// maxInboundPerDevice with the new one; past that the oldest goes, so one
// device (a stolen laptop's key) never holds more session slots than that.
// It returns the release.
func (r *Replicator) claimInbound(device string, c *inboundClaim) (release func()) {
	now := time.Now()
	r.mu.Lock()
	var keep, drop []*inboundClaim
	for _, old := range r.inboundBy[device] { // oldest first
		if now.Sub(old.lastRecv()) >= staleInbound {
			drop = append(drop, old)
		} else {
			keep = append(keep, old)
		}
	}
	if n := len(keep) + 1 - maxInboundPerDevice; n > 0 {
		drop, keep = append(drop, keep[:n]...), keep[n:]
	}
	r.inboundBy[device] = append(keep, c)
	r.mu.Unlock()
	for _, old := range drop {
		r.log.Info("a new session from the same device replaces an older one", "cause", "replaced-session", "device", device,
			"silent_for", now.Sub(old.lastRecv()).Round(time.Second))
		old.cancel()
	}
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		cs := r.inboundBy[device]
		for i, x := range cs {
			if x == c {
				cs = append(cs[:i:i], cs[i+1:]...)
				break
			}
		}
		if len(cs) == 0 {
			delete(r.inboundBy, device)
		} else {
			r.inboundBy[device] = cs
		}
	}
}

// Inbound sessions per device (claimInbound).
const (
	staleInbound        = 5 * time.Second
	maxInboundPerDevice = 2
)

// inboundClaim is one inbound session of a device: its cancel, and the
// last time its connection received bytes (recvConn).
type inboundClaim struct {
	cancel context.CancelFunc
	recv   atomic.Int64 // unix nanoseconds
}

func (c *inboundClaim) lastRecv() time.Time { return time.Unix(0, c.recv.Load()) }

// recvConn stamps claim each time bytes arrive: liveness is what is
// received, not what is sent.
type recvConn struct {
	net.Conn
	claim *inboundClaim
}

func (c *recvConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.claim.recv.Store(time.Now().UnixNano())
	}
	return n, err
}

// session runs one sync session and records what it learned. peer is the
// authenticated peer of a TLS session (nil in open mode).
//
// batchBytes, when above zero, bounds this session's batches below
// Proto.MaxBatchBytes (batchBytesFor).
func (r *Replicator) session(ctx context.Context, conn net.Conn, addr string, peer *synctls.Peer, batchBytes int) (syncnet.Result, error) {
	wake := make(chan struct{}, 1)
	r.mu.Lock()
	r.sessions[wake] = true
	r.mu.Unlock()
	var name string
	var tally sessionTally // guarded by r.mu
	opts := r.cfg.Session
	opts.Proto, opts.Log, opts.Codec, opts.Clock, opts.Wake = r.cfg.Proto, r.cfg.Dir.Log, r.cfg.Codec, r.cfg.Clock, wake
	opts.IdleFor = r.idleFor
	if batchBytes > 0 {
		opts.Proto.MaxBatchBytes = batchBytes
	}
	r.blobOptions(&opts, r.rateAt(addr))
	if peer != nil {
		opts.CheckPeer = peer.CheckHello
		if sv, ok := r.cfg.Verifier.(unitsVerifier); ok { // the downward channels it may be offered
			opts.Proto.PeerUnits = sv.PeerUnits(peer.Key)
		}
	}
	if opts.StreamLevel == 0 && r.cfg.Dir.Config.Role == replication.RoleHub {
		// A hub holds many sessions at once and mostly sends acks on
		// them: the cheaper level saves ~30 MB per session.
		opts.StreamLevel = zstd.SpeedDefault
	}
	opts.OnIngest = func(peer *wire.Hello, res oplog.IngestResult) {
		if r.cfg.OnIngest != nil {
			r.cfg.OnIngest(peer.Node, res)
		}
		if len(res.Applied) > 0 {
			r.Wake() // entries that arrived here may go on to other peers
		}
	}
	opts.OnEvent = func(peer *wire.Hello, ev syncproto.Event) {
		r.cfg.Logger.Warn("sync event", "peer", peerName(peer), "event", ev.String())
		if r.cfg.OnEvent != nil {
			r.cfg.OnEvent(peerName(peer), ev)
		}
	}
	opts.OnProgress = func(pr syncnet.Progress) {
		if pr.Peer == nil {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if name == "" {
			name = pr.Peer.Node
			r.active[name]++
		}
		p := r.peers.get(name)
		p.Connected = true
		if addr != "" {
			p.Addr = addr
		}
		p.observe(pr, &tally, r.cfg.Clock.Now())
		r.noteOwnAck(p)
	}
	res, err := syncnet.Run(ctx, conn, opts)
	if r.cfg.OnSessionEnd != nil {
		r.cfg.OnSessionEnd(name, err)
	}
	r.mu.Lock()
	delete(r.sessions, wake)
	var p *PeerStatus
	if name != "" {
		r.active[name]--
		p = r.peers.get(name)
		p.finish(res, &tally, err)
		// Saved from a copy: another session with the same peer may
		// update p while this one writes it. TheirHeads is replaced,
		// never changed in place, so the copy may share it.
		snap := *p
		p = &snap
	}
	r.mu.Unlock()
	if p != nil {
		if serr := savePeer(r.cfg.Dir.Log, p); serr != nil {
			r.cfg.Logger.Warn("could not persist peer state", "peer", name, "err", serr)
		}
	}
	return res, err
}

// noteOwnAck raises what the peer is known to hold of this replica's own
// origin, when the peer's head names an entry held here with the same hash
// (after a restore, a peer's head may name another branch: that is no
// acknowledgement). Kept apart from TheirHeads, which follows the peer's
// latest word, so a rollover still knows what reached a hub before.
func (r *Replicator) noteOwnAck(p *PeerStatus) {
	own := r.cfg.Dir.Signer.Origin()
	h, ok := p.TheirHeads[own]
	if !ok || h.Seq <= p.OwnAcked.Seq {
		return
	}
	if e, err := r.cfg.Dir.Log.Get(replication.EntryID{Origin: own, Seq: h.Seq}); err == nil && e.Hash() == h.Hash {
		p.OwnAcked = h
	}
}

// idleFor keeps sessions between two hubs open; others close when quiet.
func (r *Replicator) idleFor(peer *wire.Hello) time.Duration {
	if r.cfg.Dir.Config.Role == replication.RoleHub && peer.Role == string(replication.RoleHub) {
		return r.cfg.HubIdleTimeout
	}
	if r.cfg.Session.IdleTimeout > 0 {
		return r.cfg.Session.IdleTimeout
	}
	return syncnet.DefaultIdleTimeout
}

func peerName(h *wire.Hello) string {
	if h == nil {
		return "?"
	}
	return h.Node
}

// addTarget registers an address to dial; it returns the target if new.
func (r *Replicator) addTarget(addr, name string) (*target, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.targets[addr]; ok {
		if name != "" {
			t.name = name
		}
		return t, false
	}
	if len(r.targets) >= maxTargets {
		return nil, false
	}
	t := &target{addr: addr, name: name, wake: make(chan struct{}, 1), seen: make(chan struct{}, 1)}
	r.targets[addr] = t
	return t, true
}

// dialLoop contacts one target whenever there is something to exchange,
// at least every RedialEvery, backing off after failures.
func (r *Replicator) dialLoop(ctx context.Context, t *target) {
	first := true
	for {
		delay := r.nextContact(t, first)
		first = false
		timer, stop := r.cfg.Clock.NewTimer(delay)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-timer:
		case <-t.seen:
			stop()
			// The peer is back after failed contacts: at once. Otherwise
			// news from gossip is a wake like any other.
			if t.failures == 0 && !r.sleep(ctx, r.cfg.WakeDelay) {
				return
			}
		case <-t.wake:
			stop()
			if !r.sleep(ctx, r.cfg.WakeDelay) { // batch a burst of captures
				return
			}
		}
		if r.busyWith(t) {
			continue
		}
		t.contactStarted = r.cfg.Clock.Now()
		if err := r.contact(ctx, t); err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, errSeenAgain) {
				first = true // dial again now
				continue
			}
			t.failures++
			r.logFailure(t, err)
			continue
		}
		if t.failures >= 2 {
			r.log.Info("sync contact works again", "cause", "sync-resumed", "addr", t.addr, "after_failures", t.failures)
		}
		t.failures = 0
	}
}

// logFailure tells the operator that contacts with t fail: at WARN on the
// 1st, 2nd, 4th, 8th… failure in a row (a laptop offline for days writes
// a few lines, not one per backoff), each with the error.
func (r *Replicator) logFailure(t *target, err error) {
	if t.failures&(t.failures-1) == 0 {
		r.log.Warn("sync contact failed", "cause", "sync-contact", "addr", t.addr, "failures_in_a_row", t.failures, "err", err)
	} else {
		r.log.Debug("sync contact failed", "addr", t.addr, "failures_in_a_row", t.failures, "err", err)
	}
}

// nextContact says how long to wait before contacting t: with something to
// exchange (always, for a hub's upward link), now, or after failures a
// jittered exponential backoff; with nothing to exchange, RedialEvery after
// the last complete session (or after the last failure).
func (r *Replicator) nextContact(t *target, first bool) time.Duration {
	// A hub's upward link is persistent: it is always wanted, so a hub
	// redials its parent with backoff until the session is up again.
	wanted := first || r.cfg.Dir.Config.Role == replication.RoleHub || r.wanted(t)
	if t.failures > 0 && !wanted {
		return r.cfg.RedialEvery
	}
	if t.failures > 0 {
		d := r.cfg.MinBackoff << min(t.failures-1, 20)
		d = min(d, r.cfg.MaxBackoff)
		if t.quickRedials > 0 {
			t.quickRedials--
			// A contact that took its time (a dead link's staggered connect
			// attempts, a session that broke) is followed at once: its SYNs
			// were already a second apart, and a pause here is a gap in
			// which the link's return goes unnoticed. One that failed fast
			// (refused) waits MinBackoff.
			if r.cfg.Clock.Now().Sub(t.contactStarted) >= r.cfg.MinBackoff {
				return 0
			}
			d = r.cfg.MinBackoff
		}
		r.mu.Lock()
		j := time.Duration(r.rng.Int64N(int64(d)/2 + 1))
		r.mu.Unlock()
		return d/2 + j
	}
	if wanted {
		return 0
	}
	r.mu.Lock()
	last := time.Time{}
	if p, ok := r.peers.byName[t.name]; ok { // under r.mu: t.name is shared
		last = p.LastComplete
	}
	r.mu.Unlock()
	if wait := last.Add(r.cfg.RedialEvery).Sub(r.cfg.Clock.Now()); wait > 0 {
		return wait
	}
	return 0
}

// wanted reports whether t is known to lack entries this replica would
// send it, or to hold entries it would send this replica.
func (r *Replicator) wanted(t *target) bool {
	peers, err := r.Peers()
	if err != nil {
		return true
	}
	name := r.targetName(t)
	for _, p := range peers {
		if p.Name == name {
			return t.blobsLeft || p.BacklogEntries > t.settled || r.peerHasMore(p)
		}
	}
	return true // never contacted under this name
}

// peerHasMore reports whether gossip says the peer holds entries of an
// origin beyond what this replica holds, that the peer would send it.
func (r *Replicator) peerHasMore(p PeerStatus) bool {
	ours, err := r.cfg.Dir.Log.Vector()
	if err != nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pool := range r.cfg.Pools {
		for _, m := range pool.Members() {
			if m.Name != p.Name {
				continue
			}
			if backlog(m.Role, r.cfg.Dir.Config.Role, unitsOf(r.cfg.Dir.Config.Unit), m.Heads, ours, r.originOfLocked) > 0 {
				return true
			}
		}
	}
	return false
}

func (r *Replicator) busyWith(t *target) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return t.name != "" && r.active[t.name] > 0
}

// contact dials t and runs one session.
func (r *Replicator) contact(ctx context.Context, t *target) error {
	conn, peer, err := r.connect(ctx, t)
	if err != nil {
		r.noteFailure(t, err)
		return err
	}
	before := r.entriesHeld()
	res, err := r.session(ctx, conn, t.addr, peer, r.batchBytesFor(r.targetName(t)))
	if res.Proto.EntriesApplied > 0 || res.Proto.BatchesSent > 0 || blobWork(res.Proto) {
		t.quickRedials = quickRedials
	}
	switch {
	case err == nil && res.Complete:
		t.blobsLeft = false
	case blobWork(res.Proto):
		t.blobsLeft = true
	}
	if res.Peer != nil {
		r.mu.Lock()
		t.name = res.Peer.Node
		r.mu.Unlock()
	}
	if err == nil && !res.Complete {
		err = fmt.Errorf("replicator: session with %s ended incomplete", t.addr)
	}
	if err == nil {
		// What the session left behind is settled (the peer will not
		// take it), except entries written while it ran: the session may
		// have gone idle before they were there, and a wake sent meanwhile
		// was taken by this contact. Settling them stopped a laptop's
		// captures made as a session ended until RedialEvery (an hour).
		after, backlog := r.entriesHeld(), r.backlogOf(r.targetName(t))
		appended := after - min(before, after)
		t.settled = backlog - min(appended, backlog)
	}
	return err
}

// entriesHeld counts the entries this replica holds (0 on a read error:
// then nothing counts as written during a session).
func (r *Replicator) entriesHeld() uint64 {
	v, err := r.cfg.Dir.Log.Vector()
	if err != nil {
		return 0
	}
	return v.Total()
}

// errSeenAgain ends a connection attempt that gossip overtook: the peer
// was seen again while the attempt waited on a dead link's timers.
var errSeenAgain = errors.New("replicator: gossip saw the peer again; dialing anew")

// connect opens an authenticated connection to t: TCP within
// connectTimeout (a SYN lost to a dead link is retried by the kernel at
// 1, 3, 7… s; a short attempt, repeated, catches the link's return within
// about a second instead of at the next of those ever longer waits), the
// TLS handshake within HandshakeTimeout. When gossip sees the peer again
// during an attempt older than a second, the attempt is dropped
// (errSeenAgain) and the caller dials anew at once.
func (r *Replicator) connect(ctx context.Context, t *target) (net.Conn, *synctls.Peer, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var overtaken atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	started := time.Now()
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-t.seen:
				if time.Since(started) >= time.Second {
					overtaken.Store(true)
					cancel()
					return
				}
			}
		}
	}()
	conn, err := r.dialStaggered(actx, t.addr)
	var peer *synctls.Peer
	if err == nil && r.cfg.Auth != nil {
		hctx, hcancel := context.WithTimeout(actx, r.cfg.HandshakeTimeout)
		var p synctls.Peer
		conn, p, err = r.cfg.Auth.Client(hctx, conn)
		hcancel()
		peer = &p
	}
	if err != nil && overtaken.Load() {
		return nil, nil, fmt.Errorf("%w (%v)", errSeenAgain, err)
	}
	return conn, peer, err
}

// Batches sized to the link (batchBytesFor): a cut loses the batches in
// flight, so on a thin link a batch should take about batchSeconds to
// send. Batch bounds count uncompressed bytes; enrollment batches shrink
// at least batchRatio times in the session's zstd stream. Never below
// minBatchBytes, the least syncproto accepts.
const (
	batchSeconds  = 2
	batchRatio    = 4
	minBatchBytes = wire.MinBodyLimit / 2
)

// batchBytesFor returns the batch bound for a session with the named peer
// (0 for the configured default): smaller than the default only when the
// rate observed on its link says a default batch would take long.
func (r *Replicator) batchBytesFor(name string) int {
	if name == "" {
		return 0
	}
	r.mu.Lock()
	rate := 0.0
	if p, ok := r.peers.byName[name]; ok {
		rate = p.RateBytesPerSec
	}
	r.mu.Unlock()
	if rate <= 0 {
		return 0
	}
	limit := r.cfg.Proto.MaxBatchBytes
	if limit == 0 {
		limit = syncproto.DefaultMaxBatchBytes
	}
	n := int(rate * batchSeconds * batchRatio)
	if n >= limit {
		return 0
	}
	return max(n, minBatchBytes)
}

// targetName reads t.name, which a pool's watcher may write meanwhile.
func (r *Replicator) targetName(t *target) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return t.name
}

// backlogOf returns the current backlog for the named peer.
func (r *Replicator) backlogOf(name string) uint64 {
	peers, err := r.Peers()
	if err != nil {
		return 0
	}
	for _, p := range peers {
		if p.Name == name {
			return p.BacklogEntries
		}
	}
	return 0
}

// Staggered connection attempts (dialStaggered): a new one every
// staggerEvery while none has connected, for staggerWindow, each bounded
// by connectTimeout and by the window's end; at most staggerAttempts
// (attempts refused at once start the next at once). Each sends a fresh
// SYN, where a single attempt would wait on the kernel's retransmissions
// (1 s, then 3 s): a link that comes back is caught within about a
// second, and the next contact follows a slow failure at once
// (nextContact), so there is no gap of seconds between the last SYN of
// one contact and the first of the next.
const (
	staggerEvery    = time.Second
	staggerWindow   = connectTimeout + 2*staggerEvery
	staggerAttempts = 6
)

// dialStaggered opens a TCP connection to addr with staggered attempts,
// each bounded by connectTimeout; the first to connect wins, the others
// are closed.
func (r *Replicator) dialStaggered(ctx context.Context, addr string) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		conn net.Conn
		err  error
	}
	results := make(chan result, staggerAttempts)
	started, failed := 0, 0
	var firstErr error
	end := time.Now().Add(staggerWindow)
	// canStart: another attempt fits (a second of the window left at least).
	canStart := func() bool { return started < staggerAttempts && time.Until(end) >= staggerEvery }
	start := func() {
		started++
		timeout := min(connectTimeout, time.Until(end))
		go func() {
			actx, acancel := context.WithTimeout(ctx, timeout)
			defer acancel()
			c, err := r.dial(actx, addr)
			results <- result{c, err}
		}()
	}
	start()
	tick := time.NewTicker(staggerEvery)
	defer tick.Stop()
	for {
		select {
		case res := <-results:
			if res.err == nil {
				cancel()
				go func(n int) { // close the losers as they come back
					for range n {
						if late := <-results; late.conn != nil {
							late.conn.Close()
						}
					}
				}(started - failed - 1)
				return res.conn, nil
			}
			failed++
			if firstErr == nil {
				firstErr = res.err
			}
			if failed == started && !canStart() {
				return nil, firstErr
			}
			if failed == started { // all failed fast (refused): no need to wait for the tick
				start()
			}
		case <-tick.C:
			if canStart() {
				start()
			}
		case <-ctx.Done():
			go func(n int) {
				for range n {
					if late := <-results; late.conn != nil {
						late.conn.Close()
					}
				}
			}(started - failed)
			return nil, ctx.Err()
		}
	}
}

func (r *Replicator) dial(ctx context.Context, addr string) (net.Conn, error) {
	if r.cfg.Dial != nil {
		return r.cfg.Dial(ctx, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// noteFailure records a failed dial against the peer, when known.
func (r *Replicator) noteFailure(t *target, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t.name != "" {
		p := r.peers.get(t.name)
		p.LastError, p.Unreachable = err.Error(), true
	}
}

func (r *Replicator) sleep(ctx context.Context, d time.Duration) bool {
	timer, stop := r.cfg.Clock.NewTimer(d)
	defer stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer:
		return true
	}
}

// watchPool adds targets as members appear and re-announces heads.
func (r *Replicator) watchPool(ctx context.Context, p Pool, wg *sync.WaitGroup) {
	// What gossip last said of each member (alive, and the digest of its
	// heads): a change is news from the peer.
	last := map[string]memberNews{}
	for {
		seen := map[string]memberNews{}
		for _, m := range p.Members() {
			news := memberNews{alive: m.Alive, heads: m.Heads.Digest()}
			seen[m.Name] = news
			if !shouldDial(r.cfg.Dir.Config, m, r.cfg.Tiers) {
				continue
			}
			if t, isNew := r.addTarget(m.SyncAddr, m.Name); isNew {
				wg.Add(1)
				go func() { defer wg.Done(); r.dialLoop(ctx, t) }()
			} else if t != nil {
				if prev, ok := last[m.Name]; m.Alive && ok && prev != news {
					select { // heard from again: a contact stuck on a dead link starts over
					case t.seen <- struct{}{}:
					default:
					}
				}
				select { // gossip changed: maybe there is something to exchange
				case t.wake <- struct{}{}:
				default:
				}
			}
		}
		last = seen
		select {
		case <-ctx.Done():
			return
		case <-p.Changed():
		}
	}
}

// memberNews is what gossip says of a member, to notice news from it.
type memberNews struct {
	alive bool
	heads replication.Hash
}

// announceLoop is the announcer: it publishes the heads at start and
// after every Wake, until ctx ends.
func (r *Replicator) announceLoop(ctx context.Context) {
	for {
		r.announce()
		select {
		case <-ctx.Done():
			return
		case <-r.announceCh:
		}
	}
}

// announce publishes this replica's heads to its pools when they changed.
// Only the announcer calls it.
func (r *Replicator) announce() {
	if len(r.cfg.Pools) == 0 {
		return
	}
	v, err := r.cfg.Dir.Log.Vector()
	if err != nil {
		return
	}
	d := v.Digest()
	r.mu.Lock()
	if d == r.lastSent {
		r.mu.Unlock()
		return
	}
	r.lastSent = d
	r.mu.Unlock()
	for _, p := range r.cfg.Pools {
		p.Announce(v)
	}
}
