package gossip

import (
	"time"

	"github.com/hashicorp/memberlist"

	"fieldsync/replication"
)

// The memberlist delegates. memberlist calls them from its own goroutines,
// the event and conflict delegates while holding its node lock
// (memberlist#237, antrea#4469), so every one of them only touches the
// Pool's own state under p.mu, copies what it keeps, and hands off without
// blocking. None of them calls a Memberlist method.

// delegate implements memberlist.Delegate: metadata, heads broadcasts,
// push/pull state.
type delegate struct{ p *Pool }

var _ memberlist.Delegate = (*delegate)(nil)

// NodeMeta returns the encoded Meta (never more than limit: memberlist
// panics beyond memberlist.MetaMaxSize).
func (d *delegate) NodeMeta(limit int) []byte {
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	if len(d.p.mu.meta) > limit {
		return nil
	}
	return append([]byte(nil), d.p.mu.meta...)
}

// NotifyMsg handles a gossiped message: a heads announcement raises the
// table, a leave notice marks its member as leaving; each is relayed once
// if it was news. The buffer is not kept (decoding copies).
func (d *delegate) NotifyMsg(b []byte) {
	p := d.p
	var kind byte
	if len(b) > 0 {
		kind = b[0]
	}
	switch kind {
	case kindHeads:
		p.handleHeads(b)
	case kindLeave:
		p.handleLeave(b)
	default:
		p.decodeErrors.Add(1)
	}
}

func (p *Pool) handleHeads(b []byte) {
	m, err := decodeHeadsMsg(b)
	if err != nil {
		p.decodeErrors.Add(1)
		p.log.Debug("gossip: dropped heads message", "err", err)
		return
	}
	if m.holder == p.cfg.Name {
		return // our own announcement, relayed back
	}
	p.mu.Lock()
	res := p.mergeHeadsLocked(m.holder, m.heads)
	if !p.mu.closed {
		for _, h := range res.raised {
			p.queueHead(m.holder, h)
		}
		if len(res.raised) > 0 {
			p.boundQueue()
		}
	}
	p.mu.Unlock()
	if len(res.raised) > 0 {
		p.emit(EventHeads, m.holder)
	}
}

func (p *Pool) handleLeave(b []byte) {
	name, err := decodeLeave(b)
	if err != nil {
		p.decodeErrors.Add(1)
		return
	}
	if name == p.cfg.Name {
		return
	}
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, ok := p.mu.leaving[name]; ok && now.Sub(at) < leaveNoticeTTL {
		return // not news
	}
	if len(p.mu.leaving) >= maxMembers {
		return
	}
	p.mu.leaving[name] = now
	if ms := p.mu.members[name]; ms != nil && ms.state == StateDead {
		ms.state, ms.changed = StateLeft, now
	}
	if !p.mu.closed {
		p.queueLeaveLocked(name)
	}
}

// queueLeaveLocked queues a leave notice for name (a fresh copy: the
// received buffer is memberlist's).
func (p *Pool) queueLeaveLocked(name string) {
	msg, err := encodeLeave(name)
	if err != nil {
		return
	}
	p.queue.QueueBroadcast(&headBroadcast{name: "leave/" + name, msg: msg})
	p.boundQueue()
}

// mergeHeadsLocked merges heads into the table and counts what was
// dropped or conflicting.
func (p *Pool) mergeHeadsLocked(holder string, heads []replication.OriginHead) mergeResult {
	res := p.mu.heads.merge(holder, heads)
	p.headsDropped.Add(uint64(res.dropped))
	p.headConflicts.Add(uint64(res.conflicts))
	return res
}

// GetBroadcasts returns queued heads messages that fit in limit, with the
// heads of one holder merged into as few ≤ 1 KB messages as possible.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	msgs := d.p.queue.GetBroadcasts(overhead, limit)
	if len(msgs) <= 1 {
		return msgs
	}
	return mergeHeadsMsgs(msgs)
}

// mergeHeadsMsgs re-packs heads messages by holder. Messages that do not
// decode (never ours) are passed through unchanged. The result is never
// larger than the input in bytes or in messages.
func mergeHeadsMsgs(msgs [][]byte) [][]byte {
	var (
		order  []string
		byName = make(map[string]replication.Vector)
		out    [][]byte
	)
	for _, b := range msgs {
		m, err := decodeHeadsMsg(b)
		if err != nil {
			out = append(out, b)
			continue
		}
		v, ok := byName[m.holder]
		if !ok {
			v = make(replication.Vector)
			byName[m.holder] = v
			order = append(order, m.holder)
		}
		for _, h := range m.heads {
			if h.Seq > v[h.Origin].Seq {
				v[h.Origin] = h.Head
			}
		}
	}
	for _, holder := range order {
		packed, err := packHeads(holder, byName[holder].Heads())
		if err != nil {
			continue // cannot happen: the heads came from valid messages
		}
		out = append(out, packed...)
	}
	return out
}

