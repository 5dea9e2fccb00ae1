package linkemu

import (
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// segmentsOf is how many segments a bulk transfer of n bytes takes.
func segmentsOf(n, mss int) int { return (n + mss - 1) / mss }

func TestThroughput(t *testing.T) {
	const n = 64 << 10
	p := Profile{Name: "t", RateBitsPerSec: 256_000, RTT: 20 * time.Millisecond}
	l := NewLink(p)
	srv := startServer(t, sink)
	px := newProxy(t, l, srv.addr())
	c := dial(t, px.Addr())
	data := randomBytes(n)
	start := time.Now()
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	_ = c.CloseWrite()
	r := waitResult(t, srv, 10*time.Second)
	elapsed := r.last.Sub(start)
	if r.err != nil || r.n != n || r.sum != sha256.Sum256(data) {
		t.Fatalf("received %d bytes, err %v, hash ok %v", r.n, r.err, r.sum == sha256.Sum256(data))
	}
	// The model: handshake (1 RTT), serialisation of payload, headers, SYN
	// and ACK, then half an RTT of propagation.
	segs := segmentsOf(n, DefaultMSS)
	wire := n + segs*TCPHeaderBytes
	model := p.RTT + txTime(wire+synBytes+TCPHeaderBytes, p.RateBitsPerSec) + p.RTT/2
	ratio := float64(elapsed) / float64(model)
	t.Logf("64 KiB at 256 kbit/s: %v, model %v, ratio %.3f", elapsed, model, ratio)
	if ratio < 0.8 || ratio > 1.5 {
		t.Errorf("elapsed %v is %.2f× the model %v", elapsed, ratio, model)
	}
	_ = c.Close()
	_ = px.Close() // counters are final once the proxy's goroutines are done
	st := l.Stats()
	up, down := st.Up, st.Down
	if up.PayloadBytes != n || up.DeliveredBytes != n || up.Segments != int64(segs) || up.Retransmits != 0 {
		t.Errorf("up: %+v; want %d payload bytes in %d segments", up, n, segs)
	}
	if up.WireBytes != up.PayloadBytes+up.Segments*TCPHeaderBytes+up.ControlBytes {
		t.Errorf("up wire bytes %d ≠ payload + headers + control %+v", up.WireBytes, up)
	}
	// Below 300 kbit/s a segment takes longer than the delayed-ACK timeout,
	// so nearly every segment is ACKed on its own.
	acks := down.ControlPackets - 3 // SYN-ACK, FIN and the ACK of the up FIN
	if acks < int64(segs)/2 || acks > int64(segs)+1 || down.WireBytes != down.ControlBytes {
		t.Errorf("down: %+v; want ≈%d ACKs", down, segs)
	}
	t.Logf("wire up %d (payload %d, %.1f%% overhead), down %d (%d control packets)",
		up.WireBytes, n, 100*float64(up.WireBytes-n)/n, down.WireBytes, down.ControlPackets)
}

func TestLatency(t *testing.T) {
	p := Profile{Name: "t", RateBitsPerSec: 1_000_000, RTT: 300 * time.Millisecond}
	l := NewLink(p)
	srv := startServer(t, echo)
	c := dial(t, newProxy(t, l, srv.addr()).Addr())
	ping := func() time.Duration {
		start := time.Now()
		if _, err := c.Write([]byte{1}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	first, second := ping(), ping()
	t.Logf("first ping (with handshake) %v, second %v, RTT %v", first, second, p.RTT)
	if first < 2*p.RTT || first > 2*p.RTT+100*time.Millisecond {
		t.Errorf("first ping %v; want ≈ 2 RTT (handshake + ping)", first)
	}
	if second < p.RTT || second > p.RTT+80*time.Millisecond {
		t.Errorf("second ping %v; want ≈ 1 RTT", second)
	}
}

// lossTransfer sends n bytes through a lossy link and returns its stats.
func lossTransfer(t *testing.T, seed int64, n int) DirStats {
	p := Profile{Name: "lossy", RateBitsPerSec: 8_000_000, RTT: 40 * time.Millisecond, Loss: 0.05}
	l := NewLink(p, WithSeed(seed))
	srv := startServer(t, sink)
	px := newProxy(t, l, srv.addr())
	c := dial(t, px.Addr())
	data := randomBytes(n)
	go func() {
		_, _ = c.Write(data)
		_ = c.CloseWrite()
	}()
	r := waitResult(t, srv, 20*time.Second)
	if r.err != nil || r.n != int64(n) || r.sum != sha256.Sum256(data) {
		t.Fatalf("received %d of %d bytes, err %v, hash ok %v", r.n, n, r.err, r.sum == sha256.Sum256(data))
	}
	_ = c.Close()
	_ = px.Close()
	return l.Stats().Up
}

func TestLoss(t *testing.T) {
	const n = 1 << 20
	a := lossTransfer(t, 42, n)
	b := lossTransfer(t, 42, n)
	rate := float64(a.Retransmits) / float64(a.Segments)
	t.Logf("5%% loss, 1 MiB: %d segments, %d retransmits (%.2f%%); second run %d",
		a.Segments, a.Retransmits, 100*rate, b.Retransmits)
	if a.Segments != int64(segmentsOf(n, DefaultMSS)) {
		t.Errorf("%d segments, want %d full ones", a.Segments, segmentsOf(n, DefaultMSS))
	}
	if rate < 0.02 || rate > 0.09 {
		t.Errorf("retransmit rate %.3f at 5%% loss", rate)
	}
	if a.Retransmits != b.Retransmits {
		t.Errorf("seed 42 gave %d then %d retransmits", a.Retransmits, b.Retransmits)
	}
	want := a.PayloadBytes + a.RetransmitBytes + (a.Segments+a.Retransmits)*TCPHeaderBytes + a.ControlBytes
	if a.WireBytes != want || a.RetransmitBytes == 0 {
		t.Errorf("wire bytes %d, want %d (retransmissions counted): %+v", a.WireBytes, want, a)
	}
}

func TestCut(t *testing.T) {
	l := NewLink(Profile{Name: "t", RateBitsPerSec: 128_000, RTT: 100 * time.Millisecond})
	srv := startServer(t, echo)
	px := newProxy(t, l, srv.addr())
	c := dial(t, px.Addr())
	go func() { _, _ = c.Write(randomBytes(64 << 10)) }() // about 4 s at 128 kbit/s
	time.AfterFunc(700*time.Millisecond, l.Cut)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.Copy(io.Discard, c)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("client read ended with %v after %d bytes; want a reset", err, got)
	}
	r := waitResult(t, srv, 2*time.Second)
	if r.err == nil {
		t.Fatal("server saw a clean EOF; a cut must look like a reset")
	}
	t.Logf("cut after %d echoed bytes: client %v; server %v", got, err, r.err)

	// While cut, a new connection is reset at once and never reaches the server.
	// The reset may even beat the dial's return.
	if c2, err := net.Dial("tcp", px.Addr()); err == nil {
		_ = c2.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c2.Read(make([]byte, 1))
		_ = c2.Close()
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("dial while cut: read %v; want a reset", err)
		}
	}
	if srv.accepted.Load() != 1 {
		t.Fatalf("server accepted %d connections; the cut one must not be dialed", srv.accepted.Load())
	}

	l.Heal()
	c3 := dial(t, px.Addr())
	if _, err := c3.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	_ = c3.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(c3, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("after Heal: %q, %v", buf, err)
	}
	st := l.Stats()
	if st.ConnsBroken != 1 || st.DialsRefused != 1 || st.Conns != 2 {
		t.Errorf("stats: broken %d, refused %d, conns %d; want 1, 1, 2", st.ConnsBroken, st.DialsRefused, st.Conns)
	}
	if st.Up.DeliveredBytes >= 64<<10 || st.Up.PayloadBytes < st.Up.DeliveredBytes {
		t.Errorf("up: %+v", st.Up)
	}
}

func TestDialerAndWrapConn(t *testing.T) {
	p := Profile{Name: "t", RateBitsPerSec: 1_000_000, RTT: 100 * time.Millisecond}
	l := NewLink(p)
	srv := startServer(t, echo)
	start := time.Now()
	c, err := l.Dialer(nil)(t.Context(), "tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if d := time.Since(start); d < p.RTT {
		t.Errorf("dial took %v; the handshake takes one RTT", d)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
	if d := time.Since(start); d < 2*p.RTT || d > 2*p.RTT+100*time.Millisecond {
		t.Errorf("dial and ping took %v; want ≈ 2 RTT", d)
	}
	if c.RemoteAddr().String() != srv.addr() {
		t.Errorf("remote address %v", c.RemoteAddr())
	}
	l.Cut()
	if _, err := c.Read(buf); !errors.Is(err, ErrLinkDown) {
		t.Fatalf("read after Cut: %v; want ErrLinkDown", err)
	}
	if _, err := l.Dialer(nil)(t.Context(), "tcp", srv.addr()); !errors.Is(err, ErrLinkDown) {
		t.Fatalf("dial while cut: %v; want ErrLinkDown", err)
	}
	raw, err := net.Dial("tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	w := l.WrapConn(raw, Up)
	defer w.Close()
	if _, err := w.Read(buf); !errors.Is(err, ErrLinkDown) {
		t.Fatalf("WrapConn while cut: %v; want ErrLinkDown", err)
	}
}

// Connections through one link share its capacity.
func TestSharedCapacity(t *testing.T) {
	const n = 32 << 10
	p := Profile{Name: "t", RateBitsPerSec: 256_000}
	l := NewLink(p)
	srv := startServer(t, sink)
	px := newProxy(t, l, srv.addr())
	start := time.Now()
	for range 2 {
		c := dial(t, px.Addr())
		go func() {
			_, _ = c.Write(randomBytes(n))
			_ = c.CloseWrite()
		}()
	}
	last := later(waitResult(t, srv, 10*time.Second).last, waitResult(t, srv, 10*time.Second).last)
	both := 2 * txTime(n+segmentsOf(n, DefaultMSS)*TCPHeaderBytes, p.RateBitsPerSec)
	elapsed := last.Sub(start)
	t.Logf("two 32 KiB connections at 256 kbit/s: %v, model %v", elapsed, both)
	if r := float64(elapsed) / float64(both); r < 0.8 || r > 1.5 {
		t.Errorf("elapsed %v is %.2f× the time to send both, %v", elapsed, r, both)
	}
}
