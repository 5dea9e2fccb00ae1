package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/hub/dashboard"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/datadir"
)

// Dossier completeness is a component of the hub beside its view: whether
// a dossier's blobs are here is this replica's own state, never part of
// the view or its digest. It reads the replicator's index of incomplete
// dossiers (replication/blob/needs): per laptop origin, the records that
// reference blobs, those whose blobs are not all here, and the bytes they
// miss; persisted watermarks and counts, incomplete entries in memory.
//
// The examining is on the ingest side: dossierLoop examines what arrived
// (woken by each acknowledged batch, at most every dossierEvery, so one
// round — and one metadata write — covers many batches), and blobs that
// arrive later move their dossiers to complete through the index's
// Recheck (the blob lane's OnBlobsHeld, a bundle's import). Readers (the
// dashboard, /metrics, status) only read what the last round published
// (needs.Index.Counts): O(laptops), no log read, no write, nothing shared
// with ingest — at province size, a request examining on its own stalled
// behind the ingest commits for seconds to minutes.

// dossierEvery spaces the examining rounds while entries arrive: each
// round reads what arrived since the last, and saves once.
const dossierEvery = 250 * time.Millisecond

// dossierIdle is how often a round runs with no wake: entries written by
// paths that do not wake it (the hub's own, an import) are counted too.
const dossierIdle = 5 * time.Second

// wakeDossiers asks for an examining round (coalesced).
func (d *Daemon) wakeDossiers() {
	select {
	case d.dossierWake <- struct{}{}:
	default:
	}
}

// dossierLoop examines what arrived in the laptops' origins until ctx
// ends (nothing without the blob lane).
func (d *Daemon) dossierLoop(ctx context.Context) {
	ix := d.Rep.Needs()
	if ix == nil {
		return
	}
	idle := time.NewTicker(dossierIdle)
	defer idle.Stop()
	for {
		more, err := d.examineDossiers()
		if err != nil {
			d.Logger.Warn("could not examine the dossiers that arrived", "err", err)
		}
		if !more || err != nil {
			select {
			case <-ctx.Done():
				return
			case <-d.dossierWake:
			case <-idle.C:
			}
		}
		select { // let a round cover many batches
		case <-ctx.Done():
			return
		case <-time.After(dossierEvery):
		}
	}
}

// examineDossiers runs one examining round over the laptops' origins;
// more: some origin has more to examine.
func (d *Daemon) examineDossiers() (bool, error) {
	ix := d.Rep.Needs()
	if ix == nil {
		return false, nil
	}
	vec, err := d.cfg.Dir.Log.Vector()
	if err != nil {
		return false, err
	}
	return ix.Examine(laptopOrigins(vec, d.src.genesis))
}

