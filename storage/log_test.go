package storage_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	for _, name := range []string{"000042.vlog", "00042.mem"} { // a memtable log too
		t.Run(name, func(t *testing.T) { openAfterEmptyLog(t, name) })
	}
}

func openAfterEmptyLog(t *testing.T, name string) {
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
	if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
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

// TestConcurrentIngestsCommitInGroups: many sessions ingesting at once
// (each its own origin, in order) all get their entries written, each call
// answered as if alone — a call that breaks its chain fails, alone — with
// fewer syncs than calls.
func TestConcurrentIngestsCommitInGroups(t *testing.T) {
	l, err := storage.OpenLog(storage.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const origins, perOrigin, batch = 16, 200, 20
	var wg sync.WaitGroup
	errs := make(chan error, origins)
	total := 0
	for i := range origins {
		chain := oplogtest.Chain(oplogtest.NewSigner(uint64(100+i)), perOrigin, fmt.Sprint(i))
		total += len(chain)
		wg.Go(func() {
			for j := 0; j < len(chain); j += batch {
				res, err := l.Ingest(chain[j:min(len(chain), j+batch)], nil)
				if err != nil {
					errs <- err
					return
				}
				if len(res.Applied) != min(batch, len(chain)-j) {
					errs <- fmt.Errorf("applied %d of %d", len(res.Applied), batch)
					return
				}
			}
			gap := chain[len(chain)-1]
			gap.Seq += 5 // a gap: this call alone fails
			if _, err := l.Ingest([]replication.Entry{gap}, nil); !errors.Is(err, replication.ErrBrokenChain) {
				errs <- fmt.Errorf("a gap: %v", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	v, _ := l.Vector()
	if v.Total() != uint64(total) {
		t.Fatalf("the log holds %d entries, want %d", v.Total(), total)
	}
	calls, commits := l.IngestGroups()
	t.Logf("%d ingest calls in %d commits", calls, commits)
	if commits >= calls {
		t.Errorf("%d calls in %d commits: concurrent calls were not grouped", calls, commits)
	}
}
