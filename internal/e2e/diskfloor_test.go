package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fieldsync/hub"
	"fieldsync/hub/dashboard"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/replication/diskfree"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
)

// TestDiskFloorAlarmOnTheDashboard: a hub whose disk is below its store's
// free-space floor refuses every write; the dashboard's alarms (and
// status) say so, naming the disk and the floor, within a check period.
func TestDiskFloorAlarmOnTheDashboard(t *testing.T) {
	defer func(d time.Duration) { daemon.DiskCheckEvery = d }(daemon.DiskCheckEvery)
	daemon.DiskCheckEvery = 100 * time.Millisecond
	path := filepath.Join(t.TempDir(), "hub")
	d, err := datadir.Init(path, datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "province", Unit: "42", Name: "hub-42"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := trust.MakeAnchor(d); err != nil {
		t.Fatal(err)
	}
	d.Close()
	free, err := diskfree.Bytes(path)
	if err != nil || free < 0 {
		t.Skip("free space unknown here")
	}
	// The floor 1 GiB above what is free: the disk is "below its floor".
	d, err = datadir.Open(path, datadir.OpenOptions{MinFreeBytes: free + 1<<30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan localapi.Info, 1)
	h, err := hub.NewDaemon(hub.DaemonConfig{Dir: d, Replicator: fast(replicator.Config{Listener: ln}), Public: dashboard.Handler,
		Ready: func(i localapi.Info) { ready <- i }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	info := <-ready

	var snap struct {
		Alarms []struct{ Kind, Detail string } `json:"alarms"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "http://"+info.Addr+"/dash/snapshot", nil)
		req.Header.Set("Authorization", "Bearer "+info.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&snap)
		resp.Body.Close()
		if len(snap.Alarms) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(snap.Alarms) != 1 || snap.Alarms[0].Kind != daemon.AlarmDiskFull || !strings.Contains(snap.Alarms[0].Detail, path) || !strings.Contains(snap.Alarms[0].Detail, "refused") {
		t.Fatalf("dashboard alarms %+v, want one %s naming the disk", snap.Alarms, daemon.AlarmDiskFull)
	}
	// And status says it too; a decision the hub cannot write is refused.
	var st localapi.Status
	if err := localapi.NewClient(info).Do("GET", "/api/status", nil, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Alarms) != 1 || st.Alarms[0].Kind != daemon.AlarmDiskFull {
		t.Fatalf("status alarms %+v", st.Alarms)
	}
	t.Logf("alarm: %s", snap.Alarms[0].Detail)
}
