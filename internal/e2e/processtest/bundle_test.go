package processtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fieldsync/runtime/bundleops"
	"fieldsync/runtime/localapi"
)

// TestBundleRoundTrip is the sneakernet round trip with real processes:
// a province, a district and a laptop (the laptop synced once at the
// district office to learn its hub's key, then went to a commune with no
// link). The laptop captures 300 dossiers with their files, exports them
// to a "stick"; the district imports them and answers; the province gets
// everything from the district over the network; the laptop takes the
// answer, and its next network session sends nothing already delivered
// (bytes counted). Then the stick's mishaps: a partly copied file, a
// flipped bit, a bundle for another hub, an old bundle replayed — each
// refused or ignored with a clear message, nothing lost.
func TestBundleRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three daemons and moves 300 dossiers")
	}
	tmp := t.TempDir()
	stick := filepath.Join(tmp, "stick")
	os.MkdirAll(stick, 0o700)
	poolP, poolD := filepath.Join(tmp, "p.key"), filepath.Join(tmp, "d.key")
	provDir, distDir, lapDir := filepath.Join(tmp, "province"), filepath.Join(tmp, "district"), filepath.Join(tmp, "laptop")
	provSync, distSync := freeAddr(t), freeAddr(t)
	gP, gDp, gDd, gL := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	mustRun(t, "keygen", "--out", poolP)
	mustRun(t, "keygen", "--out", poolD)
	mustRun(t, "init", "--dir", provDir, "--role", "hub", "--tier", "province", "--unit", "42", "--name", "province-42",
		"--sync-listen", provSync, "--pool", "name=province/42,listen="+gP+",key="+poolP+",profile=lan", "--anchor-self")
	roster := filepath.Join(tmp, "roster.bin")
	mustRun(t, "roster", "export", "--dir", provDir, "--out", roster)
	mustRun(t, "init", "--dir", distDir, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445",
		"--sync-listen", distSync, "--parent", provSync, "--roster", roster,
		"--pool", "name=district/445,listen="+gDd+",key="+poolD,
		"--pool", "name=province/42,listen="+gDp+",key="+poolP+",profile=lan,seed=province-42/"+gP)
	mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", distSync, "--roster", roster,
		"--pool", "name=district/445,listen="+gL+",key="+poolD+",seed=hub-445/"+gDd)
	mustRun(t, "roster", "add", "--dir", provDir, "--from-dir", distDir)
	mustRun(t, "roster", "add", "--dir", provDir, "--from-dir", lapDir)
	// The roster that names them both, carried to each (as at setup).
	mustRun(t, "roster", "export", "--dir", provDir, "--out", roster)
	mustRun(t, "roster", "import", "--dir", distDir, roster)
	mustRun(t, "roster", "import", "--dir", lapDir, roster)

	prov, provOut := startDaemon(t, "run", "--dir", provDir, "--log-level", "warn")
	waitLine(t, provOut, "running")
	dist, distOut := startDaemon(t, "run", "--dir", distDir, "--log-level", "warn")
	waitLine(t, distOut, "running")
	defer stopDaemons(t, dist, prov)

	// At the district office: the laptop syncs once, learns the hub's key.
	lap, lapOut := startDaemon(t, "run", "--dir", lapDir, "--log-level", "warn")
	waitLine(t, lapOut, "running")
	var probe string
	probeStart := time.Now()
	waitFor(t, "the laptop to learn its hub's bundle key", 90*time.Second, func() bool {
		out, err := fieldsyncCmd("bundle", "export", "--dir", lapDir, "--out", filepath.Join(tmp, "probe.fsb")).CombinedOutput()
		probe = string(out)
		if err != nil && !strings.Contains(probe, "no bundle key") && !strings.Contains(probe, "nothing to send") && !strings.Contains(probe, "name one with --for") {
			t.Fatalf("probe: %s", probe)
		}
		if time.Since(probeStart) > 40*time.Second {
			lo, _ := fieldsyncCmd("status", "--dir", lapDir).CombinedOutput()
			do, _ := fieldsyncCmd("status", "--dir", distDir).CombinedOutput()
			t.Fatalf("probe: %s\nlaptop:\n%s\ndistrict:\n%s", probe, lo, do)
		}
		return err == nil || strings.Contains(probe, "nothing to send")
	})
	t.Logf("the laptop knows its hub's key: %s", strings.TrimSpace(probe))
	stopDaemons(t, lap)

	// In the commune, no link: 300 dossiers.
	day := filepath.Join(tmp, "day")
	mustRun(t, "gen", "--count", "300", "--seed", "15", "--commune", "18586", "--dossiers", day)
	mustRun(t, "enroll", "--dir", lapDir, day)
	var exp bundleops.ExportReport
	mustJSON(t, &exp, "bundle", "export", "--dir", lapDir, "--out", filepath.Join(stick, "xa.fsb"), "--max-size", "100M", "--json")
	t.Logf("export: %d entries, %d blobs (%.1f MB) in %d files (%.1f MB), sealed to %v", exp.Entries, exp.Blobs, float64(exp.BlobBytes)/1e6, len(exp.Files), float64(exp.Bytes)/1e6, exp.Recipients)
	if exp.Entries < 300 || exp.Blobs < 300*10 || !exp.Complete || len(exp.Files) < 2 {
		t.Fatalf("export: %+v", exp)
	}

	// Mishaps first, on copies: a part copied halfway, a flipped bit.
	whole, _ := os.ReadFile(exp.Files[0])
	cut := filepath.Join(stick, "cut.fsb")
	os.WriteFile(cut, whole[:len(whole)/2], 0o600)
	flipped := filepath.Join(stick, "flipped.fsb")
	fb := append([]byte(nil), whole...)
	fb[len(fb)*3/4] ^= 0x04
	os.WriteFile(flipped, fb, 0o600)
	out, code := runCode(t, "bundle", "import", "--dir", distDir, cut, flipped)
	t.Logf("a cut copy and a flipped bit:\n%s", out)
	if code != exitRejected || !strings.Contains(out, "truncated") || !strings.Contains(out, "altered or damaged") || !strings.Contains(out, "what came before it is taken") {
		t.Fatalf("exit %d:\n%s", code, out)
	}

	// The whole bundle, with the answer.
	answer := filepath.Join(stick, "xa.answer.fsb")
	var imp bundleops.ImportReport
	mustJSON(t, &imp, append([]string{"bundle", "import", "--dir", distDir, "--answer", answer, "--json"}, exp.Files...)...)
	taken, blobs := 0, 0
	for _, p := range imp.Parts {
		if p.Problem != "" || p.Refused > 0 || p.BlobRefused > 0 {
			t.Fatalf("part %s: %+v", p.Path, p)
		}
		taken += p.Applied + p.Duplicate
		blobs += p.BlobsTaken + p.BlobsHeld
	}
	if blobs != exp.Blobs || imp.Answer == nil {
		t.Fatalf("the district took %d of %d blobs; answer %+v", blobs, exp.Blobs, imp.Answer)
	}

	// The province gets everything from the district, over the network.
	var lapStatus localapi.Status
	mustJSON(t, &lapStatus, "status", "--dir", lapDir, "--json")
	syncStart, lastLog := time.Now(), time.Now()
	waitFor(t, "the province to hold every dossier and blob", 6*time.Minute, func() bool {
		var st localapi.Status
		if err := json.Unmarshal(mustRun(t, "status", "--dir", provDir, "--json"), &st); err != nil {
			t.Fatal(err)
		}
		if time.Since(lastLog) > 30*time.Second {
			lastLog = time.Now()
			t.Logf("province after %s: entries %v, blobs %+v", time.Since(syncStart).Round(time.Second), holds(st, lapStatus), st.Blobs)
		}
		return holds(st, lapStatus) && st.Blobs != nil && st.Blobs.Blobs >= exp.Blobs
	})
	t.Logf("the province holds every dossier and blob %s after the import", time.Since(syncStart).Round(time.Second))

	// Replaying the old bundle: nothing new, nothing refused.
	out, code = runCode(t, append([]string{"bundle", "import", "--dir", distDir}, exp.Files...)...)
	if code != 0 || !strings.Contains(out, "0 new") {
		t.Fatalf("replay: exit %d\n%s", code, out)
	}

	// Home again: the laptop takes the answer.
	out = string(mustRun(t, "bundle", "import", "--dir", lapDir, answer))
	t.Logf("the answer at the laptop:\n%s", out)
	if !strings.Contains(out, "acknowledges bundle "+exp.ID[:8]) {
		t.Fatalf("answer:\n%s", out)
	}
	list := string(mustRun(t, "bundle", "list", "--dir", lapDir))
	if !strings.Contains(list, "acknowledged") {
		t.Fatalf("bundle list:\n%s", list)
	}
	// A bundle now would be empty: the laptop knows the hub holds it all.
	if out, code := runCode(t, "bundle", "export", "--dir", lapDir, "--out", filepath.Join(stick, "again.fsb")); code == 0 || !strings.Contains(out, "nothing to send") {
		t.Fatalf("export after the answer: exit %d\n%s", code, out)
	}

	// A bundle for another hub is refused there, and opens nothing.
	other := filepath.Join(tmp, "other")
	mustRun(t, "init", "--dir", other, "--role", "hub", "--tier", "district", "--unit", "446", "--name", "hub-446", "--roster", roster)
	out, code = runCode(t, "bundle", "import", "--dir", other, exp.Files[0])
	if code != exitRejected || !strings.Contains(out, "sealed to another replica") {
		t.Fatalf("another hub: exit %d\n%s", code, out)
	}

	// Back at the office, the next network session sends nothing the
	// district already holds: count its bytes.
	var before struct {
		bytes, entries int64
		sessions       int
	}
	var offline localapi.Status
	mustJSON(t, &offline, "status", "--dir", lapDir, "--json")
	for _, p := range offline.Peers {
		if p.Name == "hub-445" {
			before.bytes, before.entries, before.sessions = p.BytesOut, int64(p.EntriesOut), p.Sessions
		}
	}
	lap, lapOut = startDaemon(t, "run", "--dir", lapDir, "--log-level", "warn")
	waitLine(t, lapOut, "running")
	var peer struct{ BytesOut, EntriesOut int64 }
	waitFor(t, "a session with the district", 60*time.Second, func() bool {
		// Right after "running" the daemon may hold the directory before
		// its API answers: status fails then; ask again.
		var st localapi.Status
		out, err := fieldsyncCmd("status", "--dir", lapDir, "--json").Output()
		if err != nil || json.Unmarshal(out, &st) != nil {
			return false
		}
		for _, p := range st.Peers {
			if p.Name == "hub-445" && p.Sessions > before.sessions && p.LastComplete.After(time.Now().Add(-time.Minute)) {
				peer.BytesOut, peer.EntriesOut = p.BytesOut-before.bytes, int64(p.EntriesOut)-before.entries
				return true
			}
		}
		return false
	})
	stopDaemons(t, lap)
	t.Logf("the next network session: %d entries and %d bytes sent to the district (bundle: %.1f MB)", peer.EntriesOut, peer.BytesOut, float64(exp.Bytes)/1e6)
	if peer.EntriesOut != 0 || peer.BytesOut > 64<<10 {
		t.Fatalf("the session after the bundle sent %d entries, %d bytes", peer.EntriesOut, peer.BytesOut)
	}
}

func holds(st, lap localapi.Status) bool {
	have := map[string]uint64{}
	for _, h := range st.Vector {
		have[h.Origin.String()] = h.Seq
	}
	return have[lap.Origin.String()] >= lapHead(lap)
}

func lapHead(st localapi.Status) uint64 {
	for _, h := range st.Vector {
		if h.Origin == st.Origin {
			return h.Seq
		}
	}
	return 0
}
