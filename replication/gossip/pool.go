package gossip

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"fieldsync/replication"
)

// Member states, as Member.State reports them.
const (
	// StateAlive: memberlist considers the member alive (or suspect: see
	// StateSuspect).
	StateAlive = "alive"
	// StateSuspect is never reported with memberlist v0.7.0: it gives no
	// way to observe suspicion from outside (the Node it hands to delegates
	// and returns from Members carries a State field that memberlist never
	// updates; the real state is a shadowing field of its private
	// nodeState). A suspect member is reported alive until declared dead.
	StateSuspect = "suspect"
	// StateDead: memberlist declared the member dead (failed probes).
	StateDead = "dead"
	// StateLeft: the member announced that it was leaving (Pool.Leave).
	StateLeft = "left"
)

// Member is one member of a pool as this process sees it.
type Member struct {
	// Name is the member's unique name in the pool.
	Name string
	// Addr is the member's gossip address, "host:port". To sync with it,
	// dial Meta.SyncAddr, not this.
	Addr string
	// Meta is what the member advertises (zero if its metadata did not
	// decode; see Stats.DecodeErrors).
	Meta Meta
	// State is StateAlive, StateDead or StateLeft. For a
	// laptop behind carrier NAT, suspect and dead are routine and say
	// nothing about its data (doc.go, "NAT").
	State string
	// LastSeen is when this process last knew the member alive: now for an
	// alive member; for a dead or left one, when the event that said so
	// arrived (it was alive until then).
	LastSeen time.Time
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventJoin: a member became alive (joined, or came back).
	EventJoin EventKind = iota
	// EventLeave: a member was declared dead or left.
	EventLeave
	// EventUpdate: a member's metadata or address changed.
	EventUpdate
	// EventHeads: gossip raised what a member holds (see HeadsOf).
	EventHeads
)

// String returns "join", "leave", "update" or "heads".
func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventLeave:
		return "leave"
	case EventUpdate:
		return "update"
	case EventHeads:
		return "heads"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a change in the pool: a hint to look at Members or HeadsOf,
// never data to act on by itself (gossip has no replay protection).
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// Member is whom it happened to (for EventHeads: the holder).
	Member string
}

// Stats are a member's gossip counters since Start. Bytes are estimated
// wire bytes (payload plus IPv4/UDP/TCP headers and TCP control packets,
// the model in transport.go).
type Stats struct {
	// BytesSent and BytesReceived are estimated wire bytes, datagrams and
	// streams together.
	BytesSent, BytesReceived int64
	// PacketsSent and PacketsReceived count datagrams (received: handed
	// to memberlist).
	PacketsSent, PacketsReceived int64
	// PacketsDropped were dropped by the emulated link (Config.Link).
	PacketsDropped int64
	// StreamsOpened and StreamsAccepted count TCP streams (joins,
	// push/pull, fallback pings).
	StreamsOpened, StreamsAccepted int64
	// Rejected counts datagrams and streams dropped because they came
	// from outside Config.CIDRsAllowed.
	Rejected int64
	// Members is the number of alive members, this one included.
	Members int
	// QueueDepth is the number of heads broadcasts waiting to be gossiped.
	QueueDepth int
	// EventsDropped counts events dropped because the Events channel was
	// full (see TakeResync).
	EventsDropped uint64
	// HeadsDropped counts heads not remembered because the table was full.
	HeadsDropped uint64
	// HeadConflicts counts heads announced with a seq already known under a
	// different hash prefix: a hint of a fork, for the sync protocol to
	// check.
	HeadConflicts uint64
	// DecodeErrors counts metadata, messages and states that did not decode.
	DecodeErrors uint64
	// Joins and JoinFailures count the reconnect loop's join attempts.
	Joins, JoinFailures uint64
}

