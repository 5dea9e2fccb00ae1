package storage_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/storage"
)

func TestBadgerSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	l, err := storage.OpenLog(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = storage.OpenLog(storage.Options{Dir: dir})
	if !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if !strings.Contains(err.Error(), "fieldsync run") {
		t.Fatalf("the message should tell the operator what to do: %v", err)
	}
}

// TestBadgerOpensAfterAKillLeftAnEmptyValueLog reproduces what kill -9 left
// behind in the crash test: a zero-length .vlog file, created but never
// written. Badger alone refuses to open such a directory.
func TestBadgerOpensAfterAKillLeftAnEmptyValueLog(t *testing.T) {
	dir := t.TempDir()
	l, err := storage.OpenLog(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := oplogtest.NewSigner(1)
	if _, err := l.Append(s, []replication.Draft{oplogtest.GenesisDraft(s)}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := os.WriteFile(filepath.Join(dir, "000042.vlog"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = storage.OpenLog(storage.Options{Dir: dir})
	if err != nil {
		t.Fatalf("open after an empty value log was left behind: %v", err)
	}
	defer l.Close()
	if h, _ := l.Head(s.Origin()); h.Seq != 1 {
		t.Fatalf("head %+v", h)
	}
}

func TestLogConformance(t *testing.T) {
	dirs := map[string]string{}
	open := func(t *testing.T, dir string) oplog.Log {
		l, err := storage.OpenLog(storage.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	oplogtest.Run(t, oplogtest.Harness{
		Open: func(t *testing.T) oplog.Log {
			dirs[t.Name()] = t.TempDir()
			return open(t, dirs[t.Name()])
		},
		Reopen: func(t *testing.T) oplog.Log { return open(t, dirs[t.Name()]) },
	})
}
