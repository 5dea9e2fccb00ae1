package replicator_test

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/synctls"
)

// authed is a replica whose sessions run over mutual TLS with its roster.
type authed struct {
	dir      *datadir.Dir
	book     *live.Roster
	rep      *replicator.Replicator
	addr     string
	failures atomic.Int64 // sessions that ended in an error
}

func startAuthed(t *testing.T, d *datadir.Dir, anchor []byte, listen bool, dial func(context.Context, string) (net.Conn, error), static ...string) *authed {
	t.Helper()
	rb, err := live.Load(anchor, d.Log)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := synctls.New(d.Signer, rb.AuthorizePeer)
	if err != nil {
		t.Fatal(err)
	}
	a := &authed{dir: d, book: rb}
	cfg := replicator.Config{Dir: d, Static: static, Dial: dial, Auth: auth, Verifier: rb,
		Session:    syncnet.Options{TickEvery: 100 * time.Millisecond, IdleTimeout: 300 * time.Millisecond},
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, WakeDelay: 20 * time.Millisecond, RedialEvery: time.Hour,
		OnIngest: func(_ string, res oplog.IngestResult) { rb.Observe(res.Applied) },
		OnSessionEnd: func(_ string, err error) {
			if err != nil {
				a.failures.Add(1)
			}
		}}
	if listen {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Listener, a.addr = ln, ln.Addr().String()
	}
	if a.rep, err = replicator.New(cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.rep.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

func initDir(t *testing.T, role replication.Role, tier, name string) *datadir.Dir {
	t.Helper()
	d, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: role, Tier: tier, Unit: "18586", Name: name}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func addToRoster(t *testing.T, prov *datadir.Dir, d *datadir.Dir) {
	t.Helper()
	c := d.Config
	dr, err := roster.AddDraft(roster.Add{Key: d.Signer.PublicKey(), Role: c.Role, Tier: c.Tier, Units: []string{c.Unit}, Name: c.Name}, replication.MakeHLC(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roster.Write(prov.Log, prov.Signer, "province", "42", dr); err != nil {
		t.Fatal(err)
	}
}

func enrollOn(t *testing.T, d *datadir.Dir, rep *replicator.Replicator, n int, seed uint64) {
	t.Helper()
	nd, err := node.New(d, node.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := synthtest.Enrollments(t, synth.Config{Count: n, Seed: seed})
	for i := 0; i < len(recs); i += node.MaxGroupRecords {
		if _, err := nd.EnrollBatch(recs[i:min(len(recs), i+node.MaxGroupRecords)]); err != nil {
			t.Fatal(err)
		}
	}
	rep.Wake()
}

// TestAuthenticatedSessions: a laptop on the province's roster syncs over
// mutual TLS; a laptop that holds a valid key but is not on the roster is
// refused at the handshake and nothing of it reaches the hub; a proxy that
// flips bits in the laptop's stream breaks the session, and the hub holds
// nothing but the laptop's own entries, byte for byte.
func TestAuthenticatedSessions(t *testing.T) {
	prov := initDir(t, replication.RoleHub, "province", "hub-42")
	lap := initDir(t, replication.RoleNode, "", "node-a")
	stranger := initDir(t, replication.RoleNode, "", "node-x")
	addToRoster(t, prov, prov)
	addToRoster(t, prov, lap)
	anchor := roster.SignerFor(prov.Signer).PublicKey()
	bundle, err := roster.Export(prov.Log, anchor)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*datadir.Dir{lap, stranger} { // both know the hub's key
		if _, _, err := live.Import(d.Log, bundle, anchor); err != nil {
			t.Fatal(err)
		}
	}

	hub := startAuthed(t, prov, anchor, true, nil)
	var flips atomic.Int64
	mitm := tamperingProxy(t, hub.addr, &flips)
	bad := startAuthed(t, lap, anchor, false, nil, mitm)
	enrollOn(t, lap, bad.rep, 300, 1)
	x := startAuthed(t, stranger, anchor, false, nil, hub.addr)
	enrollOn(t, stranger, x.rep, 50, 2)

	// The loop ends as soon as both have failed twice (about a second);
	// the deadline only bounds a machine slowed down by load or -race.
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) && (bad.failures.Load() < 2 || x.failures.Load() < 2) {
		time.Sleep(50 * time.Millisecond)
	}
	if bad.failures.Load() < 2 || x.failures.Load() < 2 || flips.Load() == 0 {
		t.Fatalf("sessions through the tampering proxy failed %d times (%d flips), the stranger's %d times", bad.failures.Load(), flips.Load(), x.failures.Load())
	}
	if h, _ := prov.Log.Head(stranger.Signer.Origin()); h.Seq != 0 {
		t.Fatalf("the hub holds %d entries of a device not on the roster", h.Seq)
	}
	// Whatever crossed the proxy before a flip was authentic: every entry
	// of the laptop the hub holds is the laptop's own.
	err = prov.Log.Scan(lap.Signer.Origin(), 1, func(e replication.Entry) bool {
		mine, err := lap.Log.Get(e.ID())
		if err != nil || mine.Hash() != e.Hash() {
			t.Fatalf("the hub holds %s, which the laptop did not write", e.ID())
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}

	// Directly, the laptop's sessions are authenticated and complete.
	good := startAuthed(t, lap, anchor, false, nil, hub.addr)
	good.rep.Wake()
	waitHolds(t, &replica{dir: prov}, lap.Signer.Origin(), 301)
	t.Logf("tampered sessions failed %d times (%d bits flipped); the stranger was refused %d times; direct sync complete", bad.failures.Load(), flips.Load(), x.failures.Load())
}

// tamperingProxy forwards to target and, past the first 3 KB of each
// connection (the handshake), flips one bit in every 4 KB from the dialer.
func tamperingProxy(t *testing.T, target string, flips *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			wg.Go(func() { io.Copy(c, s); c.Close() })
			wg.Go(func() {
				defer s.Close()
				buf := make([]byte, 4096)
				total := 0
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if total += n; total > 3000 {
							buf[n-1] ^= 0x04
							flips.Add(1)
						}
						if _, err := s.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String()
}
