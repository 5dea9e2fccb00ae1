package gossip

import (
	"context"
	"net"
	"time"
)

// Link emulates a thin link under one member's transport, as seen from that
// member: what it sends goes up through its modem, what it receives comes
// down. Tests, the demo and benchmarks set Config.Link; a deployment never
// does. The link emulator (internal/linkemu) provides one with
// linkemu.Link.Member; gossip itself links no emulator.
type Link interface {
	// SendPacket says after how long a datagram of n bytes this member
	// sends arrives, or !ok if the link loses it.
	SendPacket(n int) (deliverAfter time.Duration, ok bool)
	// ReceivePacket is the same for a datagram of n bytes coming to it.
	ReceivePacket(n int) (deliverAfter time.Duration, ok bool)
	// Dialer returns a dial function whose streams go through the link.
	Dialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error)
	// WrapInbound shapes a stream this member accepted: what it writes
	// goes up through the link.
	WrapInbound(c net.Conn) net.Conn
}
