package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
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
	"fieldsync/replication/epoch"
	"fieldsync/runtime/localapi"
)

// TestRestoredLaptopStartsANewEpoch: a laptop syncs 20 captures, a disk
// image of it is taken, it captures and syncs 10 more, then the image is
// restored and 5 captures are made offline — under seqs the hub already
// holds other entries for. When it next meets the hub it sees its own
// origin ahead of it, starts a new epoch (restarting itself) and re-issues
// its whole log; the hub takes the re-issues of what it holds as nothing
// and the 5 as new captures — every capture once — flags the fork from the
// new genesis, and keeps the old origin's entries as they were.
func TestRestoredLaptopStartsANewEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs daemons")
	}
	tmp := t.TempDir()
	hubDir, lapDir, image := filepath.Join(tmp, "hub"), filepath.Join(tmp, "laptop"), filepath.Join(tmp, "image")
	syncAddr := freeAddr(t)
	mustRun(t, "init", "--dir", hubDir, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445", "--sync-listen", syncAddr)
	mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", syncAddr)
	recs := synthtest.Enrollments(t, synth.Config{Count: 35, Seed: 11, Commune: "18586"})

	hub := startRun(t, hubDir)
	lap := startRun(t, lapDir)
	apiEnroll(t, lapDir, recs[:20])
	origin := statusOf(t, lapDir).Origin
	waitHubHolds(t, hubDir, origin, 21)
	stopRun(t, lap)
	copyTree(t, lapDir, image)

	lap = startRun(t, lapDir)
	apiEnroll(t, lapDir, recs[20:30])
	waitHubHolds(t, hubDir, origin, 31)
	stopRun(t, lap)

	// The image goes back on the disk; the officer captures offline.
	if err := os.RemoveAll(lapDir); err != nil {
		t.Fatal(err)
	}
	copyTree(t, image, lapDir)
	mustRun(t, append([]string{"enroll", "--dir", lapDir}, jsonFiles(t, tmp, recs[30:35])...)...)

	lap = startRun(t, lapDir)
	var st localapi.Status
	// Deadlines bound a failure only (the test waits for conditions, never
	// for time): under a load of 20 on 2 cores, a restart, the re-issue
	// of 25 entries and a sync took over 30 s.
	for deadline := time.Now().Add(loadedDeadline); ; time.Sleep(200 * time.Millisecond) {
		// The laptop restarts itself on the way: status may miss it once.
		ok := tryStatus(lapDir, &st) && st.Origin != origin
		if ok && seqOf(statusOf(t, hubDir), st.Origin) == 26 {
			break // genesis + re-issues of seq 2-26 at the hub
		}
		if time.Now().After(deadline) {
			t.Fatalf("laptop origin %s (was %s); the hub holds %d of the new one", st.Origin.Short(), origin.Short(), seqOf(statusOf(t, hubDir), st.Origin))
		}
	}
	view, _ := statusOf(t, hubDir).Extra["view"].(map[string]any)
	if view["citizens"] != float64(35) || view["versions"] != float64(35) {
		t.Errorf("hub view: %v citizens, %v versions; want each of the 35 captures once", view["citizens"], view["versions"])
	}
	stopRun(t, lap)
	stopRun(t, hub)

	h, err := datadir.Open(hubDir, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if head, _ := h.Log.Head(origin); head.Seq != 31 {
		t.Errorf("the hub's copy of the old origin changed: head %d, want 31", head.Seq)
	}
	var reissued []uint64
	h.Log.Scan(st.Origin, 2, func(e replication.Entry) bool {
		r, err := epoch.DecodeReissue(e.Payload)
		if err != nil || r.Of.Origin != origin {
			t.Fatalf("entry %s of the new origin: %v", e.ID(), err)
		}
		reissued = append(reissued, r.Of.Seq)
		return true
	})
	if len(reissued) != 25 || reissued[0] != 2 || reissued[24] != 26 {
		t.Errorf("re-issued seqs %v, want 2..26 (the whole log the laptop holds)", reissued)
	}
	notices := forkNotices(t, h)
	if len(notices) != 1 || notices[0].Origin != origin || notices[0].Evidence != epoch.EvidenceGenesis || notices[0].At != 26 {
		t.Errorf("fork notices %+v, want one from the genesis, at seq 26", notices)
	}
}

// forkNotices returns the fork notices in a hub's own log.
func forkNotices(t *testing.T, d *datadir.Dir) []epoch.Notice {
	var out []epoch.Notice
	d.Log.Scan(d.Signer.Origin(), 1, func(e replication.Entry) bool {
		if e.Kind == replication.KindFork {
			n, err := epoch.DecodeNotice(e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return true
	})
	return out
}

// startRun starts `fieldsync run` on dir and waits for its API.
func startRun(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := fieldsyncCmd("run", "--dir", dir, "--log-level", "error")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := localapi.Dial(dir); err == nil {
			return cmd
		}
	}
	t.Fatalf("%s did not start: %s", dir, stderr.String())
	return nil
}

func stopRun(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v after SIGTERM: %v", cmd.Args[1:], err)
	}
}

// apiEnroll captures records through a running laptop's API.
func apiEnroll(t *testing.T, dir string, recs []enrollment.Enrollment) {
	t.Helper()
	cl, err := localapi.Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for i := range recs {
		enc.Encode(&recs[i])
	}
	var results []node.EnrollResult
	if err := cl.Do("POST", "/api/enroll", localapi.Body{Type: localapi.TypeJSONLines, Reader: &body}, &results); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Receipt == nil {
			t.Fatalf("refused: %+v %s", r.Rejected, r.Error)
		}
	}
}

