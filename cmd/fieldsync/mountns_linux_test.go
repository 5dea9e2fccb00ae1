package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// envMountNSInner names the test a re-executed test binary runs inside
// its own mount namespace.
const envMountNSInner = "FIELDSYNC_TEST_MOUNTNS_INNER"

// inMountNamespace is the outer half of a test that fills a disk: it runs
// the calling test again, alone, in a private mount namespace (the test
// binary re-executed with CLONE_NEWNS, so a tmpfs it mounts is its own),
// logs the inner run's lines tagged "tag:" and its skips, and passes or
// fails with it. It returns true in that inner run, where the caller does
// the work. It needs root, and skips saying so without; -short skips it.
func inMountNamespace(t *testing.T, tag string) (inner bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	if os.Getenv(envMountNSInner) == t.Name() {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for a mount namespace and a tmpfs (unshare -m; mount -t tmpfs)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envMountNSInner+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS} // Go makes / private in the child
	out, err := cmd.CombinedOutput()
	if err != nil && bytes.Contains(out, []byte("operation not permitted")) || cmd.ProcessState == nil {
		t.Skipf("no mount namespace here: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, tag+":") || strings.Contains(l, "SKIP") {
			t.Log(strings.TrimSpace(l))
		}
	}
	if bytes.Contains(out, []byte("--- SKIP")) {
		t.Skip("the inner test skipped (see above)")
	}
	if err != nil {
		t.Fatalf("inner test: %v\n%s", err, out)
	}
	return false
}

// mountTmpfs mounts a tmpfs of size (mount's syntax: "176m") in a new
// temporary directory, unmounted when the test ends (after what the test
// registered later, such as its processes, is cleaned up). A mount that
// fails skips the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	return mnt
}
