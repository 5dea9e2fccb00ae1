package hub

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/storage/kv"
)

// TestViewFollowsTheLog checks that the view, following a log in rounds
// and decoding on several goroutines, reaches the same view as the
// reconciler applying the entries one by one, whatever the round size; and
// that a view opened again on its store resumes from its watermark,
// applying only what came after.
func TestViewFollowsTheLog(t *testing.T) {
	es := captures(t, 400)
	seq := reconcile.New(reconcile.Config{Matcher: NewMatcher()})
	for _, e := range es {
		if err := seq.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	l := oplog.NewMem()
	if _, err := l.Ingest(es[:250], nil); err != nil {
		t.Fatal(err)
	}
	store := kv.NewMem()
	open := func(round int) *View {
		v, err := OpenView(ViewOptions{Log: l, Store: store, Config: reconcile.Config{Matcher: NewMatcher()}, NewMatcher: NewMatcher, RoundEntries: round})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := open(64)
	if err := v.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := v.Applied().Total(); got != 250 {
		t.Fatalf("watermark covers %d entries, want 250", got)
	}
	if _, err := l.Ingest(es[250:], nil); err != nil {
		t.Fatal(err)
	}
	v = open(1000) // a restart: the watermark says where it stopped
	if got := v.Applied().Total(); got != 250 {
		t.Fatalf("reopened at %d entries, want 250", got)
	}
	if err := v.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, digest := v.Stats()
	if digest != seq.Digest() || !reflect.DeepEqual(st, seq.Stats()) || st.Versions != len(es)-1 || st.Conflicts == 0 || st.Pairs == 0 {
		t.Errorf("followed: %+v, digest %s; one by one: %+v, %s", st, digest, seq.Stats(), seq.Digest())
	}
	if st.Entries != len(es) {
		t.Errorf("the view applied %d entries, the log holds %d", st.Entries, len(es))
	}
	rebuilt, err := NewView(l, reconcile.Config{Matcher: NewMatcher()})
	if err != nil {
		t.Fatal(err)
	}
	if _, digest := rebuilt.Stats(); digest != seq.Digest() {
		t.Errorf("rebuilt view differs: %s, want %s", digest, seq.Digest())
	}
}

// captures returns a genesis and n-1 enroll entries of generated records
// (re-enrollments included, so that there are conflicts and pairs).
func captures(t *testing.T, n int) []replication.Entry {
	t.Helper()
	s := oplogtest.NewSigner(7)
	g := replication.Seal(s, oplogtest.GenesisDraft(s), 1, replication.Hash{})
	es := []replication.Entry{g}
	for _, rec := range synthtest.Enrollments(t, synth.Config{Count: n - 1, Seed: 5, Noise: 0.2}) {
		payload, err := json.Marshal(&rec)
		if err != nil {
			t.Fatal(err)
		}
		d := replication.Draft{Kind: replication.KindEnroll, Schema: enrollment.SchemaVersion, Payload: payload,
			HLC: replication.MakeHLC(rec.Capture.CapturedAt.UnixMilli(), 0)}
		prev := es[len(es)-1]
		es = append(es, replication.Seal(s, d, prev.Seq+1, prev.Hash()))
	}
	return es
}
