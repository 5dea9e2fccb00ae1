package linkemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// proxyDialTimeout bounds the proxy's dial to its target.
const proxyDialTimeout = 10 * time.Second

// errProxyClosed resets the connections of a closed proxy.
var errProxyClosed = errors.New("linkemu: proxy closed")

// Proxy is a TCP proxy whose connections go through a Link: the side that
// connects to the proxy is the dialing (Up) side, the target the listening
// (Down) side.
type Proxy struct {
	link   *Link
	ln     net.Listener
	target string
	ctx    context.Context // cancelled by Close, to abort dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and one goroutine per connection

	mu struct {
		sync.Mutex
		closed   bool
		sessions map[*session]struct{}
	}
}

// Proxy listens on listen (e.g. "127.0.0.1:0") and forwards every accepted
// connection to target through l, counting the TCP handshake and delaying
// the first data by it. While l is down, accepted connections are reset at
// once and target is not dialed: the client's dial succeeds (the proxy is
// local) but its first read or write fails.
func (l *Link) Proxy(listen, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("linkemu: proxy listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{link: l, ln: ln, target: target, ctx: ctx, cancel: cancel}
	p.mu.sessions = make(map[*session]struct{})
	p.wg.Go(p.accept)
	return p, nil
}

// Addr returns the address the proxy listens on, as host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy: it closes the listener, resets every connection,
// and waits for all of the proxy's goroutines to return.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.mu.closed {
		p.mu.Unlock()
		return nil
	}
	p.mu.closed = true
	victims := make([]*session, 0, len(p.mu.sessions))
	for s := range p.mu.sessions {
		victims = append(victims, s)
	}
	p.mu.Unlock()
	p.cancel()
	err := p.ln.Close()
	for _, s := range victims {
		s.abort(errProxyClosed)
	}
	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("linkemu: proxy close: %w", err)
	}
	return nil
}

// accept runs until the listener fails or closes.
func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve joins one accepted connection to a new connection to the target.
func (p *Proxy) serve(c net.Conn) {
	connectAt := p.link.clock.Now()
	if !p.link.Up() {
		p.link.refuse()
		reset(c)
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, proxyDialTimeout)
	defer cancel()
	var d net.Dialer
	t, err := d.DialContext(ctx, "tcp", p.target)
	if err != nil {
		reset(c)
		return
	}
	s := newSession(p.link, c, t, connectAt)
	if !p.track(s) {
		s.abort(errProxyClosed)
		return
	}
	s.run()
	p.mu.Lock()
	delete(p.mu.sessions, s)
	p.mu.Unlock()
}

func (p *Proxy) track(s *session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		return false
	}
	p.mu.sessions[s] = struct{}{}
	return true
}

// reset closes c with a TCP RST where it can.
func reset(c net.Conn) {
	if l, ok := c.(interface{ SetLinger(int) error }); ok {
		_ = l.SetLinger(0)
	}
	_ = c.Close()
}

func (l *Link) refuse() {
	l.mu.Lock()
	l.mu.stats.DialsRefused++
	l.mu.Unlock()
}

// WrapConn shapes an existing connection c: what is written to the returned
// connection goes through l in direction dir, what c receives comes back in
// the other direction. Wrap one end of a connection only. The handshake is
// not counted (it already happened). If l is down, the returned connection
// fails with ErrLinkDown. Closing it closes c once written data has been
// delivered; when the peer closes, reads return io.EOF and writes fail.
func (l *Link) WrapConn(c net.Conn, dir Direction) net.Conn {
	dir.check()
	return l.wrap(c, dir, time.Time{})
}

func (l *Link) wrap(c net.Conn, dir Direction, connectAt time.Time) net.Conn {
	app, inner := net.Pipe()
	dialSide, listenSide := inner, c
	if dir == Down {
		dialSide, listenSide = c, inner
	}
	s := newSession(l, dialSide, listenSide, connectAt)
	go s.run()
	return &wrappedConn{Conn: app, under: c, s: s}
}

// Dialer returns a dial function (for net/http, gRPC or the sync client)
// whose connections go through l in direction Up. d may be nil. While l is
// down it fails at once with ErrLinkDown; otherwise it dials, then waits
// one RTT for the emulated handshake. Only TCP is meaningful.
func (l *Link) Dialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if d == nil {
		d = &net.Dialer{}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if l.Dropping() {
			if err := l.waitSYN(ctx, addr); err != nil {
				return nil, err
			}
		}
		connectAt := l.clock.Now()
		if !l.Up() {
			l.refuse()
			return nil, fmt.Errorf("linkemu: dial %s: %w", addr, ErrLinkDown)
		}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := l.sleep(ctx, l.Profile().RTT); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("linkemu: dial %s: %w", addr, err)
		}
		return l.wrap(c, Up, connectAt), nil
	}
}

// sleep waits d on the link's clock, or until ctx ends.
func (l *Link) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	c, stop := l.clock.NewTimer(d)
	defer stop()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wrappedConn is the application's end of a wrapped connection.
type wrappedConn struct {
	net.Conn // the application's end of an in-memory pipe
	under    net.Conn
	s        *session
}

// Read reads data that has crossed the link; after a cut it fails with an
// error wrapping ErrLinkDown.
func (w *wrappedConn) Read(b []byte) (int, error) {
	n, err := w.Conn.Read(b)
	return n, w.translate(err)
}

// Write queues data to cross the link; after a cut it fails with an error
// wrapping ErrLinkDown.
func (w *wrappedConn) Write(b []byte) (int, error) {
	n, err := w.Conn.Write(b)
	return n, w.translate(err)
}

// LocalAddr returns the wrapped connection's local address.
func (w *wrappedConn) LocalAddr() net.Addr { return w.under.LocalAddr() }

// RemoteAddr returns the wrapped connection's remote address.
func (w *wrappedConn) RemoteAddr() net.Addr { return w.under.RemoteAddr() }

// translate turns the pipe's end-of-stream into the reason the session was
// reset, so that a cut never looks like an orderly close.
func (w *wrappedConn) translate(err error) error {
	if err == nil || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe)) {
		return err
	}
	if b := w.s.broken(); b != nil {
		return b
	}
	return err
}

var _ net.Conn = (*wrappedConn)(nil)
