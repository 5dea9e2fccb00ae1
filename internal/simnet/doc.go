// Package simnet is a seeded, in-memory message network for tests and the
// deterministic simulation: one goroutine, no real time, no global
// randomness. Nodes are addressed by name; every fault is a property of a
// directed link (from → to) that a test switches on and off.
//
// A walkthrough:
//
//	n := simnet.New(seed)                     // math/rand/v2 PCG from the seed
//	n.AddNode("l1")
//	n.AddNode("h1")
//	n.Drop("l1", "h1", 0.05)                  // 5% loss one way
//	n.Duplicate("h1", "l1", 0.02)             // 2% delivered twice
//	n.Delay("l1", "h1", 1, 3)                 // 1-3 ticks in flight
//	n.Reorder("l1", "h1", 0.1, 5)             // 10% held back up to 5 more ticks
//	n.Send("l1", "h1", frame)                 // the payload is copied
//	for {
//		m, ok := n.Step()                     // advances the clock if nothing is due
//		if !ok {
//			break                             // nothing in flight
//		}
//		deliver(m.To, m.From, m.Payload)
//	}
//	n.Cut("l1", "h1")                         // both ways; what was in flight is lost
//	n.Heal("l1", "h1")
//	n.Isolate("l1")                           // cut l1 from every other node
//	n.Partition([]string{"l1"}, []string{"h1", "h2"})
//	st := n.Stats()                           // sent/dropped/duplicated/delivered, counts and bytes
//
// Time is a tick counter. Send stamps each message with a delivery tick
// drawn from the link's delay range; DeliverNext hands out only messages
// that are due. Within one directed link messages are delivered in
// (delivery tick, send order) order, so a link without a reorder fault is
// FIFO like a TCP stream; among links with a due message the next one is
// chosen by the seeded generator, so interleavings vary with the seed and
// repeat exactly with it.
//
// A cut link loses whatever was in flight on it (a reset connection) and
// every message sent while it is cut. Loss, duplication and delay are drawn
// once, at Send, in send order: two runs that make the same calls in the
// same order see the same deliveries, byte for byte.
package simnet
