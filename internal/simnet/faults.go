package simnet

import "fmt"

// LinkConfig is the fault configuration of one directed link. The zero
// value is a perfect link: no loss, no duplication, delivered the tick it
// was sent, in order.
type LinkConfig struct {
	// Drop is the probability that a message is lost.
	Drop float64
	// Duplicate is the probability that a message is delivered twice (the
	// copy gets its own delay, so later messages may land between them).
	Duplicate float64
	// MinDelay and MaxDelay bound a message's time in flight, in ticks,
	// drawn uniformly.
	MinDelay, MaxDelay uint64
	// Reorder is the probability that a message is held back 1..ReorderTicks
	// extra ticks, so later messages on the link overtake it.
	Reorder      float64
	ReorderTicks uint64
}

// validate panics on a configuration no test means: a probability outside
// [0, 1] or an inverted delay range.
func (c LinkConfig) validate() {
	for _, p := range []float64{c.Drop, c.Duplicate, c.Reorder} {
		if p < 0 || p > 1 {
			panic(fmt.Sprintf("simnet: probability %v outside [0, 1]", p))
		}
	}
	if c.MaxDelay < c.MinDelay {
		panic(fmt.Sprintf("simnet: delay range %d..%d is inverted", c.MinDelay, c.MaxDelay))
	}
}

// Configure sets the whole fault configuration of the link from → to.
func (n *Network) Configure(from, to string, c LinkConfig) {
	c.validate()
	n.state(from, to).cfg = c
}

// ConfigureAll sets c on every directed link between registered nodes.
func (n *Network) ConfigureAll(c LinkConfig) {
	for _, a := range n.nodes {
		for _, b := range n.nodes {
			if a != b {
				n.Configure(a, b, c)
			}
		}
	}
}

// Link returns the fault configuration of from → to.
func (n *Network) Link(from, to string) LinkConfig { return n.state(from, to).cfg }

// Drop sets the probability that a message from → to is lost.
func (n *Network) Drop(from, to string, p float64) {
	c := n.Link(from, to)
	c.Drop = p
	n.Configure(from, to, c)
}

// Duplicate sets the probability that a message from → to arrives twice.
func (n *Network) Duplicate(from, to string, p float64) {
	c := n.Link(from, to)
	c.Duplicate = p
	n.Configure(from, to, c)
}

// Delay sets the range of ticks a message from → to spends in flight.
func (n *Network) Delay(from, to string, minTicks, maxTicks uint64) {
	c := n.Link(from, to)
	c.MinDelay, c.MaxDelay = minTicks, maxTicks
	n.Configure(from, to, c)
}

// Reorder sets the probability that a message from → to is held back
// 1..ticks extra ticks, so that later ones overtake it.
func (n *Network) Reorder(from, to string, p float64, ticks uint64) {
	c := n.Link(from, to)
	c.Reorder, c.ReorderTicks = p, ticks
	n.Configure(from, to, c)
}

// Cut breaks the link between a and b both ways: what is in flight on it
// is lost and what is sent while it is cut is dropped.
func (n *Network) Cut(a, b string) {
	n.CutOneWay(a, b)
	n.CutOneWay(b, a)
}

// CutOneWay breaks only from → to (a one-way radio, an asymmetric NAT).
func (n *Network) CutOneWay(from, to string) {
	n.state(from, to).cut = true
	n.purge(from, to)
}

// Heal restores the link between a and b both ways. Its fault
// configuration is kept.
func (n *Network) Heal(a, b string) {
	n.state(a, b).cut = false
	n.state(b, a).cut = false
}

// IsCut reports whether from → to is cut.
func (n *Network) IsCut(from, to string) bool { return n.state(from, to).cut }

// Isolate cuts every link between name and any other registered node.
func (n *Network) Isolate(name string) {
	for _, o := range n.nodes {
		if o != name {
			n.Cut(name, o)
		}
	}
}

// Rejoin heals every link between name and any other registered node.
func (n *Network) Rejoin(name string) {
	for _, o := range n.nodes {
		if o != name {
			n.Heal(name, o)
		}
	}
}

// Partition cuts every link between a member of groupA and a member of
// groupB; links inside each group are untouched.
func (n *Network) Partition(groupA, groupB []string) {
	for _, a := range groupA {
		for _, b := range groupB {
			if a != b {
				n.Cut(a, b)
			}
		}
	}
}

// HealAll restores every link. Fault configurations are kept.
func (n *Network) HealAll() {
	for _, s := range n.links {
		s.cut = false
	}
}

// ClearFaults resets every link to a perfect, uncut one.
func (n *Network) ClearFaults() {
	for _, s := range n.links {
		s.cut, s.cfg = false, LinkConfig{}
	}
}

// Purge discards what is in flight between a and b, both ways, without
// cutting the link: a connection reset (a crashed peer) on a link that
// stays up. It returns how many messages were lost.
func (n *Network) Purge(a, b string) int {
	return n.purge(a, b) + n.purge(b, a)
}

func (n *Network) purge(from, to string) int {
	ls := n.state(from, to)
	k := 0
	for _, m := range n.queue {
		if m.From == from && m.To == to {
			n.count(ls, func(s *Stats) { s.Cut++; s.CutBytes += int64(len(m.Payload)) })
			continue
		}
		n.queue[k] = m
		k++
	}
	lost := len(n.queue) - k
	clear(n.queue[k:])
	n.queue = n.queue[:k]
	return lost
}
