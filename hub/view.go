package hub

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/storage/kv"
)

// View is a hub's citizen view: the reconciler over a store of its own
// (DIR/view), following the log. The log is the truth and the view is
// derived from it; a sync session never waits for the view: it acks a
// batch once the log has it on disk, and wakes the view, which applies
// what the log holds past its watermark — the seq applied through, per
// origin, written in the same transaction as the view's rows — from its
// own goroutine (Run), a bounded round at a time. Readers (the API, the
// dashboard, /metrics) read the view's last committed snapshot and never
// wait for a round. A restart resumes from the watermark: nothing is
// replayed.
type View struct {
	opts ViewOptions
	log  oplog.Log
	r    atomic.Pointer[reconcile.Reconciler]
	wake chan struct{}

	// follower's own (one goroutine: Run or CatchUp)
	applied  replication.Vector // the watermark
	geneses  map[replication.OriginID]replication.Entry
	rebuilds int
	// cutOf and cutSeen: the reconciler whose AmendWalksCut was last
	// read, and what it said; walksCut sums what every reconciler cut.
	cutOf    *reconcile.Reconciler
	cutSeen  int
	walksCut atomic.Int64

	running atomic.Bool // Run is following the log

	mu       sync.Mutex
	pub      replication.Vector // the watermark, for readers
	waiters  []chan struct{}
	lastErr  error
	follower sync.Mutex // one follower at a time
}

// ViewOptions configures a View.
type ViewOptions struct {
	Log oplog.Log
	// Store holds the view (storage.Open of DIR/view); nil keeps it in
	// memory (tests, tools).
	Store kv.DB
	// Reset empties the store when it turns out damaged or cut in the
	// middle of a round, and returns the empty store: the view is then
	// built again from the log. Nil: such a store fails OpenView.
	Reset func() (kv.DB, error)
	// Config is the reconciler's (NewMatcher's matcher, the roster key);
	// its Entries is set to read the log.
	Config reconcile.Config
	// NewMatcher makes a fresh matcher when the view is opened again (a
	// round failed, the store was reset); nil: Config.Matcher's type
	// cannot be renewed and such a failure stops the view.
	NewMatcher func() reconcile.Matcher
	Logger     *slog.Logger
	// RoundEntries and RoundBytes bound one round (one store
	// transaction): what is decoded and held at once.
	RoundEntries int
	RoundBytes   int
}

// Defaults of a round: ~2,000 entries, ~4 MiB of payload, decoded on up to
// maxDecodeWorkers cores.
const (
	DefaultRoundEntries = 2048
	DefaultRoundBytes   = 4 << 20
	maxDecodeWorkers    = 8
	decodeChunk         = 32
)

// watermarkPrefix keys the watermark in the view's metadata: one key per
// origin, written with the round that moved it.
const watermarkPrefix = "applied/"

