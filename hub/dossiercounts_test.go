package hub

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
)

// countingLog counts what goes through it that a reader must never do:
// scan an origin's entries, or write.
type countingLog struct {
	oplog.Log
	scans, writes atomic.Int64
}

func (l *countingLog) Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error {
	l.scans.Add(1)
	return l.Log.Scan(o, from, fn)
}

func (l *countingLog) PutMeta(kvs ...oplog.KV) error {
	l.writes.Add(1)
	return l.Log.PutMeta(kvs...)
}

func (l *countingLog) Ingest(es []replication.Entry, meta []oplog.KV) (oplog.IngestResult, error) {
	l.writes.Add(1)
	return l.Log.Ingest(es, meta)
}

func (l *countingLog) Append(s replication.Signer, drafts []replication.Draft) ([]replication.Entry, error) {
	l.writes.Add(1)
	return l.Log.Append(s, drafts)
}

func (l *countingLog) reset() { l.scans.Store(0); l.writes.Store(0) }

// Dossier counts are examined off the request path: the dashboard,
// /metrics and status read what the last examining round published — no
// scan of the log, no write, however much arrived since — and one round
// over every laptop saves once. Blobs that arrive after their records
// move the dossiers to complete (the blob lane's Recheck), with no round.
func TestDossierCountsOffTheRequestPath(t *testing.T) {
	hubDir, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "436", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer hubDir.Close()
	log := &countingLog{Log: hubDir.Log}
	hubDir.Log = log

	// Two laptops' records reach the hub; their blobs do not, yet.
	type held struct {
		id    replication.EntryID
		files [][]byte
	}
	var later []held
	var laptops []*node.Node
	var laptopDirs []*datadir.Dir
	for i, unit := range []string{"18586", "18352"} {
		d, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: unit, Open: true}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		n, err := node.New(d, node.Options{Freeze: node.NoFreeze})
		if err != nil {
			t.Fatal(err)
		}
		laptops, laptopDirs = append(laptops, n), append(laptopDirs, d)
		g, _ := synth.New(synth.Config{Count: 3, Seed: uint64(50 + i), Commune: unit, CodeList: "2023-04"})
		for rec, ok := g.Next(); ok; rec, ok = g.Next() {
			files := rec.Files()
			e, err := n.SaveDossier(&node.Dossier{Record: rec.Enrollment, Files: files})
			if err != nil {
				t.Fatal(err)
			}
			h := held{id: e.ID}
			for _, f := range files {
				if f.Data != nil {
					h.files = append(h.files, f.Data)
				}
			}
			later = append(later, h)
		}
		copyOrigin(t, d, hubDir, d.Signer.Origin())
	}
	h, err := NewDaemon(DaemonConfig{Dir: hubDir, Replicator: replicator.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	// Readers only: the view and the loops are not running, so whatever
	// touches the log here is a reader's doing.
	read := func(when string) (total, complete uint64) {
		t.Helper()
		log.reset()
		s, err := h.Dossiers()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.src.Snapshot(); err != nil {
			t.Fatal(err)
		}
		if _, err := h.statusExtra(); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.Metrics().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			t.Fatalf("%s: /metrics answered %d", when, rec.Code)
		}
		if n, w := log.scans.Load(), log.writes.Load(); n != 0 || w != 0 {
			t.Fatalf("%s: the dashboard, status and /metrics scanned the log %d times and wrote %d times", when, n, w)
		}
		if s.Totals.Complete+uint64(s.Totals.Incomplete) != s.Totals.Dossiers {
			t.Fatalf("%s: totals %+v", when, s.Totals)
		}
		return s.Totals.Dossiers, s.Totals.Complete
	}
	if n, _ := read("before any round"); n != 0 {
		t.Fatalf("before any round, %d dossiers counted: a reader examined", n)
	}
	log.reset()
	if more, err := h.examineDossiers(); err != nil || more {
		t.Fatal(more, err)
	}
	if w := log.writes.Load(); w != 1 {
		t.Fatalf("a round over two laptops wrote %d times, want once", w)
	}
	if n, c := read("after a round"); n != 6 || c != 0 {
		t.Fatalf("after a round: %d dossiers, %d complete; want 6, 0", n, c)
	}

	// The blobs arrive after their records (what the blob lane's
	// OnBlobsHeld does): the dossiers move to complete with no round.
	for i, hd := range later {
		if i == 0 {
			continue // one portrait set never comes
		}
		for _, b := range hd.files {
			if _, err := blob.PutBytes(hubDir.Blobs, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.Rep.Needs().Recheck(hd.id); err != nil {
			t.Fatal(err)
		}
	}
	if n, c := read("after the blobs"); n != 6 || c != 5 {
		t.Fatalf("after the blobs: %d dossiers, %d complete; want 6, 5", n, c)
	}

	// Running, the hub examines what arrives on its own.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	g, _ := synth.New(synth.Config{Count: 2, Seed: 60, Commune: "18586", CodeList: "2023-04"})
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		if _, err := laptops[0].SaveDossier(&node.Dossier{Record: rec.Enrollment, Files: rec.Files()}); err != nil {
			t.Fatal(err)
		}
	}
	o := laptopDirs[0].Signer.Origin()
	head, _ := hubDir.Log.Head(o)
	var es []replication.Entry
	laptopDirs[0].Log.Scan(o, head.Seq+1, func(e replication.Entry) bool { es = append(es, e); return true })
	if _, err := hubDir.Log.Ingest(es, nil); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := h.DossiersCaughtUp(wctx); err != nil {
		t.Fatal(err)
	}
	s, err := h.Dossiers()
	if err != nil || s.Totals.Dossiers != 8 || s.Totals.Complete != 5 {
		t.Fatalf("after two more records without their blobs: %+v %v", s.Totals, err)
	}
}
