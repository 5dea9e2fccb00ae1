package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment/synth"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/localapi"
)

// The canary of RELIABILITY.md G9(b): a citizen whose name and ID number
// must never be found, in any encoding, in anything fieldsync writes.
const (
	canaryName = "NGUYỄN VĂN CANARY"
	canaryID   = "001099012345"
)

// TestNoPersonalDataWrittenInTheClear runs a hub and a laptop as real
// processes (child TMPDIR inside the test's tree, stdout and stderr into
// files, debug logging), enrolls the canary (twice, with different dates of
// birth, so that the hub holds a conflict about it), imports a row about it
// that is rejected (so the rejected-rows report is written), syncs to the
// hub, runs status, log, conflicts, duplicates, rejected and verify with
// their output in files, stops both, and then searches every byte under
// the test's tree for the canary in every encoding canaryNeedles lists:
// there must be 0 hits. The input files (the operator's own, not written by
// fieldsync) sit outside the scanned tree. Outputs go to files, not a
// terminal, so commands that show personal data mask it (docs/keys.md);
// the same commands with --show-pii, read into memory here, prove the
// canary is really there, encrypted.
func TestNoPersonalDataWrittenInTheClear(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two daemons")
	}
	root, inputs := t.TempDir(), t.TempDir()
	c := &canaryRun{t: t, root: root, out: filepath.Join(root, "out"), tmp: filepath.Join(root, "tmp")}
	for _, d := range []string{c.out, c.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	poolKey, hubDir, lapDir := filepath.Join(root, "pool.key"), filepath.Join(root, "hub"), filepath.Join(root, "laptop")
	syncAddr, gossipHub, gossipLap := freeAddr(t), freeAddr(t), freeAddr(t)
	c.must("keygen", "--out", poolKey)
	c.must("init", "--dir", hubDir, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445",
		"--sync-listen", syncAddr, "--pool", "name=district/445,listen="+gossipHub+",key="+poolKey)
	c.must("init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", syncAddr,
		"--pool", "name=district/445,listen="+gossipLap+",key="+poolKey+",seed=hub-445/"+gossipHub)

	enrollments := filepath.Join(inputs, "canary.jsonl")
	rejectedRow := filepath.Join(inputs, "rejected.jsonl")
	c.writeInputs(enrollments, rejectedRow)

	// Offline on the laptop: enroll and import directly into the directory.
	c.must("enroll", "--dir", lapDir, enrollments)
	c.run("import", "--dir", lapDir, rejectedRow) // exit 3: one row rejected

	hub := c.start("hub", "run", "--dir", hubDir, "--log-level", "debug")
	c.waitFile("hub.stdout", "running")
	laptop := c.start("laptop", "run", "--dir", lapDir, "--log-level", "debug")
	c.waitFile("laptop.stdout", "running")
	c.waitHubEntries(hubDir, 2+2) // both geneses, the two captures
	// While the daemons run: the same through their APIs.
	c.run("import", "--dir", lapDir, rejectedRow)
	for _, args := range [][]string{
		{"status", "--dir", hubDir}, {"status", "--dir", hubDir, "--json"}, {"status", "--dir", lapDir},
		{"conflicts", "--dir", hubDir, "--all"}, {"conflicts", "--dir", hubDir, "--all", "--json"},
		{"duplicates", "--dir", hubDir, "--all"}, {"duplicates", "--dir", hubDir, "--all", "--json"},
		{"rejected", "--dir", lapDir}, {"rejected", "--dir", lapDir, "--json"}, {"rejected", "--dir", lapDir, "--list"},
	} {
		c.must(args...)
	}
	conflicts := c.stdoutOf("conflicts --dir " + hubDir + " --all")
	if !strings.Contains(conflicts, "1 conflict(s)") {
		t.Fatalf("the hub should hold the canary's conflict:\n%s", conflicts)
	}
	c.stop(laptop, hub)

	// Offline: log, verify, rejected again.
	for _, args := range [][]string{
		{"log", "--dir", hubDir}, {"log", "--dir", hubDir, "--json"}, {"log", "--dir", lapDir, "--json"},
		{"verify", "--dir", hubDir}, {"verify", "--dir", lapDir}, {"status", "--dir", hubDir},
	} {
		c.must(args...)
	}

	// The canary is there: the operator's explicit --show-pii, read into
	// memory only, shows it.
	if out := c.memory("log", "--dir", hubDir, "--json", "--show-pii"); !strings.Contains(out, canaryName) {
		t.Fatal("the hub's log does not hold the canary: the test would prove nothing")
	}
	if out := c.memory("rejected", "--dir", lapDir, "--json", "--show-pii"); !strings.Contains(out, canaryID) {
		t.Fatal("the rejected-rows report does not quote the canary: the test would prove nothing")
	}
	checkPortraitHeld(t, lapDir)

	needles := canaryNeedles()
	hits, files, bytesScanned := scanTree(t, root, needles)
	t.Logf("canary: %d needles (name and ID: NFC, NFD, no diacritics, upper/lower/title case, UTF-16LE/BE, hex, base64 at 3 alignments, integer forms), %d files, %.1f MB scanned, %d hits",
		len(needles), files, float64(bytesScanned)/1e6, len(hits))
	for _, h := range hits {
		t.Errorf("canary found: %s", h)
	}
}

