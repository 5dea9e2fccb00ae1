package needs_test

import (
	"encoding/json"
	"testing"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
)

// The index counts an origin's dossiers (entries that reference blobs)
// once each, across restarts that examine again from the watermark.
func TestDossierCount(t *testing.T) {
	log, store := oplog.NewMem(), blob.NewMem()
	s := oplogtest.NewSigner(7)
	drafts := []replication.Draft{oplogtest.GenesisDraft(s)}
	var missing blob.ID
	for i := range 6 {
		rec := enrollment.Enrollment{FullName: "A"}
		if i%3 != 2 { // 4 dossiers, 2 records without blobs
			b := blobtest.Bytes(uint64(i), 2000)
			id := blob.IDOf(b)
			if i == 1 {
				missing = id // its blob never comes
			} else if _, err := blob.PutBytes(store, b); err != nil {
				t.Fatal(err)
			}
			rec.Biometrics = []enrollment.BlobRef{{Kind: "face", SHA256: id.Hash.String(), Size: id.Size}}
		}
		p, _ := json.Marshal(rec)
		drafts = append(drafts, replication.Draft{Kind: replication.KindEnroll, Schema: 1, Payload: p, HLC: replication.MakeHLC(int64(100+i), 0)})
	}
	if _, err := log.Append(s, drafts); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		ix, err := needs.Open(log, store, dossier.RefsOf)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // asking twice counts nothing twice
			st, err := ix.Origins([]replication.OriginID{s.Origin()})
			if err != nil {
				t.Fatal(err)
			}
			if got := st[0]; got.Dossiers != 4 || got.Incomplete != 1 || got.MissingBytes != missing.Size || got.Through != 2 {
				t.Fatalf("%s: %+v", when, got)
			}
		}
	}
	check("first")
	check("after a restart")
}

// touchLog counts every call into the log.
type touchLog struct {
	needs.Log
	calls, writes int
}

func (l *touchLog) Head(o replication.OriginID) (replication.Head, error) {
	l.calls++
	return l.Log.Head(o)
}

func (l *touchLog) Scan(o replication.OriginID, from uint64, fn func(replication.Entry) bool) error {
	l.calls++
	return l.Log.Scan(o, from, fn)
}

func (l *touchLog) Get(id replication.EntryID) (replication.Entry, error) {
	l.calls++
	return l.Log.Get(id)
}

func (l *touchLog) PutMeta(kvs ...oplog.KV) error {
	l.calls++
	l.writes++
	return l.Log.PutMeta(kvs...)
}

// Readers (Counts) touch nothing: they see what the last Examine or
// Recheck published. Examine saves every origin that moved in one write;
// blobs that arrive after their records move them to complete (Recheck);
// a restart shows the saved counts before it examines anything.
func TestCountsReadOnlyWhatWasExamined(t *testing.T) {
	mem, store := oplog.NewMem(), blob.NewMem()
	var origins []replication.OriginID
	var late []blob.ID
	var lateIDs []replication.EntryID
	for k := range 3 {
		s := oplogtest.NewSigner(uint64(20 + k))
		drafts := []replication.Draft{oplogtest.GenesisDraft(s)}
		for i := range 4 {
			b := blobtest.Bytes(uint64(100*k+i), 1500)
			id := blob.IDOf(b)
			late = append(late, id)
			lateIDs = append(lateIDs, replication.EntryID{Origin: s.Origin(), Seq: uint64(i + 2)})
			rec := enrollment.Enrollment{FullName: "B", Biometrics: []enrollment.BlobRef{{Kind: "face", SHA256: id.Hash.String(), Size: id.Size}}}
			p, _ := json.Marshal(rec)
			drafts = append(drafts, replication.Draft{Kind: replication.KindEnroll, Schema: 1, Payload: p, HLC: replication.MakeHLC(int64(100+i), 0)})
		}
		if _, err := mem.Append(s, drafts); err != nil {
			t.Fatal(err)
		}
		origins = append(origins, s.Origin())
	}
	log := &touchLog{Log: mem}
	ix, err := needs.Open(log, store, dossier.RefsOf)
	if err != nil {
		t.Fatal(err)
	}
	counts := func(when string, dossiers uint64, incomplete int) {
		t.Helper()
		before := log.calls
		for _, n := range ix.Counts(origins) {
			if n.Dossiers != dossiers || n.Incomplete != incomplete {
				t.Fatalf("%s: %+v, want %d dossiers, %d incomplete", when, n, dossiers, incomplete)
			}
		}
		if log.calls != before {
			t.Fatalf("%s: Counts called the log %d times", when, log.calls-before)
		}
	}
	counts("before Examine", 0, 0)
	if more, err := ix.Examine(origins); err != nil || more {
		t.Fatal(more, err)
	}
	if log.writes != 1 {
		t.Fatalf("Examine over %d origins wrote %d times, want once", len(origins), log.writes)
	}
	counts("after Examine", 4, 4)
	if more, err := ix.Examine(origins); err != nil || more || log.writes != 1 {
		t.Fatalf("nothing new, yet more=%v err=%v writes=%d", more, err, log.writes)
	}
	// The blobs come after the records, all but each origin's first.
	for i, id := range late {
		if i%4 == 0 {
			continue
		}
		b := blobtest.Bytes(uint64(100*(i/4)+i%4), 1500)
		if got, err := blob.PutBytes(store, b); err != nil || got != id {
			t.Fatal(got, err)
		}
	}
	if err := ix.Recheck(lateIDs...); err != nil {
		t.Fatal(err)
	}
	counts("after the blobs", 4, 1)
	reopened, err := needs.Open(log, store, dossier.RefsOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range reopened.Counts(origins) { // entries above the watermark not known complete
		if n.Dossiers != 4 || n.Through != 1 || n.Incomplete != 4 {
			t.Fatalf("after a restart, before examining: %+v", n)
		}
	}
	if _, err := reopened.Examine(origins); err != nil {
		t.Fatal(err)
	}
	for _, n := range reopened.Counts(origins) {
		if n.Dossiers != 4 || n.Through != 1 || n.Incomplete != 1 {
			t.Fatalf("after a restart, examined again: %+v", n)
		}
	}
	// All the blobs: the watermark reaches the head, and a restart knows
	// them all complete at once.
	for k := range 3 {
		b := blobtest.Bytes(uint64(100*k), 1500)
		if _, err := blob.PutBytes(store, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := reopened.Recheck(lateIDs...); err != nil {
		t.Fatal(err)
	}
	again, err := needs.Open(log, store, dossier.RefsOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range again.Counts(origins) {
		if n.Dossiers != 4 || n.Through != 5 || n.Incomplete != 0 {
			t.Fatalf("complete, after a restart: %+v", n)
		}
	}
}
