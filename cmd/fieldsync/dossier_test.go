package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fieldsync/dossier"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/localapi"
)

var dossierCrashCycles = 8

func initNode(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	if out, err := fieldsyncCmd("init", "--dir", dir, "--role", "node", "--unit", "18586").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	noFreeze(t, dir)
	return dir
}

func genDossierFolders(t *testing.T, n int, seed string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "dossiers")
	if out, err := fieldsyncCmd("gen", "--count", itoa(n), "--seed", seed, "--dossiers", root).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	return root
}

func procExit(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// headSeq and blobCount read a directory the way a restart would.
func dirState(t *testing.T, dir string) (uint64, blob.Usage) {
	t.Helper()
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h, err := d.Log.Head(d.Signer.Origin())
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Blobs.Usage()
	if err != nil {
		t.Fatal(err)
	}
	return h.Seq, u
}

// A dossier with a bad file is rejected by enroll and import, directly and
// through a running daemon: exit status 3, a message naming the file and
// the slot, and nothing of the dossier written (no record, no blob).
func TestBadFileRejectsTheDossier(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a daemon")
	}
	dir := initNode(t)
	check := func(how string, daemon bool, seed string) {
		t.Helper()
		root := genDossierFolders(t, 3, seed)
		person := filepath.Join(root, "000002")
		if err := os.WriteFile(filepath.Join(person, "iris_r.jp2"), []byte("GIF89a not an iris"), 0o600); err != nil {
			t.Fatal(err)
		}
		seq, u := dirStateOrDaemon(t, dir, daemon)
		cmd := fieldsyncCmd("enroll", "--dir", dir, "--show-pii", person)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		code := procExit(cmd.Run())
		if code != exitRejected {
			t.Fatalf("%s: exit %d, want %d\n%s", how, code, exitRejected, out.String())
		}
		msg := out.String()
		if !strings.Contains(msg, "iris_r.jp2") || !strings.Contains(msg, "files.iris_r") {
			t.Fatalf("%s: the message does not name the file and the slot:\n%s", how, msg)
		}
		seq2, u2 := dirStateOrDaemon(t, dir, daemon)
		if seq2 != seq || u2 != u {
			t.Fatalf("%s: something was written: seq %d -> %d, blobs %+v -> %+v", how, seq, seq2, u, u2)
		}
		// The whole folder: the two good dossiers are saved, the bad one is not.
		cmd = fieldsyncCmd("import", "--dir", dir, root)
		out.Reset()
		cmd.Stdout, cmd.Stderr = &out, &out
		if code := procExit(cmd.Run()); code != exitRejected || !strings.Contains(out.String(), "accepted 2") {
			t.Fatalf("%s: import exit %d\n%s", how, code, out.String())
		}
		seq3, u3 := dirStateOrDaemon(t, dir, daemon)
		if seq3 != seq+2 || u3.Blobs <= u.Blobs {
			t.Fatalf("%s: import saved seq %d -> %d, blobs %d -> %d", how, seq, seq3, u.Blobs, u3.Blobs)
		}
	}
	check("offline", false, "21")

	run := fieldsyncCmd("run", "--dir", dir)
	var logs bytes.Buffer
	run.Stdout, run.Stderr = &logs, &logs
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { run.Process.Signal(syscall.SIGTERM); run.Wait() }()
	waitAPI(t, dir)
	check("through the daemon", true, "23")
}

func waitAPI(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := localapi.Dial(dir); err == nil {
			var st localapi.Status
			if c.Do("GET", "/api/status", nil, &st) == nil {
				return
			}
		}
	}
	t.Fatal("the daemon's API did not answer within 20 s")
}

// dirStateOrDaemon reads the state offline, or through the running
// daemon's status (its directory is locked).
func dirStateOrDaemon(t *testing.T, dir string, daemon bool) (uint64, blob.Usage) {
	t.Helper()
	if !daemon {
		return dirState(t, dir)
	}
	c, err := localapi.Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Entries uint64     `json:"entries"`
		Blobs   blob.Usage `json:"blobs"`
	}
	if err := c.Do("GET", "/api/status", nil, &st); err != nil {
		t.Fatal(err)
	}
	return st.Entries, st.Blobs
}