// checkPortraitHeld opens the laptop's blob store in this process (its
// memory only) and finds the canary portrait there, whole: the bytes are
// on disk, sealed.
func checkPortraitHeld(t *testing.T, dir string) {
	t.Helper()
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := blob.ReadAll(d.Blobs, blob.HashOf(canaryPortrait()))
	if err != nil || !bytes.Equal(got, canaryPortrait()) {
		t.Fatalf("the laptop does not hold the canary portrait (%v): the test would prove nothing about blobs", err)
	}
}

type canaryRun struct {
	t              *testing.T
	root, out, tmp string
	n              int
	outputs        map[string]string // command line → stdout file
}

func (c *canaryRun) cmd(name string, args ...string) *exec.Cmd {
	cmd := fieldsyncCmd(args...)
	cmd.Env = append(cmd.Env, "TMPDIR="+c.tmp, "FIELDSYNC_PASSPHRASE=", "FIELDSYNC_KEY_FILE=")
	stdout, err := os.Create(filepath.Join(c.out, name+".stdout"))
	if err != nil {
		c.t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(c.out, name+".stderr"))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	c.t.Cleanup(func() { stdout.Close(); stderr.Close() })
	return cmd
}

// run runs a command to its end, its output in files; it returns the exit
// code.
func (c *canaryRun) run(args ...string) int {
	c.t.Helper()
	c.n++
	name := filepath.Base(args[0]) + "-" + itoa(c.n)
	if c.outputs == nil {
		c.outputs = map[string]string{}
	}
	c.outputs[strings.Join(args, " ")] = filepath.Join(c.out, name+".stdout")
	cmd := c.cmd(name, args...)
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return 0
}

