package hub

import (
	"encoding/json"
	"testing"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
)

// TestViewApplyDecodesInParallel checks that View.Apply, which decodes a
// large batch on several goroutines before applying it, reaches the same
// view as the reconciler applying the entries one by one — and so does a
// view rebuilt from a log holding them.
func TestViewApplyDecodesInParallel(t *testing.T) {
	es := captures(t, 400)
	seq := reconcile.New(reconcile.Config{Matcher: NewMatcher()})
	for _, e := range es {
		seq.Apply(e)
	}
	v, err := NewView(oplog.NewMem(), reconcile.Config{Matcher: NewMatcher()})
	if err != nil {
		t.Fatal(err)
	}
	v.Apply(es...)
	st, digest := v.Stats()
	if digest != seq.Digest() || st.Versions != len(es)-1 || st.Conflicts == 0 || st.Pairs == 0 {
		t.Errorf("parallel decode: %+v, digest %s; one by one: %+v, %s", st, digest, seq.Stats(), seq.Digest())
	}
	l := oplog.NewMem()
	if _, err := l.Ingest(es, nil); err != nil {
		t.Fatal(err)
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
	gen, err := synth.New(synth.Config{Count: n - 1, Seed: 5, Noise: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	for rec, ok := gen.Next(); ok; rec, ok = gen.Next() {
		payload, err := json.Marshal(&rec.Enrollment)
		if err != nil {
			t.Fatal(err)
		}
		d := replication.Draft{Kind: replication.KindEnroll, Schema: enrollment.SchemaVersion, Payload: payload,
			HLC: replication.MakeHLC(rec.Enrollment.Capture.CapturedAt.UnixMilli(), 0)}
		prev := es[len(es)-1]
		es = append(es, replication.Seal(s, d, prev.Seq+1, prev.Hash()))
	}
	return es
}
