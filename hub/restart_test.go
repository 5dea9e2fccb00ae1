package hub

import (
	"context"
	"testing"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
)

// TestRestartResumesFromTheWatermark: a hub's view is kept in DIR/view.
// After a restart it shows at once what it showed before — same counts,
// same digest — and applies only what the log took in since, never the
// whole log again.
func TestRestartResumesFromTheWatermark(t *testing.T) {
	path := t.TempDir()
	d, err := datadir.Init(path, datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "445", Name: "d", Open: true}}) // a district: it writes no receipts of its own
	if err != nil {
		t.Fatal(err)
	}
	es := captures(t, 600)
	if _, err := d.Log.Ingest(es[:400], nil); err != nil {
		t.Fatal(err)
	}
	run := func(d *datadir.Dir) (*Daemon, func()) {
		h, err := NewDaemon(DaemonConfig{Dir: d})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.Run(ctx); close(done) }()
		return h, func() { cancel(); <-done }
	}
	caughtUp := func(h *Daemon) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.ViewCaughtUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h, stop := run(d)
	caughtUp(h)
	before, digest := h.View().Stats()
	stop()
	d.Close()

	d, err = datadir.Open(path, datadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h, err = NewDaemon(DaemonConfig{Dir: d}) // not running yet: what it shows is what it read
	if err != nil {
		t.Fatal(err)
	}
	after, digestAfter := h.View().Stats()
	if digestAfter != digest || after.Citizens != before.Citizens || after.Entries != before.Entries {
		t.Fatalf("after a restart the view shows %+v %s, before it %+v %s", after, digestAfter, before, digest)
	}
	if lag, _ := h.View().Lag(); lag != 0 {
		t.Fatalf("the view resumed %d entries behind its log", lag)
	}
	h.Close()
	if _, err := d.Log.Ingest(es[400:], nil); err != nil {
		t.Fatal(err)
	}
	h, stop = run(d)
	defer stop()
	caughtUp(h)
	cfg, err := ViewConfig(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := NewView(d.Log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, dg := h.View().Stats()
	if want, wdg := rebuilt.Stats(); dg != wdg || st.Citizens != want.Citizens {
		t.Fatalf("resumed view %+v %s, a view built from the whole log %+v %s", st, dg, want, wdg)
	}
}
