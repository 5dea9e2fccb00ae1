package hub

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"fieldsync/enrollment/residents"
	"fieldsync/hub/dashboard"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncproto"
	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
	"fieldsync/storage"
	"fieldsync/storage/kv"

	"github.com/prometheus/client_golang/prometheus"
)

// DaemonConfig configures a running hub.
type DaemonConfig struct {
	Dir *datadir.Dir
	// Replicator is the sync runtime's config: the listener laptops and
	// lower hubs dial, the parent hub as a static target, the pools.
	Replicator replicator.Config
	// APIAddr is where the local API and dashboard listen.
	APIAddr string
	Logger  *slog.Logger
	Ready   func(localapi.Info)
	// Public, if set, builds the handler of non-API paths (the dashboard)
	// from the hub's data and the API's Auth (which guards its data).
	Public func(src dashboard.Source, auth *localapi.Auth) http.Handler
	// SampleEvery is how often peers' backlogs are sampled for the
	// dashboard's charts (default 5 s).
	SampleEvery time.Duration
	// ReceiptEvery is how often a provincial hub issues receipts for the
	// dossiers complete there (default DefaultReceiptEvery).
	ReceiptEvery time.Duration
	// MemoryView keeps the view in memory instead of DIR/view (the demo's
	// small hubs; it is built from the log at every start).
	MemoryView bool
	// NewMatcher makes the view's duplicate detector (default NewMatcher).
	NewMatcher func() reconcile.Matcher
	// ModelEvery is how often a top-tier hub checks whether to learn and
	// publish a duplicate model (default DefaultModelEvery; negative:
	// never on its own). See model.go.
	ModelEvery time.Duration
}

// Daemon is a running hub: it ingests what arrives from below (every range
// verified against its origin's key by the protocol), keeps it, reconciles
// it into the citizen view, and forwards everything upward unchanged
// through the same sync sessions, decisions included.
type Daemon struct {
	*daemon.Base
	cfg    DaemonConfig
	view   *View
	store  *storage.DB // the view's (DIR/view); nil with DaemonConfig.MemoryView
	author *Author
	src    *source
	// dossierWake wakes dossierLoop (entries arrived).
	dossierWake chan struct{}
	// ingested is what the hub does when a batch from below is on disk
	// and acknowledged (the sessions' OnIngest).
	ingested func(oplog.IngestResult)

	closeOnce sync.Once
}

