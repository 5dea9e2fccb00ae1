package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"fieldsync/hub/dedup"
	"fieldsync/hub/reconcile"
	"fieldsync/internal/localapi"
	"fieldsync/replication"
)

// The duplicate model: the top tier learns it from its view (dedup.Train)
// and publishes it as a signed KindDedupModel entry; it replicates like a
// decision, and every hub's view judges pairs with the model in force
// (reconcile Rule 10: highest tier, then newest). So weights travel with
// the data, and two hubs holding the same entries propose the same pairs.

// ErrNoModelMatcher is returned when the view has no learning matcher.
var ErrNoModelMatcher = errors.New("hub: the view has no duplicate model to learn")

// ModelInfo describes the duplicate model a hub's view judges pairs with.
type ModelInfo struct {
	// Entry is the published entry the model came from ("" for the
	// built-in default, learnt on generated data).
	Entry string `json:"entry,omitempty"`
	// ID is the model's own ID, which every pair it judged shows.
	ID       string           `json:"id"`
	Trained  *dedup.TrainInfo `json:"trained,omitempty"`
	Citizens int              `json:"citizens"`
	// Model is the model itself: m, u and the weight of every comparison
	// level, the term frequencies, the prior.
	Model *dedup.Model `json:"model,omitempty"`
}

// Model returns the model in force.
func (v *View) Model() (ModelInfo, error) {
	var info ModelInfo
	var err error
	v.Read(func(r *reconcile.Reconciler) {
		m, ok := r.Matcher().(*dedupMatcher)
		if !ok {
			err = ErrNoModelMatcher
			return
		}
		mod := m.ix.Model()
		info = ModelInfo{Entry: r.ModelEntry(), ID: mod.ID(), Trained: mod.Trained, Citizens: m.ix.Len(), Model: mod}
	})
	return info, err
}

// train learns a model from the view's citizens. It holds the view for
// the learning step (its cost at a province's size is in BENCHMARKS.md:
// the top tier does it rarely, see modelLoop).
func (v *View) train() (*dedup.Model, error) {
	var m *dedup.Model
	var err error
	v.Read(func(r *reconcile.Reconciler) {
		dm, ok := r.Matcher().(*dedupMatcher)
		if !ok {
			err = ErrNoModelMatcher
			return
		}
		m, err = dm.ix.Train(dedup.TrainConfig{})
	})
	return m, err
}

// PublishModel learns a model from the view and writes it as a
// KindDedupModel entry in the hub's log (synced); it applies it to the
// view and returns it. It replicates like any entry.
func (a *Author) PublishModel(v *View, now replication.HLC) (replication.Entry, *dedup.Model, error) {
	m, err := v.train()
	if err != nil {
		return replication.Entry{}, nil, fmt.Errorf("hub: learn the duplicate model: %w", err)
	}
	a.mu.Lock()
	a.hlc.Observe(now)
	draft := replication.Draft{Kind: replication.KindDedupModel, Schema: 1, Payload: m.Encode(), HLC: a.hlc.Next(now.Time())}
	es, err := a.dir.Log.Append(a.dir.Signer, []replication.Draft{draft})
	a.mu.Unlock()
	if err != nil {
		return replication.Entry{}, nil, fmt.Errorf("hub: save the duplicate model: %w", err)
	}
	v.Apply(es[0])
	return es[0], m, nil
}

// RetrainGrowth is how much the citizens must have grown since the model
// in force was learnt before the top tier learns again (or when the model
// in force was not learnt from this hub's tier's data at all).
const RetrainGrowth = 1.25

// needsModel says whether the top tier should learn and publish: enough
// citizens, and no model of its own, or one learnt from far fewer.
func needsModel(info ModelInfo) bool {
	switch {
	case info.Citizens < dedup.MinTrainRecords:
		return false
	case info.Entry == "" || info.Trained == nil:
		return true
	}
	return float64(info.Citizens) >= RetrainGrowth*float64(info.Trained.Records)
}

// DefaultModelEvery is how often the top tier checks whether to learn.
const DefaultModelEvery = time.Hour

// modelLoop, at the top tier only, learns and publishes a model when the
// data has grown enough (needsModel), checking every ModelEvery.
func (d *Daemon) modelLoop(ctx context.Context) {
	if !d.isTopTier() || d.cfg.ModelEvery < 0 {
		return
	}
	every := d.cfg.ModelEvery
	if every == 0 {
		every = DefaultModelEvery
	}
	clock := replication.OrReal(d.cfg.Replicator.Clock)
	logger := d.cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for {
		timer, stop := clock.NewTimer(every)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-timer:
		}
		if _, err := d.MaybePublishModel(); err != nil {
			logger.Warn("duplicate model not published", "err", err)
		}
	}
}

// MaybePublishModel learns and publishes a model when needsModel says so;
// it returns whether it did.
func (d *Daemon) MaybePublishModel() (bool, error) {
	info, err := d.view.Model()
	if err != nil || !needsModel(info) {
		return false, err
	}
	if _, err := d.PublishModel(); err != nil {
		return false, err
	}
	return true, nil
}

// PublishModel learns a model now and sends it on its way.
func (d *Daemon) PublishModel() (*dedup.Model, error) {
	now := replication.OrReal(d.cfg.Replicator.Clock).Now()
	_, m, err := d.author.PublishModel(d.view, replication.MakeHLC(now.UnixMilli(), 0))
	if err == nil {
		d.Rep.Wake()
		d.src.notify()
	}
	return m, err
}

// isTopTier: this hub's tier has the highest rank (a province hub).
func (d *Daemon) isTopTier() bool {
	tiers := reconcile.DefaultTiers()
	mine := tiers[d.cfg.Dir.Config.Tier]
	for _, r := range tiers {
		if r > mine {
			return false
		}
	}
	return mine > 0
}

func (d *Daemon) serveModel(w http.ResponseWriter, _ *http.Request) {
	info, err := d.view.Model()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	localapi.WriteJSON(w, http.StatusOK, info)
}

func (d *Daemon) serveTrain(w http.ResponseWriter, _ *http.Request) {
	if _, err := d.PublishModel(); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, dedup.ErrTooFewRecords) {
			status = http.StatusConflict
		}
		http.Error(w, err.Error(), status)
		return
	}
	d.serveModel(w, nil)
}