func (c *canaryRun) must(args ...string) {
	c.t.Helper()
	if code := c.run(args...); code != 0 {
		errOut, _ := os.ReadFile(strings.TrimSuffix(c.outputs[strings.Join(args, " ")], ".stdout") + ".stderr")
		c.t.Fatalf("fieldsync %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
}

func (c *canaryRun) stdoutOf(cmdline string) string {
	b, _ := os.ReadFile(c.outputs[cmdline])
	return string(b)
}

// memory runs a command whose output stays in memory (never on disk).
func (c *canaryRun) memory(args ...string) string {
	c.t.Helper()
	cmd := fieldsyncCmd(args...)
	cmd.Env = append(cmd.Env, "TMPDIR="+c.tmp)
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("fieldsync %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

func (c *canaryRun) start(name string, args ...string) *exec.Cmd {
	c.t.Helper()
	cmd := c.cmd(name, args...)
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func (c *canaryRun) waitFile(name, substr string) {
	c.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(c.out, name)); bytes.Contains(b, []byte(substr)) {
			return
		}
	}
	b, _ := os.ReadFile(filepath.Join(c.out, strings.TrimSuffix(name, ".stdout")+".stderr"))
	c.t.Fatalf("no %q in %s within 20 s\n%s", substr, name, b)
}

func (c *canaryRun) waitHubEntries(hubDir string, n uint64) {
	c.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		cl, err := localapi.Dial(hubDir)
		if err != nil {
			continue
		}
		var st localapi.Status
		if cl.Do("GET", "/api/status", nil, &st) == nil && st.Entries >= n {
			return
		}
	}
	c.t.Fatalf("the hub did not reach %d entries within 30 s\n%s", n, c.tails())
}

// tails returns the end of the daemons' logs, for a failure message.
func (c *canaryRun) tails() string {
	var b strings.Builder
	for _, f := range []string{"hub.stdout", "hub.stderr", "laptop.stdout", "laptop.stderr"} {
		data, _ := os.ReadFile(filepath.Join(c.out, f))
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		b.WriteString("--- " + f + "\n" + string(data))
	}
	return b.String()
}

func (c *canaryRun) stop(cmds ...*exec.Cmd) {
	c.t.Helper()
	for _, d := range cmds {
		d.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- d.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				c.t.Errorf("%v after SIGTERM: %v", d.Args[1:3], err)
			}
		case <-time.After(15 * time.Second):
			c.t.Errorf("%v did not stop within 15 s of SIGTERM", d.Args[1:3])
			d.Process.Kill()
		}
	}
}

