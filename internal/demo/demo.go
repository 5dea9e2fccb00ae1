package demo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/hub"
	"fieldsync/hub/dashboard"
	"fieldsync/internal/linkemu"
	"fieldsync/node"
	"fieldsync/node/capture"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/replication/gossip"
	"fieldsync/replication/replicator"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
	"fieldsync/replication/syncnet"
	"fieldsync/runtime/localapi"
	"fieldsync/storage"
)

// Config configures a demo. The zero value of each field takes a default.
type Config struct {
	Districts int     // district hubs (default 3: mountain, lowland, town)
	Communes  int     // communes per district (default 4)
	Records   int     // generated enrollments in all (default 20,000)
	Noise     float64 // share of noisy re-enrollments (default 0.05)
	// Dossiers is how many of the captures carry their biometric files
	// (portrait, 13 finger images, irises, signature: ~1 MB each at
	// DOMAIN.md §6.4's sizes), spread evenly over every laptop's captures
	// (default 400: 0.4 GB, which the field's 2G, EDGE and 3G rates move
	// only in part during the demo — records first, blobs behind);
	// -1 for none.
	Dossiers int
	Seed     uint64 // data seed (default 1)
	// CaptureFor is how long, in real time, the campaign's captures take
	// (its days are compressed into it; default 75 s).
	CaptureFor time.Duration
	// ConvergeWithin bounds the wait for convergence after the captures
	// (default 90 s).
	ConvergeWithin time.Duration
	// Dir keeps the data directories there (default: a temporary folder,
	// removed at the end).
	Dir string
	// DashboardAddr is where the province's dashboard listens (default
	// 127.0.0.1:7980, or any free port if taken). Every hub has one.
	DashboardAddr string
	// Keep keeps everything running after the summary until ctx ends.
	Keep bool
	// Out receives progress and the summary; Logger the replicas' logs.
	Out    io.Writer
	Logger *slog.Logger
	// ProgressEvery is how often a progress line is printed (default 5 s).
	ProgressEvery time.Duration
	// AtEnd, if set, is called after the summary while everything still
	// runs (the command takes a heap profile there; the test scrapes
	// /metrics).
	AtEnd func(Summary)
}

