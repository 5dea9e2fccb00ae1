package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
	"fieldsync/storage"
)

// TestBlobReceiveDiskFull fills the hub's disk while it receives a
// laptop's blobs: the hub's directory is on a size-limited tmpfs in a
// private mount namespace (as TestImportDiskFull; it needs root, and
// skips saying so without), and once the records are in, a filler leaves
// it a third of the blobs above the blob store's free-space floor. Real
// daemons, the laptop behind a 4 Mbit/s emulated link. The hub must stay up, refuse the blobs
// it cannot write (the laptop is told "busy: disk full" and keeps its
// dossiers), hold only verified blobs and partial writes of whole synced
// chunks; once the filler is removed, every dossier completes at the hub.
func TestBlobReceiveDiskFull(t *testing.T) {
	if inMountNamespace(t, "blobdiskfull") {
		blobDiskFullInner(t)
	}
}

func blobDiskFullInner(t *testing.T) {
	floor := datadir.BlobFloor(0, storage.ProfileHub) // the blob store's floor: the log's plus headroom
	mnt := mountTmpfs(t, "400m")
	hubDir, lapDir := filepath.Join(mnt, "hub"), filepath.Join(t.TempDir(), "laptop")
	syncAddr, proxyAddr := freeAddr(t), freeAddr(t)
	p := linkemu.Perfect
	p.RateBitsPerSec, p.RTT = 4_000_000, 20*time.Millisecond // the blobs take ~20 s: the disk fills on the way
	proxy, err := linkemu.NewLink(p).Proxy(proxyAddr, syncAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	mustRun(t, "init", "--dir", hubDir, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445", "--sync-listen", syncAddr)
	mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", proxyAddr)
	noFreeze(t, lapDir)
	root := genDossierFolders(t, 10, "41")
	if out, err := fieldsyncCmd("import", "--dir", lapDir, root).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	refs := ownRefs(t, lapDir)
	var total int64
	for _, r := range refs {
		total += r.Size
	}

	// The records arrive first; then the disk fills under the blobs.
	c := &crashRig{t: t, hubDir: hubDir, lapDir: lapDir}
	c.ensureRunning()
	c.waitCaughtUp(60 * time.Second)
	filler := filepath.Join(mnt, "filler")
	room := total / 3
	if err := os.WriteFile(filler, make([]byte, max(0, freeBytes(t, mnt)-floor-room)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("blobdiskfull: %d blobs of %d MiB to move, %d MiB above the hub's blob floor of %d MiB", len(refs), total>>20, room>>20, floor>>20)

	// Wait until the hub's blobs stop growing.
	var held, last int
	for stable, deadline := 0, time.Now().Add(90*time.Second); stable < 10 && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		held = hubBlobCount(t, hubDir)
		if held == last {
			stable++
		} else {
			stable, last = 0, held
		}
	}
	if held >= len(refs) {
		t.Fatalf("the hub took all %d blobs: the disk did not fill", held)
	}
	if c.hub.ProcessState != nil {
		t.Fatalf("the hub daemon died on a full disk: %v", c.hub.ProcessState)
	}
	t.Logf("blobdiskfull: the hub stopped at %d of %d blobs, %d MiB free, and stays up", held, len(refs), freeBytes(t, mnt)>>20)
	c.stop()
	checkHubBlobsWhole(t, hubDir)
	checkDossiersWhole(t, lapDir, 0)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	c.ensureRunning()
	ok := waitBlobsAt(t, hubDir, refs, 120*time.Second)
	c.stop()
	if !ok {
		explainMissing(t, hubDir, refs)
	}
	checkHubBlobsWhole(t, hubDir)
	t.Logf("blobdiskfull: after the filler went, all %d blobs at the hub, verified", len(refs))
}

// hubBlobCount reads the hub's committed blob count from its status.
func hubBlobCount(t *testing.T, dir string) int {
	var st struct {
		Blobs struct {
			Blobs int `json:"blobs"`
		} `json:"blobs"`
	}
	json.Unmarshal(mustRun(t, "status", "--dir", dir, "--json"), &st)
	return st.Blobs.Blobs
}

// checkHubBlobsWhole reopens the hub (stopped): every blob verifies, every
// partial write is whole chunks within its blob.
func checkHubBlobsWhole(t *testing.T, dir string) {
	t.Helper()
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		t.Fatalf("reopen the hub: %v", err)
	}
	defer d.Close()
	d.Blobs.List(func(i blob.Info) bool {
		if err := blob.Check(d.Blobs, i.Hash); err != nil {
			t.Fatalf("the hub's blob %s: %v", i.ID, err)
		}
		return true
	})
	d.Blobs.ListPartial(func(p blob.Partial) bool {
		if p.Durable < 0 || p.Durable > p.Size {
			t.Fatalf("partial write of %s: %d durable bytes", p.ID, p.Durable)
		}
		return true
	})
}