// NewDaemon builds a hub daemon over an open directory. It opens the view
// where it stopped (DIR/view) and applies nothing yet: Run follows the log
// from the view's watermark, while the hub already syncs and serves.
func NewDaemon(cfg DaemonConfig) (_ *Daemon, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{cfg: cfg, dossierWake: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.view, err = d.openView(logger); err != nil {
		return nil, err
	}
	if d.author, err = NewAuthor(cfg.Dir); err != nil {
		return nil, err
	}
	author, view := d.author, d.view
	if cfg.SampleEvery == 0 {
		d.cfg.SampleEvery = 5 * time.Second
	}
	if d.src, err = newSource(d); err != nil {
		return nil, err
	}
	clock := replication.OrReal(cfg.Replicator.Clock)
	forks, err := newForkWatch(cfg.Dir.Log, author, view, clock, logger)
	if err != nil {
		return nil, err
	}
	rc := cfg.Replicator
	d.ingested = func(res oplog.IngestResult) { // the batch is on disk and acknowledged
		author.Observe(res.Applied)
		view.Wake()
		d.wakeDossiers()
		d.src.noteIngest(res.Applied, clock.Now())
		forks.ingested(res.Applied)
	}
	rc.OnIngest = func(_ string, res oplog.IngestResult) { d.ingested(res) }
	onEvent := rc.OnEvent
	rc.OnEvent = func(peer string, ev syncproto.Event) {
		forks.event(ev)
		if onEvent != nil {
			onEvent(peer, ev)
		}
	}
	if d.Base, err = daemon.New(cfg.Dir, rc, cfg.Logger); err != nil {
		return nil, err
	}
	// The base wrote this hub's bundle key when it had none: the hub's
	// clock resumes after it, so nothing the hub writes next goes back.
	if err := author.Resume(); err != nil {
		return nil, err
	}
	d.OnRosterImport(func([]replication.Entry) { view.Wake() })
	d.registerGauges()
	d.Collector(dossierCollector{d})
	d.Collector(censusCollector{d})
	return d, nil
}

// openView opens the view store (or one in memory) and the view in it.
func (d *Daemon) openView(logger *slog.Logger) (*View, error) {
	vcfg, err := ViewConfig(d.cfg.Dir.Config)
	if err != nil {
		return nil, err
	}
	newMatcher := d.cfg.NewMatcher
	if newMatcher == nil {
		newMatcher = NewMatcher
	}
	vcfg.Matcher = newMatcher()
	opts := ViewOptions{Log: d.cfg.Dir.Log, Config: vcfg, NewMatcher: newMatcher, Logger: logger}
	if !d.cfg.MemoryView {
		if d.store, err = d.cfg.Dir.OpenView(); err != nil {
			return nil, err
		}
		opts.Store = d.store
		opts.Reset = func() (kv.DB, error) {
			db, err := d.cfg.Dir.ResetView(d.store)
			d.store = db
			return db, err
		}
	}
	return OpenView(opts)
}

// Close closes the view's store (Run closes it when it returns; a daemon
// that never ran is closed by its owner). The data directory is the
// caller's.
func (d *Daemon) Close() error {
	var err error
	d.closeOnce.Do(func() {
		if d.store != nil {
			err = d.store.Close()
		}
	})
	return err
}

// registerGauges exposes the view's counts and lag in /metrics: each read
// is O(1), from the view's last round.
func (d *Daemon) registerGauges() {
	stat := func(f func(reconcile.Stats) int) func() float64 {
		return func() float64 {
			st, _ := d.view.Stats()
			return float64(f(st))
		}
	}
	d.Gauge("fieldsync_view_citizens", "Citizens in the hub's view.", stat(func(s reconcile.Stats) int { return s.Citizens }))
	d.Gauge("fieldsync_view_open_conflicts", "Conflicts awaiting an officer's decision.", stat(func(s reconcile.Stats) int { return s.OpenConflicts }))
	d.Gauge("fieldsync_view_open_duplicates", "Probable duplicates awaiting an officer's decision.", stat(func(s reconcile.Stats) int { return s.OpenPairs }))
	d.Gauge("fieldsync_view_decisions", "Decisions held.", stat(func(s reconcile.Stats) int { return s.Decisions }))
	census := func(f func(CensusReport) int) func() float64 {
		return func() float64 {
			rep, err := d.view.Census()
			if err != nil {
				return math.NaN()
			}
			return float64(f(rep))
		}
	}
	d.Gauge("fieldsync_residents_eligible", "People on the resident lists who are eligible for a card.", census(func(c CensusReport) int { return c.Total.Eligible }))
	d.Gauge("fieldsync_residents_enrolled", "Eligible residents enrolled.", census(func(c CensusReport) int { return c.Total.Enrolled }))
	d.Gauge("fieldsync_residents_accounted", "Eligible residents accounted for (away, deceased, moved).", census(func(c CensusReport) int { return c.Total.Accounted }))
	d.Gauge("fieldsync_residents_missing", "Eligible residents neither enrolled nor accounted for.", census(func(c CensusReport) int { return c.Total.Missing }))
	d.Gauge("fieldsync_residents_complete_communes", "Communes whose eligible residents are all enrolled or accounted for.", census(func(c CensusReport) int { return c.Complete }))
	d.Gauge("fieldsync_view_lag_entries", "Entries the log holds that the view has not applied yet.", func() float64 {
		n, _ := d.view.Lag()
		return float64(n)
	})
	d.Collector(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "fieldsync_view_amend_walks_cut_total",
		Help: "Amended records whose subtree of amends was larger than one walk re-places (reconcile.MaxAmendWalk): versions past the cut keep their old place. Nonzero means a device wrote an absurd amend history."},
		func() float64 { return float64(d.view.AmendWalksCut()) }))
}

// Ingested does what the hub does when a session's batch is on disk and
// acknowledged (the replicator's OnIngest): wake the view and the dossier
// counts, note the arrival for the dashboard, watch for forks. For
// whoever feeds the log without a session (bench ingest).
func (d *Daemon) Ingested(res oplog.IngestResult) { d.ingested(res) }

// Source returns what the dashboard shows of this hub.
func (d *Daemon) Source() dashboard.Source { return d.src }

// ViewCaughtUp waits until the view applied everything the log holds now
// (tests, tools; a request never waits for the view).
func (d *Daemon) ViewCaughtUp(ctx context.Context) error {
	vec, err := d.cfg.Dir.Log.Vector()
	if err != nil {
		return err
	}
	return d.view.WaitApplied(ctx, vec)
}