func (c *Config) fill() {
	if c.Districts == 0 {
		c.Districts = 3
	}
	if c.Communes == 0 {
		c.Communes = 4
	}
	if c.Records == 0 {
		c.Records = 20000
	}
	if c.Dossiers == 0 {
		c.Dossiers = 400
	}
	if c.Noise == 0 {
		c.Noise = 0.05
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.CaptureFor == 0 {
		c.CaptureFor = 75 * time.Second
	}
	if c.ConvergeWithin == 0 {
		c.ConvergeWithin = 90 * time.Second
	}
	if c.DashboardAddr == "" {
		c.DashboardAddr = "127.0.0.1:7980"
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = 5 * time.Second
	}
}

// HubSummary is one hub's line of the closing table.
type HubSummary struct {
	Name          string `json:"name"`
	Tier          string `json:"tier"`
	Unit          string `json:"unit"`
	Entries       uint64 `json:"entries"`
	Citizens      int    `json:"citizens"`
	OpenConflicts int    `json:"open_conflicts"`
	Conflicts     int    `json:"conflicts"`
	Pairs         int    `json:"duplicate_pairs"`
	OpenPairs     int    `json:"open_duplicate_pairs"`
	Digest        string `json:"digest"`
	Dashboard     string `json:"dashboard"`
	// Dossiers is how complete the laptops' dossiers are at this hub.
	Dossiers dashboard.DossierCounts `json:"dossiers"`
	// Own counts the hub's own entries (its genesis, decisions, and at
	// the province its receipts, in the anchor's channels).
	Own uint64 `json:"own_entries"`
	// Census is the completeness against the communes' resident lists,
	// with its digest (equal on every hub).
	Census       residents.Counts `json:"census"`
	CensusDigest string           `json:"census_digest"`
}

// Summary is how the demo ended.
type Summary struct {
	Hubs     []HubSummary `json:"hubs"`
	Laptops  int          `json:"laptops"`
	Captured int          `json:"captured"`
	// Dossiers counts the captures saved with their files, BlobBytes
	// the files' bytes.
	Dossiers  int   `json:"dossiers"`
	BlobBytes int64 `json:"blob_bytes"`
	Moved     int   `json:"moved_people"`
	Corrected int   `json:"conflicting_corrections"`
	Converged bool  `json:"converged"`
	// Missing counts laptop entries not (yet) at the province; 0 when
	// converged.
	Missing int64 `json:"missing_at_province"`
	// Roster is the devices on the province's roster; Refused counts
	// what every replica refused (ranges, forks, TLS handshakes), by
	// reason: none in a healthy province.
	Roster  int            `json:"roster_devices"`
	Refused map[string]int `json:"refused"`
	// RefusedWhy is what the replicas kept as evidence of refused ranges
	// (who refused what from whom, and why): at most maxRefusedWhy lines.
	RefusedWhy []string `json:"refused_why,omitempty"`
	// ResidentEntries are the entries of the resident lists the province
	// published (its channels, geneses included).
	ResidentEntries int           `json:"resident_entries"`
	Elapsed         time.Duration `json:"elapsed"`
}

// world is a running demo.
type world struct {
	cfg       Config
	dir       string
	plans     []districtPlan
	data      *dataset
	province  *hubRun
	districts []*hubRun
	laptops   []*laptopRun
	published int // entries of the province's resident lists (channels)
	links     []*linkemu.Link
	pools     []*gossip.Pool
	done      []chan struct{}
	ctx       context.Context
	mu        sync.Mutex
	keys      map[int][]byte // district pool keys
	captured  int
	rejected  int
	dossiers  int
	blobBytes int64
}

type hubRun struct {
	d      *hub.Daemon
	dir    *datadir.Dir
	sync   string
	gossip map[string]string // pool → gossip address
	info   localapi.Info
	ready  chan struct{}
}

type laptopRun struct {
	plan *laptopPlan
	d    *node.Daemon
	api  chan localapi.Info // the capture app's address, once it serves
	dir  *datadir.Dir
	sync string
	ln   net.Listener
	link *linkemu.Link
}

// Run runs a whole simulated province on this machine and returns how it
// ended. It fails only when the demo could not be set up or run; a demo
// that ran but did not converge returns Summary.Converged false.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg.fill()
	start := time.Now()
	w := &world{cfg: cfg}
	var err error
	if w.plans, err = plan(cfg.Districts, cfg.Communes); err != nil {
		return Summary{}, err
	}
	if w.dir, err = w.workdir(); err != nil {
		return Summary{}, err
	}
	if cfg.Dir == "" {
		defer os.RemoveAll(w.dir)
	}
	fmt.Fprintf(cfg.Out, "fieldsync demo: %s, %d districts x %d communes, ~%d enrollments (data in %s)\n",
		"Tỉnh Hà Tĩnh", cfg.Districts, cfg.Communes, cfg.Records, w.dir)
	if w.data, err = buildData(w.plans, cfg.Records, cfg.Noise, cfg.Seed, cfg.Dossiers); err != nil {
		return Summary{}, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	w.ctx = runCtx
	defer w.shutdown(cancel)
	if err := w.start(); err != nil {
		return Summary{}, err
	}
	w.printDashboards()
	w.capture()
	if ctx.Err() != nil {
		return Summary{}, ctx.Err()
	}
	fmt.Fprintln(cfg.Out, "captures done; all links up, waiting for every hub to converge…")
	for _, l := range w.links {
		l.Heal()
	}
	converged := w.waitConverged()
	sum := w.summary(converged, time.Since(start))
	printSummary(cfg.Out, sum)
	if cfg.AtEnd != nil {
		cfg.AtEnd(sum)
	}
	if cfg.Keep && ctx.Err() == nil {
		fmt.Fprintln(cfg.Out, "--keep: running until interrupted (Ctrl-C); fresh login links:")
		w.printDashboards()
		<-ctx.Done()
	}
	return sum, nil
}

func (w *world) workdir() (string, error) {
	if w.cfg.Dir != "" {
		return w.cfg.Dir, os.MkdirAll(w.cfg.Dir, 0o700)
	}
	return os.MkdirTemp("", "fieldsync-demo-")
}

// start brings up the province, the district hubs, then the laptops.
func (w *world) start() error {
	provKey, err := newKey()
	if err != nil {
		return err
	}
	if w.province, err = w.startHub("hub-province-42", "province", "42", "", nil, w.cfg.DashboardAddr,
		[]poolSpec{{name: "province/42", key: provKey, lan: true}}); err != nil {
		return err
	}
	// Every district hub is enlisted, and takes the whole roster, before
	// the first starts: a hub enlisted later would otherwise reach the
	// others (through the province) before its roster entry, be refused
	// as not on their roster, and be offered again only minutes later.
	dirs := make([]*datadir.Dir, len(w.plans))
	for i, dp := range w.plans {
		if dirs[i], err = w.initHub("hub-district-"+dp.Code, "district", dp.Code); err != nil {
			return err
		}
	}
	if err := w.shareRoster(dirs...); err != nil {
		return err
	}
	for i, dp := range w.plans {
		key, err := w.poolKey(i) // the district's pool key, shared with its laptops
		if err != nil {
			return err
		}
		h, err := w.runHub(dirs[i], w.province.sync, linkemu.NewLink(hubLink()), "127.0.0.1:0",
			[]poolSpec{{name: "district/" + dp.Code, key: key}, {name: "province/42", key: provKey, lan: true, seed: "hub-province-42/" + w.province.gossip["province/42"]}})
		if err != nil {
			return err
		}
		w.districts = append(w.districts, h)
	}
	if err := w.publishResidents(); err != nil {
		return err
	}
	return w.startLaptops()
}

// publishResidents imports every commune's resident list at the province,
// as its operator would from the register's CSV export: each goes down to
// its commune's laptops only.
func (w *world) publishResidents() error {
	var b bytes.Buffer
	b.WriteString("commune_code,personal_id,full_name,date_of_birth,sex,household,relation_to_head,address\n")
	codes := make([]string, 0, len(w.data.register))
	for c := range w.data.register {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		for _, r := range w.data.register[c] {
			fmt.Fprintf(&b, "%s,%s,%q,%s,%s,%s,%q,%q\n", c, r.PersonalID, r.FullName, r.DateOfBirth, r.Sex, r.Household, r.Relation, r.Hamlet)
		}
	}
	res, err := w.province.d.ImportResidents(&b, hub.ResidentsOptions{CodeList: enrollment.CodeList2023,
		AsOf: w.data.start.Format(time.DateOnly), Source: "demo register"})
	if err != nil {
		return fmt.Errorf("demo: resident lists: %w", err)
	}
	fmt.Fprintf(w.cfg.Out, "resident lists: %d people of %d communes published at the province (%d rejected)\n", res.Accepted, len(res.Communes), res.Rejected)
	w.published = res.Entries + len(res.Communes) // each channel's genesis too
	return nil
}

// shareRoster gives each of dirs the province's roster as it stands.
func (w *world) shareRoster(dirs ...*datadir.Dir) error {
	bundle, err := roster.Export(w.province.dir.Log, w.anchor())
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if _, _, err := live.Import(d.Log, bundle, w.anchor()); err != nil {
			return err
		}
	}
	return nil
}

