package daemon

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
)

// metrics are one replica's Prometheus metrics, in a registry of its own
// (the demo runs many replicas in one process, each with its /metrics).
// Nothing here carries personal data: labels are peer names and kinds.
type metrics struct {
	reg       *prometheus.Registry
	ingested  prometheus.Counter
	batches   prometheus.Counter
	duplicate prometheus.Counter
	events    *prometheus.CounterVec
	sessions  *prometheus.CounterVec
}

func newMetrics(b *Base) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_entries_ingested_total",
			Help: "Entries received from peers and written to the log (rate() of it is the ingest rate)."}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_batches_ingested_total",
			Help: "Batches received from peers and written to the log."}),
		duplicate: prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_entries_duplicate_total",
			Help: "Entries received that were already held (idempotent re-delivery)."}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsync_sync_errors_total",
			Help: "Sync events that need attention, by kind: fork, fork-suspected, refused (by this replica), peer-refused; of the blob lane blob-refused (a blob whose bytes did not hash to its reference, or that no held entry references, or a full disk), peer-blob-refused, blob-unreadable (a blob held here failed verification when read to send)."}, []string{"kind"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsync_sync_sessions_total",
			Help: "Sync sessions ended, by outcome: complete or failed."}, []string{"outcome"}),
	}
	// Every label value exists from the start at 0, so dashboards and
	// alerts see a series before the first event.
	for _, kind := range []syncproto.EventKind{syncproto.EventFork, syncproto.EventForkSuspected, syncproto.EventRefused, syncproto.EventPeerRefused,
		syncproto.EventBlobRefused, syncproto.EventPeerBlobRefused, syncproto.EventBlobUnreadable} {
		m.events.WithLabelValues(kind.String())
	}
	m.sessions.WithLabelValues("complete")
	m.sessions.WithLabelValues("failed")
	m.reg.MustRegister(m.ingested, m.batches, m.duplicate, m.events, m.sessions,
		&peerCollector{b: b}, &blobStoreCollector{b: b}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) ingest(res oplog.IngestResult) {
	m.batches.Inc()
	m.ingested.Add(float64(len(res.Applied)))
	m.duplicate.Add(float64(res.Duplicates))
}

func (m *metrics) event(ev syncproto.Event) { m.events.WithLabelValues(ev.Kind.String()).Inc() }

func (m *metrics) session(err error) {
	if err != nil {
		m.sessions.WithLabelValues("failed").Inc()
		return
	}
	m.sessions.WithLabelValues("complete").Inc()
}

// Gauge adds a metric read at scrape time (the hub adds its view's).
func (b *Base) Gauge(name, help string, value func() float64) {
	b.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value))
}

// Collector adds a collector read at scrape time (the hub adds its
// dossier completeness, by commune and district).
func (b *Base) Collector(c prometheus.Collector) { b.metrics.reg.MustRegister(c) }

// Metrics serves the replica's metrics in the Prometheus text format.
func (b *Base) Metrics() http.Handler {
	return promhttp.HandlerFor(b.metrics.reg, promhttp.HandlerOpts{})
}

// peerCollector reads the per-peer figures from the replicator at scrape.
type peerCollector struct{ b *Base }

var (
	descBacklogEntries = prometheus.NewDesc("fieldsync_peer_backlog_entries", "Entries this replica holds that the peer lacks and would be sent.", []string{"peer"}, nil)
	descBacklogBytes   = prometheus.NewDesc("fieldsync_peer_backlog_bytes", "Estimated wire bytes of that backlog.", []string{"peer"}, nil)
	descDrain          = prometheus.NewDesc("fieldsync_peer_drain_seconds", "Time to drain the backlog at the rate observed on the link (0 if unknown).", []string{"peer"}, nil)
	descSent           = prometheus.NewDesc("fieldsync_peer_bytes_sent_total", "Bytes sent to the peer in sync sessions.", []string{"peer"}, nil)
	descReceived       = prometheus.NewDesc("fieldsync_peer_bytes_received_total", "Bytes received from the peer in sync sessions.", []string{"peer"}, nil)
	descConnected      = prometheus.NewDesc("fieldsync_peer_connected", "1 while a sync session with the peer is open.", []string{"peer"}, nil)
	descLastContact    = prometheus.NewDesc("fieldsync_peer_last_contact_timestamp_seconds", "When a session with the peer last made progress.", []string{"peer"}, nil)
	descEntries        = prometheus.NewDesc("fieldsync_log_entries", "Entries held, all origins.", nil, nil)
	descOrigins        = prometheus.NewDesc("fieldsync_log_origins", "Origins held.", nil, nil)
)

func (c *peerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBacklogEntries, descBacklogBytes, descDrain, descSent, descReceived, descConnected, descLastContact, descEntries, descOrigins} {
		ch <- d
	}
}

func (c *peerCollector) Collect(ch chan<- prometheus.Metric) {
	if v, err := c.b.Dir.Log.Vector(); err == nil {
		ch <- prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(v.Total()))
		ch <- prometheus.MustNewConstMetric(descOrigins, prometheus.GaugeValue, float64(len(v)))
	}
	peers, err := c.b.Rep.Peers()
	if err != nil {
		return
	}
	for _, p := range peers {
		connected := 0.0
		if p.Connected {
			connected = 1
		}
		ch <- prometheus.MustNewConstMetric(descBacklogEntries, prometheus.GaugeValue, float64(p.BacklogEntries), p.Name)
		ch <- prometheus.MustNewConstMetric(descBacklogBytes, prometheus.GaugeValue, float64(p.BacklogBytes), p.Name)
		ch <- prometheus.MustNewConstMetric(descDrain, prometheus.GaugeValue, p.DrainSeconds, p.Name)
		ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(p.BytesOut), p.Name)
		ch <- prometheus.MustNewConstMetric(descReceived, prometheus.CounterValue, float64(p.BytesIn), p.Name)
		ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, connected, p.Name)
		if !p.LastContact.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastContact, prometheus.GaugeValue, float64(p.LastContact.Unix()), p.Name)
		}
	}
}