// View returns the hub's citizen view.
func (d *Daemon) View() *View { return d.view }

// Queue returns the review queue this hub's officers work on.
func (d *Daemon) Queue() review.Queue {
	return review.QueueFor(d.cfg.Dir.Config.Tier, d.cfg.Dir.Config.Unit)
}

// Start runs the daemon (Run) in the background until stop is called;
// stop waits until Run returned (the view's store closed) and returns its
// error: for tests and tools that drive a hub in process.
func (d *Daemon) Start() (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return func() error { cancel(); return <-done }
}

// Run syncs, follows the log with the view, samples backlogs for the
// dashboard, and serves until ctx ends; then it closes the view's store.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.Close()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	// Every loop reads or writes the directory the caller closes once Run
	// returns: Run waits for them all.
	wg.Go(func() { d.view.Run(ctx) })
	wg.Go(func() { d.sampleLoop(ctx) })
	if d.cfg.Dir.Config.Tier == ReceiptTier {
		wg.Go(func() { d.receiptLoop(ctx) })
	}
	wg.Go(func() { d.modelLoop(ctx) })
	wg.Go(func() { d.dossierLoop(ctx) })
	public := func(auth *localapi.Auth) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", d.Metrics())
		if d.cfg.Public != nil {
			mux.Handle("/", d.cfg.Public(d.src, auth))
		}
		return mux
	}
	return d.Base.Run(ctx, d.cfg.APIAddr, d.Handler(), public, d.cfg.Ready)
}

func (d *Daemon) sampleLoop(ctx context.Context) {
	clock := replication.OrReal(d.cfg.Replicator.Clock)
	for {
		timer, stop := clock.NewTimer(d.cfg.SampleEvery)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-timer:
			d.src.sample(clock.Now())
		}
	}
}

// resolveWait bounds how long Resolve waits for the view to show the
// decision it wrote (the view applies a hub's own origin first in a round).
const resolveWait = 10 * time.Second

// Resolve records an officer's decision, sends it on its way, and returns
// once the view shows it (or resolveWait passed: it is written anyway).
func (d *Daemon) Resolve(req review.Request) (replication.Entry, error) {
	now := replication.OrReal(d.cfg.Replicator.Clock).Now()
	e, err := d.author.Resolve(d.view, req, replication.MakeHLC(now.UnixMilli(), 0))
	if err == nil {
		d.Rep.Wake()
		d.showOwn(e.ID())
		d.src.notify()
	}
	return e, err
}

// showOwn waits (at most resolveWait) until the view applied an entry the
// hub wrote itself, when the view is following the log.
func (d *Daemon) showOwn(id replication.EntryID) {
	if !d.view.Following() {
		return // not started: the view applies it when it starts
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveWait)
	defer cancel()
	if err := d.view.WaitFor(ctx, id); err != nil {
		d.Logger.Warn("the view has not shown what the hub wrote yet", "entry", id, "err", err)
	}
}