func statusOf(t *testing.T, dir string) localapi.Status {
	t.Helper()
	var st localapi.Status
	if err := json.Unmarshal(mustRun(t, "status", "--dir", dir, "--json"), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func tryStatus(dir string, st *localapi.Status) bool {
	out, err := fieldsyncCmd("status", "--dir", dir, "--json").Output()
	return err == nil && json.Unmarshal(out, st) == nil
}

// loadedDeadline bounds waits for daemons to do something: a failure
// only, so generous (a shared 2-core machine at load 20 is slow).
const loadedDeadline = 2 * time.Minute

func waitHubHolds(t *testing.T, hubDir string, o replication.OriginID, seq uint64) {
	t.Helper()
	for deadline := time.Now().Add(loadedDeadline); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if seqOf(statusOf(t, hubDir), o) >= seq {
			return
		}
	}
	t.Fatalf("the hub does not reach seq %d of %s", seq, o.Short())
}

// jsonFiles writes each record to a file and returns the paths (enroll
// takes one input; the records go one by one).
func jsonFiles(t *testing.T, dir string, recs []enrollment.Enrollment) []string {
	t.Helper()
	var b bytes.Buffer
	for i := range recs {
		line, _ := json.Marshal(&recs[i])
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(dir, "offline.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{path}
}

// copyTree copies a data directory the way a disk image would.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
}

// TestClonedLaptopBothBranchesReachHubs: a laptop's disk is copied and the
// copy runs in another district: both capture under the same origin and
// seqs, each branch reaches a different district hub, and the province,
// holding one, is offered the other: a fork. Its notice sets the origin
// aside from the fork's seq at every hub, whichever branch each holds;
// both laptops, told by it, start new epochs and re-issue their captures
// from that seq. In the end every hub shows the same digest and every
// capture once. Under the province's roster, like a real deployment. (A
// clone that meets the other branch at a hub first, instead, sees its
// origin ahead, rolls back alone and re-issues: no fork reaches a hub.)
func TestClonedLaptopBothBranchesReachHubs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs daemons")
	}
	tmp := t.TempDir()
	dir := func(name string) string { return filepath.Join(tmp, name) }
	pAddr, h1Addr, h2Addr := freeAddr(t), freeAddr(t), freeAddr(t)
	mustRun(t, "init", "--dir", dir("p"), "--role", "hub", "--tier", "province", "--unit", "42", "--name", "hub-42", "--sync-listen", pAddr)
	bundle := dir("roster.bin")
	mustRun(t, "roster", "export", "--dir", dir("p"), "--out", bundle)
	mustRun(t, "init", "--dir", dir("h1"), "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445",
		"--sync-listen", h1Addr, "--parent", pAddr, "--roster", bundle)
	mustRun(t, "init", "--dir", dir("h2"), "--role", "hub", "--tier", "district", "--unit", "444", "--name", "hub-444",
		"--sync-listen", h2Addr, "--parent", pAddr, "--roster", bundle)
	mustRun(t, "init", "--dir", dir("l"), "--role", "node", "--unit", "18586", "--parent", h1Addr, "--roster", bundle)
	for _, d := range []string{"h1", "h2", "l"} {
		mustRun(t, "roster", "add", "--dir", dir("p"), "--from-dir", dir(d))
	}
	mustRun(t, "roster", "export", "--dir", dir("p"), "--out", bundle)
	for _, d := range []string{"h1", "h2", "l"} { // as a district office does before the first sync
		mustRun(t, "roster", "import", "--dir", dir(d), bundle)
	}
	recs := synthtest.Enrollments(t, synth.Config{Count: 7, Seed: 11, Commune: "18586"})
	mustRun(t, append([]string{"enroll", "--dir", dir("l")}, jsonFiles(t, tmp, recs[:3])...)...)
	copyTree(t, dir("l"), dir("c")) // the clone; the key file beside "l" opens it too
	mustRun(t, append([]string{"enroll", "--dir", dir("l")}, jsonFiles(t, tmp, recs[3:5])...)...)
	mustRun(t, append([]string{"enroll", "--dir", dir("c")}, jsonFiles(t, tmp, recs[5:7])...)...)
	origin := statusOf(t, dir("l")).Origin

	// The province is off the air while each branch reaches its district.
	hubs := []string{dir("p"), dir("h1"), dir("h2")}
	startRun(t, dir("h1"))
	startRun(t, dir("h2"))
	startRun(t, dir("l"))
	c := fieldsyncCmd("run", "--dir", dir("c"), "--log-level", "error", "--parent", h2Addr) // the clone, in another district
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	waitHubHolds(t, dir("h1"), origin, 6)
	waitHubHolds(t, dir("h2"), origin, 6)
	startRun(t, dir("p"))

	var digests []string
	var citizens []float64
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		digests, citizens = digests[:0], citizens[:0]
		for _, h := range hubs {
			var st localapi.Status
			if !tryStatus(h, &st) {
				continue
			}
			digests = append(digests, fmt.Sprint(st.Extra["digest"]))
			if v, ok := st.Extra["view"].(map[string]any); ok {
				citizens = append(citizens, v["citizens"].(float64))
			}
		}
		if len(digests) == 3 && digests[0] == digests[1] && digests[1] == digests[2] && len(citizens) == 3 && citizens[0] == 7 {
			break
		}
		if time.Now().After(deadline) {
			for _, d := range append(hubs, dir("l"), dir("c")) {
				out, _ := fieldsyncCmd("status", "--dir", d).CombinedOutput()
				t.Logf("%s:\n%s", filepath.Base(d), out)
			}
			t.Fatalf("hubs: digests %v, citizens %v; want one digest and 7 citizens", digests, citizens)
		}
	}
	for _, h := range hubs { // the origin is set aside from the fork on, whichever branch the hub holds
		var st localapi.Status
		tryStatus(h, &st)
		view, _ := st.Extra["view"].(map[string]any)
		if q, _ := view["quarantined"].(map[string]any); q["forked"] == nil {
			t.Errorf("%s: quarantined %v, want the forked branch", filepath.Base(h), view["quarantined"])
		}
	}
	var lst, cst localapi.Status
	if !tryStatus(dir("l"), &lst) || !tryStatus(dir("c"), &cst) || lst.Origin == origin || cst.Origin == origin || lst.Origin == cst.Origin {
		t.Errorf("laptop origins after the fork: %s and %s (was %s); want two new ones", lst.Origin.Short(), cst.Origin.Short(), origin.Short())
	}
}