// LocalState returns this member's own heads for a push/pull (on join, and
// periodically in profiles that push/pull): a small digest, at most
// maxStateBytes.
func (d *delegate) LocalState(join bool) []byte {
	p := d.p
	p.mu.Lock()
	heads := p.mu.own.Heads()
	p.mu.Unlock()
	for i := range heads {
		heads[i] = prefixHead(heads[i])
	}
	b, err := encodeState(p.cfg.Name, heads)
	if err != nil {
		p.log.Warn("gossip: cannot encode state", "err", err)
		return nil
	}
	return b
}

// MergeRemoteState records the remote member's heads from its push/pull
// state. They are not relayed: push/pull happens on every join, and
// relaying a full state would cost every member bytes for heads that did
// not change.
func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	p := d.p
	if len(buf) == 0 {
		return
	}
	m, err := decodeState(buf)
	if err != nil {
		p.decodeErrors.Add(1)
		p.log.Debug("gossip: dropped remote state", "err", err)
		return
	}
	if m.holder == p.cfg.Name {
		return
	}
	p.mu.Lock()
	res := p.mergeHeadsLocked(m.holder, m.heads)
	p.mu.Unlock()
	if len(res.raised) > 0 {
		p.emit(EventHeads, m.holder)
	}
}

// eventDelegate implements memberlist.EventDelegate.
type eventDelegate struct{ p *Pool }

var _ memberlist.EventDelegate = (*eventDelegate)(nil)

// NotifyJoin records a member that became alive.
func (e *eventDelegate) NotifyJoin(n *memberlist.Node) {
	e.p.observe(n, StateAlive)
	e.p.emit(EventJoin, n.Name)
}

// NotifyLeave records a member that was declared dead or left. (n.State
// cannot tell which: memberlist never updates that field; a leave notice,
// before or after, makes it StateLeft.)
func (e *eventDelegate) NotifyLeave(n *memberlist.Node) {
	e.p.observe(n, StateDead)
	e.p.emit(EventLeave, n.Name)
}

// NotifyUpdate records a member's new metadata or address.
func (e *eventDelegate) NotifyUpdate(n *memberlist.Node) {
	e.p.observe(n, StateAlive)
	e.p.emit(EventUpdate, n.Name)
}

// observe records what an event says about n, and remembers n as a peer
// to save and to reconnect to.
func (p *Pool) observe(n *memberlist.Node, state string) {
	now := p.cfg.Clock.Now()
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		p.decodeErrors.Add(1)
	}
	addr := n.Address()
	p.mu.Lock()
	defer p.mu.Unlock()
	ms := p.mu.members[n.Name]
	if ms == nil {
		if len(p.mu.members) >= maxMembers {
			return
		}
		ms = &memberState{}
		p.mu.members[n.Name] = ms
	}
	if state == StateDead {
		if at, ok := p.mu.leaving[n.Name]; ok && now.Sub(at) < leaveNoticeTTL {
			state = StateLeft
		}
	}
	if state == StateAlive {
		delete(p.mu.leaving, n.Name)
	}
	wasAlive := ms.state == StateAlive
	if ms.state != state {
		ms.changed = now
	}
	ms.addr, ms.meta, ms.state = addr, meta, state
	switch {
	case state == StateAlive && !wasAlive:
		p.numNodes.Add(1)
	case state != StateAlive && wasAlive:
		p.numNodes.Add(-1)
	}
	if state == StateAlive || wasAlive {
		ms.lastSeen = now // alive now, or until now
	}
	if state == StateAlive {
		if n.Name != p.cfg.Name {
			p.notePeerLocked(n.Name, addr, now)
		}
	}
}

// conflictDelegate implements memberlist.ConflictDelegate.
type conflictDelegate struct{ p *Pool }

var _ memberlist.ConflictDelegate = (*conflictDelegate)(nil)

// NotifyConflict is called when a member claims a name memberlist knows at
// another address. When the name is ours, a peer still holds our old
// address (we restarted on a new port before it declared us dead), and it
// will ignore our alive messages until it has held us dead for
// DeadNodeReclaimTime. Nothing would tell it again after that (without
// periodic push/pull), so the reconnect loop rejoins the live members once
// that time has passed.
func (c *conflictDelegate) NotifyConflict(existing, other *memberlist.Node) {
	p := c.p
	if existing.Name != p.cfg.Name {
		return
	}
	at := p.cfg.Clock.Now().Add(p.reclaim)
	p.mu.Lock()
	if p.mu.refreshAt.IsZero() || at.Before(p.mu.refreshAt) {
		p.mu.refreshAt = at
	}
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// reclaimWait is how long a peer takes to declare a silent member dead
// and accept it back at a new address: a probe interval and its timeout,
// twice the minimum suspicion timeout (confirmations shorten it from its
// maximum) and DeadNodeReclaimTime. If a rejoin comes too early, the peer
// reports the conflict again and the rejoin is rescheduled.
func reclaimWait(c *memberlist.Config) time.Duration {
	return c.ProbeInterval + c.ProbeTimeout + 2*time.Duration(c.SuspicionMult)*c.ProbeInterval + c.DeadNodeReclaimTime
}
