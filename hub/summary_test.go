package hub

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
)

// TestStoredSummary: status of a stopped hub reads the view's counts and
// digest as stored when the view is up to the log, and otherwise shows
// the view of everything the log holds (brought up to it), so both ways
// answer what a view built from the log shows.
func TestStoredSummary(t *testing.T) {
	es := captures(t, 300)
	cases := []struct {
		name        string
		run         int // entries the hub's daemon applied before it stopped
		ingestAfter int // entries taken in while it was stopped
		wantCurrent bool
	}{
		{"up to the log", 300, 0, true},
		{"entries arrived while stopped", 200, 100, false},
		{"never ran", 0, 300, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h")
			d, err := datadir.Init(path, datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "445", Name: "d", Open: true}})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if c.run > 0 {
				if _, err := d.Log.Ingest(es[:c.run], nil); err != nil {
					t.Fatal(err)
				}
				h, err := NewDaemon(DaemonConfig{Dir: d})
				if err != nil {
					t.Fatal(err)
				}
				stop := h.Start()
				wait, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err = h.ViewCaughtUp(wait)
				cancel()
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if c.ingestAfter > 0 {
				if _, err := d.Log.Ingest(es[c.run:c.run+c.ingestAfter], nil); err != nil {
					t.Fatal(err)
				}
			}
			built, err := NewView(d.Log, reconcile.Config{Matcher: NewMatcher()})
			if err != nil {
				t.Fatal(err)
			}
			wantStats, wantDigest := built.Stats()
			_, _, current, err := readStoredSummary(d)
			if err != nil || current != c.wantCurrent {
				t.Fatalf("stored view up to the log: %v (%v), want %v", current, err, c.wantCurrent)
			}
			for range 2 { // the second time, the view is up to the log in every case
				st, digest, err := StoredSummary(d)
				if err != nil || digest != wantDigest || st.Citizens != wantStats.Citizens || st.Entries != wantStats.Entries || st.Conflicts != wantStats.Conflicts {
					t.Fatalf("status shows %+v %s (%v), a view of the log %+v %s", st, digest, err, wantStats, wantDigest)
				}
			}
			if _, _, current, _ := readStoredSummary(d); !current {
				t.Error("after status brought it up, the stored view is still behind the log")
			}
		})
	}
}

// TestClockResumesAfterTheBundleKey: a new hub's daemon writes its bundle
// key as it starts; the hub's clock (Author) resumes after it, so what the
// hub writes next never carries a smaller HLC in its own origin.
func TestClockResumesAfterTheBundleKey(t *testing.T) {
	d, err := datadir.Init(filepath.Join(t.TempDir(), "h"), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "province", Unit: "01", Name: "p", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h, err := NewDaemon(DaemonConfig{Dir: d})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	head, err := d.Log.Head(d.Signer.Origin())
	if err != nil || head.Seq < 2 {
		t.Fatalf("own origin's head %+v (%v): the bundle key was not written", head, err)
	}
	key, err := d.Log.Get(replication.EntryID{Origin: d.Signer.Origin(), Seq: head.Seq})
	if err != nil || key.Kind != replication.KindBundleKey {
		t.Fatalf("own head %v, %v", key.Kind, err)
	}
	h.author.mu.Lock()
	last := h.author.hlc.Last()
	h.author.mu.Unlock()
	if last < key.HLC {
		t.Errorf("the hub's clock resumed at %v, before its bundle key %v", last, key.HLC)
	}
}
