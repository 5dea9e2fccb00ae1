package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/runtime/localapi"
)

var syncCrashCycles = flag.Int("sync-crash-cycles", 100, "kill -9 cycles in TestEnrollAndSyncSurviveKill9")

// TestEnrollAndSyncSurviveKill9 runs a real laptop daemon and a real hub
// daemon while enrollments arrive through the laptop's API, and SIGKILLs
// the laptop, the hub, or both at a random moment of every cycle — in the
// middle of a capture, of a sync batch, of an ingest. After each kill the
// killed directories are reopened as a restart would: every acknowledged
// capture is there with the hash it was acknowledged with, every chain
// verifies, and the hub holds a gap-free prefix of the laptop's log equal
// to it entry by entry. At the end both run until the hub has caught up:
// lost 0, duplicated 0.
func TestEnrollAndSyncSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	tmp := t.TempDir()
	hubDir, lapDir := filepath.Join(tmp, "hub"), filepath.Join(tmp, "laptop")
	syncAddr := freeAddr(t)
	mustRun(t, "init", "--dir", hubDir, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445", "--sync-listen", syncAddr)
	mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", syncAddr)
	records := synthtest.Enrollments(t, synth.Config{Count: 8000, Seed: 11, Commune: "18586"})

	c := &crashRig{t: t, hubDir: hubDir, lapDir: lapDir, acked: map[uint64]replication.Hash{}}
	rng := rand.New(rand.NewPCG(7, 8))
	start := time.Now()
	for cycle := 0; cycle < *syncCrashCycles; cycle++ {
		c.ensureRunning()
		victims := [][]*exec.Cmd{{c.laptop}, {c.hub}, {c.laptop, c.hub}}[rng.IntN(3)]
		deadline := time.Now().Add(time.Duration(100+rng.IntN(500)) * time.Millisecond)
		for time.Now().Before(deadline) && len(records) > 0 {
			n := min(len(records), 1+rng.IntN(4))
			if c.enroll(records[:n]) {
				records = records[n:]
			}
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		}
		for _, v := range victims {
			v.Process.Signal(syscall.SIGKILL)
			v.Wait()
			c.kills++
		}
		if held := c.check(cycle, victims); held > 0 {
			c.heldDuring = held
		}
	}
	c.ensureRunning()
	c.waitCaughtUp(60 * time.Second)
	c.stop()
	held := c.check(-1, nil)
	t.Logf("crash: cycles=%d kills=%d acked=%d lost=0 reused=0 duplicated=0 gaps=0; hub held %d entries at the last check with both down, %d of %d at the end (%.1fs)",
		*syncCrashCycles, c.kills, len(c.acked), c.heldDuring, held, c.laptopHead, time.Since(start).Seconds())
	if c.heldDuring == 0 {
		t.Error("nothing was synced between kills: the test did not exercise sync")
	}
}

type crashRig struct {
	t              *testing.T
	hubDir, lapDir string
	hub, laptop    *exec.Cmd
	acked          map[uint64]replication.Hash // the laptop's seq → hash acknowledged
	kills          int
	laptopHead     uint64
	heldDuring     uint64 // what the hub held at the last check with both down
	stderr         map[*exec.Cmd]*bytes.Buffer
}

func (c *crashRig) ensureRunning() {
	if c.hub == nil {
		c.hub = c.start(c.hubDir)
	}
	if c.laptop == nil {
		c.laptop = c.start(c.lapDir)
	}
}

// start runs a daemon and waits until its API answers.
func (c *crashRig) start(dir string) *exec.Cmd {
	cmd := fieldsyncCmd("run", "--dir", dir, "--log-level", "error")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if c.stderr == nil {
		c.stderr = map[*exec.Cmd]*bytes.Buffer{}
	}
	c.stderr[cmd] = &stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := localapi.Dial(dir); err == nil {
			return cmd
		}
		if cmd.ProcessState != nil {
			break
		}
	}
	c.t.Fatalf("daemon for %s did not start: %s", dir, stderr.String())
	return nil
}

