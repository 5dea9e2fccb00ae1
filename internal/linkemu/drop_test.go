package linkemu

import (
	"io"
	"testing"
	"time"
)

func TestResumeAfterDoublesTheTimer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		healed, want time.Duration // after t0
	}{
		{0, time.Second},
		{time.Second, time.Second},
		{2 * time.Second, 3 * time.Second},
		{100 * time.Second, 127 * time.Second},
		{120 * time.Second, 127 * time.Second},
		{130 * time.Second, 247 * time.Second}, // the timer stops doubling at 120 s
	} {
		if got := resumeAfter(t0, t0.Add(tc.healed)).Sub(t0); got != tc.want {
			t.Errorf("healed at +%v: resumes at +%v, want +%v", tc.healed, got, tc.want)
		}
	}
}

// TestDropIsSilent: during a silent cut nothing crosses and nothing is
// reset; after it, a stalled direction resumes at its retransmission
// timer, and a dial waits for a SYN retry that finds the link back.
func TestDropIsSilent(t *testing.T) {
	p := Profile{Name: "t", RateBitsPerSec: 1_000_000, RTT: 50 * time.Millisecond}
	l := NewLink(p)
	srv := startServer(t, echo)
	c, err := l.Dialer(nil)(t.Context(), "tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.Drop()
	dropped := time.Now()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatalf("a write into a silent link fails: %v", err)
	}
	// A dial during the silence waits for the link (its SYN retries).
	dialed := make(chan time.Duration, 1)
	go func() {
		d, err := l.Dialer(nil)(t.Context(), "tcp", srv.addr())
		if err != nil {
			t.Error(err)
			dialed <- 0
			return
		}
		d.Close()
		dialed <- time.Since(dropped)
	}()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4)
	if _, err := c.Read(buf); err == nil {
		t.Fatal("data crossed a silent link")
	}
	l.Heal() // at ~2 s: the stalled write resumes at +3 s (1 s, then 2 s more)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("after the silence: %q %v (the connection must survive it)", buf, err)
	}
	if d := time.Since(dropped); d < 2900*time.Millisecond || d > 3600*time.Millisecond {
		t.Errorf("the stalled write arrived %v after the cut; want ≈ 3 s (its retransmission timer)", d)
	}
	if d := <-dialed; d < 2900*time.Millisecond || d > 3600*time.Millisecond {
		t.Errorf("the dial begun during the silence connected %v after the cut; want ≈ 3 s (its third SYN)", d)
	}
	if st := l.Stats(); st.ConnsBroken != 0 {
		t.Errorf("a silent cut broke %d connections", st.ConnsBroken)
	}
}