// DossiersCaughtUp waits until the dossier counts cover every entry the
// log holds now (tests, the demo's summary).
func (d *Daemon) DossiersCaughtUp(ctx context.Context) error {
	ix := d.Rep.Needs()
	if ix == nil {
		return nil
	}
	vec, err := d.cfg.Dir.Log.Vector()
	if err != nil {
		return err
	}
	os := laptopOrigins(vec, d.src.genesis)
	for {
		behind := false
		for _, n := range ix.Counts(os) {
			behind = behind || n.Examined < vec.Seq(n.Origin)
		}
		if !behind {
			return nil
		}
		d.wakeDossiers()
		select {
		case <-ctx.Done():
			return fmt.Errorf("hub: dossier counts not caught up: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// laptopOrigins lists the origins of vec whose genesis is a laptop's.
func laptopOrigins(vec replication.Vector, genesis func(replication.OriginID) (replication.Genesis, bool)) []replication.OriginID {
	var out []replication.OriginID
	for _, o := range vec.Origins() {
		if g, ok := genesis(o); ok && g.Role == replication.RoleNode {
			out = append(out, o)
		}
	}
	return out
}

// dossierCounts returns how complete each of these laptop origins'
// dossiers are here as last examined (none without the blob lane).
func (d *Daemon) dossierCounts(os []replication.OriginID) map[replication.OriginID]dashboard.DossierCounts {
	ix := d.Rep.Needs()
	if ix == nil || len(os) == 0 {
		return nil
	}
	return countsOf(ix.Counts(os))
}

func countsOf(st []needs.OriginNeeds) map[replication.OriginID]dashboard.DossierCounts {
	out := make(map[replication.OriginID]dashboard.DossierCounts, len(st))
	for _, n := range st {
		c := dashboard.DossierCounts{Dossiers: n.Dossiers, Incomplete: n.Incomplete, PendingBytes: n.MissingBytes}
		if n.Dossiers >= uint64(n.Incomplete) {
			c.Complete = n.Dossiers - uint64(n.Incomplete)
		}
		out[n.Origin] = c
	}
	return out
}

// Dossiers returns the completeness of the dossiers below this hub, per
// laptop, commune and district.
func (d *Daemon) Dossiers() (dashboard.DossierSummary, error) { return d.src.dossierSummary() }

// OfflineDossiers is Dossiers for a hub directory no daemon holds (drain
// times unknown: no link is up).
func OfflineDossiers(dir *datadir.Dir) (dashboard.DossierSummary, error) {
	ix, err := needs.Open(dir.Log, dir.Blobs, dossier.RefsOf)
	if err != nil {
		return dashboard.DossierSummary{}, err
	}
	vec, err := dir.Log.Vector()
	if err != nil {
		return dashboard.DossierSummary{}, err
	}
	genesis := func(o replication.OriginID) (replication.Genesis, bool) {
		e, err := dir.Log.Get(replication.EntryID{Origin: o, Seq: 1})
		if err != nil {
			return replication.Genesis{}, false
		}
		g, err := replication.DecodeGenesis(e.Payload)
		return g, err == nil
	}
	var failed error
	counts := func(os []replication.OriginID) map[replication.OriginID]dashboard.DossierCounts {
		if len(os) == 0 {
			return nil
		}
		st, err := ix.Origins(os) // no daemon: examine here
		failed = err
		return countsOf(st)
	}
	rows := groupDevices(vec, genesis, nil, func(replication.OriginID) time.Time { return time.Time{} }, nil, counts)
	return dashboard.SummarizeDossiers(sortedCommunes(rows), nil), failed
}

// dossierCollector exposes dossier completeness in /metrics, per commune
// and district and in all, read at scrape time.
type dossierCollector struct{ d *Daemon }

var (
	descDossiers = prometheus.NewDesc("fieldsync_dossiers",
		"Dossiers (records that reference biometric blobs) held, by state: complete (record and every blob here, verified) or incomplete; per unit (all, district, commune).",
		[]string{"level", "unit", "state"}, nil)
	descDossierBytes = prometheus.NewDesc("fieldsync_dossier_blob_bytes_pending",
		"Bytes of blobs that incomplete dossiers still miss here, per unit.", []string{"level", "unit"}, nil)
	descDossierDrain = prometheus.NewDesc("fieldsync_dossier_drain_seconds",
		"Time to receive those bytes at the observed link rate (the slowest laptop's; 0 if unknown), per unit.", []string{"level", "unit"}, nil)
)

func (c dossierCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDossiers
	ch <- descDossierBytes
	ch <- descDossierDrain
}

func (c dossierCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.d.Dossiers()
	if err != nil {
		return
	}
	emit := func(level, unit string, n dashboard.DossierCounts) {
		ch <- prometheus.MustNewConstMetric(descDossiers, prometheus.GaugeValue, float64(n.Complete), level, unit, "complete")
		ch <- prometheus.MustNewConstMetric(descDossiers, prometheus.GaugeValue, float64(n.Incomplete), level, unit, "incomplete")
		ch <- prometheus.MustNewConstMetric(descDossierBytes, prometheus.GaugeValue, float64(n.PendingBytes), level, unit)
		ch <- prometheus.MustNewConstMetric(descDossierDrain, prometheus.GaugeValue, n.DrainSeconds, level, unit)
	}
	emit("all", "", s.Totals)
	for _, d := range s.Districts {
		emit("district", d.Code, d.DossierCounts)
	}
	for _, cm := range s.Communes {
		emit("commune", cm.Code, cm.DossierCounts)
	}
	for _, dv := range s.Devices {
		emit("laptop", dv.Code, dv.DossierCounts)
	}
}

// Portrait implements dashboard.Source: the portrait a capture entry
// references, read from this hub's blob store (verified on read).
func (s *source) Portrait(entry string) ([]byte, string, error) {
	id, err := replication.ParseEntryID(entry)
	if err != nil {
		return nil, "", err
	}
	e, err := s.d.cfg.Dir.Log.Get(id)
	if err != nil {
		return nil, "", dashboard.ErrNoPortrait
	}
	refs, err := dossier.RefsOf(&e)
	if err != nil {
		return nil, "", dashboard.ErrNoPortrait
	}
	for _, r := range refs {
		if r.Slot != "face" {
			continue
		}
		b, err := blob.ReadAll(s.d.cfg.Dir.Blobs, r.Hash)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", dashboard.ErrNoPortrait, err)
		}
		return b, enrollment.DetectFormat(b), nil
	}
	return nil, "", dashboard.ErrNoPortrait
}
