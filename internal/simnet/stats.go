package simnet

import "fmt"

// Stats counts messages and payload bytes. A message sent is exactly one
// of: delivered, dropped (loss draw), cut (sent into a cut link, or in
// flight when the link was cut or purged), overflow, or still in flight; a
// duplicate adds one to Duplicated and then is delivered or cut like any
// other copy. Reordered counts copies held back by a reorder draw.
type Stats struct {
	Sent, Delivered, Dropped, Duplicated, Cut, Overflow, Reordered     int
	SentBytes, DeliveredBytes, DroppedBytes, DuplicatedBytes, CutBytes int64
}

// String renders the counters on one line.
func (s Stats) String() string {
	return fmt.Sprintf("sent=%d/%dB delivered=%d/%dB dropped=%d/%dB duplicated=%d/%dB cut=%d/%dB overflow=%d reordered=%d",
		s.Sent, s.SentBytes, s.Delivered, s.DeliveredBytes, s.Dropped, s.DroppedBytes,
		s.Duplicated, s.DuplicatedBytes, s.Cut, s.CutBytes, s.Overflow, s.Reordered)
}

// count applies f to the network's totals and to the link's own counters.
func (n *Network) count(ls *linkState, f func(*Stats)) {
	f(&n.stats)
	if ls != nil {
		f(&ls.stats)
	}
}

// Stats returns the network-wide counters.
func (n *Network) Stats() Stats { return n.stats }

// LinkStats returns the counters of the directed link from → to.
func (n *Network) LinkStats(from, to string) Stats { return n.state(from, to).stats }
