package linkemu

import (
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

func TestScheduleWithFakeClock(t *testing.T) {
	fc := newFakeClock()
	p := Perfect
	p.Schedule = Periodic(20*time.Second, 10*time.Second) // 10 s cuts every 30 s
	l := NewLink(p, WithClock(fc))
	steps := []struct {
		advance time.Duration
		up      bool
	}{
		{0, true}, {20*time.Second - 1, true}, {1, false}, {10*time.Second - 1, false},
		{1, true}, {20 * time.Second, false}, {10 * time.Second, true},
	}
	for i, s := range steps {
		fc.Advance(s.advance)
		if got := l.Up(); got != s.up {
			t.Fatalf("step %d (t=%v): Up() = %v, want %v", i, fc.Now().Sub(l.start), got, s.up)
		}
	}
	// Overrides: Cut and Heal win over the schedule until FollowSchedule.
	l.Cut()
	if l.Up() {
		t.Fatal("up after Cut")
	}
	fc.Advance(20 * time.Second) // scheduled down
	l.Heal()
	if !l.Up() {
		t.Fatal("down after Heal during a scheduled cut")
	}
	l.FollowSchedule()
	if l.Up() {
		t.Fatal("FollowSchedule: want the scheduled cut")
	}
}

// A connection through a link breaks when the schedule goes down, as the
// fake clock crosses the boundary.
func TestScheduleBreaksConnections(t *testing.T) {
	fc := newFakeClock()
	p := Perfect
	p.Schedule = Periodic(20*time.Second, 10*time.Second)
	l := NewLink(p, WithClock(fc))
	srv := startServer(t, echo)
	raw, err := net.Dial("tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	c := l.WrapConn(raw, Up)
	defer c.Close()
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hi" {
		t.Fatalf("echo before the cut: %q, %v", buf, err)
	}
	fc.Advance(20 * time.Second)
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(buf); !errors.Is(err, ErrLinkDown) {
		t.Fatalf("read across a scheduled cut: %v; want ErrLinkDown", err)
	}
	if r := waitResult(t, srv, 2*time.Second); r.err == nil {
		t.Fatal("server saw a clean EOF; want a reset")
	}
	if st := l.Stats(); st.ConnsBroken != 1 {
		t.Errorf("ConnsBroken = %d", st.ConnsBroken)
	}
	fc.Advance(10 * time.Second)
	if !l.Up() {
		t.Fatal("still down after the scheduled cut")
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		l := NewLink(Profile{Name: "t", RateBitsPerSec: 2_000_000, RTT: 20 * time.Millisecond, Loss: 0.02})
		srv := startServer(t, echo)
		defer srv.close()
		px, err := l.Proxy("127.0.0.1:0", srv.addr())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip := func(c net.Conn) {
			if _, err := c.Write(randomBytes(20 << 10)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, 20<<10)); err != nil {
				t.Fatal(err)
			}
		}
		closed := dial(t, px.Addr()) // used, then closed
		roundTrip(closed)
		_ = closed.Close()
		open := dial(t, px.Addr()) // left open for Close
		roundTrip(open)
		_, _ = open.Write(randomBytes(100 << 10)) // still in flight at Close
		wrapped, err := l.Dialer(nil)(t.Context(), "tcp", srv.addr())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(wrapped)
		broken := dial(t, px.Addr())
		roundTrip(broken)
		l.Cut() // breaks open, wrapped and broken
		l.Heal()
		_ = wrapped.Close()
		if err := px.Close(); err != nil {
			t.Fatal(err)
		}
		if err := px.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