// enroll posts records to the laptop's API; it reports whether they were
// acknowledged (a daemon killed mid-request acknowledges nothing).
func (c *crashRig) enroll(recs []enrollment.Enrollment) bool {
	cl, err := localapi.Dial(c.lapDir)
	if err != nil {
		return false
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for i := range recs {
		enc.Encode(&recs[i])
	}
	var results []node.EnrollResult
	if err := cl.Do("POST", "/api/enroll", localapi.Body{Type: localapi.TypeJSONLines, Reader: &body}, &results); err != nil {
		return false
	}
	for _, r := range results {
		if r.Receipt == nil {
			c.t.Fatalf("generated record refused: %+v %s", r.Rejected, r.Error)
		}
		if _, dup := c.acked[r.Receipt.ID.Seq]; dup {
			c.t.Fatalf("seq %d acknowledged twice", r.Receipt.ID.Seq)
		}
		c.acked[r.Receipt.ID.Seq] = r.Receipt.Hash
	}
	return true
}

// check reopens the killed directories (all of them when victims is nil)
// and returns how many of the laptop's entries the hub holds.
func (c *crashRig) check(cycle int, victims []*exec.Cmd) uint64 {
	for _, v := range victims {
		if v == c.hub {
			c.hub = nil
		} else {
			c.laptop = nil
		}
	}
	var lap *datadir.Dir
	if c.laptop == nil {
		lap = c.open(cycle, c.lapDir)
		defer lap.Close()
		for seq, h := range c.acked {
			e, err := lap.Log.Get(replication.EntryID{Origin: lap.Signer.Origin(), Seq: seq})
			if err != nil || e.Hash() != h {
				c.t.Fatalf("cycle %d: acknowledged seq %d lost or reused (%v)", cycle, seq, err)
			}
		}
		head, _ := lap.Log.Head(lap.Signer.Origin())
		c.laptopHead = head.Seq
	}
	if c.hub != nil {
		return 0
	}
	hub := c.open(cycle, c.hubDir)
	defer hub.Close()
	if lap == nil {
		return 0 // the laptop runs; its log is compared when it is down
	}
	o := lap.Signer.Origin()
	head, _ := hub.Log.Head(o)
	var n uint64
	err := hub.Log.Scan(o, 1, func(e replication.Entry) bool {
		n++
		mine, err := lap.Log.Get(e.ID())
		if e.Seq != n || err != nil || mine.Hash() != e.Hash() {
			c.t.Fatalf("cycle %d: hub entry %d (expected seq %d) differs from the laptop's: %v", cycle, e.Seq, n, err)
		}
		return true
	})
	if err != nil || n != head.Seq {
		c.t.Fatalf("cycle %d: hub holds %d entries of the laptop, head %d: %v", cycle, n, head.Seq, err)
	}
	return n
}

func (c *crashRig) open(cycle int, dir string) *datadir.Dir {
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		c.t.Fatalf("cycle %d: reopen %s after kill: %v", cycle, filepath.Base(dir), err)
	}
	if rep, err := oplog.Verify(d.Log); err != nil || !rep.OK() {
		c.t.Fatalf("cycle %d: chains of %s after kill: %+v %v", cycle, filepath.Base(dir), rep, err)
	}
	return d
}

// waitCaughtUp waits until the hub's status shows the laptop's whole log.
func (c *crashRig) waitCaughtUp(within time.Duration) {
	var lapSt, hubSt localapi.Status
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if json.Unmarshal(mustRun(c.t, "status", "--dir", c.lapDir, "--json"), &lapSt) != nil ||
			json.Unmarshal(mustRun(c.t, "status", "--dir", c.hubDir, "--json"), &hubSt) != nil {
			continue
		}
		if seqOf(hubSt, lapSt.Origin) == seqOf(lapSt, lapSt.Origin) {
			return
		}
	}
	c.t.Fatalf("hub holds %d of the laptop's %d entries after %s", seqOf(hubSt, lapSt.Origin), seqOf(lapSt, lapSt.Origin), within)
}

func seqOf(st localapi.Status, o replication.OriginID) uint64 {
	for _, h := range st.Vector {
		if h.Origin == o {
			return h.Seq
		}
	}
	return 0
}

func (c *crashRig) stop() {
	for _, d := range []*exec.Cmd{c.laptop, c.hub} {
		d.Process.Signal(syscall.SIGTERM)
		if err := d.Wait(); err != nil {
			c.t.Errorf("%v after SIGTERM: %v; its stderr:\n%s", d.Args[1:], err, c.stderr[d])
		}
	}
	c.laptop, c.hub = nil, nil
}
