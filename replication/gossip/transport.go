package gossip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// The wire model used to count a member's traffic (Stats, MeasureIdle). It
// is the link emulator's model of IPv4 over a thin link (internal/linkemu;
// TestWireModelMatchesLinkEmulator pins the numbers together), so the
// figures can be put next to an emulated link's counters:
//
//   - a datagram costs its payload plus udpOverhead (IPv4 + UDP headers);
//   - a stream write of n bytes costs n plus tcpHeader per segment of at
//     most tcpMSS bytes, and the peer answers each burst (one Read on its
//     side) with one pure ACK of tcpHeader bytes;
//   - a connection costs a three-way handshake (SYN and SYN-ACK of synBytes,
//     ACK of tcpHeader) and a teardown (a FIN and its ACK each way).
//
// The payload is what memberlist hands the transport: label header,
// encryption (version, nonce, tag) and message included.
const (
	udpOverhead = 28   // IPv4 20 + UDP 8
	tcpHeader   = 52   // IPv4 20 + TCP 20 + timestamp option 12
	tcpMSS      = 1448 // a 1500-byte MTU minus tcpHeader
	synBytes    = 60
)

// errTransportClosed is returned by dials after Shutdown.
var errTransportClosed = errors.New("gossip: transport shut down")

// wireCounters counts one member's traffic; all fields are atomics.
type wireCounters struct {
	packetsSent, packetsReceived, packetsDropped atomic.Int64
	packetBytesSent, packetBytesReceived         atomic.Int64 // payload
	streamsOpened, streamsAccepted               atomic.Int64
	streamBytesSent, streamBytesReceived         atomic.Int64 // payload
	streamWireSent, streamWireReceived           atomic.Int64 // payload, headers, control
	rejected                                     atomic.Int64 // from outside the allowed networks
}

// transport is the memberlist.Transport of a Pool: memberlist's own
// NetTransport (UDP + TCP on one port), with every datagram and stream
// counted, and, when a Link is given, shaped by it: datagrams are dropped
// or delayed with Link.SendPacket and Link.ReceivePacket (a timer delivers
// them; memberlist's goroutines never wait), streams go through
// Link.Dialer and Link.WrapInbound.
type transport struct {
	inner *memberlist.NetTransport
	link  Link
	allow []net.IPNet // if set, only datagrams and streams from these networks
	local net.Addr    // dials leave from the bind address (nil for 0.0.0.0)

	packetCh chan *memberlist.Packet
	streamCh chan net.Conn

	ctx       context.Context // ends at Shutdown: dials and hand-offs stop
	cancel    context.CancelFunc
	innerDown chan struct{} // closed once inner has shut down
	wg        sync.WaitGroup
	once      sync.Once

	ctr wireCounters

	mu struct {
		sync.Mutex
		conns map[*countingConn]struct{}
	}
}

var _ memberlist.NodeAwareTransport = (*transport)(nil)

// newTransport listens on bindAddr:bindPort (UDP and TCP; port 0 picks
// one) and starts the hand-off goroutines. If allow is not empty, it drops
// datagrams and closes streams from any other network: memberlist's own
// CIDRsAllowed only keeps such members out of the member list, and still
// answers their pings and push/pulls and delivers their messages.
func newTransport(bindAddr string, bindPort int, link Link, allow []net.IPNet, logger *log.Logger) (*transport, error) {
	inner, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{bindAddr},
		BindPort:  bindPort,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("gossip: listen on %s:%d: %w", bindAddr, bindPort, err)
	}
	t := &transport{
		inner:     inner,
		link:      link,
		allow:     allow,
		packetCh:  make(chan *memberlist.Packet),
		streamCh:  make(chan net.Conn),
		innerDown: make(chan struct{}),
	}
	if ip := net.ParseIP(bindAddr); ip != nil && !ip.IsUnspecified() {
		t.local = &net.TCPAddr{IP: ip}
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.mu.conns = make(map[*countingConn]struct{})
	t.wg.Add(2)
	go t.forwardPackets()
	go t.forwardStreams()
	return t, nil
}

