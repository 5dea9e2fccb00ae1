package simnet_test

import (
	"fmt"
	"hash/fnv"
	"testing"

	"fieldsync/internal/simnet"
)

func newNet(seed uint64, names ...string) *simnet.Network {
	n := simnet.New(seed)
	for _, name := range names {
		n.AddNode(name)
	}
	return n
}

// drain delivers everything in flight, advancing the clock as needed.
func drain(n *simnet.Network) []simnet.Message {
	var out []simnet.Message
	for {
		m, ok := n.Step()
		if !ok {
			return out
		}
		out = append(out, m)
	}
}

func sendN(n *simnet.Network, from, to string, k int) {
	for i := range k {
		n.Send(from, to, []byte(fmt.Sprintf("%s>%s#%d", from, to, i)))
	}
}

func TestPerfectLinkDeliversInOrderAndCopies(t *testing.T) {
	n := newNet(1, "a", "b")
	p := []byte("hello")
	n.Send("a", "b", p)
	p[0] = 'X' // the network holds its own copy
	sendN(n, "a", "b", 5)
	got := drain(n)
	if len(got) != 6 || string(got[0].Payload) != "hello" {
		t.Fatalf("got %d messages, first %q", len(got), got[0].Payload)
	}
	for i, m := range got[1:] {
		if want := fmt.Sprintf("a>b#%d", i); string(m.Payload) != want || m.From != "a" || m.To != "b" {
			t.Fatalf("message %d: %s→%s %q, want %q", i, m.From, m.To, m.Payload, want)
		}
	}
	if st := n.Stats(); st.Sent != 6 || st.Delivered != 6 || st.DeliveredBytes != st.SentBytes {
		t.Fatalf("stats %v", st)
	}
}

func TestDropLosesAboutTheRateAndCountsIt(t *testing.T) {
	n := newNet(2, "a", "b")
	n.Drop("a", "b", 0.3)
	sendN(n, "a", "b", 1000)
	sendN(n, "b", "a", 100) // the other direction is perfect
	got := drain(n)
	st := n.LinkStats("a", "b")
	if st.Dropped < 250 || st.Dropped > 350 {
		t.Fatalf("dropped %d of 1000 at p=0.3", st.Dropped)
	}
	if back := n.LinkStats("b", "a"); back.Dropped != 0 || back.Delivered != 100 {
		t.Fatalf("reverse link %v", back)
	}
	if all := n.Stats(); all.Sent != all.Delivered+all.Dropped || len(got) != all.Delivered {
		t.Fatalf("accounting: %v, %d delivered", all, len(got))
	}
}

func TestDuplicateDeliversTwiceWithTheSameID(t *testing.T) {
	n := newNet(3, "a", "b")
	n.Duplicate("a", "b", 1)
	sendN(n, "a", "b", 10)
	got := drain(n)
	if len(got) != 20 {
		t.Fatalf("got %d, want 20", len(got))
	}
	seen := map[uint64]int{}
	dups := 0
	for _, m := range got {
		seen[m.ID]++
		if m.Duplicate {
			dups++
		}
	}
	if len(seen) != 10 || dups != 10 || n.Stats().Duplicated != 10 {
		t.Fatalf("ids %v, %d duplicates, stats %v", seen, dups, n.Stats())
	}
}

func TestDelayHoldsMessagesUntilDueAndStaysFIFO(t *testing.T) {
	n := newNet(4, "a", "b")
	n.Delay("a", "b", 3, 9)
	sendN(n, "a", "b", 50)
	if _, ok := n.DeliverNext(); ok {
		t.Fatal("a message was delivered before its minimum delay")
	}
	n.AdvanceTo(2)
	if _, ok := n.DeliverNext(); ok {
		t.Fatal("a message was delivered before its minimum delay")
	}
	got := drain(n)
	for i, m := range got {
		if want := fmt.Sprintf("a>b#%d", i); string(m.Payload) != want {
			t.Fatalf("jitter reordered the link: message %d is %q", i, m.Payload)
		}
		if m.DeliverAt < m.SentAt+3 || m.DeliverAt > n.Now() {
			t.Fatalf("message %d sent %d delivered at %d (now %d)", i, m.SentAt, m.DeliverAt, n.Now())
		}
	}
}

func TestReorderLetsLaterMessagesOvertake(t *testing.T) {
	n := newNet(5, "a", "b")
	n.Reorder("a", "b", 0.3, 5)
	sendN(n, "a", "b", 200)
	got := drain(n)
	inversions := 0
	for i := 1; i < len(got); i++ {
		if got[i].ID < got[i-1].ID {
			inversions++
		}
	}
	if len(got) != 200 || inversions == 0 || n.Stats().Reordered == 0 {
		t.Fatalf("%d delivered, %d inversions", len(got), inversions)
	}
}