// Handler is the hub's local API.
func (d *Daemon) Handler() http.Handler {
	mux := d.Mux(d.statusExtra)
	mux.HandleFunc("POST /api/roster", d.serveRoster)
	mux.HandleFunc("GET /api/conflicts", func(w http.ResponseWriter, r *http.Request) {
		items, next, err := d.view.Conflicts(d.queueOf(r))
		writePage(w, items, next, err)
	})
	mux.HandleFunc("GET /api/duplicates", func(w http.ResponseWriter, r *http.Request) {
		items, next, err := d.view.Pairs(d.queueOf(r))
		writePage(w, items, next, err)
	})
	mux.HandleFunc("GET /api/citizen", func(w http.ResponseWriter, r *http.Request) {
		c, err := d.view.Reconciler().Citizen(r.URL.Query().Get("key"))
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case c == nil:
			http.Error(w, "no such citizen", http.StatusNotFound)
		default:
			localapi.WriteJSON(w, http.StatusOK, c)
		}
	})
	mux.HandleFunc("POST /api/resolve", d.serveResolve)
	mux.HandleFunc("POST /api/residents/import", d.serveResidentsImport)
	mux.HandleFunc("GET /api/residents", func(w http.ResponseWriter, r *http.Request) {
		rep, err := d.view.Census()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		localapi.WriteJSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc("GET /api/residents/people", d.serveResidentsPeople)
	mux.HandleFunc("GET /api/model", d.serveModel)
	mux.HandleFunc("POST /api/model/train", d.serveTrain)
	return mux
}

// queueOf reads ?all=1, ?resolved=1, ?after=CURSOR and ?limit=N on top of
// this hub's queue.
func (d *Daemon) queueOf(r *http.Request) review.Queue {
	q := d.Queue()
	v := r.URL.Query()
	q.All = v.Get("all") == "1"
	q.Resolved = v.Get("resolved") == "1"
	q.After = v.Get("after")
	q.Limit, _ = strconv.Atoi(v.Get("limit"))
	return q
}

// NextPageHeader carries the cursor of a queue's next page (absent on the
// last page): pass it as ?after= to continue.
const NextPageHeader = "Fieldsync-Next-Page"

func writePage[T any](w http.ResponseWriter, items []T, next string, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if next != "" {
		w.Header().Set(NextPageHeader, next)
	}
	if items == nil {
		items = []T{}
	}
	localapi.WriteJSON(w, http.StatusOK, items)
}

func (d *Daemon) serveResolve(w http.ResponseWriter, r *http.Request) {
	var req review.Request
	if !localapi.DecodeJSON(w, r, &req, dashboard.MaxResolveBytes) {
		return
	}
	e, err := d.Resolve(req)
	switch {
	case errors.Is(err, review.ErrNoSuchItem):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, review.ErrBadDecision):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		localapi.WriteJSON(w, http.StatusOK, map[string]any{"entry": e.ID()})
	}
}

// ImportResidents imports a resident list (Author.ImportResidents) and
// sends it on its way.
func (d *Daemon) ImportResidents(r io.Reader, opts ResidentsOptions) (ResidentsResult, error) {
	now := replication.OrReal(d.cfg.Replicator.Clock).Now()
	res, es, err := d.author.ImportResidents(d.view, r, opts, now)
	if len(es) > 0 {
		d.Rep.Wake()
		d.src.notify()
	}
	return res, err
}

func (d *Daemon) serveResidentsImport(w http.ResponseWriter, r *http.Request) {
	if !localapi.RequireType(w, r, localapi.TypeCSV) {
		return
	}
	q := r.URL.Query()
	opts := ResidentsOptions{Commune: q.Get("commune"), CodeList: q.Get("code_list"), AsOf: q.Get("as_of"), Source: q.Get("source"), Partial: q.Get("partial") == "1"}
	if s := q.Get("min_age"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			http.Error(w, "min_age: give a number of years", http.StatusBadRequest)
			return
		}
		opts.MinAge = n
	}
	res, err := d.ImportResidents(r.Body, opts)
	switch {
	case errors.Is(err, ErrBadResidents):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		localapi.WriteJSON(w, http.StatusOK, res)
	}
}

func (d *Daemon) serveResidentsPeople(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var cats []residents.Category
	switch q.Get("category") {
	case "", "all":
	case "missing":
		cats = []residents.Category{residents.CatMissing}
	case "accounted":
		cats = []residents.Category{residents.CatAccounted}
	case "enrolled":
		cats = []residents.Category{residents.CatEnrolled}
	case "not-eligible":
		cats = []residents.Category{residents.CatNotEligible}
	default:
		http.Error(w, "category: missing, accounted, enrolled, not-eligible or all", http.StatusBadRequest)
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	rows, total, err := d.view.ResidentsOf(d.cfg.Dir.Log, q.Get("commune"), limit, cats...)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	localapi.WriteJSON(w, http.StatusOK, map[string]any{"commune": q.Get("commune"), "people": rows, "total": total})
}

// statusExtra is the hub's section of status: the view's counts, digest
// and how far behind the log it is, how complete the dossiers below it
// are, and the completeness of the resident lists.
func (d *Daemon) statusExtra() (map[string]any, error) {
	st, digest := d.view.Stats()
	lag, err := d.view.Lag()
	if err != nil {
		return nil, err
	}
	dos, err := d.Dossiers()
	if err != nil {
		return nil, err
	}
	extra := map[string]any{"view": st, "digest": digest, "queue": d.Queue().Level, "view_lag": lag, "dossiers": dos}
	c, err := d.view.Census()
	if err != nil {
		return nil, err
	}
	if len(c.Communes) > 0 {
		extra["census"] = c
	}
	return extra, nil
}
