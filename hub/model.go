package hub

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"fieldsync/hub/dedup"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/runtime/localapi"
	"fieldsync/storage/kv"
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

// Model returns the model in force (as of the last round applied).
func (v *View) Model() (ModelInfo, error) {
	r := v.Reconciler()
	m, ok := r.Matcher().(*dedupMatcher)
	if !ok {
		return ModelInfo{}, ErrNoModelMatcher
	}
	c := m.modelInForce()
	return ModelInfo{Entry: c.entry, ID: c.model.ID(), Trained: c.model.Trained, Citizens: r.Stats().Citizens, Model: c.model}, nil
}

// train learns a model from the citizens of the view's last snapshot (the
// profiles it stores), in an Index of its own: nothing the view applies
// under is held, and the view goes on following the log meanwhile. Its
// cost at a province's size is in BENCHMARKS.md; the top tier does it
// rarely (modelLoop).
func (v *View) train(tc dedup.TrainConfig) (*dedup.Model, error) {
	r := v.Reconciler()
	if _, ok := r.Matcher().(*dedupMatcher); !ok {
		return nil, ErrNoModelMatcher
	}
	var rerr error
	citizens := func(yield func(string, dedup.Stored) bool) {
		rerr = r.MatchProfiles(func(key string, p reconcile.Profiled) bool {
			return yield(key, dedup.Stored{Profile: p.Profile, Region: p.Region})
		})
	}
	m, err := dedup.Learn(citizens, dedup.DefaultConfig(), tc)
	if rerr != nil {
		return nil, fmt.Errorf("hub: read the view's profiles: %w", rerr)
	}
	return m, err
}

// PublishModel learns a model from the view and writes it as a
// KindDedupModel entry in the hub's log (synced); the view applies it
// from the log like any entry (View.WaitFor waits for that), and it
// replicates like any entry.
func (a *Author) PublishModel(v *View, now replication.HLC) (replication.Entry, *dedup.Model, error) {
	m, err := v.train(dedup.TrainConfig{})
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
	v.Wake()
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
	e, m, err := d.author.PublishModel(d.view, replication.MakeHLC(now.UnixMilli(), 0))
	if err == nil {
		d.Rep.Wake()
		d.showOwn(e.ID())
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

// Rule 10 — the duplicate model in force. Among the published model
// entries (KindDedupModel) whose payload decodes, from hub origins (their
// tier known by their genesis), the highest tier's wins (reconcile's
// DefaultTiers); among equals the newest by the hub's clock (HLC), then
// the lowest entry hash. Entries from devices are never admitted (the
// roster refuses them; without a roster they are ignored here). None: the
// matcher's default. It is a reconcile.Component over kind 20: its state
// is the set of usable model entries and the winner, under x/dedup-model/
// in the view's store, a function of the set of entries; the winner is in
// the digest ("model ENTRY"), and every pair's line carries the model
// that judged it (its Extra). A change of winner has every candidate pair
// decided again, reported through Changes in the same round.
type modelRule struct{ m *dedupMatcher }

// Keys under the component's prefix.
var (
	modelEntryPrefix = []byte("e/") // e/ENTRY → modelRec
	modelWinnerKey   = []byte("w")  // → the winner's ENTRY
)

const modelDigestSubject = "dedup-model"

func (modelRule) Name() string { return "dedup-model" }

func (c modelRule) Admit(tx reconcile.ComponentTx, a *reconcile.Admitted) {
	if a.Kind != replication.KindDedupModel || a.Tier == "" {
		return // not a model, or not (yet) known to come from a hub
	}
	if _, err := dedup.DecodeModel(a.Payload); err != nil {
		return // not usable: the default (or another entry) judges
	}
	rec := modelRec{tier: a.Tier, hlc: a.HLC, hash: a.Hash, payload: a.Payload}
	tx.Set(append(slices.Clone(modelEntryPrefix), a.ID.String()...), rec.encode())
	c.choose(tx)
}

func (c modelRule) Retract(tx reconcile.ComponentTx, a *reconcile.Admitted) {
	if a.Kind != replication.KindDedupModel {
		return
	}
	k := append(slices.Clone(modelEntryPrefix), a.ID.String()...)
	if _, err := tx.Get(k); err != nil {
		return // never held (not usable, or not from a hub then)
	}
	tx.Delete(k)
	c.choose(tx)
}

func (modelRule) CitizenChanged(reconcile.ComponentTx, string, *reconcile.CitizenSummary, *reconcile.CitizenSummary) {
}

// choose finds the winner among the models held and, when it changed,
// hands it to the matcher and moves the digest line.
func (c modelRule) choose(tx reconcile.ComponentTx) {
	tiers := reconcile.DefaultTiers()
	var win string
	var best modelRec
	tx.Scan(modelEntryPrefix, nil, func(k, v []byte) bool {
		rec, err := decodeModelRec(v)
		if err != nil {
			return true // written by this code: cannot happen short of a damaged store
		}
		if win == "" || rec.outranks(&best, tiers) {
			win, best = string(k[len(modelEntryPrefix):]), rec
		}
		return true
	})
	old, _ := tx.Get(modelWinnerKey)
	if string(old) == win {
		return
	}
	if len(old) > 0 {
		tx.DigestItem(modelDigestSubject, "model "+string(old)+"\n", -1)
	}
	if win == "" {
		tx.Delete(modelWinnerKey)
		c.m.use("", dedup.DefaultModel())
		return
	}
	tx.Set(modelWinnerKey, []byte(win))
	tx.DigestItem(modelDigestSubject, "model "+win+"\n", 1)
	model, _ := dedup.DecodeModel(best.payload) // decoded at Admit
	c.m.use(win, model)
}

// Load hands the matcher the model in force when the view is opened
// (reconcile.ComponentLoader), before the matcher loads its pairs.
func (c modelRule) Load(r kv.Reader) error {
	win, err := r.Get(modelWinnerKey)
	if errors.Is(err, kv.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	v, err := r.Get(append(slices.Clone(modelEntryPrefix), win...))
	if err != nil {
		return fmt.Errorf("the model in force %s: %w", win, err)
	}
	rec, err := decodeModelRec(v)
	if err != nil {
		return err
	}
	model, err := dedup.DecodeModel(rec.payload)
	if err != nil {
		return fmt.Errorf("the model in force %s: %w", win, err)
	}
	c.m.use(string(win), model)
	return nil
}

// modelRec is a usable model entry as the component keeps it.
type modelRec struct {
	tier    string
	hlc     replication.HLC
	hash    replication.Hash
	payload []byte
}

func (a *modelRec) outranks(b *modelRec, tiers map[string]int) bool {
	if ra, rb := tiers[a.tier], tiers[b.tier]; ra != rb {
		return ra > rb
	}
	if a.hlc != b.hlc {
		return a.hlc > b.hlc
	}
	return bytes.Compare(a.hash[:], b.hash[:]) < 0
}

func (m *modelRec) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(m.tier)))
	b = append(b, m.tier...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.hlc))
	b = append(b, m.hash[:]...)
	return append(b, m.payload...)
}

var errModelRec = errors.New("hub: a stored model record does not decode")

func decodeModelRec(b []byte) (modelRec, error) {
	var m modelRec
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n+8+uint64(len(m.hash)) {
		return m, errModelRec
	}
	b = b[k:]
	m.tier, b = string(b[:n]), b[n:]
	m.hlc, b = replication.HLC(binary.BigEndian.Uint64(b)), b[8:]
	copy(m.hash[:], b)
	m.payload = slices.Clone(b[len(m.hash):])
	return m, nil
}
