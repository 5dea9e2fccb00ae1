package linkemu

import (
	"testing"
	"time"
)

func TestPacketDelayAndCounting(t *testing.T) {
	fc := newFakeClock()
	l := NewLink(Bench128k, WithClock(fc))
	// 100 + 28 bytes at 128 kbit/s = 8 ms, then half of 300 ms.
	for i, want := range []time.Duration{158 * time.Millisecond, 166 * time.Millisecond} {
		d, ok := l.Packet(Up, 100)
		if !ok || d != want {
			t.Errorf("packet %d: %v, %v; want %v", i, d, ok, want)
		}
	}
	if d, ok := l.Packet(Down, 100); !ok || d != 158*time.Millisecond {
		t.Errorf("down packet: %v, %v; directions must not share a queue", d, ok)
	}
	fc.Advance(time.Second)
	if d, _ := l.Packet(Up, 100); d != 158*time.Millisecond {
		t.Errorf("after the queue drained: %v", d)
	}
	st := l.Stats()
	if st.Up.Packets != 3 || st.Up.WireBytes != 3*128 || st.Up.PacketPayloadBytes != 300 || st.Up.PacketsDropped != 0 {
		t.Errorf("up stats %+v", st.Up)
	}
	if st.Down.WireBytes != 128 {
		t.Errorf("down wire bytes %d, want 128", st.Down.WireBytes)
	}
}

func TestPacketFragments(t *testing.T) {
	l := NewLink(Perfect)
	if _, ok := l.Packet(Up, 3000); !ok {
		t.Fatal("dropped")
	}
	// 3008 UDP bytes in 3 fragments of ≤1480: 3000 + 28 + 2×20.
	if got := l.Stats().Up.WireBytes; got != 3068 {
		t.Errorf("wire bytes %d, want 3068", got)
	}
	if _, ok := l.Packet(Up, maxUDPPayload+1); ok {
		t.Error("oversized datagram accepted")
	}
}

func TestPacketOverflow(t *testing.T) {
	l := NewLink(Bench128k, WithClock(newFakeClock()))
	sent := 0
	for range 1000 {
		if _, ok := l.Packet(Up, 1000); ok {
			sent++
		}
	}
	st := l.Stats().Up
	if sent == 0 || sent*1028 > maxPacketQueueBytes || st.PacketsOverflow != int64(1000-sent) {
		t.Errorf("sent %d, stats %+v", sent, st)
	}
}

func lossRun(seed int64) DirStats {
	p := Perfect
	p.Loss = 0.1
	l := NewLink(p, WithSeed(seed))
	for range 10000 {
		l.Packet(Down, 100)
	}
	return l.Stats().Down
}

func TestPacketLoss(t *testing.T) {
	a, b := lossRun(3), lossRun(3)
	t.Logf("10%% loss: %d of 10000 lost", a.PacketsLost)
	if a.PacketsLost < 800 || a.PacketsLost > 1200 {
		t.Errorf("lost %d of 10000 at 10%%", a.PacketsLost)
	}
	if a != b {
		t.Errorf("same seed, different stats: %+v vs %+v", a, b)
	}
	if a.WireBytes != 10000*128 || a.PacketsDropped != a.PacketsLost {
		t.Errorf("lost packets must still cost wire bytes: %+v", a)
	}
}

func TestPacketCut(t *testing.T) {
	l := NewLink(Perfect)
	l.Cut()
	for range 10 {
		if _, ok := l.Packet(Up, 100); ok {
			t.Fatal("packet delivered while cut")
		}
	}
	l.Heal()
	if _, ok := l.Packet(Up, 100); !ok {
		t.Fatal("packet dropped after Heal")
	}
	st := l.Stats().Up
	if st.PacketsCut != 10 || st.PacketsDropped != 10 || st.WireBytes != 128 {
		t.Errorf("stats %+v", st)
	}
}
