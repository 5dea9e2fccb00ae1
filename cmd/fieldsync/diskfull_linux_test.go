package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"fieldsync/node"
	"fieldsync/replication/datadir"
	"fieldsync/storage"
)

// TestImportDiskFull fills a disk under a real `fieldsync import`: a
// size-limited tmpfs in a private mount namespace (the test binary
// re-executes itself with CLONE_NEWNS; it needs root, and skips saying so
// without). A filler file leaves the store a little more than its
// free-space floor. The import must stop with a clear "disk full" error
// before the floor is crossed, with every acknowledged group on disk and
// the chain verifying; enroll is refused too, before any ack; once the
// filler is removed, the node appends again.
//
// Why a floor: with it turned off, Badger does not fail at ENOSPC — it
// writes through memory-mapped files, and the first write to a page the
// full tmpfs cannot back is SIGBUS, which kills the process (measured: the
// import dies, and even `fieldsync verify` dies opening the directory
// until space is freed; the acknowledged data survives).
func TestImportDiskFull(t *testing.T) {
	if inMountNamespace(t, "diskfull") {
		importDiskFullInner(t)
	}
}

func importDiskFullInner(t *testing.T) {
	const size = 176 << 20
	floor := storage.DefaultMinFree(storage.ProfileField)
	mnt := mountTmpfs(t, "176m")
	dir := filepath.Join(mnt, "laptop")
	mustRun(t, "init", "--dir", dir, "--role", "node", "--unit", "18586")
	setConfig(t, dir, map[string]any{"max_unsynced_entries": -1, "max_unsynced_days": -1}) // a bulk load: the freeze rule off
	input := filepath.Join(t.TempDir(), "in.jsonl")
	writeInput(t, input, 20000)

	// Leave the floor plus 12 MiB.
	filler := filepath.Join(mnt, "filler")
	fill := freeBytes(t, mnt) - floor - 12<<20
	if err := os.WriteFile(filler, make([]byte, fill), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("diskfull: tmpfs %d MiB, floor %d MiB, %d MiB free before the import", size>>20, floor>>20, freeBytes(t, mnt)>>20)

	acked, code, stderr := importAcks(t, dir, input)
	if code != exitFailure || !strings.Contains(stderr, "disk full") || !strings.Contains(stderr, "free") {
		t.Fatalf("import on a full disk: exit %d, want %d and a disk-full message:\n%s", code, exitFailure, stderr)
	}
	if acked.seq < 100 {
		t.Fatalf("only %d entries acknowledged before the floor: the test filled too much", acked.seq)
	}
	t.Logf("diskfull: import stopped with %d entries acknowledged (%d MiB free once it exited and Badger flushed): %s", acked.seq, freeBytes(t, mnt)>>20, firstLine(stderr))
	mustRun(t, "verify", "--dir", dir)
	checkAcked(t, dir, acked, 0)

	// Below the floor, a single capture is refused before its ack too.
	top := filepath.Join(mnt, "filler2")
	if err := os.WriteFile(top, make([]byte, freeBytes(t, mnt)-floor+4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	enrollIn := filepath.Join(t.TempDir(), "one.jsonl")
	writeInput(t, enrollIn, 1)
	out, err := fieldsyncCmd("enroll", "--dir", dir, enrollIn).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "disk full") {
		t.Fatalf("enroll on a full disk: %v\n%s", err, out)
	}

	for _, f := range []string{filler, top} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	small := filepath.Join(t.TempDir(), "small.jsonl")
	writeInput(t, small, 100)
	again, code, stderr := importAcks(t, dir, small)
	if code != exitOK || again.seq != acked.seq+100 {
		t.Fatalf("import after space returned: exit %d, head %d, want %d\n%s", code, again.seq, acked.seq+100, stderr)
	}
	mustRun(t, "verify", "--dir", dir)
	t.Logf("diskfull: after the filler went, 100 more appended (head %d), verify ok", again.seq)
}

// importAcks runs an import with --json and returns its last acknowledged
// group, exit code and standard error.
func importAcks(t *testing.T, dir, input string) (ack, int, string) {
	t.Helper()
	cmd := fieldsyncCmd("import", "--dir", dir, "--json", input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	var last ack
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var st node.ImportStats
		if json.Unmarshal(sc.Bytes(), &st) == nil && st.LastSeq > 0 {
			last = ack{st.LastSeq, st.LastHash}
		}
	}
	return last, code, stderr.String()
}

func setConfig(t *testing.T, dir string, kv map[string]any) {
	t.Helper()
	p := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // the epoch is a uint64: no float64 round trip
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	for k, v := range kv {
		c[k] = v
	}
	delete(c, "check") // as an operator editing by hand is told to
	b, _ = json.Marshal(c)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// TestDossierImportDiskFull fills a disk under a real `fieldsync import`
// of dossier folders, as TestImportDiskFull does for records: the blobs of
// each group are written before its records, so the disk can fill while
// blobs are written. The import must stop with a disk-full error, every
// acknowledged record with every blob it references on disk and verified,
// verify clean; once space is freed, the rest imports.
func TestDossierImportDiskFull(t *testing.T) {
	if inMountNamespace(t, "diskfull") {
		dossierDiskFullInner(t)
	}
}

func dossierDiskFullInner(t *testing.T) {
	floor := storage.DefaultMinFree(storage.ProfileField)
	mnt := mountTmpfs(t, "400m")
	dir := filepath.Join(mnt, "laptop")
	mustRun(t, "init", "--dir", dir, "--role", "node", "--unit", "18586", "--max-unsynced", "-1")
	root := filepath.Join(t.TempDir(), "dossiers")
	mustRun(t, "gen", "--count", "200", "--seed", "25", "--dossiers", root)
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, freeBytes(t, mnt)-floor-200<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("diskfull: %d MiB free above the log's floor of %d MiB (the blobs' is %d MiB higher) before importing 200 dossiers (~180 MB)",
		(freeBytes(t, mnt)-floor)>>20, floor>>20, datadir.BlobHeadroom>>20)
	acked, code, stderr := importAcks(t, dir, root)
	if code != exitFailure || !strings.Contains(stderr, "disk full") {
		t.Fatalf("dossier import on a full disk: exit %d, want %d and a disk-full message:\n%s", code, exitFailure, stderr)
	}
	if acked.seq < 10 {
		t.Fatalf("only %d entries acknowledged: the test filled too much", acked.seq)
	}
	t.Logf("diskfull: dossier import stopped with %d entries acknowledged: %s", acked.seq, firstLine(stderr))
	checkAcked(t, dir, acked, 0)
	checkDossiersWhole(t, dir, 0)
	mustRun(t, "verify", "--dir", dir)
	// The blobs left the records their room: a capture without files
	// still saves.
	one := filepath.Join(t.TempDir(), "one.jsonl")
	writeInput(t, one, 1)
	if out, err := fieldsyncCmd("enroll", "--dir", dir, one).CombinedOutput(); err != nil {
		t.Fatalf("a record without files on a disk the blobs filled: %v\n%s", err, out)
	}
	acked.seq++
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	again, code, stderr := importAcks(t, dir, root)
	if code != exitOK || again.seq != acked.seq+200 {
		t.Fatalf("import after space returned: exit %d, head %d, want %d\n%s", code, again.seq, acked.seq+200, stderr)
	}
	checkDossiersWhole(t, dir, 1)
	mustRun(t, "verify", "--dir", dir)
	t.Logf("diskfull: after the filler went, the 200 dossiers imported (head %d; blobs already held stored once), verify ok", again.seq)
}
