package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
)

var crashCycles = flag.Int("crash-cycles", 50, "kill -9 cycles in TestImportSurvivesKill9")

// fieldsyncCmd returns a command running this test binary as fieldsync.
func fieldsyncCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "FIELDSYNC_TEST_MAIN=1")
	return cmd
}

// TestImportSurvivesKill9 kills a real `fieldsync import` with SIGKILL at
// random moments, again and again on the same data directory. After every
// kill: each acknowledged group is on disk with the hash it was acknowledged
// with (so no seq was lost or reused), and the whole chain verifies.
func TestImportSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := filepath.Join(t.TempDir(), "node")
	if out, err := fieldsyncCmd("init", "--dir", dir, "--role", "node", "--unit", "18586").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	noFreeze(t, dir) // 20,000 captures and no hub: a bulk load past the freeze limit
	input := filepath.Join(t.TempDir(), "in.jsonl")
	writeInput(t, input, 20000)
	rng := rand.New(rand.NewPCG(1, 2))
	var acked ack
	var killed, totalAcked int
	start := time.Now()
	for cycle := 0; cycle < *crashCycles; cycle++ {
		got, wasKilled := importUntilKilled(t, dir, input, time.Duration(20+rng.IntN(400))*time.Millisecond)
		if wasKilled {
			killed++
		}
		if got.seq > 0 {
			totalAcked += int(got.seq - acked.seq)
			acked = got
		}
		checkAcked(t, dir, acked, cycle)
	}
	t.Logf("crash: cycles=%d killed=%d acked=%d lost=0 reused=0 gaps=0 (%.1fs)", *crashCycles, killed, totalAcked, time.Since(start).Seconds())
	if killed < *crashCycles/2 {
		t.Fatalf("only %d of %d cycles were killed mid-import; tune the timing", killed, *crashCycles)
	}
}

type ack struct {
	seq  uint64
	hash replication.Hash
}

// importUntilKilled starts an import and SIGKILLs it after d; it returns
// the last group acknowledged on stdout before the kill.
func importUntilKilled(t *testing.T, dir, input string, d time.Duration) (ack, bool) {
	t.Helper()
	cmd := fieldsyncCmd("import", "--dir", dir, "--json", input)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := make(chan ack, 1024)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var st node.ImportStats
			if json.Unmarshal(sc.Bytes(), &st) == nil && st.LastSeq > 0 {
				acks <- ack{st.LastSeq, st.LastHash}
			}
		}
	}()
	timer := time.AfterFunc(d, func() { cmd.Process.Signal(syscall.SIGKILL) })
	var last ack
	for a := range acks {
		last = a
	}
	err = cmd.Wait()
	timer.Stop()
	killed := false
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed = true
		} else if ee.ExitCode() != exitRejected {
			t.Fatalf("import failed: %v\n%s", err, stderr.String())
		}
	}
	return last, killed
}

// checkAcked reopens the directory the way a restart would.
func checkAcked(t *testing.T, dir string, a ack, cycle int) {
	t.Helper()
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		t.Fatalf("cycle %d: reopen after kill: %v", cycle, err)
	}
	defer d.Close()
	rep, err := oplog.Verify(d.Log)
	if err != nil || !rep.OK() {
		t.Fatalf("cycle %d: chain after kill: %+v %v", cycle, rep, err)
	}
	if a.seq == 0 {
		return
	}
	e, err := d.Log.Get(replication.EntryID{Origin: d.Signer.Origin(), Seq: a.seq})
	if err != nil {
		t.Fatalf("cycle %d: acknowledged seq %d lost: %v", cycle, a.seq, err)
	}
	if e.Hash() != a.hash {
		t.Fatalf("cycle %d: seq %d holds another entry than the one acknowledged (seq reused)", cycle, a.seq)
	}
}

func writeInput(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := synth.Generate(f, nil, synth.Config{Count: n, Seed: 42}); err != nil {
		t.Fatal(err)
	}
}

// noFreeze turns the freeze rule off in a directory's config.
func noFreeze(t *testing.T, dir string) {
	t.Helper()
	cfg, err := datadir.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxUnsyncedEntries, cfg.MaxUnsyncedDays = -1, -1
	if err := datadir.WriteConfig(dir, cfg); err != nil {
		t.Fatal(err)
	}
}