// Limits of a Pool.
const (
	// eventBuffer is the capacity of the Events channel.
	eventBuffer = 256
	// maxQueuedBroadcasts bounds the heads broadcast queue; the oldest,
	// most-transmitted ones are pruned beyond it.
	maxQueuedBroadcasts = 1024
	// maxMembers bounds the members this process remembers (alive and
	// departed).
	maxMembers = 4096
	// departedRetention is how long a dead or left member stays listed by
	// Members (and its heads by HeadsOf).
	departedRetention = 24 * time.Hour
	// minHeadsRetransmitMult is the least RetransmitMult of the heads
	// queue: each head is sent minHeadsRetransmitMult×⌈log10(N+1)⌉ times by
	// each member that relays it (memberlist's LAN and WAN value; its Local
	// preset's 2 leaves a head unheard by some member too often).
	minHeadsRetransmitMult = 4
	// leaveNoticeTTL is how long a leave notice makes the member's next
	// departure count as a leave rather than a death.
	leaveNoticeTTL = 10 * time.Minute
	// updateNodeWait is how long UpdateMeta waits for memberlist to send
	// the new metadata; it spreads by gossip after that anyway.
	updateNodeWait = 10 * time.Millisecond
)

// Pool is this process's membership in one pool. Its methods are safe for
// concurrent use.
type Pool struct {
	cfg   Config
	log   *slog.Logger
	ml    *memberlist.Memberlist
	tr    *transport
	queue *memberlist.TransmitLimitedQueue

	events   chan Event
	evMu     sync.RWMutex // guards sends against the close in Shutdown
	evClosed bool

	reclaim time.Duration // see reclaimWait

	numNodes atomic.Int32 // alive members incl. self, for the queue
	resync   atomic.Bool
	left     atomic.Bool
	closed   atomic.Bool

	eventsDropped, headsDropped, headConflicts, decodeErrors atomic.Uint64
	joins, joinFailures                                      atomic.Uint64

	stop      chan struct{}
	kick      chan struct{} // wakes the reconnect loop
	wg        sync.WaitGroup
	closeOnce sync.Once
	life      sync.Mutex // orders Leave and Shutdown (memberlist panics on leave after shutdown)

	mu struct {
		sync.Mutex
		closed       bool
		meta         []byte // encoded, what NodeMeta returns
		pushedMeta   []byte // what the last UpdateNode carried
		lastMetaPush time.Time
		metaTimer    bool
		own          replication.Vector // this member's heads, full hashes
		pending      replication.Vector // own heads not yet queued
		lastFlush    time.Time
		flushTimer   bool
		members      map[string]*memberState
		leaving      map[string]time.Time // leave notices received
		heads        *headsTable
		peers        map[string]*peerState
		dirty        map[string]KnownPeer
		refreshAt    time.Time // a peer holds a stale address for us: rejoin then
		nextRefresh  time.Time // of the seeds (RefreshInterval)
	}
}

// memberState is what the event delegate recorded about a member.
type memberState struct {
	addr     string
	meta     Meta
	state    string
	lastSeen time.Time
	changed  time.Time // of state
}

// Start creates this member, listening on cfg.BindAddr:cfg.BindPort, and
// starts the reconnect loop, which joins the seeds and the known peers
// from its own goroutine (a join blocks up to TCPTimeout per address).
// Start returns before any join completes; watch Events or Members.
func Start(cfg Config) (*Pool, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	meta, err := encodeMeta(cfg.Meta)
	if err != nil {
		return nil, err
	}
	var known []KnownPeer
	if cfg.Peers != nil {
		if known, err = cfg.Peers.LoadPeers(); err != nil {
			return nil, fmt.Errorf("gossip: load peers: %w", err)
		}
	}
	p := newPool(cfg, meta)
	p.initPeers(known)

	stdlog := newStdLogger(p.log)
	cidrs, _ := memberlist.ParseCIDRs(cfg.CIDRsAllowed) // checked by withDefaults
	tr, err := newTransport(cfg.BindAddr, cfg.BindPort, cfg.Link, cidrs, stdlog)
	if err != nil {
		return nil, err
	}
	mc := memberlistConfig(cfg.Profile)
	mc.Name = cfg.Name
	mc.Label = cfg.Pool
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = tr.boundPort()
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	mc.AdvertisePort = cfg.AdvertisePort
	mc.SecretKey = cfg.SecretKey
	if len(cidrs) > 0 {
		mc.CIDRsAllowed = cidrs
	}
	mc.Transport = tr
	mc.Delegate = &delegate{p}
	mc.Events = &eventDelegate{p}
	mc.Conflict = &conflictDelegate{p}
	mc.Logger = stdlog
	if cfg.Profile != ProfileLAN { // Local mirrors the field's policy
		mc.DisableTcpPings = false
		mc.DisableTcpPingsForNode = p.noTCPPing
	}
	if cfg.tune != nil {
		cfg.tune(mc)
	}
	p.reclaim = reclaimWait(mc)
	p.queue.RetransmitMult = max(mc.RetransmitMult, minHeadsRetransmitMult)
	p.tr = tr
	ml, err := memberlist.Create(mc)
	if err != nil {
		_ = tr.Shutdown()
		return nil, fmt.Errorf("gossip: create member %s: %w", cfg.Name, err)
	}
	p.ml = ml
	p.wg.Add(1)
	go p.runReconnect()
	return p, nil
}

