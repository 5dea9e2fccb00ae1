package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fieldsync/internal/seaweed"
	"fieldsync/replication/blob/s3"
	"fieldsync/runtime/localapi"
)

// TestHubOnSeaweedFSSurvivesKill9MidUpload: a district hub keeps its
// blobs in a real SeaweedFS; a laptop's dossiers flow to it; the hub is
// killed with SIGKILL while blobs go up, and started again; then SeaweedFS
// is killed and restarted while they still go up. Every blob ends in the
// object store once, verified (`verify` reads each back); no multipart
// upload is left, nothing waits on the hub's disk.
func TestHubOnSeaweedFSSurvivesKill9MidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs SeaweedFS and two daemons")
	}
	srv := seaweed.Start(t)
	ctx := context.Background()
	c, err := srv.Bucket(ctx, "district-blobs")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	creds := filepath.Join(tmp, "s3.credentials")
	if err := s3.WriteCredentials(creds, srv.Creds); err != nil {
		t.Fatal(err)
	}
	store := "s3+http://" + strings.TrimPrefix(srv.Endpoint(), "http://") + "/district-blobs/hub-445?credentials=" + creds
	key, hubDir, lapDir := filepath.Join(tmp, "d.key"), filepath.Join(tmp, "hub"), filepath.Join(tmp, "laptop")
	syncAddr, gH, gL := freeAddr(t), freeAddr(t), freeAddr(t)
	mustRun(t, "keygen", "--out", key)
	mustRun(t, "init", "--dir", hubDir, "--role", "hub", "--tier", "district", "--unit", "445", "--name", "hub-445",
		"--sync-listen", syncAddr, "--pool", "name=district/445,listen="+gH+",key="+key, "--blob-store", store)
	mustRun(t, "init", "--dir", lapDir, "--role", "node", "--unit", "18586", "--parent", syncAddr,
		"--pool", "name=district/445,listen="+gL+",key="+key+",seed=hub-445/"+gH)
	day := filepath.Join(tmp, "day")
	mustRun(t, "gen", "--count", "60", "--seed", "9", "--commune", "18586", "--dossiers", day)
	mustRun(t, "enroll", "--dir", lapDir, day)
	var lap localapi.Status
	if err := json.Unmarshal(mustRun(t, "status", "--dir", lapDir, "--json"), &lap); err != nil {
		t.Fatal(err)
	}
	want := lap.Blobs.Blobs

	hub, hubOut := startDaemon(t, "run", "--dir", hubDir, "--log-level", "warn")
	waitLine(t, hubOut, "running")
	laptop, lapOut := startDaemon(t, "run", "--dir", lapDir, "--log-level", "warn")
	waitLine(t, lapOut, "running")
	defer stopAll(t, laptop)
	objects := func() int {
		n := 0
		c.List(ctx, "hub-445/b/", func(s3.ObjectInfo) bool { n++; return true })
		return n
	}
	waitUntil(t, "the first blobs in the object store", 2*time.Minute, func() bool { return objects() > want/4 })
	// Mid-upload: blobs are arriving; kill -9.
	hub.Process.Signal(syscall.SIGKILL)
	hub.Wait()
	before := objects()
	hub, hubOut = startDaemon(t, "run", "--dir", hubDir, "--log-level", "warn")
	waitLine(t, hubOut, "running")
	defer stopAll(t, hub)
	// Then SeaweedFS itself restarts, mid-sync.
	waitUntil(t, "half the blobs in the object store", 2*time.Minute, func() bool { return objects() > want/2 })
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "every blob in the object store", 4*time.Minute, func() bool { return objects() >= want })
	var st localapi.Status
	waitUntil(t, "nothing waiting on the hub's disk", time.Minute, func() bool {
		if err := json.Unmarshal(mustRun(t, "status", "--dir", hubDir, "--json"), &st); err != nil {
			t.Fatal(err)
		}
		return st.BlobStore != nil && st.BlobStore.Up && st.BlobStore.Waiting == 0
	})
	uploads := 0
	c.ListUploads(ctx, "", func(s3.Upload) bool { uploads++; return true })
	t.Logf("%d blobs: %d objects when the hub was killed, %d after its restart; %d multipart uploads left; blob store %+v", want, before, objects(), uploads, st.BlobStore)
	if got := objects(); got != want || uploads != 0 || st.Blobs == nil || st.Blobs.Blobs != want {
		t.Fatalf("%d objects, %d blobs counted, for %d blobs; %d uploads left", got, st.Blobs.Blobs, want, uploads)
	}
	// Stopped, the hub verifies every blob its records reference, read
	// back from the object store.
	stopAll(t, laptop, hub)
	out := string(mustRun(t, "verify", "--dir", hubDir))
	t.Logf("verify at the hub:\n%s", strings.TrimSpace(out))
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// stopAll stops daemons with SIGTERM (SIGKILL after 15 s).
func stopAll(t *testing.T, ds ...*exec.Cmd) {
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