// TestImportDossiersSurvivesKill9 kills a real `fieldsync import` of
// dossier folders with SIGKILL at random moments, again and again on the
// same directory. After every kill: every capture acknowledged is on disk
// with the hash it was acknowledged with, and every blob its record
// references is in the blob store and reads back verified — an
// acknowledged dossier is never without its files.
func TestImportDossiersSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := initNode(t)
	parts := splitFolders(t, genDossierFolders(t, 120, "22"), dossierCrashCycles)
	rng := rand.New(rand.NewPCG(3, 4))
	var acked ack
	killed := 0
	for cycle := range dossierCrashCycles {
		// Each cycle imports dossiers of its own (a part of ~255 files, one
		// group commit), so every cycle has blobs to write when it is killed.
		cmd := fieldsyncCmd("import", "--dir", dir, "--json", parts[cycle])
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Killed once it has written a random number of blob files more
		// (sealed blobs and partials), not after a time: on a loaded machine
		// a timer fires before the import starts or after it ends, and the
		// crash the test is for is the one in the middle of the writes.
		// Every other cycle is killed, at a point drawn in the first ~40 % of
		// its part's ~255 blob files (a poller slowed down by a loaded
		// machine still finds the import running); the others run to the
		// end, so that later kills have acknowledged dossiers to lose.
		var timer interface{ Stop() bool } = stopper(func() {})
		if cycle%2 == 0 {
			timer = killAfterBlobWrites(cmd, filepath.Join(dir, "blobs"), 2+rng.IntN(100))
		}
		dec := json.NewDecoder(stdout)
		for {
			var st struct {
				LastSeq  uint64           `json:"last_seq"`
				LastHash replication.Hash `json:"last_hash"`
			}
			if dec.Decode(&st) != nil {
				break
			}
			if st.LastSeq > acked.seq {
				acked = ack{st.LastSeq, st.LastHash}
			}
		}
		err = cmd.Wait()
		timer.Stop()
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				killed++
			}
		}
		checkAcked(t, dir, acked, cycle)
		checkDossiersWhole(t, dir, cycle)
	}
	t.Logf("dossier crash: cycles=%d killed=%d acked through seq %d, every acknowledged record's blobs present and verified", dossierCrashCycles, killed, acked.seq)
	if killed < dossierCrashCycles/2-1 || acked.seq == 0 {
		t.Fatalf("%d of %d cycles were killed mid-import (every other one should be), acked through seq %d", killed, dossierCrashCycles, acked.seq)
	}
}

// splitFolders moves the person folders under root into n new roots,
// round robin.
func splitFolders(t *testing.T, root string, n int) []string {
	t.Helper()
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = filepath.Join(filepath.Dir(root), "part"+itoa(i))
		if err := os.Mkdir(parts[i], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, e := range ents {
		if err := os.Rename(filepath.Join(root, e.Name()), filepath.Join(parts[i%n], e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return parts
}

// killAfterBlobWrites sends SIGKILL to cmd once n more files than now are
// under dir; Stop ends the watch.
func killAfterBlobWrites(cmd *exec.Cmd, dir string, n int) interface{ Stop() bool } {
	before := countFiles(dir)
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if countFiles(dir) >= before+n {
					cmd.Process.Signal(syscall.SIGKILL)
					return
				}
			}
		}
	}()
	return stopper(func() { close(done) })
}

type stopper func()

func (s stopper) Stop() bool { s(); return true }

// countFiles counts the regular files under dir (0 if it does not exist).
func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// checkDossiersWhole reads every record of the directory's own origin and
// checks each blob it references.
func checkDossiersWhole(t *testing.T, dir string, cycle int) {
	t.Helper()
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		t.Fatalf("cycle %d: %v", cycle, err)
	}
	defer d.Close()
	var refs []blob.Ref
	err = d.Log.Scan(d.Signer.Origin(), 1, func(e replication.Entry) bool {
		rs, err := dossier.RefsOf(&e)
		if err != nil {
			t.Errorf("cycle %d: refs of %s: %v", cycle, e.ID(), err)
		}
		refs = append(refs, rs...)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		if err := blob.Check(d.Blobs, r.Hash); err != nil {
			t.Fatalf("cycle %d: an acknowledged record's %s blob %s: %v", cycle, r.Slot, r.ID, err)
		}
	}
}

// verify reads every blob the records reference: a flipped bit in one
// sealed file and a deleted file are each named — entry, slot, blob — and
// verify exits 1; an intact directory verifies.
func TestVerifyFindsCorruptAndMissingBlobs(t *testing.T) {
	dir := initNode(t)
	root := genDossierFolders(t, 3, "24")
	if out, err := fieldsyncCmd("import", "--dir", dir, root).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err := fieldsyncCmd("verify", "--dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "0 missing, 0 corrupt") {
		t.Fatalf("intact directory: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "blobs", "??", "*"))
	if len(files) < 40 {
		t.Fatalf("%d blob files", len(files))
	}
	raw, _ := os.ReadFile(files[0])
	raw[len(raw)-20] ^= 0x40
	os.WriteFile(files[0], raw, 0o600)
	os.Remove(files[1])
	out, err = fieldsyncCmd("verify", "--dir", dir).CombinedOutput()
	text := string(out)
	if procExit(err) != 1 || !strings.Contains(text, "1 missing, 1 corrupt") || !strings.Contains(text, "missing: this replica captured it") ||
		!strings.Contains(text, "does not open") {
		t.Fatalf("verify after damage: exit %d\n%s", procExit(err), text)
	}
	// Each problem line names an entry, a slot and a blob.
	named := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "  ") && strings.Contains(l, " blob ") && strings.Contains(l, ":") {
			named++
		}
	}
	if named != 2 {
		t.Fatalf("%d problems named, want 2:\n%s", named, text)
	}
}
