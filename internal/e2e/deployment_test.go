package e2e

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/internal/linkemu"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
)

// fast are session and dial timings for tests (the defaults suit 2G).
func fast(rc replicator.Config) replicator.Config {
	rc.Session = syncnet.Options{TickEvery: 200 * time.Millisecond, IdleTimeout: 500 * time.Millisecond}
	rc.MinBackoff, rc.MaxBackoff, rc.WakeDelay = 50*time.Millisecond, 500*time.Millisecond, 50*time.Millisecond
	return rc
}

// testLink is a thin but quick link for tests.
var testLink = func() linkemu.Profile {
	p := linkemu.Bench128k
	p.Name, p.RateBitsPerSec, p.RTT, p.Loss = "test", 4_000_000, 40*time.Millisecond, 0.01
	return p
}()

type deployment struct {
	t      *testing.T
	ctx    context.Context
	hubs   map[string]*hub.Daemon
	nodes  map[string]*node.Daemon
	addrs  map[string]string
	cancel func()
	done   []chan struct{}
	// hubConfig, when set, adjusts the next hub's config (addHubWith).
	hubConfig func(*hub.DaemonConfig)
}

func newDeployment(t *testing.T) *deployment {
	ctx, cancel := context.WithCancel(context.Background())
	d := &deployment{t: t, ctx: ctx, cancel: cancel, hubs: map[string]*hub.Daemon{}, nodes: map[string]*node.Daemon{}, addrs: map[string]string{}}
	t.Cleanup(d.stop)
	return d
}

func (d *deployment) stop() {
	d.cancel()
	for _, c := range d.done {
		<-c
	}
}

func (d *deployment) run(name string, r interface{ Run(context.Context) error }) {
	c := make(chan struct{})
	d.done = append(d.done, c)
	go func() { defer close(c); r.Run(d.ctx) }()
}

// initDir makes a replica's directory the way a deployment does: the
// province hub is the trust anchor (it signs the roster); every other
// replica is added to the province's roster and imports it before it
// first syncs. Sync streams are mutual TLS between roster keys.
func (d *deployment) initDir(cfg datadir.Config) *datadir.Dir {
	dir, err := datadir.Init(filepath.Join(d.t.TempDir(), cfg.Name), datadir.InitOptions{Config: cfg})
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { d.stop(); dir.Close() }) // the daemons first: they hold stores in dir
	if cfg.Tier == "province" {
		err = trust.MakeAnchor(dir)
	} else {
		err = d.hubs["province"].Enlist(dir)
	}
	if err != nil {
		d.t.Fatal(err)
	}
	return dir
}

// addHub starts a hub; parent is the name of the hub above ("" for none).
func (d *deployment) addHub(name, tier, unit, parent string) {
	dir := d.initDir(datadir.Config{Role: replication.RoleHub, Tier: tier, Unit: unit, Name: name})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.t.Fatal(err)
	}
	d.addrs[name] = ln.Addr().String()
	rc := fast(replicator.Config{Listener: ln})
	if parent != "" {
		rc.Static = []string{d.addrs[parent]}
		rc.Dial = dialer(linkemu.NewLink(testLink, linkemu.WithSeed(int64(len(d.addrs)))))
	}
	cfg := hub.DaemonConfig{Dir: dir, Replicator: rc}
	if d.hubConfig != nil {
		d.hubConfig(&cfg)
	}
	h, err := hub.NewDaemon(cfg)
	if err != nil {
		d.t.Fatal(err)
	}
	d.hubs[name] = h
	d.run(name, h)
}

// addNode starts a laptop dialing hub through its own emulated link.
func (d *deployment) addNode(name, unit, hubName string) {
	dir := d.initDir(datadir.Config{Role: replication.RoleNode, Unit: unit, Name: name})
	rc := fast(replicator.Config{Static: []string{d.addrs[hubName]}, Dial: dialer(linkemu.NewLink(testLink, linkemu.WithSeed(int64(len(d.nodes)+10))))})
	n, err := node.NewDaemon(node.DaemonConfig{Dir: dir, Replicator: rc})
	if err != nil {
		d.t.Fatal(err)
	}
	d.nodes[name] = n
	d.run(name, n)
}

