package main

import (
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"fieldsync/dossier"
	"fieldsync/internal/linkemu"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
)

var blobCrashCycles = flag.Int("blob-crash-cycles", 25, "kill -9 cycles in TestBlobTransferSurvivesKill9")

// TestBlobTransferSurvivesKill9 runs a real laptop daemon holding dossiers
// (imported with their files) and a real hub daemon, the laptop reaching
// the hub through a shaped link (4 Mbit/s, so that a transfer spans many
// cycles), and SIGKILLs the laptop mid-send, the hub mid-receive, or both,
// at a random moment of every cycle. After each kill the killed
// directories are reopened as a restart would: every blob the hub holds
// reads back verified and is referenced by a record it holds; a partial
// write never shrinks from one check to the next (each transfer resumed at
// its last durable chunk, never from the start); the laptop's dossiers are
// whole. At the end both run until every dossier is complete at the hub:
// lost 0, corrupt 0.
func TestBlobTransferSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	tmp := t.TempDir()
	hubDir, lapDir := filepath.Join(tmp, "hub"), filepath.Join(tmp, "laptop")
	syncAddr := freeAddr(t)
	// The laptop dials its parent through the link emulator.
	p := linkemu.Perfect
	p.RateBitsPerSec, p.RTT = 4_000_000, 20*time.Millisecond
	link := linkemu.NewLink(p)
	proxyAddr := freeAddr(t)
	proxy, err := link.Proxy(proxyAddr, syncAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	mustRun(t, "init", "--dir", hubDir, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445", "--sync-listen", syncAddr)
	mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", proxyAddr)
	noFreeze(t, lapDir)
	root := genDossierFolders(t, 12, "31")
	if out, err := fieldsyncCmd("import", "--dir", lapDir, root).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	refs := ownRefs(t, lapDir)

	c := &crashRig{t: t, hubDir: hubDir, lapDir: lapDir}
	rng := rand.New(rand.NewPCG(9, 10))
	partials := map[blob.Hash]int64{} // durable offsets at the hub, last check
	var resumed, kills int
	start := time.Now()
	for cycle := 0; cycle < *blobCrashCycles; cycle++ {
		c.ensureRunning()
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		victims := [][]*exec.Cmd{{c.laptop}, {c.hub}, {c.laptop, c.hub}}[rng.IntN(3)]
		for _, v := range victims {
			v.Process.Signal(syscall.SIGKILL)
			v.Wait()
			kills++
		}
		c.check(cycle, victims) // chains, and the laptop's acked captures (none here)
		if c.laptop == nil {
			checkDossiersWhole(t, lapDir, cycle)
		}
		if c.hub == nil {
			resumed += checkHubBlobs(t, hubDir, cycle, partials)
		}
	}
	c.ensureRunning()
	ok := waitBlobsAt(t, hubDir, refs, 120*time.Second)
	c.stop()
	if !ok {
		explainMissing(t, hubDir, refs)
	}
	checkHubBlobs(t, hubDir, -1, partials)
	t.Logf("blob crash: cycles=%d kills=%d blobs=%d complete at the hub, verified; partial writes resumed after a kill %d times, never from the start (%.1fs)",
		*blobCrashCycles, kills, len(refs), resumed, time.Since(start).Seconds())
	if resumed == 0 {
		t.Error("no kill fell in the middle of a blob: the test did not exercise resumption")
	}
}

// ownRefs returns every blob the records of a directory's own origin
// reference.
func ownRefs(t *testing.T, dir string) []blob.Ref {
	t.Helper()
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []blob.Ref
	err = d.Log.Scan(d.Signer.Origin(), 1, func(e replication.Entry) bool {
		rs, err := dossier.RefsOf(&e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rs...)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkHubBlobs reopens the hub's directory: every blob it holds verifies
// and is referenced by a record it holds; every partial write is at least
// where the last check found it (resumed, not restarted). It returns how
// many partial writes a later check found further on than before.
func checkHubBlobs(t *testing.T, dir string, cycle int, partials map[blob.Hash]int64) int {
	t.Helper()
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		t.Fatalf("cycle %d: reopen the hub after kill: %v", cycle, err)
	}
	defer d.Close()
	referenced := map[blob.ID]bool{}
	v, err := d.Log.Vector()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range v.Origins() {
		d.Log.Scan(o, 1, func(e replication.Entry) bool {
			rs, _ := dossier.RefsOf(&e)
			for _, r := range rs {
				referenced[r.ID] = true
			}
			return true
		})
	}
	held := map[blob.Hash]bool{}
	d.Blobs.List(func(i blob.Info) bool {
		held[i.Hash] = true
		if err := blob.Check(d.Blobs, i.Hash); err != nil {
			t.Fatalf("cycle %d: the hub's blob %s: %v", cycle, i.ID, err)
		}
		if !referenced[i.ID] {
			t.Fatalf("cycle %d: the hub holds blob %s, referenced by no record it holds", cycle, i.ID)
		}
		return true
	})
	resumed := 0
	now := map[blob.Hash]int64{}
	d.Blobs.ListPartial(func(p blob.Partial) bool {
		now[p.Hash] = p.Durable
		if !referenced[p.ID] {
			t.Fatalf("cycle %d: the hub writes blob %s, referenced by no record it holds", cycle, p.ID)
		}
		return true
	})
	for h, before := range partials {
		after, partial := now[h]
		switch {
		case held[h]:
			resumed++
		case partial && after < before:
			t.Fatalf("cycle %d: blob %s went back from %d to %d durable bytes", cycle, h.Short(), before, after)
		case partial && after > before:
			resumed++
		case !partial:
			t.Fatalf("cycle %d: the partial write of blob %s (%d bytes durable) is gone", cycle, h.Short(), before)
		}
	}
	clear(partials)
	for h, n := range now {
		partials[h] = n
	}
	return resumed
}

// waitBlobsAt waits until the hub holds every blob of refs (by status:
// the daemon owns the directory).
func waitBlobsAt(t *testing.T, hubDir string, refs []blob.Ref, within time.Duration) bool {
	t.Helper()
	var st struct {
		Blobs struct {
			Blobs int `json:"blobs"`
		} `json:"blobs"`
	}
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if json.Unmarshal(mustRun(t, "status", "--dir", hubDir, "--json"), &st) == nil && st.Blobs.Blobs >= len(refs) {
			return true
		}
	}
	t.Errorf("the hub holds %d of %d blobs after %s", st.Blobs.Blobs, len(refs), within)
	return false
}

// explainMissing names the blobs of refs the hub lacks, and what it holds
// of them.
func explainMissing(t *testing.T, hubDir string, refs []blob.Ref) {
	d, err := datadir.Open(hubDir, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, r := range refs {
		if err := blob.Check(d.Blobs, r.Hash); err == nil {
			continue
		}
		p, perr := d.Blobs.Partial(r.Hash)
		t.Errorf("missing at the hub: %s %s (partial %+v %v)", r.Slot, r.ID, p, perr)
	}
}
