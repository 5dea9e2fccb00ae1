package hub

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// View is a hub's citizen view: the pure reconciler behind a mutex, fed by
// every entry the hub holds. It is rebuilt from the log at start (the log
// is the truth; the view is derived) and kept current as entries arrive.
type View struct {
	mu  sync.Mutex
	r   *reconcile.Reconciler
	cfg reconcile.Config
	log oplog.Log
	// rebuilds counts rebuilds after a judgement changed (see Apply).
	rebuilds int
}

// Decoding (JSON, matching keys, validation) is most of the view's cost
// per entry and needs no lock: View.Apply decodes a batch first, on up to
// maxDecodeWorkers cores when it has at least decodeChunk entries per
// worker, then applies it in order under the lock. rebuildChunk bounds
// the entries decoded at once while the view is rebuilt.
const (
	maxDecodeWorkers = 8
	decodeChunk      = 32
	rebuildChunk     = 2048
)

// NewView builds the view of everything l holds. cfg.Matcher, if set, is
// used for this build; a rebuild takes a fresh NewMatcher.
func NewView(l oplog.Log, cfg reconcile.Config) (*View, error) {
	v := &View{cfg: cfg, log: l}
	r, err := build(l, cfg)
	if err != nil {
		return nil, err
	}
	v.r = r
	return v, nil
}

// build builds a reconciler of everything l holds, in the order in which
// no judgement of the view's rules changes (reconcile.Replay): every
// origin's genesis, then the origins in reconcile.OriginOrder, each in seq
// order.
func build(l oplog.Log, cfg reconcile.Config) (*reconcile.Reconciler, error) {
	r := reconcile.New(cfg)
	vec, err := l.Vector()
	if err != nil {
		return nil, err
	}
	var geneses []replication.Entry
	for _, o := range vec.Origins() {
		g, err := l.Get(replication.EntryID{Origin: o, Seq: 1})
		if err != nil {
			return nil, fmt.Errorf("hub: rebuild view: %w", err)
		}
		geneses = append(geneses, g)
	}
	chunk := append(make([]replication.Entry, 0, rebuildChunk), geneses...)
	flush := func() {
		for _, d := range decodeAll(chunk) {
			r.ApplyDecoded(d)
		}
		chunk = chunk[:0]
	}
	for _, o := range reconcile.OriginOrder(cfg.Anchor, geneses) {
		err := l.Scan(o, 2, func(e replication.Entry) bool {
			if chunk = append(chunk, e); len(chunk) >= rebuildChunk {
				flush()
			}
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("hub: rebuild view: %w", err)
		}
	}
	flush()
	return r, nil
}

// Apply adds entries to the view. When a judgement already given changes
// (a revocation or a fork notice arriving after entries it sets aside, an
// original after its re-issue), the view is rebuilt from the log.
func (v *View) Apply(es ...replication.Entry) {
	ds := decodeAll(es)
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, d := range ds {
		v.r.ApplyDecoded(d)
	}
	if v.r.Stale() && v.log != nil {
		cfg := v.cfg
		if cfg.Matcher != nil {
			cfg.Matcher = NewMatcher()
		}
		if r, err := build(v.log, cfg); err == nil {
			v.r = r
			v.rebuilds++
		}
	}
}

// Rebuilds returns how often the view was rebuilt after a late revocation,
// fork notice or original.
func (v *View) Rebuilds() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.rebuilds
}

// decodeAll decodes entries, in parallel when there are enough of them.
func decodeAll(es []replication.Entry) []*reconcile.Decoded {
	ds := make([]*reconcile.Decoded, len(es))
	workers := min(runtime.GOMAXPROCS(0), maxDecodeWorkers, len(es)/decodeChunk)
	if workers <= 1 {
		for i := range es {
			ds[i] = reconcile.Decode(es[i])
		}
		return ds
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(es); i = int(next.Add(1) - 1) {
				ds[i] = reconcile.Decode(es[i])
			}
		})
	}
	wg.Wait()
	return ds
}

// Read runs fn with the reconciler, for queries; fn must not keep it.
func (v *View) Read(fn func(r *reconcile.Reconciler)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fn(v.r)
}

// Stats returns the view's counts and digest.
func (v *View) Stats() (reconcile.Stats, string) {
	var st reconcile.Stats
	var digest string
	v.Read(func(r *reconcile.Reconciler) { st, digest = r.Stats(), r.Digest() })
	return st, digest
}

// Queue filters review items by level: a district hub reviews its own
// district's items ("district:445"); the province reviews cross-district
// ones ("province"). All shows every item.
type Queue struct {
	Level    string
	All      bool
	Resolved bool // include settled items
}

// QueueFor returns the queue a hub of this tier and unit reviews.
func QueueFor(tier, unit string) Queue {
	if tier == "district" {
		return Queue{Level: "district:" + unit}
	}
	return Queue{Level: "province"}
}

func (q Queue) admits(level string, settled bool) bool {
	if settled && !q.Resolved {
		return false
	}
	return q.All || level == q.Level || strings.HasPrefix(q.Level, "province") && !strings.HasPrefix(level, "district:")
}

// Conflicts returns the citizens in conflict that q admits.
func (v *View) Conflicts(q Queue) []*reconcile.Citizen {
	var out []*reconcile.Citizen
	v.Read(func(r *reconcile.Reconciler) {
		for _, c := range r.Conflicts() {
			if q.admits(c.Conflict.Level, c.Conflict.Resolved != nil) {
				out = append(out, c)
			}
		}
	})
	return out
}

// PairItem is a probable duplicate with both citizens, for review.
type PairItem struct {
	reconcile.Pair
	Citizens []*reconcile.Citizen `json:"citizens"`
}

// Pairs returns the probable duplicates q admits, with both citizens.
func (v *View) Pairs(q Queue) []PairItem {
	var out []PairItem
	v.Read(func(r *reconcile.Reconciler) {
		for _, p := range r.Pairs() {
			if q.admits(p.Level, p.Resolved != nil) {
				out = append(out, PairItem{Pair: p, Citizens: []*reconcile.Citizen{r.Citizen(p.A), r.Citizen(p.B)}})
			}
		}
	})
	return out
}
