package processtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bin is the fieldsync binary TestMain built.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fieldsync-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "fieldsync")
	if out, err := exec.Command("go", "build", "-o", bin, "fieldsync/cmd/fieldsync").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build fieldsync: %v\n%s", err, out)
		os.Exit(1)
	}
	// Directories made without a roster are open (a lab's), as in
	// cmd/fieldsync's tests; tests that need a roster give one.
	os.Setenv("FIELDSYNC_OPEN", "1")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// exitRejected is fieldsync's exit code for refused input.
const exitRejected = 3

func fieldsyncCmd(args ...string) *exec.Cmd { return exec.Command(bin, args...) }

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

func mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	if err := json.Unmarshal(mustRun(t, args...), v); err != nil {
		t.Fatalf("fieldsync %s: %v", strings.Join(args, " "), err)
	}
}

// runCode runs a command and returns its output (both streams) and exit code.
func runCode(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := fieldsyncCmd(args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
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
	timeout := time.After(30 * time.Second)
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
			t.Fatalf("no %q line within 30 s", prefix)
		}
	}
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func stopDaemons(t *testing.T, ds ...*exec.Cmd) {
	for _, d := range ds {
		if d.ProcessState != nil {
			continue
		}
		d.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- d.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			d.Process.Kill()
			<-done
		}
	}
}
