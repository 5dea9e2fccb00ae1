package client_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/enrollment/synth"
	"fieldsync/hub"
	"fieldsync/hub/review"
	"fieldsync/hub/review/reviewtest"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/replication/roster"
	"fieldsync/runtime/client"
	"fieldsync/runtime/localapi"
)

// later is a wall clock ahead of the system's by d.
type later struct{ d time.Duration }

func (c later) Now() time.Time { return time.Now().Add(c.d) }
func (c later) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// province is a province hub (its own anchor) holding one conflict and one
// probable duplicate; the Client over it closes it.
func province(t *testing.T) *datadir.Dir {
	t.Helper()
	d, err := datadir.Init(filepath.Join(t.TempDir(), "p"), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "province", Unit: "01", Name: "p", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := trust.MakeAnchor(d); err != nil {
		t.Fatal(err)
	}
	caps := reviewtest.New(t)
	a, err := hub.NewAuthor(d)
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range caps.Laptops {
		req := hub.RosterRequest{Op: "add", Device: hex.EncodeToString(key), Role: replication.RoleNode, Units: []string{caps.Commune}, Name: fmt.Sprint("laptop ", i)}
		if _, err := a.Roster(req, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Log.Ingest(caps.Entries, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// runHub runs a hub daemon on d with its wall clock ahead by ahead and
// returns a Client over its local API; stop ends it.
func runHub(t *testing.T, d *datadir.Dir, ahead time.Duration) (c client.Client, stop func()) {
	t.Helper()
	cfg := hub.DaemonConfig{Dir: d}
	cfg.Replicator.Clock = later{ahead}
	h, err := hub.NewDaemon(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopHub := h.Start()
	wait, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.ViewCaughtUp(wait); err != nil {
		stopHub()
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Handler())
	return &client.Daemon{API: localapi.NewClient(localapi.Info{Addr: srv.Listener.Addr().String()})}, func() {
		srv.Close()
		if err := stopHub(); err != nil {
			t.Error(err)
		}
	}
}

// implementations gives each Client over a directory: the running daemon's
// API, and the directory itself.
var implementations = []struct {
	name string
	open func(t *testing.T, d *datadir.Dir) client.Client
}{
	{"daemon", func(t *testing.T, d *datadir.Dir) client.Client {
		c, stop := runHub(t, d, 0)
		t.Cleanup(func() { stop(); d.Close() })
		return c
	}},
	{"offline", func(t *testing.T, d *datadir.Dir) client.Client {
		c := client.NewOffline(d)
		t.Cleanup(func() { c.Close() })
		return c
	}},
}

// hubOutcome is what the hub operations answered, compared across the
// implementations.
type hubOutcome struct {
	Name, Queue               string
	Devices, Conflicts, Pairs int
	Settled                   int
	Refused                   []string
}

// TestHubOperations runs every hub operation against both implementations
// and checks they answer alike.
func TestHubOperations(t *testing.T) {
	laptopKey := hex.EncodeToString(make([]byte, 32))
	outcomes := map[string]hubOutcome{}
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			d := province(t)
			c := impl.open(t, d)
			var out hubOutcome
			st, err := c.Status()
			if err != nil {
				t.Fatal(err)
			}
			out.Name, out.Queue = st.Name, st.Extra["queue"].(string)
			if digest, _ := st.Extra["digest"].(string); len(digest) != 64 {
				t.Errorf("status without the view's digest: %v", st.Extra)
			}
			ids, err := c.ChangeRoster(hub.RosterRequest{Op: "add", Device: laptopKey, Role: replication.RoleNode, Units: []string{"18586"}, Name: "l"})
			if err != nil || len(ids) == 0 {
				t.Fatalf("add: %v, %v", ids, err)
			}
			v, err := c.Roster()
			if err != nil || v.Open || v.Anchor == nil {
				t.Fatalf("roster: %+v, %v", v, err)
			}
			out.Devices = len(v.Devices)
			bundle, err := c.ExportRoster()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := roster.DecodeBundle(bundle); err != nil {
				t.Errorf("the exported bundle: %v", err)
			}
			if res, err := c.ImportRoster(bundle); err != nil || res.AnchorSet != nil {
				t.Errorf("import of its own roster: %+v, %v", res, err)
			}
			cs, err := c.Conflicts(review.Queue{All: true})
			if err != nil {
				t.Fatal(err)
			}
			ps, err := c.Duplicates(review.Queue{All: true})
			if err != nil {
				t.Fatal(err)
			}
			out.Conflicts, out.Pairs = len(cs), len(ps)
			if len(cs) != 1 {
				t.Fatalf("%d conflicts", len(cs))
			}
			refusals := []struct {
				name string
				do   func() error
			}{
				{"bad choice", func() error {
					_, err := c.Resolve(review.Request{ID: cs[0].Key, Choose: "00:1", Officer: "PC06"})
					return err
				}},
				{"no such pair", func() error {
					_, err := c.Resolve(review.Request{ID: "pair:a|b", SamePerson: true, Officer: "PC06"})
					return err
				}},
				{"bad device", func() error {
					_, err := c.ChangeRoster(hub.RosterRequest{Op: "add", Device: "zz", Units: []string{"1"}})
					return err
				}},
			}
			for _, r := range refusals {
				err := r.do()
				var ae *localapi.Error
				switch {
				case review.Rejected(err) || errors.Is(err, hub.ErrBadRosterRequest):
					out.Refused = append(out.Refused, r.name)
				case errors.As(err, &ae) && ae.Status/100 == 4:
					out.Refused = append(out.Refused, r.name)
				default:
					t.Errorf("%s: %v, want a refusal", r.name, err)
				}
			}
			if _, err := c.Resolve(review.Request{ID: cs[0].Key, Choose: cs[0].Versions[1].ID.String(), Officer: "PC06"}); err != nil {
				t.Fatal(err)
			}
			settled, err := c.Conflicts(review.Queue{All: true, Resolved: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range settled {
				if s.Conflict.Resolved != nil {
					out.Settled++
				}
			}
			outcomes[impl.name] = out
		})
	}
	if !reflect.DeepEqual(outcomes["daemon"], outcomes["offline"]) || outcomes["offline"].Settled != 1 {
		t.Errorf("the implementations answer differently:\n daemon  %+v\n offline %+v", outcomes["daemon"], outcomes["offline"])
	}
}

// TestOfflineEntriesNeverGoBack: entries written with the daemon stopped
// go through the hub's clock resumed from its log, so one written after a
// daemon's entry never carries a smaller HLC, even with the wall clock set
// back a day (the daemon ran with a clock an hour ahead).
func TestOfflineEntriesNeverGoBack(t *testing.T) {
	cases := []struct {
		name  string
		write func(t *testing.T, c client.Client, i int) replication.EntryID
	}{
		{"roster add", func(t *testing.T, c client.Client, i int) replication.EntryID {
			key := make([]byte, 32)
			key[0] = byte(i + 1)
			ids, err := c.ChangeRoster(hub.RosterRequest{Op: "add", Device: hex.EncodeToString(key), Role: replication.RoleNode, Units: []string{"18586"}})
			if err != nil {
				t.Fatal(err)
			}
			return ids[len(ids)-1]
		}},
		{"resolve", func(t *testing.T, c client.Client, i int) replication.EntryID {
			cs, err := c.Conflicts(review.Queue{All: true, Resolved: true})
			if err != nil || len(cs) != 1 {
				t.Fatalf("conflicts: %d, %v", len(cs), err)
			}
			id, err := c.Resolve(review.Request{ID: cs[0].Key, Choose: cs[0].Versions[i%2].ID.String(), Officer: "PC06"})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}},
	}
	defer func(now func() time.Time) { client.Now = now }(client.Now)
	client.Now = func() time.Time { return time.Now().Add(-24 * time.Hour) }
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := province(t)
			var offline *client.Offline
			defer func() {
				if offline != nil {
					offline.Close()
				} else {
					d.Close()
				}
			}()
			daemon, stop := runHub(t, d, time.Hour)
			first := c.write(t, daemon, 0)
			stop()
			offline = client.NewOffline(d)
			second := c.write(t, offline, 1)
			third := c.write(t, offline, 2)
			var hlcs []replication.HLC
			for _, id := range []replication.EntryID{first, second, third} {
				e, err := d.Log.Get(id)
				if err != nil {
					t.Fatal(err)
				}
				hlcs = append(hlcs, e.HLC)
			}
			if !(hlcs[0] < hlcs[1] && hlcs[1] < hlcs[2]) {
				t.Errorf("daemon's entry %v, then offline %v and %v: the clock went back", hlcs[0], hlcs[1], hlcs[2])
			}
		})
	}
}

// laptop is a Client over a new laptop's directory: its daemon's API
// (impl "daemon") or the directory itself.
func laptop(t *testing.T, impl string) client.Client {
	t.Helper()
	d, err := datadir.Init(filepath.Join(t.TempDir(), "l"), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586", Name: "l", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if impl == "offline" {
		return client.NewOffline(d)
	}
	n, err := node.NewDaemon(node.DaemonConfig{Dir: d})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler())
	t.Cleanup(srv.Close)
	return &client.Daemon{API: localapi.NewClient(localapi.Info{Addr: srv.Listener.Addr().String(), Token: "t"})}
}

// TestLaptopOperations: officer accounts and a resident's status, alike
// through the daemon and offline; a hub's directory refuses them.
func TestLaptopOperations(t *testing.T) {
	type outcome struct {
		Listed        []string
		Disabled      bool
		Refused       bool
		StatusSaved   bool
		StatusRefused bool
	}
	outcomes := map[string]outcome{}
	for _, impl := range []string{"daemon", "offline"} {
		t.Run(impl, func(t *testing.T) {
			c := laptop(t, impl)
			var out outcome
			if _, err := c.ChangeOfficer(node.OfficerRequest{Op: "add", ID: "CA-18586-02", Name: "Lê Thị Hoa", Password: "correct horse battery"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ChangeOfficer(node.OfficerRequest{Op: "disable", ID: "CA-18586-02"}); err != nil {
				t.Fatal(err)
			}
			os, err := c.Officers()
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range os {
				out.Listed = append(out.Listed, o.ID)
				out.Disabled = o.Disabled
				if o.Hash != "" {
					t.Error("an officer listed with its password hash")
				}
			}
			_, err = c.ChangeOfficer(node.OfficerRequest{Op: "enable", ID: "nobody"})
			var ae *localapi.Error
			out.Refused = errors.Is(err, node.ErrBadOfficer) || errors.As(err, &ae) && ae.Status == 400
			res, err := c.SetResidentStatus(residents.Status{PersonalID: "042085000101", Status: residents.Code("away"), Officer: "CA-18586-02", Note: "works in Hà Nội"})
			out.StatusSaved = err == nil && res.Receipt != nil
			res, err = c.SetResidentStatus(residents.Status{PersonalID: "04208500010", Status: residents.Code("away"), Officer: "CA-1"})
			out.StatusRefused = res.Rejected != nil || errors.As(err, &ae) && ae.Status/100 == 4
			outcomes[impl] = out
		})
	}
	want := outcome{Listed: []string{"CA-18586-02"}, Disabled: true, Refused: true, StatusSaved: true, StatusRefused: true}
	if !reflect.DeepEqual(outcomes["daemon"], want) || !reflect.DeepEqual(outcomes["offline"], want) {
		t.Errorf("daemon  %+v\noffline %+v", outcomes["daemon"], outcomes["offline"])
	}
	hubDir := province(t)
	defer hubDir.Close()
	hubClient := client.NewOffline(hubDir)
	if _, err := hubClient.Officers(); !errors.Is(err, client.ErrNotNode) {
		t.Errorf("officers at a hub: %v", err)
	}
	if _, err := hubClient.SetResidentStatus(residents.Status{}); !errors.Is(err, client.ErrNotNode) {
		t.Errorf("a status at a hub: %v", err)
	}
}

// TestEnroll: a laptop saves dossiers alike through its daemon and
// offline; a row that did not decode is answered in its place.
func TestEnroll(t *testing.T) {
	gen, err := synth.New(synth.Config{Count: 2, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var dossiers []*node.Dossier
	for rec, ok := gen.Next(); ok; rec, ok = gen.Next() {
		dossiers = append(dossiers, &node.Dossier{Record: rec.Enrollment})
	}
	rowErr := &enrollment.DecodeError{Field: "date_of_birth", Err: errors.New("not a date")}
	type line struct {
		Record          int
		Saved, Rejected bool
		Error           string
	}
	results := map[string][]line{}
	for _, impl := range []string{"daemon", "offline"} {
		t.Run(impl, func(t *testing.T) {
			c := laptop(t, impl)
			i := 0
			next := func() (int, *node.Dossier, error) {
				i++
				switch i {
				case 1, 3:
					return i, dossiers[i/2], nil
				case 2:
					return i, nil, rowErr
				}
				return 0, nil, io.EOF
			}
			var got []line
			err = c.Enroll(next, func(r node.EnrollResult) error {
				got = append(got, line{r.Record, r.Receipt != nil, r.Rejected != nil, r.Error})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[1].Error == "" || !strings.Contains(got[1].Error, "date_of_birth") || got[0].Record != 1 || got[2].Record != 3 {
				t.Errorf("results %+v", got)
			}
			results[impl] = got
		})
	}
	if !reflect.DeepEqual(results["daemon"], results["offline"]) {
		t.Errorf("daemon %+v\noffline %+v", results["daemon"], results["offline"])
	}
}
