package linkemu

import (
	"crypto/sha256"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server is a loopback TCP server running handle on each connection and
// reporting what handle returns on results.
type server struct {
	ln       net.Listener
	accepted atomic.Int32
	results  chan result
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

// result is what a server connection saw.
type result struct {
	err  error    // the read error that ended it; nil for a clean EOF
	n    int64    // bytes read
	sum  [32]byte // SHA-256 of the bytes read
	last time.Time
}

func startServer(t *testing.T, handle func(net.Conn) result) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ln: ln, results: make(chan result, 16)}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Go(func() {
				r := handle(c)
				_ = c.Close()
				s.results <- r
			})
		}
	})
	t.Cleanup(s.close)
	return s
}

func (s *server) addr() string { return s.ln.Addr().String() }

func (s *server) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// echo copies a connection back to itself.
func echo(c net.Conn) result {
	n, err := io.Copy(c, c)
	return result{err: err, n: n}
}

// sink reads a connection to its end, hashing what it reads.
func sink(c net.Conn) result {
	h := sha256.New()
	buf := make([]byte, 32<<10)
	var r result
	for {
		n, err := c.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			r.n += int64(n)
			r.last = time.Now()
		}
		if err != nil {
			if err != io.EOF {
				r.err = err
			}
			break
		}
	}
	copy(r.sum[:], h.Sum(nil))
	return r
}

func waitResult(t *testing.T, s *server, within time.Duration) result {
	t.Helper()
	select {
	case r := <-s.results:
		return r
	case <-time.After(within):
		t.Fatalf("server connection did not end within %v", within)
	}
	return result{}
}

func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

func newProxy(t *testing.T, l *Link, target string) *Proxy {
	t.Helper()
	p, err := l.Proxy("127.0.0.1:0", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