// OpenView opens the view in opts.Store (or a new one in memory) where it
// stopped: its tables, its matcher and its watermark. It applies nothing;
// Run follows the log, CatchUp applies what it holds now.
func OpenView(opts ViewOptions) (*View, error) {
	if opts.Log == nil {
		return nil, errors.New("hub: OpenView needs the log")
	}
	if opts.Store == nil {
		opts.Store = kv.NewMem()
	}
	if opts.RoundEntries <= 0 {
		opts.RoundEntries = DefaultRoundEntries
	}
	if opts.RoundBytes <= 0 {
		opts.RoundBytes = DefaultRoundBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Config.Entries = opts.Log.Get
	v := &View{opts: opts, log: opts.Log, wake: make(chan struct{}, 1), geneses: map[replication.OriginID]replication.Entry{}}
	if err := v.open(false); err != nil {
		return nil, err
	}
	return v, nil
}

// NewView builds, in memory, the view of everything l holds (tests and
// tools; a hub opens its stored view with OpenView).
func NewView(l oplog.Log, cfg reconcile.Config) (*View, error) {
	v, err := OpenView(ViewOptions{Log: l, Config: cfg, NewMatcher: NewMatcher})
	if err != nil {
		return nil, err
	}
	return v, v.CatchUp(context.Background())
}

// OpenStored opens the view a hub keeps in its directory (DIR/view) and
// brings it up to the log, for a tool run while the hub is stopped; close
// closes its store.
func OpenStored(d *datadir.Dir) (v *View, close func() error, err error) {
	vcfg, err := ViewConfig(d.Config)
	if err != nil {
		return nil, nil, err
	}
	store, err := d.OpenView()
	if err != nil {
		return nil, nil, err
	}
	opts := ViewOptions{Log: d.Log, Store: store, Config: vcfg, NewMatcher: NewMatcher}
	opts.Reset = func() (kv.DB, error) {
		s, err := d.ResetView(store)
		store = s
		return s, err
	}
	closeStore := func() error { return store.Close() }
	if v, err = OpenView(opts); err == nil {
		err = v.CatchUp(context.Background())
	}
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	return v, closeStore, nil
}

// open opens the reconciler over the store and reads the watermark; again
// is set when a round failed (a fresh matcher is needed: the old one is
// ahead of the store).
func (v *View) open(again bool) error {
	cfg := v.opts.Config
	if again {
		if v.opts.NewMatcher == nil {
			return errors.New("hub: the view cannot be opened again without ViewOptions.NewMatcher")
		}
		cfg.Matcher = v.opts.NewMatcher()
	}
	r, err := reconcile.Open(cfg, v.opts.Store)
	if (errors.Is(err, reconcile.ErrTorn) || errors.Is(err, reconcile.ErrDamaged)) && v.opts.Reset != nil {
		v.opts.Logger.Error("the view's store is damaged: building it again from the log", "err", err)
		if v.opts.Store, err = v.opts.Reset(); err != nil {
			return fmt.Errorf("hub: reset the view store: %w", err)
		}
		if cfg.Matcher != nil && v.opts.NewMatcher != nil {
			cfg.Matcher = v.opts.NewMatcher()
		}
		r, err = reconcile.Open(cfg, v.opts.Store)
		v.mu.Lock()
		v.rebuilds++
		v.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("hub: open the view: %w", err)
	}
	applied := replication.Vector{}
	err = r.ScanMeta(watermarkPrefix, watermarkInto(applied))
	if err != nil {
		return fmt.Errorf("hub: read the view's watermark: %w", err)
	}
	v.r.Store(r)
	v.applied = applied
	v.publish()
	return nil
}

// Reconciler returns the reconciler, for queries (safe from any goroutine).
func (v *View) Reconciler() *reconcile.Reconciler { return v.r.Load() }

// Read runs fn with the reconciler, for queries.
func (v *View) Read(fn func(r *reconcile.Reconciler)) { fn(v.r.Load()) }

// Wake tells the view that the log holds more (never blocks).
func (v *View) Wake() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// Run follows the log until ctx ends: a round whenever it is woken or
// holds more than the view applied, and at least every second. A failed
// round is logged and tried again after a pause, from the store's state.
func (v *View) Run(ctx context.Context) {
	v.follower.Lock()
	defer v.follower.Unlock()
	v.running.Store(true)
	defer v.running.Store(false)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		n, err := v.round()
		v.setErr(err)
		if err != nil {
			v.opts.Logger.Error("the view could not apply a round; it tries again", "err", err)
			if oerr := v.open(true); oerr != nil {
				v.opts.Logger.Error("the view could not be opened again", "err", oerr)
			}
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
			pause = min(2*pause, 30*time.Second)
			continue
		}
		pause = 100 * time.Millisecond
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-v.wake:
		case <-tick.C:
		}
	}
}