type poolSpec struct {
	name, seed string
	key        []byte
	link       *linkemu.Link
	// lan: a pool of hubs only. A pool with laptops in it runs the field
	// profile on every member, the hub included: its probes cross the
	// laptops' metered links.
	lan bool
}

func newKey() ([]byte, error) {
	k := make([]byte, gossip.KeySize)
	_, err := rand.Read(k)
	return k, err
}

// startHub starts one hub with its dashboard and pools.
func (w *world) startHub(name, tier, unit, parent string, link *linkemu.Link, apiAddr string, pools []poolSpec) (*hubRun, error) {
	dir, err := w.initHub(name, tier, unit)
	if err != nil {
		return nil, err
	}
	return w.runHub(dir, parent, link, apiAddr, pools)
}

// initHub makes a hub's directory, enlisted in the province's roster.
func (w *world) initHub(name, tier, unit string) (*datadir.Dir, error) {
	dir, err := datadir.Init(filepath.Join(w.dir, name), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: tier, Unit: unit, Name: name},
		Profile: storage.ProfileSmall, Logger: w.cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := w.enlist(dir); err != nil {
		dir.Close()
		return nil, err
	}
	if err := w.writeExpected(dir.Path); err != nil {
		dir.Close()
		return nil, err
	}
	return dir, nil
}

