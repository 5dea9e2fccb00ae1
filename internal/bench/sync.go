package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/internal/linkemu"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
)

// SyncScenario is one link condition of `fieldsync bench sync`.
type SyncScenario struct {
	Name     string
	Loss     float64
	Schedule linkemu.Schedule
	// UpFraction is the share of time the schedule keeps the link up; the
	// bound divides by it (a link that is down carries nothing).
	UpFraction float64
}

// SyncScenarios are the three of the replication issue: 128 kbit/s, 300 ms
// RTT, at 0% and 5% loss, and with 10 s cuts every 30 s.
func SyncScenarios() []SyncScenario {
	return []SyncScenario{
		{Name: "0% loss", Schedule: linkemu.AlwaysUp(), UpFraction: 1},
		{Name: "5% loss", Loss: 0.05, Schedule: linkemu.AlwaysUp(), UpFraction: 1},
		{Name: "10 s cuts every 30 s", Schedule: linkemu.Periodic(20*time.Second, 10*time.Second), UpFraction: 20.0 / 30},
	}
}

// SyncResult is one scenario's figures.
type SyncResult struct {
	Scenario     string  `json:"scenario"`
	Records      int     `json:"records"`
	RawJSONBytes int64   `json:"raw_json_bytes"` // the records as JSON lines
	Zstd19Bytes  int64   `json:"zstd19_bytes"`   // `zstd -19` of those JSON lines
	WireBytes    int64   `json:"wire_bytes"`     // everything on the link, both directions
	WireUp       int64   `json:"wire_up"`
	WireDown     int64   `json:"wire_down"`
	Retransmits  int64   `json:"retransmitted_bytes"`
	Seconds      float64 `json:"seconds"`
	// BoundSeconds is what the link must carry at the least: the zstd -19
	// bytes over the link rate, divided by the share of time it is up.
	BoundSeconds   float64 `json:"bound_seconds"`
	BytesPerRecord float64 `json:"wire_bytes_per_record"`
	OverZstd19     float64 `json:"wire_over_zstd19"`
	OverRaw        float64 `json:"wire_over_raw"`
	TimeOverBound  float64 `json:"time_over_bound"`
	Sessions       int     `json:"sessions"`
	ConnsBroken    int64   `json:"connections_broken"`
}

// Sync moves a backlog of n generated enrollments from a laptop replica to
// a hub replica over an emulated link (rate bits/s, rtt), once per
// scenario, with the real sync runtime on real loopback sockets, and
// counts every byte that crossed the link.
func Sync(dir string, n int, rate int64, rtt time.Duration, sc SyncScenario) (SyncResult, error) {
	res := SyncResult{Scenario: sc.Name, Records: n}
	var jsonl bytes.Buffer
	if _, err := synth.Generate(&jsonl, nil, synth.Config{Count: n, Seed: 21}); err != nil {
		return res, err
	}
	res.RawJSONBytes = int64(jsonl.Len())
	z, err := zstd19Size(jsonl.Bytes())
	if err != nil {
		return res, err
	}
	res.Zstd19Bytes = z
	lap, err := laptopWithBacklog(filepath.Join(dir, "laptop"), jsonl.Bytes())
	if err != nil {
		return res, err
	}
	defer lap.Close()
	hub, err := datadir.Init(filepath.Join(dir, "hub"), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "445"}})
	if err != nil {
		return res, err
	}
	defer hub.Close()
	p := linkemu.Bench128k
	p.RateBitsPerSec, p.RTT, p.Loss, p.Schedule = rate, rtt, sc.Loss, sc.Schedule
	link := linkemu.NewLink(p, linkemu.WithSeed(7))
	start := time.Now()
	sessions, err := runUntilHubHolds(lap, hub, link)
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		return res, err
	}
	st := link.Stats()
	res.WireUp, res.WireDown = st.Up.WireBytes, st.Down.WireBytes
	res.WireBytes = st.WireBytes()
	res.Retransmits = st.Up.RetransmitBytes + st.Down.RetransmitBytes
	res.Sessions, res.ConnsBroken = sessions, st.ConnsBroken
	res.BoundSeconds = float64(res.Zstd19Bytes) * 8 / float64(rate) / sc.UpFraction
	res.BytesPerRecord = float64(res.WireBytes) / float64(n)
	res.OverZstd19 = float64(res.WireBytes) / float64(res.Zstd19Bytes)
	res.OverRaw = float64(res.WireBytes) / float64(res.RawJSONBytes)
	res.TimeOverBound = res.Seconds / res.BoundSeconds
	return res, nil
}

// zstd19Size compresses b with the reference zstd CLI at level 19.
func zstd19Size(b []byte) (int64, error) {
	cmd := exec.Command("zstd", "-19", "-q", "-c")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("bench: the baseline needs the zstd CLI (Debian package zstd): %w", err)
	}
	return int64(len(out)), nil
}

func laptopWithBacklog(path string, jsonl []byte) (*datadir.Dir, error) {
	d, err := datadir.Init(path, datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586"}})
	if err != nil {
		return nil, err
	}
	nd, err := node.New(d, node.Options{Freeze: node.NoFreeze}) // a bulk load, not field capture
	if err != nil {
		d.Close()
		return nil, err
	}
	st, err := nd.Import(bytes.NewReader(jsonl), node.ImportOptions{})
	if err == nil && st.Rejected > 0 {
		err = fmt.Errorf("bench: %d generated records rejected", st.Rejected)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// runUntilHubHolds runs both replicators until the hub holds the laptop's
// whole log, the laptop dialing the hub through the link.
func runUntilHubHolds(lap, hub *datadir.Dir, link *linkemu.Link) (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	sess := syncnet.Options{IdleTimeout: 5 * time.Second}
	hubRep, err := replicator.New(replicator.Config{Dir: hub, Listener: ln, Session: sess})
	if err != nil {
		return 0, err
	}
	dial := link.Dialer(&net.Dialer{})
	lapRep, err := replicator.New(replicator.Config{Dir: lap, Static: []string{ln.Addr().String()}, Session: sess,
		Dial: func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, "tcp", addr) }})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hubRep.Run(ctx)
	go lapRep.Run(ctx)
	want, err := lap.Log.Head(lap.Signer.Origin())
	if err != nil {
		return 0, err
	}
	for {
		h, err := hub.Log.Head(lap.Signer.Origin())
		if err != nil {
			return 0, err
		}
		if h == want {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	peers, _ := lapRep.Peers()
	sessions := 0
	for _, p := range peers {
		sessions += p.Sessions + 1 // the one still open
	}
	return sessions, nil
}
