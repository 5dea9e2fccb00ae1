package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"fieldsync/replication/datadir"
	"fieldsync/storage"
)

// TestRestartWaitsOutABriefLock: a daemon that restarts to start a new
// epoch closes its directory and opens it again; a command run in between
// (status finds no API and opens the directory itself) holds the lock for
// a moment. The reopen waits for it instead of ending the daemon (the
// cause of TestRestoredLaptopStartsANewEpoch's flake: "the hub holds 0 of
// the new one", the laptop's daemon had exited on "in use by another
// process"). A first start still refuses a held directory at once.
func TestRestartWaitsOutABriefLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "laptop")
	mustRun(t, "init", "--dir", dir, "--role", "node", "--unit", "18586", "--open")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	o, err := (*keyFlags)(nil).openOptions(datadir.OpenOptions{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	held, err := datadir.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openDirRetrying(context.Background(), dir, o, false, logger); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("a first start on a held directory: %v, want ErrLocked at once", err)
	}
	const holdFor = 500 * time.Millisecond
	go func() {
		time.Sleep(holdFor)
		held.Close()
	}()
	start := time.Now()
	d, err := openDirRetrying(context.Background(), dir, o, true, logger)
	if err != nil {
		t.Fatalf("reopen after a restart while another process held the directory for %v: %v", holdFor, err)
	}
	d.Close()
	if waited := time.Since(start); waited < holdFor/2 {
		t.Errorf("opened after %v while the directory was held for %v", waited, holdFor)
	}
}
