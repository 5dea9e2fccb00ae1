package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"fieldsync/runtime/ratelog"
)

// syncBuffer is a bytes.Buffer safe for a process's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// withoutKeys is the environment with no key variable in it.
func withoutKeys() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FIELDSYNC_KEY_FILE=") && !strings.HasPrefix(kv, "FIELDSYNC_PASSPHRASE") {
			env = append(env, kv)
		}
	}
	return append(env, "FIELDSYNC_TEST_MAIN=1")
}

// TestCommandsUseTheRunningDaemonWithoutTheKey: on a laptop whose daemon
// runs (its passphrase in the service's environment only), an officer
// enrolls and imports with no key at hand: the commands go to the daemon
// before touching the key (docs/keys.md). Without a daemon, the same
// commands say the key is needed.
func TestCommandsUseTheRunningDaemonWithoutTheKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a daemon")
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "laptop")
	pass := filepath.Join(tmp, "pass")
	if err := os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "init", "--dir", dir, "--role", "node", "--unit", "18586", "--open", "--passphrase-file", pass)
	records := filepath.Join(tmp, "day.jsonl")
	if err := os.WriteFile(records, mustRun(t, "gen", "--count", "30", "--seed", "3", "--commune", "18586"), 0o600); err != nil {
		t.Fatal(err)
	}
	one := bytes.SplitN(mustRunFile(t, records), []byte("\n"), 2)[0]

	run := func(stdin []byte, args ...string) ([]byte, error) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = withoutKeys()
		cmd.Stdin = bytes.NewReader(stdin)
		return cmd.CombinedOutput()
	}
	// No daemon, no key: a clear refusal.
	if out, err := run(one, "enroll", "--dir", dir); err == nil || !strings.Contains(strings.ToLower(string(out)), "passphrase") {
		t.Fatalf("enroll with no daemon and no key: %v\n%s", err, out)
	}

	daemon := fieldsyncCmd("run", "--dir", dir, "--log-level", "warn")
	daemon.Env = append(withoutKeys(), "FIELDSYNC_PASSPHRASE_FILE="+pass)
	stdout, _ := daemon.StdoutPipe()
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	buf := make([]byte, 4096)
	if n, _ := stdout.Read(buf); !strings.Contains(string(buf[:n]), "running") {
		t.Fatalf("daemon: %s", buf[:n])
	}
	if out, err := run(one, "enroll", "--dir", dir); err != nil || !strings.Contains(string(out), "saved") {
		t.Fatalf("enroll through the daemon with no key: %v\n%s", err, out)
	}
	if out, err := run(nil, "import", "--dir", dir, records); err != nil || !strings.Contains(string(out), "accepted 30") {
		t.Fatalf("import through the daemon with no key: %v\n%s", err, out)
	}
	// A duplicate of the first record is still accepted (re-enrollment);
	// status shows the 31 captures and the genesis.
	var st struct{ Entries uint64 }
	out, err := run(nil, "status", "--dir", dir, "--json")
	if err != nil || json.Unmarshal(out, &st) != nil || st.Entries != 32 {
		t.Fatalf("status: %v %s", err, out)
	}
}

func mustRunFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInitJSONPrintsOnlyJSON: init --json with --roster prints one JSON
// object and nothing else (what the roster import did is in it).
func TestInitJSONPrintsOnlyJSON(t *testing.T) {
	tmp := t.TempDir()
	hubDir, lapDir := filepath.Join(tmp, "hub"), filepath.Join(tmp, "laptop")
	mustRun(t, "init", "--dir", hubDir, "--role", "hub", "--tier", "province", "--unit", "42")
	bundle := filepath.Join(tmp, "roster.bin")
	mustRun(t, "roster", "export", "--dir", hubDir, "--out", bundle)
	out := mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--roster", bundle, "--json")
	var v struct {
		Device string `json:"device"`
		Roster *struct {
			Applied int `json:"roster_entries"`
		} `json:"roster"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&v); err != nil || v.Device == "" || v.Roster == nil || v.Roster.Applied == 0 {
		t.Fatalf("init --json --roster: %v\n%s", err, out)
	}
	if dec.More() || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Fatalf("init --json printed more than one JSON object:\n%s", out)
	}
}

// TestGarbageToAGossipPortIsNotALogFlood: 3,000 datagrams of garbage to a
// running daemon's gossip port (anyone can send them, from any spoofed
// source) write a bounded number of lines, none at ERROR.
func TestGarbageToAGossipPortIsNotALogFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a daemon")
	}
	tmp := t.TempDir()
	dir, key := filepath.Join(tmp, "hub"), filepath.Join(tmp, "pool.key")
	gossipAddr := freeAddr(t)
	mustRun(t, "keygen", "--out", key)
	mustRun(t, "init", "--dir", dir, "--role", "hub", "--tier", "district", "--unit", "445", "--open",
		"--sync-listen", freeAddr(t), "--pool", "name=district/445,listen="+gossipAddr+",key="+key)
	daemon := fieldsyncCmd("run", "--dir", dir, "--log-level", "debug")
	var stderr syncBuffer
	daemon.Stderr = &stderr
	stdout, _ := daemon.StdoutPipe()
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	buf := make([]byte, 4096)
	stdout.Read(buf)
	conn, err := net.Dial("udp", gossipAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	before := strings.Count(stderr.String(), "\n")
	const packets = 3000
	junk := make([]byte, 200)
	for i := range packets {
		rand.Read(junk)
		conn.Write(junk[:20+i%180])
		if i%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(time.Second)
	lines := strings.Split(stderr.String(), "\n")[before:]
	var memberlist, errors int
	perCause := map[string]int{}
	for _, l := range lines {
		if strings.Contains(l, "src=memberlist") {
			memberlist++
			_, c, _ := strings.Cut(l, " cause=")
			c, _, _ = strings.Cut(c, " rate_limited=")
			perCause[c]++
		}
		if strings.Contains(l, "level=ERROR") {
			errors++
		}
	}
	t.Logf("%d garbage datagrams: %d lines from memberlist (%d causes: %v), %d at ERROR", packets, memberlist, len(perCause), perCause, errors)
	if memberlist == 0 {
		t.Fatal("no line at all: did the garbage reach the pool?")
	}
	if errors > 0 || len(perCause) > 8 {
		t.Fatalf("%d lines at ERROR, %d causes:\n%s", errors, len(perCause), strings.Join(lines, "\n"))
	}
	for c, n := range perCause {
		if n > ratelog.DefaultBurst {
			t.Errorf("%d lines of cause %s", n, c)
		}
	}
}

// sampleCSV is one valid row under the import format's header.
const sampleCSV = "personal_id,full_name,date_of_birth,sex,ethnicity_code,nationality,birth_registration_code,birth_registration_code_list,birth_registration_text,permanent_residence_code,permanent_residence_code_list,permanent_residence_text,hometown_code,hometown_code_list,hometown_text,commune_code,code_list,officer,device,captured_at\n" +
	"042085000123,Nguyễn Văn An,12/03/1985,Nam,01,Việt Nam,42,2023-04,Tỉnh Hà Tĩnh,18586,2025-07,\"Thôn 3, Xã Đông Kinh, Tỉnh Hà Tĩnh\",18586,2025-07,Xã Đông Kinh,18586,2025-07,CA-01,dev-1,2026-03-01T08:00:00Z\n"

func utf16LEBytes(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestEncodingsAreRefusedSayingWhatToDo: input in another encoding than
// UTF-8, a workbook, or a CSV whose header is over 64 KiB is the user's
// input: exit status 3 and a message that says what it is and what to do,
// from enroll and import, with and without a running daemon. UTF-8 with a
// BOM is UTF-8: accepted, for JSON as for CSV.
func TestEncodingsAreRefusedSayingWhatToDo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a daemon")
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "laptop")
	mustRun(t, "init", "--dir", dir, "--role", "node", "--unit", "18586", "--open")
	jsonl := mustRun(t, "gen", "--count", "2", "--seed", "5", "--commune", "18586")
	file := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bigHeader := "personal_id," + strings.Repeat("x", 70<<10) + "\n1\n"
	refused := []struct {
		name string
		args []string
		want string
	}{
		{"import, UTF-16 CSV", []string{"import", "--dir", dir, file("u16.csv", utf16LEBytes(sampleCSV))}, "UTF-16"},
		{"import, UTF-16 JSON lines", []string{"import", "--dir", dir, file("u16.jsonl", utf16LEBytes(string(jsonl)))}, "UTF-16"},
		{"import, a CSV header over 64 KiB", []string{"import", "--dir", dir, file("big.csv", []byte(bigHeader))}, "64 KiB"},
		{"import, a workbook", []string{"import", "--dir", dir, file("book.csv", []byte("PK\x03\x04\x14\x00\x06\x00rest"))}, ".xlsx"},
		{"enroll, UTF-16 JSON", []string{"enroll", "--dir", dir, file("one16.json", utf16LEBytes(strings.SplitN(string(jsonl), "\n", 2)[0]))}, "UTF-16"},
	}
	accepted := []struct {
		name string
		args []string
	}{
		{"import, UTF-8 CSV with a BOM", []string{"import", "--dir", dir, file("bom.csv", append([]byte("\xef\xbb\xbf"), sampleCSV...))}},
		{"import, UTF-8 JSON lines with a BOM", []string{"import", "--dir", dir, file("bom.jsonl", append([]byte("\xef\xbb\xbf"), jsonl...))}},
		{"enroll, UTF-8 JSON with a BOM", []string{"enroll", "--dir", dir, file("bom.json", append([]byte("\xef\xbb\xbf"), strings.SplitN(string(jsonl), "\n", 2)[0]...))}},
	}
	check := func(mode string) {
		for _, c := range refused {
			code, out, errOut := fsRun(t, c.args...)
			said := out + errOut
			if code != exitRejected || !strings.Contains(said, c.want) || !strings.Contains(said, "UTF-8") && !strings.Contains(said, "CSV") {
				t.Errorf("%s, %s: exit %d, want 3 and a message naming %q and what to do:\n%s", mode, c.name, code, c.want, said)
			} else if testing.Verbose() {
				t.Logf("%s, %s: exit 3: %s", mode, c.name, firstLine(errOut))
			}
		}
		for _, c := range accepted {
			if code, out, errOut := fsRun(t, c.args...); code != exitOK {
				t.Errorf("%s, %s: exit %d:\n%s%s", mode, c.name, code, out, errOut)
			}
		}
	}
	check("no daemon")
	daemon := startRun(t, dir)
	check("through the daemon")
	stopRun(t, daemon)
}
