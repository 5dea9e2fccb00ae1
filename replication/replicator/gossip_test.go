package replicator_test

import (
	"context"
	"net"
	"testing"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/gossip"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
)

// startPool starts a gossip member on loopback.
func startPool(t *testing.T, d *datadir.Dir, syncAddr string, seeds ...string) (*gossip.Pool, gossip.Meta) {
	t.Helper()
	meta := gossip.Meta{Role: d.Config.Role, Tier: d.Config.Tier, Unit: d.Config.Unit, SyncAddr: syncAddr, Origin: d.Signer.Origin()}
	p, err := gossip.Start(gossip.Config{Name: d.Config.Name, Pool: "district/445", BindAddr: "127.0.0.1", Profile: gossip.ProfileLocal,
		Meta: meta, Seeds: seeds, Peers: replicator.MetaPeerStore(d.Log, "district/445")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown() })
	return p, meta
}

// TestLaptopFindsItsHubThroughGossip: the laptop is given no sync address,
// only a gossip seed; the hub's metadata advertises where to sync.
func TestLaptopFindsItsHubThroughGossip(t *testing.T) {
	hubDir, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "445", Name: "hub-445"}})
	if err != nil {
		t.Fatal(err)
	}
	defer hubDir.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	hubPool, hubMeta := startPool(t, hubDir, ln.Addr().String())
	sess := syncnet.Options{TickEvery: 100 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}
	hubRep, err := replicator.New(replicator.Config{Dir: hubDir, Listener: ln, Session: sess, Pools: []replicator.Pool{replicator.GossipPool(hubPool, hubMeta)}})
	if err != nil {
		t.Fatal(err)
	}
	lapDir, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586", Name: "node-a"}})
	if err != nil {
		t.Fatal(err)
	}
	defer lapDir.Close()
	lapPool, lapMeta := startPool(t, lapDir, "", "hub-445/"+hubPool.LocalAddr())
	lapRep, err := replicator.New(replicator.Config{Dir: lapDir, Session: sess, MinBackoff: 50 * time.Millisecond,
		WakeDelay: 20 * time.Millisecond, Pools: []replicator.Pool{replicator.GossipPool(lapPool, lapMeta)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hubRep.Run(ctx)
	go lapRep.Run(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) { // both ways: the session moves each direction on its own
		h, _ := hubDir.Log.Head(lapDir.Signer.Origin())
		down, _ := lapDir.Log.Head(hubDir.Signer.Origin())
		if h.Seq == 1 && down.Seq == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h, _ := hubDir.Log.Head(lapDir.Signer.Origin()); h.Seq != 1 {
		t.Fatal("the laptop never synced with the hub it could only find through gossip")
	}
	peers, _ := lapDir.Log.Vector()
	if peers.Seq(hubDir.Signer.Origin()) != 1 {
		t.Fatal("the hub's own entries did not come down")
	}
	lapPool.Shutdown() // the pool saves the peers it met, at the latest when it stops
	known, _ := replicator.MetaPeerStore(lapDir.Log, "district/445").LoadPeers()
	if len(known) == 0 {
		t.Fatal("the laptop must persist the peers it met, for its reconnect loop")
	}
}
