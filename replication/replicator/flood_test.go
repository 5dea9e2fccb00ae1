package replicator_test

import (
	"context"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
)

// flood opens n connections to addr from 127.0.0.2 onward (15 per source
// address) and keeps them open until stop: a third idle (nothing sent), a
// third half-open (the first bytes of a TLS ClientHello, then silence), a
// third half-closed (a partial ClientHello, then the write side shut).
// A connection the server closes is reopened after a short pause, as an
// attacker would. It returns how many connections it opened in all.
func flood(t *testing.T, addr string, n int, stop <-chan struct{}) *atomic.Int64 {
	t.Helper()
	var opened atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i/15))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{LocalAddr: src, Timeout: 2 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := d.Dial("tcp", addr)
				if err != nil {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				opened.Add(1)
				switch i % 3 {
				case 1: // a TLS record header and the start of a ClientHello
					c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01})
				case 2:
					c.Write([]byte{0x16, 0x03, 0x01})
					c.(*net.TCPConn).CloseWrite()
				}
				closed := make(chan struct{})
				go func() { c.Read(make([]byte, 1)); close(closed) }() // returns when the server closes
				select {
				case <-stop:
					c.Close()
					return
				case <-closed:
					c.Close()
					time.Sleep(200 * time.Millisecond)
				}
			}
		}()
	}
	t.Cleanup(wg.Wait)
	return &opened
}

// sessionLatency enrolls 100 records on the laptop and returns how long the
// hub took to hold them: a new contact each time (the previous session has
// closed), so dial, handshake and transfer.
func sessionLatency(t *testing.T, lap *datadir.Dir, rep *authed, hub *datadir.Dir, seed uint64) time.Duration {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // > the idle timeout: the last session ended
	want, _ := lap.Log.Head(lap.Signer.Origin())
	start := time.Now()
	enrollOn(t, lap, rep.rep, 100, seed)
	target := want.Seq + 100
	for {
		if h, _ := hub.Log.Head(lap.Signer.Origin()); h.Seq >= target {
			return time.Since(start)
		}
		if time.Since(start) > 60*time.Second {
			t.Fatalf("the hub did not get the laptop's entries in 60 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestFloodOfIdleConnectionsDoesNotStopSyncing: 400 idle, half-open and
// half-closed TCP connections from 27 other addresses, with no key, held
// open and reopened whenever the hub closes them, while a laptop on the
// roster syncs: its sessions take at most twice as long as on a quiet
// hub, the connections waiting to authenticate stay bounded, and they
// drain when the flood stops. (Before admission after authentication, 64
// such connections held every session slot for 45 s each.)
func TestFloodOfIdleConnectionsDoesNotStopSyncing(t *testing.T) {
	if testing.Short() {
		t.Skip("floods a listener for ~10 s")
	}
	prov := initDir(t, replication.RoleHub, "province", "hub-42")
	lap := initDir(t, replication.RoleNode, "", "node-a")
	addToRoster(t, prov, prov)
	addToRoster(t, prov, lap)
	anchor := roster.SignerFor(prov.Signer).PublicKey()
	bundle, err := roster.Export(prov.Log, anchor)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := live.Import(lap.Log, bundle, anchor); err != nil {
		t.Fatal(err)
	}
	hub := startAuthed(t, prov, anchor, true, nil)
	// The laptop is on a thin link (1 Mbit/s, 100 ms round trips), as in
	// the field: a session is then ~0.5 s of real work, which a flood
	// must not stretch, rather than milliseconds of scheduling noise.
	link := linkemu.NewLink(linkemu.Profile{Name: "3G-ish", RateBitsPerSec: 1_000_000, RTT: 100 * time.Millisecond}, linkemu.WithSeed(3))
	dial := link.Dialer(nil)
	laptop := startAuthed(t, lap, anchor, false, func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, "tcp", addr) }, hub.addr)
	sessionLatency(t, lap, laptop, prov, 1) // warm up: the roster, the first contact

	const rounds, floodSize = 9, 400
	var quiet, flooded []time.Duration
	for i := range rounds {
		quiet = append(quiet, sessionLatency(t, lap, laptop, prov, uint64(10+i)))
	}
	stop := make(chan struct{})
	opened := flood(t, hub.addr, floodSize, stop)
	deadline := time.Now().Add(10 * time.Second)
	for opened.Load() < floodSize && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for i := range rounds {
		flooded = append(flooded, sessionLatency(t, lap, laptop, prov, uint64(20+i)))
		if p, _ := hub.rep.Admission(); p > 256 {
			t.Errorf("%d connections waiting to authenticate, bound 256", p)
		}
	}
	pending, evicted := hub.rep.Admission()
	close(stop)
	drained := time.Now().Add(3 * time.Second)
	for p, _ := hub.rep.Admission(); p > 0; p, _ = hub.rep.Admission() {
		if time.Now().After(drained) {
			t.Fatalf("%d connections still pending 3 s after the flood stopped", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
	q, f := median(quiet), median(flooded)
	t.Logf("session latency, median of %d: quiet %v, under a flood of %d connections %v (%.2fx); flood opened %d connections, %d pending at the end, %d evicted",
		rounds, q.Round(time.Millisecond), floodSize, f.Round(time.Millisecond), float64(f)/float64(q), opened.Load(), pending, evicted)
	t.Logf("quiet %v; flooded %v", quiet, flooded)
	if opened.Load() < floodSize {
		t.Fatalf("the flood opened only %d connections", opened.Load())
	}
	if raceEnabled {
		return // the race detector makes every handshake 5-10x slower: a flood then measures the CPU
	}
	if f > 2*q {
		t.Fatalf("under the flood sessions took %v (median), more than twice the quiet %v", f, q)
	}
}
