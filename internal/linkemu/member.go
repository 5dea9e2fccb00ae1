package linkemu

import (
	"context"
	"net"
	"time"
)

// Member is a link as one gossip member behind it sees it: what the member
// sends goes Up, what it receives comes Down, streams it dials or accepts
// are shaped Up. It satisfies gossip.Link (gossip.Config.Link), so the
// gossip package shapes its traffic without importing the emulator.
type Member struct{ l *Link }

// Member returns l as seen by the member behind it.
func (l *Link) Member() Member { return Member{l} }

// SendPacket is Packet(Up, n).
func (m Member) SendPacket(n int) (time.Duration, bool) { return m.l.Packet(Up, n) }

// ReceivePacket is Packet(Down, n).
func (m Member) ReceivePacket(n int) (time.Duration, bool) { return m.l.Packet(Down, n) }

// Dialer is Link.Dialer.
func (m Member) Dialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return m.l.Dialer(d)
}

// WrapInbound is WrapConn(c, Up): what the member writes on a stream it
// accepted leaves through its modem.
func (m Member) WrapInbound(c net.Conn) net.Conn { return m.l.WrapConn(c, Up) }