// CatchUp applies everything the log holds now, then returns (tools,
// tests; a daemon runs Run).
func (v *View) CatchUp(ctx context.Context) error {
	v.follower.Lock()
	defer v.follower.Unlock()
	for ctx.Err() == nil {
		n, err := v.round()
		v.setErr(err)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return ctx.Err()
}

func (v *View) setErr(err error) {
	v.mu.Lock()
	v.lastErr = err
	v.mu.Unlock()
}

// round applies one bounded round of what the log holds past the
// watermark: new origins' geneses first, then origins in
// reconcile.OriginOrder (the roster's, hubs', laptops' by epoch), each in
// seq order. It returns how many entries it applied.
func (v *View) round() (int, error) {
	vec, err := v.log.Vector()
	if err != nil {
		return 0, err
	}
	var pending []replication.OriginID
	for o, h := range vec {
		if h.Seq > v.applied.Seq(o) {
			pending = append(pending, o)
		}
	}
	if len(pending) == 0 {
		return 0, nil
	}
	var es, geneses []replication.Entry
	for _, o := range pending {
		g, err := v.genesis(o)
		if err != nil {
			return 0, err
		}
		geneses = append(geneses, g)
		if v.applied.Seq(o) == 0 {
			es = append(es, g)
		}
	}
	bytes, through := 0, map[replication.OriginID]uint64{}
	for _, g := range geneses {
		if v.applied.Seq(g.Origin) == 0 {
			through[g.Origin] = 1
		}
	}
	for _, o := range reconcile.OriginOrder(v.opts.Config.Anchor, geneses) {
		if len(es) >= v.opts.RoundEntries || bytes >= v.opts.RoundBytes {
			break
		}
		from := max(v.applied.Seq(o)+1, 2)
		err := v.log.Scan(o, from, func(e replication.Entry) bool {
			if e.Seq > vec.Seq(o) {
				return false
			}
			es = append(es, e)
			bytes += len(e.Payload)
			through[o] = e.Seq
			return len(es) < v.opts.RoundEntries && bytes < v.opts.RoundBytes
		})
		if err != nil {
			return 0, err
		}
	}
	r := v.r.Load()
	ds := decodeAll(r, es)
	meta := make([]reconcile.Meta, 0, len(through))
	for o, seq := range through {
		meta = append(meta, reconcile.Meta{Key: watermarkPrefix + o.String(), Value: binary.AppendUvarint(nil, seq)})
	}
	if err := r.ApplyDecoded(ds, meta...); err != nil {
		return 0, err
	}
	for o, seq := range through {
		v.applied[o] = replication.Head{Seq: seq}
	}
	v.noteWalksCut(r)
	v.publish()
	return len(es), nil
}

// noteWalksCut counts and logs the amend subtrees the last round cut at
// reconcile.MaxAmendWalk (versions past the cut keep their old place).
func (v *View) noteWalksCut(r *reconcile.Reconciler) {
	if r != v.cutOf {
		v.cutOf, v.cutSeen = r, 0
	}
	n := r.AmendWalksCut()
	if n <= v.cutSeen {
		return
	}
	v.walksCut.Add(int64(n - v.cutSeen))
	v.cutSeen = n
	v.opts.Logger.Warn("hub: view: an amended record has more amends below it than one walk re-places; those past the limit keep their old place",
		"limit", reconcile.MaxAmendWalk, "walks_cut", v.walksCut.Load())
}

// AmendWalksCut returns how many amend subtrees the view cut at
// reconcile.MaxAmendWalk since the process started (a metric).
func (v *View) AmendWalksCut() int64 { return v.walksCut.Load() }

// genesis reads (and keeps) an origin's genesis: OriginOrder ranks by it.
func (v *View) genesis(o replication.OriginID) (replication.Entry, error) {
	if g, ok := v.geneses[o]; ok {
		return g, nil
	}
	g, err := v.log.Get(replication.EntryID{Origin: o, Seq: 1})
	if err != nil {
		return g, fmt.Errorf("hub: view: genesis of %s: %w", o.Short(), err)
	}
	g.Payload = append([]byte(nil), g.Payload...)
	v.geneses[o] = g
	return g, nil
}

// publish makes the watermark visible to readers and wakes its waiters.
func (v *View) publish() {
	pub := v.applied.Clone()
	v.mu.Lock()
	v.pub = pub
	ws := v.waiters
	v.waiters = nil
	v.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// Following reports whether Run is following the log (a hub's daemon
// running): only then does waiting for the view make sense.
func (v *View) Following() bool { return v.running.Load() }

// Applied returns the watermark: per origin, the seq the view applied
// through.
func (v *View) Applied() replication.Vector {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.pub.Clone()
}

// Lag returns how many entries the log holds that the view has not
// applied yet.
func (v *View) Lag() (uint64, error) {
	vec, err := v.log.Vector()
	if err != nil {
		return 0, err
	}
	applied := v.Applied()
	var n uint64
	for o, h := range vec {
		n += h.Seq - min(h.Seq, applied.Seq(o))
	}
	return n, nil
}

// Err returns the error of the last round, if it failed.
func (v *View) Err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.lastErr
}

// Show makes the view show entry id, which the caller just wrote: it
// wakes the view and waits when the view follows the log (Run), or applies
// what the log holds (CatchUp) when nothing does (a tool, the hub
// stopped).
func (v *View) Show(ctx context.Context, id replication.EntryID) error {
	if v.Following() {
		v.Wake()
		return v.WaitFor(ctx, id)
	}
	return v.CatchUp(ctx)
}

// WaitFor waits until the view applied entry id (or ctx ends): what a hub
// wrote itself (a decision) is shown before the request returns.
func (v *View) WaitFor(ctx context.Context, id replication.EntryID) error {
	return v.WaitApplied(ctx, replication.Vector{id.Origin: replication.Head{Seq: id.Seq}})
}

// WaitApplied waits until the view applied everything vec names (a log's
// Vector: all it held then), or ctx ends.
func (v *View) WaitApplied(ctx context.Context, vec replication.Vector) error {
	for {
		v.mu.Lock()
		if covers(v.pub, vec) {
			v.mu.Unlock()
			return nil
		}
		w := make(chan struct{})
		v.waiters = append(v.waiters, w)
		v.mu.Unlock()
		v.Wake()
		select {
		case <-ctx.Done():
			return fmt.Errorf("hub: the view has not applied all of %d entries yet: %w", vec.Total(), ctx.Err())
		case <-w:
		}
	}
}

func covers(have, want replication.Vector) bool {
	for o, h := range want {
		if have.Seq(o) < h.Seq {
			return false
		}
	}
	return true
}

// Rebuilds returns how often origins were judged again after a late
// revocation, fork notice or original (reconcile.Reconciler.Rejudged),
// plus full rebuilds of a damaged store.
func (v *View) Rebuilds() int { return v.r.Load().Rejudged() + v.rebuildsSeen() }

func (v *View) rebuildsSeen() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.rebuilds
}

