package gossip

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"fieldsync/replication"
)

// testKey returns a deterministic 32-byte pool key.
func testKey(i byte) []byte { return bytes.Repeat([]byte{i + 1}, KeySize) }

// testLogger discards logs unless GOSSIP_TEST_LOG is set (memberlist
// goroutines may log after a test ends, so t.Log cannot be used).
func testLogger() *slog.Logger {
	if os.Getenv("GOSSIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// localConfig is a ProfileLocal member on loopback, encrypted, with
// memberlist's timings scaled down for fast tests.
func localConfig(name string, seeds ...string) Config {
	return Config{
		Name:      name,
		Pool:      "test/pool",
		BindAddr:  "127.0.0.1",
		SecretKey: testKey(0),
		Profile:   ProfileLocal,
		Meta:      Meta{Role: replication.RoleNode, Unit: "445", SyncAddr: "127.0.0.1:9"},
		Seeds:     seeds,
		Logger:    testLogger(),
		tune:      fastTimings,
	}
}

// fastTimings makes failure detection and reaping take about a second.
func fastTimings(c *memberlist.Config) {
	c.ProbeInterval = 100 * time.Millisecond
	c.ProbeTimeout = 50 * time.Millisecond
	c.SuspicionMult = 2
	c.SuspicionMaxTimeoutMult = 2
	c.GossipInterval = 20 * time.Millisecond
	c.GossipToTheDeadTime = 500 * time.Millisecond
	c.PushPullInterval = 0 // as in the field: only joins push/pull
	c.DeadNodeReclaimTime = 300 * time.Millisecond
	c.TCPTimeout = time.Second
	c.RetransmitMult = 4 // as in the field and LAN profiles
}

func startPool(t testing.TB, cfg Config) *Pool {
	t.Helper()
	p, err := Start(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
}

// seedOf returns "name/addr" for joining p.
func seedOf(p *Pool) string { return p.Name() + "/" + p.LocalAddr() }

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// stateOf returns the state p reports for member name ("" if unknown).
func stateOf(p *Pool, name string) string {
	for _, m := range p.Members() {
		if m.Name == name {
			return m.State
		}
	}
	return ""
}

// aliveNames returns the names p lists as alive.
func aliveNames(p *Pool) []string {
	var out []string
	for _, m := range p.Members() {
		if m.State == StateAlive {
			out = append(out, m.Name)
		}
	}
	return out
}

func seesAlive(p *Pool, names ...string) bool {
	alive := aliveNames(p)
	for _, n := range names {
		if !slices.Contains(alive, n) {
			return false
		}
	}
	return true
}

// memPeers is an in-memory PeerStore.
type memPeers struct {
	mu    sync.Mutex
	peers map[string]KnownPeer
	saves int
}

func newMemPeers(ps ...KnownPeer) *memPeers {
	m := &memPeers{peers: make(map[string]KnownPeer)}
	for _, p := range ps {
		m.peers[p.Name] = p
	}
	return m
}

func (m *memPeers) LoadPeers() ([]KnownPeer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []KnownPeer
	for _, p := range m.peers {
		out = append(out, p)
	}
	return out, nil
}

func (m *memPeers) SavePeer(p KnownPeer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.peers[p.Name] = p
	m.saves++
	return nil
}

func (m *memPeers) get(name string) (KnownPeer, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.peers[name]
	return p, ok
}

// origin returns a deterministic origin ID.
func origin(i int) replication.OriginID {
	var o replication.OriginID
	copy(o[:], fmt.Sprintf("origin-%09d", i))
	return o
}

// head returns a head of origin i at seq with a hash derived from both.
func head(i int, seq uint64) replication.OriginHead {
	var h replication.Hash
	copy(h[:], fmt.Sprintf("h%03d-%08d-tail-not-gossiped", i, seq))
	return replication.OriginHead{Origin: origin(i), Head: replication.Head{Seq: seq, Hash: h}}
}