// newPool returns a Pool with its own state set up and no memberlist yet.
func newPool(cfg Config, meta []byte) *Pool {
	cfg.Clock = replication.OrReal(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pool{
		cfg:    cfg,
		log:    cfg.Logger.With("pool", cfg.Pool, "member", cfg.Name),
		events: make(chan Event, eventBuffer),
		stop:   make(chan struct{}),
		kick:   make(chan struct{}, 1),
	}
	p.mu.meta = meta
	p.mu.pushedMeta = meta
	p.mu.own = make(replication.Vector)
	p.mu.pending = make(replication.Vector)
	p.mu.members = make(map[string]*memberState)
	p.mu.leaving = make(map[string]time.Time)
	p.mu.heads = newHeadsTable(maxTrackedHeads)
	p.mu.dirty = make(map[string]KnownPeer)
	p.mu.peers = make(map[string]*peerState)
	p.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return int(max(1, p.numNodes.Load())) },
		RetransmitMult: minHeadsRetransmitMult,
	}
	return p
}

// Members returns every member this process knows, itself included,
// sorted by name: the alive ones, and the dead and left ones for a day.
// It reads the Pool's own table, kept from memberlist's events (reading
// memberlist's nodes outside its lock would race with its updates).
func (p *Pool) Members() []Member {
	if p.closed.Load() {
		return nil
	}
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	out := make([]Member, 0, len(p.mu.members))
	for name, ms := range p.mu.members {
		seen := ms.lastSeen
		if ms.state == StateAlive {
			seen = now // a read reports; it never writes the table
		}
		out = append(out, Member{Name: name, Addr: ms.addr, Meta: ms.meta, State: ms.state, LastSeen: seen})
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Events returns the pool's events. The channel is buffered; when it is
// full, events are dropped (memberlist's goroutines never wait for the
// reader) and TakeResync reports it. It is closed by Shutdown.
func (p *Pool) Events() <-chan Event { return p.events }

// TakeResync reports whether events were dropped since the last call,
// and clears the flag: if so, re-read Members and HeadsOf instead of
// relying on the events.
func (p *Pool) TakeResync() bool { return p.resync.Swap(false) }

// emit hands an event to the reader without ever blocking.
func (p *Pool) emit(kind EventKind, member string) {
	p.evMu.RLock()
	defer p.evMu.RUnlock()
	if p.evClosed {
		return
	}
	select {
	case p.events <- Event{Kind: kind, Member: member}:
	default:
		p.eventsDropped.Add(1)
		p.resync.Store(true)
	}
}

// UpdateMeta changes what this member advertises (for example when its
// vector digest changes) and gossips it: at once, or, if the last push was
// less than Config.AnnounceInterval ago, once that interval has passed
// (changes in between are coalesced). It returns an error only if m is
// invalid or the pool is shut down; it never waits for the gossip.
func (p *Pool) UpdateMeta(m Meta) error {
	b, err := encodeMeta(m)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.mu.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.mu.meta = b
	wait := p.mu.lastMetaPush.Add(p.cfg.AnnounceInterval).Sub(p.cfg.Clock.Now())
	if wait > 0 {
		if !p.mu.metaTimer {
			p.mu.metaTimer = true
			p.afterLocked(wait, p.pushMeta)
		}
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	p.pushMeta()
	return nil
}

// pushMeta sends the current metadata with memberlist's UpdateNode, unless
// it is what was last sent.
func (p *Pool) pushMeta() {
	p.mu.Lock()
	p.mu.metaTimer = false
	if p.mu.closed || string(p.mu.meta) == string(p.mu.pushedMeta) {
		p.mu.Unlock()
		return
	}
	p.mu.pushedMeta = p.mu.meta
	p.mu.lastMetaPush = p.cfg.Clock.Now()
	p.mu.Unlock()
	// The only error is a timeout waiting for the first transmission; the
	// update is queued and spreads by gossip regardless.
	_ = p.ml.UpdateNode(updateNodeWait)
}

// AnnounceHeads gossips "this member holds origin O up to seq S" for each
// head that is higher than what it announced before (seq 0 and lower seqs
// are ignored). Each head is queued as a NamedBroadcast keyed by (member,
// origin), so a newer head replaces an older one still in the queue;
// announcements within Config.AnnounceInterval of the last flush are
// coalesced. Heads travel as ≤ 1 KB messages, many per message, and every
// member that learns a new head relays it once, so it reaches the whole
// pool. Only the first DigestSize bytes of each hash travel.
func (p *Pool) AnnounceHeads(heads []replication.OriginHead) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		return
	}
	for _, h := range heads {
		if h.Seq == 0 || p.mu.own[h.Origin].Seq >= h.Seq {
			continue
		}
		p.mu.own[h.Origin] = h.Head
		p.mu.pending[h.Origin] = h.Head
	}
	if len(p.mu.pending) == 0 || p.mu.flushTimer {
		return
	}
	wait := p.mu.lastFlush.Add(p.cfg.AnnounceInterval).Sub(p.cfg.Clock.Now())
	if wait > 0 {
		p.mu.flushTimer = true
		p.afterLocked(wait, p.flushHeads)
		return
	}
	p.flushHeadsLocked()
}

func (p *Pool) flushHeads() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.flushTimer = false
	if !p.mu.closed {
		p.flushHeadsLocked()
	}
}

