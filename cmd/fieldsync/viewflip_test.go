package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/localapi"
)

var viewFlipSeeds = flag.Int("view-flip-seeds", 24, "TestViewBitFlipsAreDetected: how many flips (each in a fresh copy of the hub)")

// TestViewBitFlipsAreDetected: a district hub that took 300 captures from
// a laptop and built its view (DIR/view) is stopped; one bit is flipped at
// a random offset of a random file of the view store, every kind of file
// in turn, in a fresh copy each time. `verify` must name the damaged file
// (exit 1), or the hub's view must read exactly as before (a flip in bytes
// nothing reads). Then the hub's view is opened as the hub opens it
// (offline `status`): damage found at open is logged and the view built
// again from the log — 300 citizens either way, never fewer without an
// error. (The log's own files are TestBitFlipsAreDetected's.)
func TestViewBitFlipsAreDetected(t *testing.T) {
	if testing.Short() {
		t.Skip("runs daemons, then many copies of a hub")
	}
	tmp := t.TempDir()
	orig, lapDir := filepath.Join(tmp, "hub"), filepath.Join(tmp, "laptop")
	syncAddr := freeAddr(t)
	mustRun(t, "init", "--dir", orig, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445", "--sync-listen", syncAddr)
	mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", syncAddr)
	hub, lap := startRun(t, orig), startRun(t, lapDir)
	apiEnroll(t, lapDir, synthtest.Enrollments(t, synth.Config{Count: 300, Seed: 11, Commune: "18586"}))
	waitHubHolds(t, orig, statusOf(t, lapDir).Origin, 301)
	want := viewCounts(t, orig)
	for i := 0; want["citizens"] != float64(300); i++ {
		if i > 1200 {
			t.Fatalf("the hub's view shows %v citizens, want 300", want["citizens"])
		}
		time.Sleep(100 * time.Millisecond)
		want = viewCounts(t, orig)
	}
	stopRun(t, lap)
	stopRun(t, hub)

	var files []string
	filepath.WalkDir(filepath.Join(orig, datadir.ViewDir), func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, _ := e.Info(); fi.Size() > 0 {
				rel, _ := filepath.Rel(orig, p)
				files = append(files, rel)
			}
		}
		return nil
	})
	byKind := map[string][]string{}
	for _, rel := range files {
		byKind[fileKind(rel)] = append(byKind[fileKind(rel)], rel)
	}
	kinds := slices.Sorted(maps.Keys(byKind))
	t.Logf("hub view: %v; files %v", want, byKind)
	tally := map[string]map[string]int{}
	for seed := range *viewFlipSeeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 0x51ee))
		kind := kinds[seed%len(kinds)]
		rel := byKind[kind][rng.IntN(len(byKind[kind]))]
		dir := copyReplica(t, orig, "hub")
		path := filepath.Join(dir, rel)
		off, bit := flipBit(t, path, rng)
		code, out, errOut := fsRun(t, "verify", "--dir", dir)
		said := out + errOut
		outcome := ""
		switch {
		case code != exitOK && strings.Contains(said, filepath.Base(path)) && strings.Contains(said, "view"):
			outcome = "detected, file named"
		case code != exitOK:
			outcome = "detected, FILE NOT NAMED"
			t.Errorf("seed %d: flip of bit %#x at %d of %s: verify exit %d without naming the view's file:\n%s", seed, bit, off, rel, code, said)
		default:
			outcome = "harmless (verify ok)"
		}
		// The hub opens its view as offline status does: 300 citizens,
		// from the store or built again from the log.
		code, out, errOut = fsRun(t, "status", "--dir", dir, "--json")
		var st localapi.Status
		if code != exitOK || json.Unmarshal([]byte(out), &st) != nil {
			if !strings.Contains(errOut, filepath.Base(path)) {
				t.Errorf("seed %d: flip at %d of %s: status exit %d without naming the file: %s", seed, off, rel, code, errOut)
			}
			outcome += ", status fails naming it"
		} else if got := st.Extra["view"]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("seed %d: flip at %d of %s (%s): the view reads %v, want %v", seed, off, rel, outcome, got, want)
		} else {
			outcome += ", view whole"
		}
		if tally[kind] == nil {
			tally[kind] = map[string]int{}
		}
		tally[kind][outcome]++
		if testing.Verbose() {
			t.Logf("seed %d: %s byte %d bit %#x: %s: %s", seed, rel, off, bit, outcome, firstLine(said))
		}
	}
	for _, k := range kinds {
		t.Logf("%-22s %v", k, tally[k])
	}
}

// viewCounts is a hub's view counters from status (online or not).
func viewCounts(t *testing.T, dir string) map[string]any {
	view, _ := statusOf(t, dir).Extra["view"].(map[string]any)
	return view
}
