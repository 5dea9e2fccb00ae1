package hub

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"fieldsync/hub/dashboard"
	"fieldsync/hub/reconcile"
	"fieldsync/internal/daemon"
	"fieldsync/internal/localapi"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncproto"
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
}

// Daemon is a running hub: it ingests what arrives from below (every range
// verified against its origin's key by the protocol), keeps it, reconciles
// it into the citizen view, and forwards everything upward unchanged
// through the same sync sessions, decisions included.
type Daemon struct {
	*daemon.Base
	cfg    DaemonConfig
	view   *View
	author *Author
	src    *source
}

// NewDaemon builds a hub daemon over an open directory; it rebuilds the
// view from the log first.
func NewDaemon(cfg DaemonConfig) (*Daemon, error) {
	vcfg, err := ViewConfig(cfg.Dir.Config)
	if err != nil {
		return nil, err
	}
	view, err := NewView(cfg.Dir.Log, vcfg)
	if err != nil {
		return nil, err
	}
	author, err := NewAuthor(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if cfg.SampleEvery == 0 {
		cfg.SampleEvery = 5 * time.Second
	}
	d := &Daemon{cfg: cfg, view: view, author: author}
	if d.src, err = newSource(d); err != nil {
		return nil, err
	}
	clock := replication.OrReal(cfg.Replicator.Clock)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	forks, err := newForkWatch(cfg.Dir.Log, author, view, clock, logger)
	if err != nil {
		return nil, err
	}
	rc := cfg.Replicator
	rc.OnIngest = func(_ string, res oplog.IngestResult) {
		author.Observe(res.Applied)
		view.Apply(res.Applied...)
		d.src.noteIngest(res.Applied, clock.Now())
		forks.ingested(res.Applied)
	}
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
	d.OnRosterImport(func(es []replication.Entry) { view.Apply(es...) })
	d.registerGauges()
	d.Collector(dossierCollector{d})
	return d, nil
}

// registerGauges exposes the view's queues in /metrics.
func (d *Daemon) registerGauges() {
	stat := func(f func(reconcile.Stats) int) func() float64 {
		return func() float64 {
			var st reconcile.Stats
			d.view.Read(func(r *reconcile.Reconciler) { st = r.Stats() })
			return float64(f(st))
		}
	}
	d.Gauge("fieldsync_view_citizens", "Citizens in the hub's view.", stat(func(s reconcile.Stats) int { return s.Citizens }))
	d.Gauge("fieldsync_view_open_conflicts", "Conflicts awaiting an officer's decision.", stat(func(s reconcile.Stats) int { return s.OpenConflicts }))
	d.Gauge("fieldsync_view_open_duplicates", "Probable duplicates awaiting an officer's decision.", stat(func(s reconcile.Stats) int { return s.OpenPairs }))
	d.Gauge("fieldsync_view_decisions", "Decisions held.", stat(func(s reconcile.Stats) int { return s.Decisions }))
}

// Source returns what the dashboard shows of this hub.
func (d *Daemon) Source() dashboard.Source { return d.src }

// View returns the hub's citizen view.
func (d *Daemon) View() *View { return d.view }

// Queue returns the review queue this hub's officers work on.
func (d *Daemon) Queue() Queue { return QueueFor(d.cfg.Dir.Config.Tier, d.cfg.Dir.Config.Unit) }

// Run syncs, samples backlogs for the dashboard, and serves until ctx ends.
func (d *Daemon) Run(ctx context.Context) error {
	go d.sampleLoop(ctx)
	if d.cfg.Dir.Config.Tier == ReceiptTier {
		go d.receiptLoop(ctx)
	}
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

// Resolve records an officer's decision and sends it on its way.
func (d *Daemon) Resolve(req ResolveRequest) (replication.Entry, error) {
	now := replication.OrReal(d.cfg.Replicator.Clock).Now()
	e, err := d.author.Resolve(d.view, req, replication.MakeHLC(now.UnixMilli(), 0))
	if err == nil {
		d.Rep.Wake()
		d.src.notify()
	}
	return e, err
}

// Handler is the hub's local API.
func (d *Daemon) Handler() http.Handler {
	mux := d.Mux(d.statusExtra)
	mux.HandleFunc("POST /api/roster", d.serveRoster)
	mux.HandleFunc("GET /api/conflicts", func(w http.ResponseWriter, r *http.Request) {
		localapi.WriteJSON(w, http.StatusOK, d.view.Conflicts(d.queueOf(r)))
	})
	mux.HandleFunc("GET /api/duplicates", func(w http.ResponseWriter, r *http.Request) {
		localapi.WriteJSON(w, http.StatusOK, d.view.Pairs(d.queueOf(r)))
	})
	mux.HandleFunc("GET /api/citizen", func(w http.ResponseWriter, r *http.Request) {
		var c *reconcile.Citizen
		d.view.Read(func(rc *reconcile.Reconciler) { c = rc.Citizen(r.URL.Query().Get("key")) })
		if c == nil {
			http.Error(w, "no such citizen", http.StatusNotFound)
			return
		}
		localapi.WriteJSON(w, http.StatusOK, c)
	})
	mux.HandleFunc("POST /api/resolve", d.serveResolve)
	return mux
}

// queueOf reads ?all=1 and ?resolved=1 on top of this hub's queue.
func (d *Daemon) queueOf(r *http.Request) Queue {
	q := d.Queue()
	q.All = r.URL.Query().Get("all") == "1"
	q.Resolved = r.URL.Query().Get("resolved") == "1"
	return q
}

func (d *Daemon) serveResolve(w http.ResponseWriter, r *http.Request) {
	var req ResolveRequest
	if !localapi.DecodeJSON(w, r, &req, dashboard.MaxResolveBytes) {
		return
	}
	e, err := d.Resolve(req)
	switch {
	case errors.Is(err, ErrNoSuchItem):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, ErrBadDecision):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		localapi.WriteJSON(w, http.StatusOK, map[string]any{"entry": e.ID()})
	}
}

// statusExtra is the hub's section of status: the view's counts and
// digest, and how complete the dossiers below it are.
func (d *Daemon) statusExtra() (map[string]any, error) {
	st, digest := d.view.Stats()
	dos, err := d.Dossiers()
	if err != nil {
		return nil, err
	}
	return map[string]any{"view": st, "digest": digest, "queue": d.Queue().Level, "dossiers": dos}, nil
}
