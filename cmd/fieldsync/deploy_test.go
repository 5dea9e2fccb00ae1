package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fieldsync/runtime/localapi"
)

// TestDeployAHubAndALaptop follows the README's deployment with real
// processes: keygen, init a hub and a laptop, run both, import a day's
// captures on the running laptop, see them at the hub (status, the
// dashboard, /metrics), and stop both cleanly with SIGTERM.
func TestDeployAHubAndALaptop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two daemons")
	}
	tmp := t.TempDir()
	key, hubDir, lapDir := filepath.Join(tmp, "d445.key"), filepath.Join(tmp, "hub"), filepath.Join(tmp, "laptop")
	syncAddr, gossipHub, gossipLap := freeAddr(t), freeAddr(t), freeAddr(t)
	mustRun(t, "keygen", "--out", key)
	// The hub is the top of this deployment: it signs the roster. The
	// laptop learns its key from the roster it exports, and is added to it
	// before it first syncs.
	var hubInit struct {
		DeviceKey   string `json:"device_key"`
		ProvinceKey string `json:"province_key"`
	}
	if err := json.Unmarshal(mustRun(t, "init", "--dir", hubDir, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445",
		"--sync-listen", syncAddr, "--pool", "name=district/445,listen="+gossipHub+",key="+key, "--anchor-self", "--json"), &hubInit); err != nil {
		t.Fatal(err)
	}
	if hubInit.ProvinceKey == "" || hubInit.ProvinceKey == hubInit.DeviceKey {
		t.Fatalf("--anchor-self: anchor %q, device key %q; want the roster key derived from the device key", hubInit.ProvinceKey, hubInit.DeviceKey)
	}
	bundle := filepath.Join(tmp, "roster.bin")
	mustRun(t, "roster", "export", "--dir", hubDir, "--out", bundle)
	mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", syncAddr,
		"--pool", "name=district/445,listen="+gossipLap+",key="+key+",seed=hub-445/"+gossipHub, "--roster", bundle)
	mustRun(t, "roster", "add", "--dir", hubDir, "--from-dir", lapDir)
	if out := string(mustRun(t, "roster", "show", "--dir", hubDir)); !strings.Contains(out, "18586") || !strings.Contains(out, "2 device(s), 0 revoked") {
		t.Fatalf("roster show:\n%s", out)
	}

	hub, hubOut := startDaemon(t, "run", "--dir", hubDir, "--log-level", "warn")
	dashboard := waitLine(t, hubOut, "dashboard: ")
	laptop, lapOut := startDaemon(t, "run", "--dir", lapDir, "--log-level", "warn")
	waitLine(t, lapOut, "running")

	input := filepath.Join(tmp, "day.jsonl")
	if err := os.WriteFile(input, mustRun(t, "gen", "--count", "300", "--seed", "7", "--commune", "18586"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "--dir", lapDir, input)

	var st localapi.Status
	deadline := time.Now().Add(30 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st = localapi.Status{}
		if err := json.Unmarshal(mustRun(t, "status", "--dir", hubDir, "--json"), &st); err != nil {
			t.Fatal(err)
		}
		if st.Entries >= 300+2 { // the laptop's genesis and captures, the hub's genesis
			break
		}
	}
	if !st.Running || st.Entries < 302 {
		t.Fatalf("hub status: running %v, %d entries; want the laptop's 301 and its own", st.Running, st.Entries)
	}
	if st.Trust.Open || st.Trust.Devices != 2 || len(st.Refused) != 0 {
		t.Fatalf("hub status: roster %+v, refused %v; want the hub and the laptop on the roster and nothing refused", st.Trust, st.Refused)
	}

	// `run` prints no secret; `login` prints a one-time link that opens a
	// browser session; /metrics counts the ingest.
	base := strings.TrimSuffix(strings.Fields(strings.TrimPrefix(dashboard, "dashboard: "))[0], "/")
	if strings.Contains(dashboard, "token") || !strings.Contains(dashboard, "fieldsync login --dir") {
		t.Fatalf("run's dashboard line: %q", dashboard)
	}
	url := strings.Fields(string(mustRun(t, "login", "--dir", hubDir)))[0]
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "fieldsync") {
		t.Fatalf("dashboard login: %s\n%.300s", resp.Status, page)
	}
	if resp, err = browser.Get(base + "/dash/snapshot"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the session does not open the dashboard's data: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	if resp, err = (&http.Client{Jar: jar}).Get(url); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a login link worked twice: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "fieldsync_entries_ingested_total 301") {
		t.Errorf("metrics lack the 301 entries ingested:\n%.2000s", metrics)
	}

	for _, d := range []*exec.Cmd{laptop, hub} {
		d.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- d.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v after SIGTERM: %v", d.Args[1:3], err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("%v did not stop within 15 s of SIGTERM", d.Args[1:3])
			d.Process.Kill()
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func mustRun(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := fieldsyncCmd(args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("fieldsync %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// startDaemon starts a long-running command; its stdout lines arrive on
// the channel. It is killed at the end of the test if still running.
func startDaemon(t *testing.T, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := fieldsyncCmd(args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines
}

func waitLine(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("daemon exited before printing %q", prefix)
			}
			if strings.Contains(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q line within 20 s", prefix)
		}
	}
}
