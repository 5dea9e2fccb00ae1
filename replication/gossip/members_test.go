package gossip

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// stepClock is a clock the test moves by hand.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }
func (c *stepClock) NewTimer(time.Duration) (<-chan time.Time, func() bool) {
	return make(chan time.Time), func() bool { return true }
}

// TestMembersReadsWithoutWriting: Members reports an alive member as seen
// now and a dead one as seen when it died, and a read changes nothing in
// the table (it used to stamp every alive member's lastSeen).
func TestMembersReadsWithoutWriting(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clk := &stepClock{now: t0}
	meta, err := encodeMeta(Meta{})
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(Config{Name: "self", Pool: "p", Clock: clk}, meta)
	node := &memberlist.Node{Name: "hub", Addr: net.IPv4(127, 0, 0, 1), Port: 7946, Meta: meta}
	p.observe(node, StateAlive)

	clk.now = t0.Add(time.Hour)
	for range 3 {
		if ms := p.Members(); len(ms) != 1 || !ms[0].LastSeen.Equal(clk.now) {
			t.Fatalf("alive member: %+v, want seen now", ms)
		}
	}
	if got := p.mu.members["hub"].lastSeen; !got.Equal(t0) {
		t.Fatalf("Members wrote lastSeen %v (the event said %v)", got, t0)
	}

	died := t0.Add(2 * time.Hour)
	clk.now = died
	p.observe(node, StateDead)
	clk.now = t0.Add(5 * time.Hour)
	if ms := p.Members(); len(ms) != 1 || ms[0].State != StateDead || !ms[0].LastSeen.Equal(died) {
		t.Fatalf("dead member: %+v, want last seen when it died (%v)", ms, died)
	}
}