func TestCutLosesInFlightAndLaterSendsUntilHealed(t *testing.T) {
	n := newNet(6, "a", "b", "c")
	n.Delay("a", "b", 2, 2)
	sendN(n, "a", "b", 3)
	sendN(n, "a", "c", 2)
	n.Cut("a", "b")
	sendN(n, "b", "a", 4) // dropped: the cut is both ways
	if !n.IsCut("a", "b") || !n.IsCut("b", "a") || n.IsCut("a", "c") {
		t.Fatal("cut state wrong")
	}
	got := drain(n)
	if len(got) != 2 || got[0].To != "c" {
		t.Fatalf("delivered %v", got)
	}
	if st := n.Stats(); st.Cut != 7 {
		t.Fatalf("cut count %d, want 3 in flight + 4 sent while cut", st.Cut)
	}
	n.Heal("a", "b")
	sendN(n, "a", "b", 1)
	if got := drain(n); len(got) != 1 {
		t.Fatalf("after heal delivered %d", len(got))
	}
}

func TestCutOneWay(t *testing.T) {
	n := newNet(7, "a", "b")
	n.CutOneWay("a", "b")
	sendN(n, "a", "b", 2)
	sendN(n, "b", "a", 2)
	got := drain(n)
	if len(got) != 2 || got[0].From != "b" {
		t.Fatalf("delivered %v", got)
	}
}

func TestIsolateAndRejoin(t *testing.T) {
	n := newNet(8, "a", "b", "c")
	n.Isolate("a")
	sendN(n, "a", "b", 1)
	sendN(n, "c", "a", 1)
	sendN(n, "b", "c", 1)
	if got := drain(n); len(got) != 1 || got[0].From != "b" {
		t.Fatalf("delivered %v", got)
	}
	n.Rejoin("a")
	sendN(n, "a", "b", 1)
	if got := drain(n); len(got) != 1 {
		t.Fatalf("after rejoin delivered %d", len(got))
	}
}

func TestPartitionCutsOnlyAcrossGroups(t *testing.T) {
	n := newNet(9, "l1", "l2", "h1", "h2")
	n.Partition([]string{"l1", "l2"}, []string{"h1", "h2"})
	for _, p := range [][2]string{{"l1", "l2"}, {"h1", "h2"}, {"l1", "h1"}, {"l2", "h2"}, {"h2", "l1"}} {
		n.Send(p[0], p[1], []byte(p[0]+p[1]))
	}
	got := drain(n)
	if len(got) != 2 {
		t.Fatalf("delivered %d, want the 2 inside the groups", len(got))
	}
	n.HealAll()
	n.Send("l1", "h1", nil)
	if got := drain(n); len(got) != 1 {
		t.Fatal("HealAll left a cut")
	}
}

func TestPurgeResetsWithoutCutting(t *testing.T) {
	n := newNet(10, "a", "b")
	n.Delay("a", "b", 1, 1)
	sendN(n, "a", "b", 3)
	if lost := n.Purge("a", "b"); lost != 3 {
		t.Fatalf("purged %d", lost)
	}
	sendN(n, "a", "b", 1)
	if got := drain(n); len(got) != 1 {
		t.Fatalf("delivered %d", len(got))
	}
}

func TestConfigurePanicsOnNonsense(t *testing.T) {
	n := newNet(11, "a", "b")
	for _, c := range []simnet.LinkConfig{{Drop: 1.5}, {Duplicate: -0.1}, {MinDelay: 3, MaxDelay: 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Configure(%+v) did not panic", c)
				}
			}()
			n.Configure("a", "b", c)
		}()
	}
	defer func() {
		if recover() == nil {
			t.Error("sending to an unregistered node did not panic")
		}
	}()
	n.Send("a", "nobody", nil)
}

// trace runs a fixed, faulty workload and hashes what was delivered.
func trace(seed uint64) uint64 {
	n := newNet(seed, "a", "b", "c")
	n.ConfigureAll(simnet.LinkConfig{Drop: 0.1, Duplicate: 0.1, MinDelay: 0, MaxDelay: 3, Reorder: 0.2, ReorderTicks: 4})
	h := fnv.New64a()
	for round := range 50 {
		sendN(n, "a", "b", 2)
		sendN(n, "b", "c", 2)
		sendN(n, "c", "a", 1)
		n.Tick()
		for {
			m, ok := n.DeliverNext()
			if !ok {
				break
			}
			fmt.Fprintf(h, "%d %s %s %d %s;", round, m.From, m.To, m.ID, m.Payload)
		}
	}
	return h.Sum64()
}

func TestSameSeedSameDeliveries(t *testing.T) {
	if a, b := trace(42), trace(42); a != b {
		t.Fatal("the same seed gave two different traces")
	}
	if trace(42) == trace(43) {
		t.Fatal("two seeds gave the same trace")
	}
}

func TestInterleavingAcrossLinksVariesWithSeed(t *testing.T) {
	firsts := map[string]bool{}
	for seed := range uint64(20) {
		n := newNet(seed, "a", "b", "c")
		n.Send("a", "c", []byte("a"))
		n.Send("b", "c", []byte("b"))
		m, _ := n.DeliverNext()
		firsts[m.From] = true
	}
	if len(firsts) != 2 {
		t.Fatalf("over 20 seeds the first delivery always came from %v", firsts)
	}
}

func TestOverflowIsBoundedAndCounted(t *testing.T) {
	n := newNet(12, "a", "b")
	n.Delay("a", "b", 1, 1)
	for range simnet.MaxInFlight + 5 {
		n.Send("a", "b", nil)
	}
	if n.InFlight() != simnet.MaxInFlight || n.Stats().Overflow != 5 {
		t.Fatalf("in flight %d, overflow %d", n.InFlight(), n.Stats().Overflow)
	}
}