// flushHeadsLocked queues the pending own heads, one broadcast each.
func (p *Pool) flushHeadsLocked() {
	p.mu.lastFlush = p.cfg.Clock.Now()
	for _, h := range p.mu.pending.Heads() {
		p.queueHead(p.cfg.Name, h)
	}
	clear(p.mu.pending)
	p.boundQueue()
}

// queueHead queues one head of holder for gossip, replacing any queued
// head of the same holder and origin.
func (p *Pool) queueHead(holder string, h replication.OriginHead) {
	msgs, err := packHeads(holder, []replication.OriginHead{prefixHead(h)})
	if err != nil || len(msgs) != 1 {
		p.log.Debug("gossip: cannot encode head", "holder", holder, "err", err)
		return
	}
	p.queue.QueueBroadcast(&headBroadcast{name: holder + "/" + h.Origin.String(), msg: msgs[0]})
}

// boundQueue prunes the broadcast queue to maxQueuedBroadcasts. (Prune
// itself must not be called on a queue that never held anything: it
// dereferences the lazily built tree.)
func (p *Pool) boundQueue() {
	if p.queue.NumQueued() > maxQueuedBroadcasts {
		p.queue.Prune(maxQueuedBroadcasts)
	}
}

// HeadsOf returns what gossip says member holds: per origin the highest
// seq announced (by the member or relayed for it) or received in its
// push/pull state, and the first DigestSize bytes of that head's hash (the
// rest of each Hash is zero). It is a hint for choosing whom to sync with:
// it may lag, and a member that lost data is not lowered. For this member
// it returns what it announced. Nil if nothing is known.
func (p *Pool) HeadsOf(member string) replication.Vector {
	p.mu.Lock()
	defer p.mu.Unlock()
	if member == p.cfg.Name {
		if len(p.mu.own) == 0 {
			return nil
		}
		out := make(replication.Vector, len(p.mu.own))
		for _, h := range p.mu.own.Heads() {
			out[h.Origin] = prefixHead(h).Head
		}
		return out
	}
	return p.mu.heads.vector(member)
}

// LocalAddr returns this member's advertised gossip address, "host:port":
// what other members put in their Seeds.
func (p *Pool) LocalAddr() string { return p.ml.LocalNode().Address() }

