package oplog_test

import (
	"bytes"
	"errors"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
)

// TestMemSnapshotIsADiskImage: a snapshot holds what the log held when it
// was taken — entries, heads, metadata — and the two go their own ways
// after: writes, ingests and metadata on either never show in the other,
// and a closed log still gives an open snapshot.
func TestMemSnapshotIsADiskImage(t *testing.T) {
	a, b := oplogtest.NewSigner(1), oplogtest.NewSigner(2)
	l := oplog.NewMem()
	if _, err := l.Append(a, append([]replication.Draft{oplogtest.GenesisDraft(a)}, oplogtest.Drafts(3, "a")...)); err != nil {
		t.Fatal(err)
	}
	other := oplogtest.Chain(b, 4, "b")
	if _, err := l.Ingest(other[:3], []oplog.KV{{Key: "peer/h1", Value: []byte("v1")}}); err != nil {
		t.Fatal(err)
	}
	snap := l.Snapshot()
	before, _ := l.Vector()

	// The original goes on: a new capture, more of b, a changed meta.
	if _, err := l.Append(a, oplogtest.Drafts(2, "after")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Ingest(other[3:], []oplog.KV{{Key: "peer/h1", Value: []byte("v2")}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := snap.Vector(); !v.Equal(before) {
		t.Fatalf("snapshot vector %v changed with the original; want %v", v, before)
	}
	if _, err := snap.Get(replication.EntryID{Origin: a.Origin(), Seq: 5}); !errors.Is(err, oplog.ErrNotFound) {
		t.Fatalf("snapshot holds a capture made after it: %v", err)
	}
	if v, _ := snap.GetMeta("peer/h1"); !bytes.Equal(v, []byte("v1")) {
		t.Fatalf("snapshot meta %q, want v1", v)
	}

	// The snapshot goes its own way: a different entry at seq 5 (the
	// restored laptop's next capture) stays out of the original.
	es, err := snap.Append(a, oplogtest.Drafts(1, "restored"))
	if err != nil {
		t.Fatal(err)
	}
	held, err := l.Get(es[0].ID())
	if err != nil || held.Hash() == es[0].Hash() {
		t.Fatalf("original at %s: %v, hash equal %t; want its own entry", es[0].ID(), err, held.Hash() == es[0].Hash())
	}
	if err := snap.PutMeta(oplog.KV{Key: "peer/h1"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := l.GetMeta("peer/h1"); !bytes.Equal(v, []byte("v2")) {
		t.Fatalf("original meta %q after the snapshot's delete, want v2", v)
	}
	for _, m := range []*oplog.Mem{l, snap} {
		if rep, err := oplog.Verify(m); err != nil || !rep.OK() {
			t.Fatalf("verify: %v %v", err, rep)
		}
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Snapshot().Vector(); err != nil {
		t.Fatalf("snapshot of a closed log: %v", err)
	}
}
