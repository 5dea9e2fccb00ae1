package node_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
)

// movableClock is a clock a test sets.
type movableClock struct{ t *time.Time }

func (c movableClock) Now() time.Time { return *c.t }
func (c movableClock) NewTimer(time.Duration) (<-chan time.Time, func() bool) {
	return make(chan time.Time), func() bool { return true }
}

// frozenRig is a node under a freeze policy whose hub acknowledgements the
// test sets (the peers a daemon's replicator would report).
type frozenRig struct {
	n     *node.Node
	now   time.Time
	acked uint64 // what the hub holds of the node's origin
}

func newFrozenRig(t *testing.T, p node.FreezePolicy) *frozenRig {
	t.Helper()
	d, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	// After the real time at which Init stamped the genesis: HLCs follow it.
	r := &frozenRig{now: time.Date(2030, 3, 2, 9, 0, 0, 0, time.UTC)}
	peers := func() ([]replicator.PeerStatus, error) {
		if r.acked == 0 {
			return nil, nil
		}
		e, err := d.Log.Get(replication.EntryID{Origin: d.Signer.Origin(), Seq: r.acked})
		if err != nil {
			return nil, err
		}
		return []replicator.PeerStatus{{Name: "hub-445", Role: "hub", LastContact: r.now,
			TheirHeads: replication.Vector{d.Signer.Origin(): {Seq: r.acked, Hash: e.Hash()}}}}, nil
	}
	if r.n, err = node.New(d, node.Options{Clock: movableClock{&r.now}, Freeze: p, Peers: peers}); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFreezeAtExactlyTheEntryLimit: with 10 allowed, the 10th capture is
// saved (with a warning from the 8th on), the 11th refused, nothing of it
// written; once a hub acknowledges, captures go on.
func TestFreezeAtExactlyTheEntryLimit(t *testing.T) {
	r := newFrozenRig(t, node.FreezePolicy{MaxUnsyncedEntries: 10, MaxUnsyncedAge: -1})
	recs := synthtest.Enrollments(t, synth.Config{Count: 14, Seed: 3})
	res, err := r.n.EnrollBatch(recs[:7])
	if err != nil || res[6].Err != nil || res[6].Receipt.BacklogWarning != "" {
		t.Fatalf("7 of 10: %v %+v", err, res[6])
	}
	res, err = r.n.EnrollBatch(recs[7:11]) // 8, 9, 10 fit; 11 does not
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, true, false} {
		if saved := res[i].Err == nil; saved != want {
			t.Fatalf("capture %d: saved %v, want %v (%v)", 8+i, saved, want, res[i].Err)
		}
	}
	if !strings.Contains(res[0].Receipt.BacklogWarning, "of 10") {
		t.Errorf("8th capture warns %q", res[0].Receipt.BacklogWarning)
	}
	var fe *node.FrozenError
	if !errors.As(res[3].Err, &fe) || fe.Limit != "entries" || !errors.Is(res[3].Err, node.ErrFrozen) {
		t.Fatalf("11th: %v", res[3].Err)
	}
	if h := head(t, r.n); h != 11 { // genesis + 10
		t.Fatalf("head %d after the refusal, want 11", h)
	}
	if _, err := r.n.Enroll(&recs[11]); !errors.Is(err, node.ErrFrozen) {
		t.Fatalf("enroll while frozen: %v", err)
	}
	r.acked = 11 // the hub acknowledged everything
	if _, err := r.n.Enroll(&recs[11]); err != nil {
		t.Fatalf("after the hub's ack: %v", err)
	}
}

// TestFreezeByAge: the oldest capture no hub holds decides; a clock set
// back does not freeze, one past the limit does.
func TestFreezeByAge(t *testing.T) {
	r := newFrozenRig(t, node.FreezePolicy{MaxUnsyncedEntries: -1, MaxUnsyncedAge: 21 * 24 * time.Hour})
	recs := synthtest.Enrollments(t, synth.Config{Count: 5, Seed: 3})
	if _, err := r.n.Enroll(&recs[0]); err != nil {
		t.Fatal(err)
	}
	start := r.now
	for i, tc := range []struct {
		name   string
		now    time.Time
		frozen bool
		warn   bool
	}{
		{"a week later", start.Add(7 * 24 * time.Hour), false, false},
		{"18 days later: warned", start.Add(18 * 24 * time.Hour), false, true},
		{"clock reset to 2000", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), false, false},
		{"22 days later: frozen", start.Add(22 * 24 * time.Hour), true, true},
	} {
		r.now = tc.now
		b, err := r.n.Backlog()
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.n.Enroll(&recs[1+i])
		if frozen := errors.Is(err, node.ErrFrozen); frozen != tc.frozen || (b.Warning != "") != tc.warn {
			t.Errorf("%s: frozen %v (%v), warning %q, oldest %s", tc.name, frozen, err, b.Warning, b.OldestAge)
		}
	}
}

// TestImportStopsAtTheFreeze: an import past the limit saves up to it and
// stops with the freeze error; what was saved stays.
func TestImportStopsAtTheFreeze(t *testing.T) {
	r := newFrozenRig(t, node.FreezePolicy{MaxUnsyncedEntries: 600, MaxUnsyncedAge: -1})
	st, err := r.n.Import(strings.NewReader(jsonLines(t, synthtest.Enrollments(t, synth.Config{Count: 1000, Seed: 3}))), node.ImportOptions{})
	if !errors.Is(err, node.ErrFrozen) || st.Accepted != 600 {
		t.Fatalf("import: accepted %d, %v; want 600 and the freeze", st.Accepted, err)
	}
	if h := head(t, r.n); h != 601 {
		t.Fatalf("head %d, want 601", h)
	}
}

func TestNoFreeze(t *testing.T) {
	r := newFrozenRig(t, node.NoFreeze)
	res, err := r.n.EnrollBatch(synthtest.Enrollments(t, synth.Config{Count: 50, Seed: 3}))
	if err != nil || res[49].Err != nil {
		t.Fatalf("%v %v", err, res[49].Err)
	}
}

func jsonLines(t *testing.T, recs []enrollment.Enrollment) string {
	t.Helper()
	var b strings.Builder
	for i := range recs {
		line, err := json.Marshal(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.String()
}