func dialer(l *linkemu.Link) func(context.Context, string) (net.Conn, error) {
	dial := l.Dialer(&net.Dialer{})
	return func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, "tcp", addr) }
}

// enroll captures records on a laptop and wakes its sync.
func (d *deployment) enroll(name string, recs ...enrollment.Enrollment) {
	n := d.nodes[name]
	for i := 0; i < len(recs); i += node.MaxGroupRecords {
		res, err := n.Node().EnrollBatch(recs[i:min(len(recs), i+node.MaxGroupRecords)])
		if err != nil {
			d.t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				d.t.Fatalf("%s: %v", name, r.Err)
			}
		}
	}
	n.Rep.Wake()
}

// converged reports whether the province holds every laptop's log and all
// hubs show the same digest; it returns the digests.
func (d *deployment) converged(province string) (bool, map[string]string) {
	pv, _ := d.hubs[province].Dir.Log.Vector()
	for _, n := range d.nodes {
		lv, _ := n.Dir.Log.Vector()
		o := n.Dir.Signer.Origin()
		if pv[o] != lv[o] {
			return false, nil
		}
	}
	digests := map[string]string{}
	distinct := map[string]bool{}
	for name, h := range d.hubs {
		_, dg := h.View().Stats()
		digests[name], distinct[dg] = dg, true
	}
	return len(distinct) == 1, digests
}

