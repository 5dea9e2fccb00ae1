package simnet

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// MaxInFlight bounds the messages the network holds at once. A harness
// that sends faster than it delivers is broken; past the bound Send drops
// and counts the message (Stats.Overflow) instead of growing without end.
const MaxInFlight = 1 << 16

// MaxPayloadBytes bounds one message, far above any sync frame (4 MiB).
const MaxPayloadBytes = 16 << 20

// Message is one payload on its way from From to To.
type Message struct {
	From, To string
	// Payload is the network's own copy; the receiver may keep it.
	Payload []byte
	// ID numbers sends in order, from 1. A duplicate carries the ID of the
	// message it copies.
	ID uint64
	// SentAt and DeliverAt are ticks.
	SentAt, DeliverAt uint64
	// Duplicate marks the extra copy made by a duplication fault.
	Duplicate bool
}

// link names a directed link.
type link struct{ from, to string }

// Network is a seeded in-memory network. It is not safe for concurrent
// use: one goroutine drives it, which is what makes it deterministic.
type Network struct {
	rng    *rand.Rand
	now    uint64
	nextID uint64
	nodes  []string // sorted; every walk over nodes uses it
	known  map[string]bool
	links  map[link]*linkState
	queue  []*Message // in send order
	stats  Stats
}

// linkState is one directed link's faults and counters.
type linkState struct {
	cfg    LinkConfig
	cut    bool
	lastAt uint64 // delivery tick of the latest in-order message
	stats  Stats
}

// New returns an empty network whose every random choice comes from a PCG
// generator seeded with seed.
func New(seed uint64) *Network {
	return &Network{
		rng:   rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)),
		known: map[string]bool{},
		links: map[link]*linkState{},
	}
}

// AddNode registers a node name. Adding a name twice is a no-op.
func (n *Network) AddNode(name string) {
	if n.known[name] {
		return
	}
	n.known[name] = true
	n.nodes = append(n.nodes, name)
	slices.Sort(n.nodes)
}

// Nodes returns the registered names in ascending order.
func (n *Network) Nodes() []string { return slices.Clone(n.nodes) }

// Now returns the current tick.
func (n *Network) Now() uint64 { return n.now }

// Tick advances the clock by one tick.
func (n *Network) Tick() { n.now++ }

// AdvanceTo moves the clock forward to t (never backward).
func (n *Network) AdvanceTo(t uint64) {
	if t > n.now {
		n.now = t
	}
}

// state returns the directed link's state, creating it with the default
// (perfect) configuration. It panics on unregistered names: addressing a
// node that does not exist is a bug in the harness, not a network fault.
func (n *Network) state(from, to string) *linkState {
	if !n.known[from] || !n.known[to] {
		panic(fmt.Sprintf("simnet: link %s→%s names an unregistered node", from, to))
	}
	l := link{from, to}
	s := n.links[l]
	if s == nil {
		s = &linkState{}
		n.links[l] = s
	}
	return s
}

// Send queues a copy of payload from → to, applying the link's faults:
// a cut link or a loss draw drops it, a duplication draw queues a second
// copy, and each copy gets its own delay (and reorder) draw.
func (n *Network) Send(from, to string, payload []byte) {
	ls := n.state(from, to)
	n.nextID++
	size := int64(len(payload))
	n.count(ls, func(s *Stats) { s.Sent++; s.SentBytes += size })
	switch {
	case ls.cut:
		n.count(ls, func(s *Stats) { s.Cut++; s.CutBytes += size })
		return
	case len(payload) > MaxPayloadBytes || len(n.queue) >= MaxInFlight:
		n.count(ls, func(s *Stats) { s.Overflow++ })
		return
	case ls.cfg.Drop > 0 && n.rng.Float64() < ls.cfg.Drop:
		n.count(ls, func(s *Stats) { s.Dropped++; s.DroppedBytes += size })
		return
	}
	m := &Message{From: from, To: to, Payload: slices.Clone(payload), ID: n.nextID, SentAt: n.now}
	m.DeliverAt = n.deliverAt(ls, true)
	n.queue = append(n.queue, m)
	if ls.cfg.Duplicate > 0 && n.rng.Float64() < ls.cfg.Duplicate && len(n.queue) < MaxInFlight {
		d := *m
		d.Payload, d.Duplicate = slices.Clone(payload), true
		d.DeliverAt = n.deliverAt(ls, false)
		n.queue = append(n.queue, &d)
		n.count(ls, func(s *Stats) { s.Duplicated++; s.DuplicatedBytes += size })
	}
}