// decodeAll decodes entries, in parallel when there are enough of them.
func decodeAll(r *reconcile.Reconciler, es []replication.Entry) []*reconcile.Decoded {
	ds := make([]*reconcile.Decoded, len(es))
	workers := min(runtime.GOMAXPROCS(0), maxDecodeWorkers, len(es)/decodeChunk)
	if workers <= 1 {
		for i := range es {
			ds[i] = r.Decode(es[i])
		}
		return ds
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(es); i = int(next.Add(1) - 1) {
				ds[i] = r.Decode(es[i])
			}
		})
	}
	wg.Wait()
	return ds
}

// Stats returns the view's counts and digest.
func (v *View) Stats() (reconcile.Stats, string) {
	r := v.r.Load()
	return r.Stats(), r.Digest()
}

// Conflicts returns a page of the citizens in conflict that q admits, and
// the cursor of the next page ("" at the end).
func (v *View) Conflicts(q review.Queue) ([]*reconcile.Citizen, string, error) {
	return review.Conflicts(v.r.Load(), q)
}

// Pairs returns a page of the probable duplicates q admits, with both
// citizens, and the cursor of the next page.
func (v *View) Pairs(q review.Queue) ([]review.PairItem, string, error) {
	return review.Pairs(v.r.Load(), q)
}