func (d *deployment) waitConverged(province string, what string, extra func() bool) map[string]string {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ok, digests := d.converged(province); ok && (extra == nil || extra()) {
			return digests
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, digests := d.converged(province)
	for name, h := range d.hubs {
		st, _ := h.Status(nil)
		d.t.Logf("%s: %d entries, roster %+v, refused %v, alarms %v", name, st.Entries, st.Trust, st.Refused, st.Alarms)
		for _, p := range st.Peers {
			d.t.Logf("  peer %s: backlog %d, last error %q", p.Name, p.BacklogEntries, p.LastError)
		}
	}
	d.t.Fatalf("%s: no convergence in 60 s; digests %v", what, digests)
	return nil
}

// citizen is one person as captured in a commune of the 2023 list.
func citizen(pid, name, commune string) enrollment.Enrollment {
	place := enrollment.Place{UnitCode: commune, CodeList: enrollment.CodeList2023, Text: "Xã " + commune}
	return enrollment.Enrollment{PersonalID: pid, FullName: name, DateOfBirth: enrollment.Date{Year: 1985, Month: 3, Day: 12},
		Sex: enrollment.Male, EthnicityCode: "01", Nationality: []string{"Việt Nam"},
		BirthRegistration:  enrollment.Place{UnitCode: "42", CodeList: enrollment.CodeList2023, Text: "Tỉnh Hà Tĩnh"},
		Hometown:           place,
		PermanentResidence: place,
		Father:             &enrollment.Relative{FullName: "Nguyễn Văn Bảy"},
		Capture: enrollment.Capture{CommuneCode: commune, CodeList: enrollment.CodeList2023, Officer: "CA-" + commune,
			CapturedAt: time.Date(2023, 3, 1, 9, 0, 0, 0, time.UTC)},
	}
}

// TestProvinceSettlesACrossDistrictDuplicate is the hub issue's end-to-end
// test: 4 laptops in 2 districts, 2 district hubs, 1 provincial hub, over
// loopback through emulated links. A citizen enrolled in both districts,
// with a transposed ID digit and the name in capitals, ends up as one
// duplicate pair at the province; the province's decision reaches both
// district hubs; every hub ends with the same digest.
func TestProvinceSettlesACrossDistrictDuplicate(t *testing.T) {
	d := newDeployment(t)
	d.addHub("province", "province", "42", "")
	d.addHub("thach-ha", "district", "445", "province")
	d.addHub("tp-ha-tinh", "district", "436", "province")
	d.addNode("l-thach-kenh", "18586", "thach-ha")
	d.addNode("l-thach-hai", "18571", "thach-ha")
	d.addNode("l-nam-ha", "18073", "tp-ha-tinh")
	d.addNode("l-bac-ha", "18076", "tp-ha-tinh")
	// Each laptop captures in its own commune: Rule 0 quarantines captures
	// outside a device's scope.
	for i, l := range []struct{ name, commune string }{{"l-thach-kenh", "18586"}, {"l-thach-hai", "18571"}, {"l-nam-ha", "18073"}, {"l-bac-ha", "18076"}} {
		d.enroll(l.name, synthtest.Enrollments(t, synth.Config{Count: 150, Seed: uint64(100 + i), Commune: l.commune, CodeList: enrollment.CodeList2023})...)
	}
	d.enroll("l-thach-kenh", citizen("042085001234", "Nguyễn Văn Thành", "18586"))
	d.enroll("l-nam-ha", citizen("042085001243", "NGUYỄN VĂN THÀNH", "18073"))

	pairID := reconcile.PairID("042085001234", "042085001243")
	provinceSeesPair := func() bool {
		for _, p := range pairsIn(t, d.hubs["province"].View(), review.Queue{All: true}) {
			if p.ID == pairID {
				return true
			}
		}
		return false
	}
	d.waitConverged("province", "after capture", provinceSeesPair)
	queue := pairsIn(t, d.hubs["province"].View(), d.hubs["province"].Queue())
	var found *review.PairItem
	for i := range queue {
		if queue[i].ID == pairID {
			found = &queue[i]
		}
	}
	if found == nil || found.Level != "province" {
		t.Fatalf("the cross-district pair must be in the province's queue: %+v", queue)
	}
	for _, name := range []string{"thach-ha", "tp-ha-tinh"} {
		for _, p := range pairsIn(t, d.hubs[name].View(), d.hubs[name].Queue()) {
			if p.ID == pairID {
				t.Fatalf("%s must route the cross-district pair upward, not review it", name)
			}
		}
	}
	t.Logf("pair %s score %.2f reasons %v", found.ID, found.Score, found.Reasons)

	if _, err := d.hubs["province"].Resolve(review.Request{ID: pairID, SamePerson: true, Officer: "PC06-1"}); err != nil {
		t.Fatal(err)
	}
	settledEverywhere := func() bool {
		for _, h := range d.hubs {
			settled := false
			for _, p := range pairsIn(t, h.View(), review.Queue{All: true, Resolved: true}) {
				settled = settled || p.ID == pairID && p.Resolved != nil && p.Resolved.Verdict == reconcile.VerdictSamePerson
			}
			if !settled {
				return false
			}
		}
		return true
	}
	digests := d.waitConverged("province", "after the decision", settledEverywhere)
	st, _ := d.hubs["province"].View().Stats()
	t.Logf("converged: %d citizens, %d pairs (%d open), %d conflicts; digests %v", st.Citizens, st.Pairs, st.OpenPairs, st.Conflicts, digests)
	if st.Citizens < 590 {
		t.Fatalf("the province shows %d citizens", st.Citizens)
	}
}

// addHubWith starts a hub like addHub, letting the test adjust its config.
func (d *deployment) addHubWith(name, tier, unit, parent string, adjust func(*hub.DaemonConfig)) {
	d.hubConfig = adjust
	defer func() { d.hubConfig = nil }()
	d.addHub(name, tier, unit, parent)
}

func fmtSscan(s string, v *float64) (int, error) { return fmt.Sscan(s, v) }

// shows reports whether the view shows citizen key.
func shows(t *testing.T, r *reconcile.Reconciler, key string) bool {
	t.Helper()
	c, err := r.Citizen(key)
	if err != nil {
		t.Fatal(err)
	}
	return c != nil
}

func conflictsIn(t *testing.T, v *hub.View, q review.Queue) []*reconcile.Citizen {
	t.Helper()
	items, _, err := v.Conflicts(q)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func pairsIn(t *testing.T, v *hub.View, q review.Queue) []review.PairItem {
	t.Helper()
	items, _, err := v.Pairs(q)
	if err != nil {
		t.Fatal(err)
	}
	return items
}
