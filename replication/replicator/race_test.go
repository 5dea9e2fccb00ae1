package replicator_test

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
)

// fakePool is a gossip pool under the test's control: it records every
// announcement, slowly (as a real pool encoding metadata may be), and
// offers one member whose name it can change.
type fakePool struct {
	mu        sync.Mutex
	announced []uint64 // total entries of each vector announced, in order
	last      replication.Vector
	member    replicator.Member
	changed   chan struct{}
}

func newFakePool() *fakePool { return &fakePool{changed: make(chan struct{}, 1)} }

func (p *fakePool) Members() []replicator.Member {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.member.SyncAddr == "" {
		return nil
	}
	return []replicator.Member{p.member}
}

func (p *fakePool) Changed() <-chan struct{} { return p.changed }

func (p *fakePool) Announce(v replication.Vector) {
	time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.announced = append(p.announced, v.Total())
	p.last = v.Clone()
}

func (p *fakePool) setMember(m replicator.Member) {
	p.mu.Lock()
	p.member = m
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// TestWakeAnnouncesInOrder: Wake used to start one goroutine per call to
// announce the heads, so an announcement of older heads could overtake a
// newer one and leave the pool advertising what the replica no longer is.
// Announcements must follow the log: never go back, and end on its heads.
func TestWakeAnnouncesInOrder(t *testing.T) {
	d := initDir(t, replication.RoleNode, "", "node-a")
	pool := newFakePool()
	rep, err := replicator.New(replicator.Config{Dir: d, Pools: []replicator.Pool{pool}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rep.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if w == 0 {
					draft := replication.Draft{Kind: replication.KindEnroll, Schema: 1, Payload: []byte(`{}`), HLC: replication.MakeHLC(int64(1e12+i), 0)}
					if _, err := d.Log.Append(d.Signer, []replication.Draft{draft}); err != nil {
						t.Error(err)
						return
					}
				}
				rep.Wake()
			}
		})
	}
	wg.Wait()
	want, _ := d.Log.Vector()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pool.mu.Lock()
		last, announced := pool.last, append([]uint64(nil), pool.announced...)
		pool.mu.Unlock()
		for i := 1; i < len(announced); i++ {
			if announced[i] < announced[i-1] {
				t.Fatalf("announcement %d went back from %d to %d entries: an older announcement overtook a newer one", i, announced[i-1], announced[i])
			}
		}
		if last.Digest() == want.Digest() {
			t.Logf("%d announcements for 200 wakes", len(announced))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pool was last told %d entries, the log holds %d", last.Total(), want.Total())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTargetRenamedWhileDialing: a pool may rename a target (gossip
// learns its name) while its dial loop reads the name; `go test -race`
// caught the dial loop reading it without the lock. The dial failures
// are still recorded against the peer.
func TestTargetRenamedWhileDialing(t *testing.T) {
	d := initDir(t, replication.RoleNode, "", "node-a")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every contact fails at once
	pool := newFakePool()
	rep, err := replicator.New(replicator.Config{Dir: d, Pools: []replicator.Pool{pool},
		Session:    syncnet.Options{TickEvery: 50 * time.Millisecond, IdleTimeout: 100 * time.Millisecond},
		MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, WakeDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rep.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	names := []string{"hub-a", "hub-b"}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		pool.setMember(replicator.Member{Name: names[i%2], SyncAddr: addr, Role: replication.RoleHub, Tier: "district", Unit: "445"})
		time.Sleep(time.Millisecond)
		peers, err := rep.Peers()
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, p := range peers {
			if p.LastError != "" {
				failed++
			}
		}
		if i >= 200 && failed > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d renames no failed dial was recorded against the peer (%d peers)", i, len(peers))
		}
	}
}