// Name returns this member's name.
func (p *Pool) Name() string { return p.cfg.Name }

// Stats returns this member's counters.
func (p *Pool) Stats() Stats {
	w := p.tr.stats()
	s := Stats{
		BytesSent:       w.bytesSent,
		BytesReceived:   w.bytesReceived,
		PacketsSent:     w.packetsSent,
		PacketsReceived: w.packetsReceived,
		PacketsDropped:  w.packetsDropped,
		StreamsOpened:   w.streamsOpened,
		StreamsAccepted: w.streamsAccept,
		Rejected:        w.rejected,
		QueueDepth:      p.queue.NumQueued(),
		EventsDropped:   p.eventsDropped.Load(),
		HeadsDropped:    p.headsDropped.Load(),
		HeadConflicts:   p.headConflicts.Load(),
		DecodeErrors:    p.decodeErrors.Load(),
		Joins:           p.joins.Load(),
		JoinFailures:    p.joinFailures.Load(),
	}
	s.Members = int(p.numNodes.Load())
	return s
}

// Leave announces that this member leaves the pool and waits up to
// timeout for the announcement to go out; the reconnect loop stops
// joining. Call Shutdown afterwards.
func (p *Pool) Leave(timeout time.Duration) error {
	p.life.Lock()
	defer p.life.Unlock()
	if p.closed.Load() {
		return ErrClosed
	}
	p.left.Store(true)
	p.mu.Lock()
	p.queueLeaveLocked(p.cfg.Name)
	p.mu.Unlock()
	if err := p.ml.Leave(timeout); err != nil {
		return fmt.Errorf("gossip: leave %s: %w", p.cfg.Pool, err)
	}
	return nil
}

// Shutdown stops this member without a leave announcement (others will
// find it dead), stops the reconnect loop, saves the known peers and
// closes the Events channel. It is safe to call more than once.
func (p *Pool) Shutdown() error {
	var err error
	p.closeOnce.Do(func() {
		p.life.Lock()
		defer p.life.Unlock()
		p.closed.Store(true)
		p.mu.Lock()
		p.mu.closed = true
		p.mu.Unlock()
		close(p.stop)
		if e := p.ml.Shutdown(); e != nil {
			err = fmt.Errorf("gossip: shutdown: %w", e)
		}
		p.wg.Wait()
		p.savePeers()
		p.evMu.Lock()
		p.evClosed = true
		close(p.events)
		p.evMu.Unlock()
	})
	return err
}

// afterLocked runs f after d on the pool's clock, unless the pool shuts
// down first. p.mu must be held (so that Shutdown cannot be waiting yet).
func (p *Pool) afterLocked(d time.Duration, f func()) {
	if p.mu.closed {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c, stop := p.cfg.Clock.NewTimer(d)
		defer stop()
		select {
		case <-c:
			f()
		case <-p.stop:
		}
	}()
}

// noTCPPing is the field profile's DisableTcpPingsForNode: a TCP fallback
// ping (a connection per failed UDP probe) only towards hubs. A laptop
// behind NAT never gets the hub's UDP acks (they go to the address it
// advertises), but a TCP ping it dials is answered on the same
// connection, so the hub stays alive in its view; towards laptops the
// fallback would only cost handshakes to addresses that cannot answer.
// memberlist calls it from its probe goroutine without holding its locks.
func (p *Pool) noTCPPing(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ms := p.mu.members[name]
	return ms == nil || ms.meta.Role != replication.RoleHub
}

// headBroadcast is one queued heads message, named by (holder, origin).
type headBroadcast struct {
	name string
	msg  []byte
}

var _ memberlist.NamedBroadcast = (*headBroadcast)(nil)

// Invalidates reports whether b replaces other: same holder and origin.
func (b *headBroadcast) Invalidates(other memberlist.Broadcast) bool {
	nb, ok := other.(memberlist.NamedBroadcast)
	return ok && nb.Name() == b.name
}

// Name is "holder/origin".
func (b *headBroadcast) Name() string { return b.name }

// Message returns the encoded heads message.
func (b *headBroadcast) Message() []byte { return b.msg }

// Finished is a no-op: nobody waits for heads broadcasts.
func (b *headBroadcast) Finished() {}
