package replicator_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
)

type replica struct {
	dir  *datadir.Dir
	rep  *replicator.Replicator
	node *node.Node
	addr string
	stop func()
	done chan struct{}
}

// start opens (or creates) a replica in path and runs its replicator.
func start(t *testing.T, path string, role replication.Role, tier, name string, listen bool, static ...string) *replica {
	t.Helper()
	return startVia(t, path, role, tier, name, listen, nil, static...)
}

// startVia is start with a dial function (a link emulator's).
func startVia(t *testing.T, path string, role replication.Role, tier, name string, listen bool,
	dial func(ctx context.Context, addr string) (net.Conn, error), static ...string) *replica {
	t.Helper()
	d, err := datadir.Open(path, datadir.OpenOptions{})
	if err != nil {
		d, err = datadir.Init(path, datadir.InitOptions{Config: datadir.Config{Role: role, Tier: tier, Unit: "18586", Name: name}})
		if err != nil {
			t.Fatal(err)
		}
	}
	r := &replica{dir: d, done: make(chan struct{})}
	cfg := replicator.Config{Dir: d, Static: static, Dial: dial,
		Session:    syncnet.Options{TickEvery: 100 * time.Millisecond, IdleTimeout: 300 * time.Millisecond},
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, WakeDelay: 20 * time.Millisecond, RedialEvery: time.Hour,
		Blobs: &replicator.BlobConfig{Refs: dossier.RefsOf}}
	if listen {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Listener, r.addr = ln, ln.Addr().String()
	}
	if r.rep, err = replicator.New(cfg); err != nil {
		t.Fatal(err)
	}
	if role == replication.RoleNode {
		if r.node, err = node.New(d, node.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.rep.Run(ctx); close(r.done) }()
	r.stop = func() { cancel(); <-r.done; d.Close() }
	return r
}

func (r *replica) enroll(t *testing.T, recs []enrollment.Enrollment) {
	t.Helper()
	for i := 0; i < len(recs); i += node.MaxGroupRecords {
		if _, err := r.node.EnrollBatch(recs[i:min(len(recs), i+node.MaxGroupRecords)]); err != nil {
			t.Fatal(err)
		}
	}
	r.rep.Wake()
}

// waitHolds waits until r holds origin o up to seq.
func waitHolds(t *testing.T, r *replica, o replication.OriginID, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if h, _ := r.dir.Log.Head(o); h.Seq >= seq {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h, _ := r.dir.Log.Head(o)
	t.Fatalf("%s holds %s up to %d, want %d", r.dir.Config.Name, o.Short(), h.Seq, seq)
}

func TestLaptopReachesHubAndStatusShowsIt(t *testing.T) {
	hub := start(t, t.TempDir(), replication.RoleHub, "district", "hub-445", true)
	defer hub.stop()
	lap := start(t, t.TempDir(), replication.RoleNode, "", "node-a", false, hub.addr)
	defer lap.stop()
	lap.enroll(t, synthtest.Enrollments(t, synth.Config{Count: 300, Seed: 1}))
	waitHolds(t, hub, lap.dir.Signer.Origin(), 301)
	time.Sleep(500 * time.Millisecond) // the session ends idle and persists its state
	peers, err := lap.rep.Peers()
	if err != nil || len(peers) != 1 {
		t.Fatalf("peers %v %v", peers, err)
	}
	p := peers[0]
	if p.Name != "hub-445" || p.Role != "hub" || p.BacklogEntries != 0 || p.LastContact.IsZero() || p.TheirHeads.Seq(lap.dir.Signer.Origin()) != 301 {
		t.Fatalf("status of the hub as the laptop sees it: %+v", p)
	}
}

func TestStoreCarryForwardOverSockets(t *testing.T) {
	hub := start(t, t.TempDir(), replication.RoleHub, "district", "hub-445", true)
	defer hub.stop()
	carrier := start(t, t.TempDir(), replication.RoleNode, "", "node-a", true, hub.addr)
	defer carrier.stop()
	// node-z never has a link to the hub: only to its colleague's laptop.
	isolated := start(t, t.TempDir(), replication.RoleNode, "", "node-z", false, carrier.addr)
	defer isolated.stop()
	isolated.enroll(t, synthtest.Enrollments(t, synth.Config{Count: 200, Seed: 3}))
	waitHolds(t, carrier, isolated.dir.Signer.Origin(), 201)
	carrier.rep.Wake()
	waitHolds(t, hub, isolated.dir.Signer.Origin(), 201)
}

func TestHubRestartedMidSyncResumes(t *testing.T) {
	hubDir := filepath.Join(t.TempDir(), "hub")
	hub := start(t, hubDir, replication.RoleHub, "district", "hub-445", true)
	lap := start(t, t.TempDir(), replication.RoleNode, "", "node-a", false, hub.addr)
	defer lap.stop()
	lap.enroll(t, synthtest.Enrollments(t, synth.Config{Count: 4000, Seed: 4}))
	o := lap.dir.Signer.Origin()
	for { // stop the hub part-way through the transfer
		if h, _ := hub.dir.Log.Head(o); h.Seq > 500 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	hub.stop()
	// The restart must listen where the laptop dials: same address.
	held, _ := reopenHead(t, hubDir, o)
	hub2 := startAt(t, hubDir, hub.addr)
	defer hub2.stop()
	waitHolds(t, hub2, o, 4001)
	if held == 0 || held >= 4001 {
		t.Fatalf("the hub held %d entries when stopped: not mid-sync", held)
	}
	sent := waitSessionsDone(t, lap)
	resent := sent - 4001
	t.Logf("hub stopped holding %d of 4001; laptop sent %d entries in all: %d re-sent", held, sent, resent)
	if resent > 2*1000 { // at most the batches in flight at the stop (window 2)
		t.Fatalf("re-sent %d entries after the restart", resent)
	}
}

func reopenHead(t *testing.T, path string, o replication.OriginID) (uint64, error) {
	t.Helper()
	d, err := datadir.Open(path, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h, err := d.Log.Head(o)
	return h.Seq, err
}

// startAt restarts a hub listening on a given address.
func startAt(t *testing.T, path, addr string) *replica {
	t.Helper()
	d, err := datadir.Open(path, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := replicator.New(replicator.Config{Dir: d, Listener: ln,
		Session: syncnet.Options{TickEvery: 100 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}, RedialEvery: time.Hour,
		Blobs: &replicator.BlobConfig{Refs: dossier.RefsOf}})
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{dir: d, rep: rep, addr: addr, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { rep.Run(ctx); close(r.done) }()
	r.stop = func() { cancel(); <-r.done; d.Close() }
	return r
}

// waitSessionsDone waits until r has no session open and returns the
// entries it sent in all.
func waitSessionsDone(t *testing.T, r *replica) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		peers, _ := r.rep.Peers()
		sent, open := 0, false
		for _, p := range peers {
			sent += p.EntriesOut
			open = open || p.Connected
		}
		if !open {
			return sent
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("sessions did not end")
	return 0
}