// writeInputs writes the operator's input files: the canary enrolled twice
// (the second capture disagrees on the date of birth: a conflict at the
// hub), and a row about the canary that is rejected (an ID number with a
// letter; a name with a replacement character, which the warning quotes).
func (c *canaryRun) writeInputs(enrollments, rejected string) {
	c.t.Helper()
	out, err := fieldsyncCmd("gen", "--count", "1", "--seed", "5", "--commune", "18586").Output()
	if err != nil {
		c.t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(out, &rec); err != nil {
		c.t.Fatal(err)
	}
	rec["personal_id"], rec["full_name"], rec["sex"] = canaryID, canaryName, "Nam"
	rec["household_head"] = map[string]any{"full_name": canaryName, "personal_id": canaryID, "date_of_birth": "1999-03-04", "nationality": "Việt Nam"}
	// The portrait: a JPEG whose comment segment quotes the canary, so its
	// bytes are personal data too (blob bytes are sealed like records).
	if err := os.WriteFile(filepath.Join(filepath.Dir(enrollments), "face.jpg"), canaryPortrait(), 0o600); err != nil {
		c.t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, dob := range []string{"1999-03-04", "1999-04-03"} {
		rec["date_of_birth"] = dob
		rec["files"] = map[string]any{"face": "face.jpg", "finger_l3": map[string]string{"exception": "amputated"}}
		b, _ := json.Marshal(rec)
		buf.Write(append(b, '\n'))
	}
	delete(rec, "files")
	if err := os.WriteFile(enrollments, buf.Bytes(), 0o600); err != nil {
		c.t.Fatal(err)
	}
	rec["personal_id"], rec["full_name"] = canaryID+"X", canaryName+"\uFFFD"
	b, _ := json.Marshal(rec)
	if err := os.WriteFile(rejected, append(b, '\n'), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// canaryPortrait is a generated portrait with the canary in a JPEG
// comment segment (FF FE) after its start marker.
func canaryPortrait() []byte {
	face := synth.BlobSpec{Slot: "face", Format: "jpeg", Size: 120_000, Seed: [32]byte{9}}.Bytes()
	com := []byte("CANARY-BLOB " + canaryName)
	seg := append([]byte{0xFF, 0xFE, byte((len(com) + 2) >> 8), byte(len(com) + 2)}, com...)
	return append(append(append([]byte(nil), face[:2]...), seg...), face[2:]...)
}

// portraitWindow is a run of the canary portrait's coded bytes, searched
// for as such: the blob's own bytes must not be on disk in the clear.
func portraitWindow() []byte { return canaryPortrait()[5000:5064] }

// canaryNeedles returns the canary in every encoding searched for.
func canaryNeedles() map[string][]byte {
	out := map[string][]byte{}
	var texts []string
	for _, s := range []string{canaryName, "CANARY", canaryID} {
		plain := stripMarks(s)
		for _, v := range []string{s, plain} {
			texts = append(texts, v, strings.ToLower(v), titleCase(v))
		}
	}
	for _, s := range texts {
		for form, b := range map[string][]byte{"nfc": norm.NFC.Bytes([]byte(s)), "nfd": norm.NFD.Bytes([]byte(s))} {
			out["utf8-"+form+" "+s] = b
			out["utf16le-"+form+" "+s] = utf16Bytes(string(b), binary.LittleEndian)
			out["utf16be-"+form+" "+s] = utf16Bytes(string(b), binary.BigEndian)
			out["hex-"+form+" "+s] = []byte(hex.EncodeToString(b))
			out["HEX-"+form+" "+s] = []byte(strings.ToUpper(hex.EncodeToString(b)))
			for k := 0; k < 3; k++ {
				for enc, e := range map[string]*base64.Encoding{"std": base64.StdEncoding, "url": base64.URLEncoding} {
					out["base64-"+enc+"-"+itoa(k)+"-"+form+" "+s] = base64Core(e, b, k)
				}
			}
		}
	}
	out["portrait bytes"] = portraitWindow()
	out["portrait bytes, hex"] = []byte(hex.EncodeToString(portraitWindow()))
	out["portrait bytes, base64"] = base64Core(base64.StdEncoding, portraitWindow(), 0)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], 1099012345)
	out["uint64be "+canaryID] = bytes.Clone(n[:])
	binary.LittleEndian.PutUint64(n[:], 1099012345)
	out["uint64le "+canaryID] = bytes.Clone(n[:])
	return out
}

func stripMarks(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'Đ':
			b.WriteRune('D')
		case r == 'đ':
			b.WriteRune('d')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func titleCase(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

func utf16Bytes(s string, order binary.AppendByteOrder) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = order.AppendUint16(out, u)
	}
	return out
}

// base64Core is the part of the base64 of b that does not depend on what
// surrounds b, when b starts k bytes into a 3-byte group.
func base64Core(e *base64.Encoding, b []byte, k int) []byte {
	enc := e.EncodeToString(append(make([]byte, k), b...))
	from := (8*k + 5) / 6
	to := 8 * (k + len(b)) / 6
	return []byte(enc[from:to])
}

// scanTree searches every regular file under root for every needle.
func scanTree(t *testing.T, root string, needles map[string][]byte) (hits []string, files int, total int64) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		total += int64(len(b))
		for name, n := range needles {
			if bytes.Contains(b, n) {
				rel, _ := filepath.Rel(root, p)
				hits = append(hits, rel+": "+name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits, files, total
}

// TestLeakScannerFindsEveryEncoding checks the scanner itself: each
// needle, embedded at an odd offset in noise (and the name base64-encoded
// at each alignment inside a longer text), is found.
func TestLeakScannerFindsEveryEncoding(t *testing.T) {
	dir := t.TempDir()
	needles := canaryNeedles()
	i := 0
	for name, n := range needles {
		i++
		blob := append(bytes.Repeat([]byte{0x5a}, i%7), n...)
		if err := os.WriteFile(filepath.Join(dir, itoa(i)), blob, 0o600); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for k := 0; k < 3; k++ {
		s := strings.Repeat("x", k) + canaryName + " sống ở Hà Giang"
		os.WriteFile(filepath.Join(dir, "b64-"+itoa(k)), []byte(base64.StdEncoding.EncodeToString([]byte(s))), 0o600)
	}
	hits, files, _ := scanTree(t, dir, needles)
	if files != len(needles)+3 || len(hits) < len(needles)+3 {
		t.Fatalf("%d hits in %d files for %d needles", len(hits), files, len(needles))
	}
	for k := 0; k < 3; k++ {
		found := false
		for _, h := range hits {
			found = found || strings.HasPrefix(h, "b64-"+itoa(k)+":")
		}
		if !found {
			t.Errorf("base64 of the name at alignment %d not found", k)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