// deliverAt draws a message's delivery tick. Delay jitter alone keeps the
// link FIFO (a message never lands before one sent earlier, as on a
// stream); only a reorder draw holds a message back past later ones, and
// such a message does not hold back the ones behind it. A duplicate
// (original false) lands in order too, at or after its original.
func (n *Network) deliverAt(ls *linkState, original bool) uint64 {
	c := &ls.cfg
	t := n.now + c.MinDelay
	if c.MaxDelay > c.MinDelay {
		t += n.rng.Uint64N(c.MaxDelay - c.MinDelay + 1)
	}
	t = max(t, ls.lastAt)
	if c.Reorder > 0 && c.ReorderTicks > 0 && n.rng.Float64() < c.Reorder {
		n.count(ls, func(s *Stats) { s.Reordered++ })
		return t + 1 + n.rng.Uint64N(c.ReorderTicks)
	}
	if original {
		ls.lastAt = t
	}
	return t
}

// InFlight returns the number of messages queued and not yet delivered.
func (n *Network) InFlight() int { return len(n.queue) }

// NextDue returns the earliest delivery tick in flight, and false when
// nothing is in flight. An event-driven harness jumps the clock there.
func (n *Network) NextDue() (uint64, bool) {
	if len(n.queue) == 0 {
		return 0, false
	}
	t := n.queue[0].DeliverAt
	for _, m := range n.queue[1:] {
		t = min(t, m.DeliverAt)
	}
	return t, true
}

// DeliverNext removes and returns a message that is due (DeliverAt ≤ Now),
// and false if none is. Per directed link it is the earliest by (DeliverAt,
// ID); across links with one due, the choice is seeded.
func (n *Network) DeliverNext() (Message, bool) {
	heads := n.dueHeads()
	if len(heads) == 0 {
		return Message{}, false
	}
	i := heads[0]
	if len(heads) > 1 {
		i = heads[n.rng.IntN(len(heads))]
	}
	m := n.queue[i]
	n.queue = slices.Delete(n.queue, i, i+1)
	n.count(n.links[link{m.From, m.To}], func(s *Stats) { s.Delivered++; s.DeliveredBytes += int64(len(m.Payload)) })
	return *m, true
}

// dueHeads returns, in queue order, the index of each directed link's
// first message by (DeliverAt, ID), for the links where that one is due.
func (n *Network) dueHeads() []int {
	var order []link
	first := map[link]int{}
	for i, m := range n.queue {
		l := link{m.From, m.To}
		j, ok := first[l]
		if !ok {
			order = append(order, l)
			first[l] = i
			continue
		}
		if o := n.queue[j]; m.DeliverAt < o.DeliverAt || (m.DeliverAt == o.DeliverAt && m.ID < o.ID) {
			first[l] = i
		}
	}
	var out []int
	for _, l := range order {
		if i := first[l]; n.queue[i].DeliverAt <= n.now {
			out = append(out, i)
		}
	}
	return out
}

// Step delivers the next due message; if none is due but some are in
// flight, it first advances the clock to the earliest delivery tick. It
// returns false only when nothing is in flight.
func (n *Network) Step() (Message, bool) {
	if m, ok := n.DeliverNext(); ok {
		return m, true
	}
	t, ok := n.NextDue()
	if !ok {
		return Message{}, false
	}
	n.AdvanceTo(t)
	return n.DeliverNext()
}
