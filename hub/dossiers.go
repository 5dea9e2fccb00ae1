package hub

import (
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
// miss; persisted watermarks and counts, incomplete entries in memory,
// new entries examined lazily and in bounded steps — no call reads every
// citizen or every entry.

// dossierCounts returns how complete each of these laptop origins'
// dossiers are here (none without the blob lane).
func (d *Daemon) dossierCounts(os []replication.OriginID) map[replication.OriginID]dashboard.DossierCounts {
	out, err := countDossiers(d.Rep.Needs(), os)
	if err != nil {
		d.Logger.Warn("could not read the index of incomplete dossiers", "err", err)
	}
	return out
}

func countDossiers(ix *needs.Index, os []replication.OriginID) (map[replication.OriginID]dashboard.DossierCounts, error) {
	if ix == nil || len(os) == 0 {
		return nil, nil
	}
	st, err := ix.Origins(os)
	if err != nil {
		return nil, err
	}
	out := make(map[replication.OriginID]dashboard.DossierCounts, len(st))
	for _, n := range st {
		c := dashboard.DossierCounts{Dossiers: n.Dossiers, Incomplete: n.Incomplete, PendingBytes: n.MissingBytes}
		if n.Dossiers >= uint64(n.Incomplete) {
			c.Complete = n.Dossiers - uint64(n.Incomplete)
		}
		out[n.Origin] = c
	}
	return out, nil
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
		c, err := countDossiers(ix, os)
		failed = err
		return c
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