// FinalAdvertiseAddr returns what the member advertises: ip:port as
// configured, the bound port when port is 0, or NetTransport's choice when
// ip is empty.
func (t *transport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" && port == 0 {
		port = t.inner.GetAutoBindPort()
	}
	return t.inner.FinalAdvertiseAddr(ip, port)
}

// boundPort is the port the listeners got.
func (t *transport) boundPort() int { return t.inner.GetAutoBindPort() }

// WriteTo sends a datagram to addr.
func (t *transport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress counts a datagram and sends it, through the link if any:
// a dropped datagram is dropped silently, as UDP would; a delayed one is
// copied and sent by a timer.
func (t *transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	t.ctr.packetsSent.Add(1)
	t.ctr.packetBytesSent.Add(int64(len(b)))
	if t.link == nil {
		return t.inner.WriteToAddress(b, a)
	}
	now := time.Now()
	delay, ok := t.link.SendPacket(len(b))
	if !ok {
		t.ctr.packetsDropped.Add(1)
		return now, nil
	}
	buf := bytes.Clone(b)
	time.AfterFunc(delay, func() {
		if t.ctx.Err() == nil {
			_, _ = t.inner.WriteToAddress(buf, a)
		}
	})
	return now, nil
}

// PacketCh returns the datagrams for memberlist.
func (t *transport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// StreamCh returns the accepted streams for memberlist.
func (t *transport) StreamCh() <-chan net.Conn { return t.streamCh }

// DialTimeout dials addr.
func (t *transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout dials a stream to a.Addr from the bind address (so
// that, on an overlay, streams leave from the overlay address as datagrams
// do), through the link if any. A dial in progress fails at once when the
// transport shuts down.
func (t *transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	var (
		c   net.Conn
		err error
		d   = &net.Dialer{LocalAddr: t.local}
	)
	if t.link != nil {
		c, err = t.link.Dialer(d)(ctx, "tcp", a.Addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", a.Addr)
	}
	if err != nil {
		return nil, err
	}
	t.ctr.streamsOpened.Add(1)
	return t.track(c, true)
}

// Shutdown stops the listeners, fails dials in progress, closes every
// stream this transport opened or accepted (so a Join blocked on a slow
// peer returns) and waits for the hand-off goroutines.
func (t *transport) Shutdown() error {
	var err error
	t.once.Do(func() {
		t.cancel()
		err = t.inner.Shutdown() // the forwarders drain inner until it is down
		close(t.innerDown)
		t.mu.Lock()
		conns := make([]*countingConn, 0, len(t.mu.conns))
		for c := range t.mu.conns {
			conns = append(conns, c)
		}
		t.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		t.wg.Wait()
	})
	return err
}

// forwardPackets hands datagrams from NetTransport to memberlist, through
// the link's Down direction if any. After Shutdown starts it keeps
// draining NetTransport (whose reader would otherwise block) and drops.
func (t *transport) forwardPackets() {
	defer t.wg.Done()
	for {
		select {
		case p := <-t.inner.PacketCh():
			if t.ctx.Err() != nil {
				continue
			}
			if !t.allowed(p.From) {
				t.ctr.rejected.Add(1)
				continue
			}
			t.receive(p)
		case <-t.innerDown:
			return
		}
	}
}

// allowed reports whether a datagram or stream from a may come in.
func (t *transport) allowed(a net.Addr) bool {
	if len(t.allow) == 0 {
		return true
	}
	var ip net.IP
	switch a := a.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	default:
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return false
		}
		ip = net.ParseIP(host)
	}
	for _, n := range t.allow {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func (t *transport) receive(p *memberlist.Packet) {
	if t.link == nil {
		t.deliver(p)
		return
	}
	delay, ok := t.link.ReceivePacket(len(p.Buf))
	if !ok {
		t.ctr.packetsDropped.Add(1)
		return
	}
	time.AfterFunc(delay, func() {
		p.Timestamp = time.Now()
		t.deliver(p)
	})
}

func (t *transport) deliver(p *memberlist.Packet) {
	t.ctr.packetsReceived.Add(1)
	t.ctr.packetBytesReceived.Add(int64(len(p.Buf)))
	select {
	case t.packetCh <- p:
	case <-t.ctx.Done():
	}
}

// forwardStreams hands accepted connections to memberlist, wrapped in the
// link (what this member writes leaves through its modem).
func (t *transport) forwardStreams() {
	defer t.wg.Done()
	for {
		select {
		case c := <-t.inner.StreamCh():
			if t.ctx.Err() != nil {
				_ = c.Close()
				continue
			}
			if !t.allowed(c.RemoteAddr()) {
				t.ctr.rejected.Add(1)
				_ = c.Close()
				continue
			}
			if t.link != nil {
				c = t.link.WrapInbound(c)
			}
			t.ctr.streamsAccepted.Add(1)
			cc, err := t.track(c, false)
			if err != nil {
				continue
			}
			select {
			case t.streamCh <- cc:
			case <-t.ctx.Done():
				_ = cc.Close()
			}
		case <-t.innerDown:
			return
		}
	}
}

// track wraps c in a counting connection and remembers it until it is
// closed, so that Shutdown can close it.
func (t *transport) track(c net.Conn, dialed bool) (net.Conn, error) {
	cc := &countingConn{Conn: c, t: t}
	if dialed {
		t.ctr.streamWireSent.Add(synBytes + tcpHeader)
		t.ctr.streamWireReceived.Add(synBytes)
	} else {
		t.ctr.streamWireReceived.Add(synBytes + tcpHeader)
		t.ctr.streamWireSent.Add(synBytes)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		_ = c.Close()
		return nil, errTransportClosed
	}
	t.mu.conns[cc] = struct{}{}
	return cc, nil
}

func (t *transport) untrack(c *countingConn) {
	t.mu.Lock()
	delete(t.mu.conns, c)
	t.mu.Unlock()
}

// wireStats is a snapshot of a transport's counters with the wire model
// applied.
type wireStats struct {
	bytesSent, bytesReceived     int64
	packetsSent, packetsReceived int64
	packetsDropped               int64
	streamsOpened, streamsAccept int64
	rejected                     int64
}

func (t *transport) stats() wireStats {
	c := &t.ctr
	return wireStats{
		bytesSent:       c.packetBytesSent.Load() + udpOverhead*c.packetsSent.Load() + c.streamWireSent.Load(),
		bytesReceived:   c.packetBytesReceived.Load() + udpOverhead*c.packetsReceived.Load() + c.streamWireReceived.Load(),
		packetsSent:     c.packetsSent.Load(),
		packetsReceived: c.packetsReceived.Load(),
		packetsDropped:  c.packetsDropped.Load(),
		streamsOpened:   c.streamsOpened.Load(),
		streamsAccept:   c.streamsAccepted.Load(),
		rejected:        c.rejected.Load(),
	}
}

// countingConn counts a stream's bytes with the wire model above.
type countingConn struct {
	net.Conn
	t    *transport
	once sync.Once
}

func segments(n int) int64 { return int64((n + tcpMSS - 1) / tcpMSS) }

// Read counts received payload, its segment headers and our ACK.
func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.t.ctr.streamBytesReceived.Add(int64(n))
		c.t.ctr.streamWireReceived.Add(int64(n) + tcpHeader*segments(n))
		c.t.ctr.streamWireSent.Add(tcpHeader)
	}
	return n, err
}

// Write counts sent payload, its segment headers and the peer's ACK.
func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.t.ctr.streamBytesSent.Add(int64(n))
		c.t.ctr.streamWireSent.Add(int64(n) + tcpHeader*segments(n))
		c.t.ctr.streamWireReceived.Add(tcpHeader)
	}
	return n, err
}

// Close closes the connection once and counts its teardown.
func (c *countingConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		c.t.ctr.streamWireSent.Add(2 * tcpHeader)
		c.t.ctr.streamWireReceived.Add(2 * tcpHeader)
		c.t.untrack(c)
		err = c.Conn.Close()
	})
	return err
}