// runHub runs a hub over its directory, with its dashboard and pools.
func (w *world) runHub(dir *datadir.Dir, parent string, link *linkemu.Link, apiAddr string, pools []poolSpec) (*hubRun, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hubRun{dir: dir, sync: ln.Addr().String(), gossip: map[string]string{}, ready: make(chan struct{})}
	rc := replicator.Config{Listener: ln, Session: syncnet.Options{IdleTimeout: 5 * time.Second}}
	if parent != "" {
		rc.Static, rc.Dial = []string{parent}, dialVia(link)
		w.links = append(w.links, link)
	}
	for _, ps := range pools {
		profile := gossip.ProfileField
		if ps.lan {
			profile = gossip.ProfileLAN
		}
		p, rp, err := w.startPool(dir, ps, h.sync, profile)
		if err != nil {
			return nil, err
		}
		h.gossip[ps.name] = p.LocalAddr()
		rc.Pools = append(rc.Pools, rp)
	}
	if apiAddr != "127.0.0.1:0" {
		if l, err := net.Listen("tcp", apiAddr); err != nil {
			apiAddr = "127.0.0.1:0" // taken: any free port
		} else {
			l.Close()
		}
	}
	d, err := hub.NewDaemon(hub.DaemonConfig{Dir: dir, Replicator: rc, APIAddr: apiAddr, Logger: w.cfg.Logger, Public: dashboard.Handler,
		Ready: func(i localapi.Info) { h.info = i; close(h.ready) }, ReceiptEvery: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	h.d = d
	w.run(d)
	<-h.ready
	return h, nil
}

// writeExpected gives a hub the communes' eligible populations, for the
// dashboard's completeness.
func (w *world) writeExpected(dir string) error {
	codes := make([]string, 0, len(w.data.expected))
	for c := range w.data.expected {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	f, err := os.Create(filepath.Join(dir, hub.ExpectedFile))
	if err != nil {
		return err
	}
	fmt.Fprintln(f, "commune_code,expected")
	for _, c := range codes {
		fmt.Fprintf(f, "%s,%d\n", c, w.data.expected[c])
	}
	return f.Close()
}

func (w *world) startPool(dir *datadir.Dir, ps poolSpec, syncAddr string, profile gossip.Profile) (*gossip.Pool, replicator.Pool, error) {
	meta := gossip.Meta{Role: dir.Config.Role, Tier: dir.Config.Tier, Unit: dir.Config.Unit, SyncAddr: syncAddr, Origin: dir.Signer.Origin()}
	cfg := gossip.Config{Name: dir.Config.Name, Pool: ps.name, BindAddr: "127.0.0.1", SecretKey: ps.key, Profile: profile, Meta: meta,
		Peers: replicator.MetaPeerStore(dir.Log, ps.name), Logger: w.cfg.Logger}
	if ps.link != nil { // a nil *linkemu.Link must not become a non-nil gossip.Link
		cfg.Link = ps.link.Member()
	}
	if ps.seed != "" {
		cfg.Seeds = []string{ps.seed}
	}
	p, err := gossip.Start(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: pool %s for %s: %w", ps.name, dir.Config.Name, err)
	}
	w.mu.Lock()
	w.pools = append(w.pools, p)
	w.mu.Unlock()
	return p, replicator.GossipPool(p, meta), nil
}

// startLaptops starts every laptop: each dials its district hub through
// its own emulated link, except a carried one, which dials the laptop that
// carries it over the office LAN.
func (w *world) startLaptops() error {
	byName := map[string]*laptopRun{}
	for _, lp := range w.data.laptops {
		lr, err := w.prepareLaptop(lp)
		if err != nil {
			return err
		}
		byName[lp.name] = lr
	}
	// Every hub and laptop knows every laptop's key before the first
	// laptop dials: laptops take the roster once all are on it (as a
	// campaign's laptops take the province's export), hubs by syncing.
	dirs := make([]*datadir.Dir, 0, len(byName))
	for _, lr := range byName {
		dirs = append(dirs, lr.dir)
	}
	if err := w.shareRoster(dirs...); err != nil {
		return err
	}
	if err := w.waitRoster(); err != nil {
		return err
	}
	for _, lp := range w.data.laptops {
		target, link := w.districts[lp.district].sync, linkemu.NewLink(laptopLink(w.plans[lp.district].Terrain))
		if lp.carrier != "" {
			target, link = byName[lp.carrier].sync, linkemu.NewLink(lanLink())
		}
		if err := w.startLaptop(byName[lp.name], target, link); err != nil {
			return err
		}
	}
	return nil
}

// anchor is the province's roster key.
func (w *world) anchor() ed25519.PublicKey {
	return roster.SignerFor(w.province.dir.Signer).PublicKey()
}

// waitRoster waits until every district hub holds the province's roster.
func (w *world) waitRoster() error {
	o := roster.Origin(w.anchor())
	want, err := w.province.dir.Log.Head(o)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		done := true
		for _, h := range w.districts {
			if got, _ := h.dir.Log.Head(o); got.Seq < want.Seq {
				done = false
			}
		}
		switch {
		case done:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("demo: the roster did not reach every district hub in 30 s")
		case w.ctx.Err() != nil:
			return w.ctx.Err()
		}
	}
}

// prepareLaptop makes a laptop's directory, enlisted in the province's
// roster, and its office LAN listener.
func (w *world) prepareLaptop(lp *laptopPlan) (*laptopRun, error) {
	dir, err := datadir.Init(filepath.Join(w.dir, lp.name), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: lp.commune.Code, Name: lp.name},
		Profile: storage.ProfileSmall, Logger: w.cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := w.enlist(dir); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the office LAN listener (a carrier's colleague dials it)
	if err != nil {
		return nil, err
	}
	return &laptopRun{plan: lp, dir: dir, sync: ln.Addr().String(), ln: ln}, nil
}

// The first laptop's officer account (a demo's: the password is printed).
const (
	demoOfficer  = "CA-DEMO-01"
	demoPassword = "mat-khau-demo"
)

// startLaptop runs a prepared laptop, dialing target through link.
func (w *world) startLaptop(lr *laptopRun, target string, link *linkemu.Link) error {
	lp, dir, ln := lr.plan, lr.dir, lr.ln
	lr.link = link
	// Twenty replicas share this process: laptops compress with zstd's
	// "better" level (8.5 MB per session) rather than the field's "best"
	// (38 MB); bench sync measures the field configuration.
	rc := replicator.Config{Listener: ln, Static: []string{target}, Dial: dialVia(link), MaxBackoff: 3 * time.Second, WakeDelay: time.Second,
		Session: syncnet.Options{IdleTimeout: 3 * time.Second, StreamLevel: zstd.SpeedBetterCompression}}
	district := w.districts[lp.district]
	pool := poolSpec{name: "district/" + w.plans[lp.district].Code, seed: "hub-district-" + w.plans[lp.district].Code + "/" + district.gossip["district/"+w.plans[lp.district].Code], link: link}
	var err error
	if pool.key, err = w.poolKey(lp.district); err != nil {
		return err
	}
	_, rp, err := w.startPool(dir, pool, "", gossip.ProfileField)
	if err != nil {
		return err
	}
	rc.Pools = []replicator.Pool{rp}
	lr.api = make(chan localapi.Info, 1)
	d, _, err := capture.NewDaemon(node.DaemonConfig{Dir: dir, Replicator: rc, Logger: w.cfg.Logger,
		Ready: func(i localapi.Info) { lr.api <- i }})
	if err != nil {
		return err
	}
	if len(w.laptops) == 0 { // one laptop's capture app, to open with --keep
		if _, err := d.ChangeOfficer(node.OfficerRequest{Op: "add", ID: demoOfficer, Name: "Cán bộ thử nghiệm", Password: demoPassword}); err != nil {
			return err
		}
	}
	lr.d = d
	w.links = append(w.links, link)
	w.laptops = append(w.laptops, lr)
	w.run(d)
	return nil
}

// enlist brings a new replica into the province as an operator would: the
// province hub is the trust anchor and signs the roster; every other hub
// and laptop is added to it and imports it before it first syncs, so sync
// streams are mutual TLS between roster keys from the start.
func (w *world) enlist(dir *datadir.Dir) error {
	if w.province == nil {
		return trust.MakeAnchor(dir)
	}
	return w.province.d.Enlist(dir)
}

// poolKey is a district pool's key: the demo keeps them per district.
func (w *world) poolKey(district int) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.keys == nil {
		w.keys = map[int][]byte{}
	}
	if k, ok := w.keys[district]; ok {
		return k, nil
	}
	k, err := newKey()
	w.keys[district] = k
	return k, err
}

func dialVia(l *linkemu.Link) func(context.Context, string) (net.Conn, error) {
	dial := l.Dialer(&net.Dialer{})
	return func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, "tcp", addr) }
}

func (w *world) run(r interface{ Run(context.Context) error }) {
	c := make(chan struct{})
	w.done = append(w.done, c)
	go func() {
		defer close(c)
		if err := r.Run(w.ctx); err != nil && !errors.Is(err, context.Canceled) {
			w.cfg.Logger.Error("replica stopped", "err", err)
		}
	}()
}

// shutdown stops every replica, leaves the pools and closes the logs.
func (w *world) shutdown(cancel func()) {
	cancel()
	for _, c := range w.done {
		<-c
	}
	for _, p := range w.pools {
		p.Shutdown()
	}
	for _, h := range append([]*hubRun{w.province}, w.districts...) {
		if h != nil {
			h.dir.Close()
		}
	}
	for _, l := range w.laptops {
		l.dir.Close()
	}
}
