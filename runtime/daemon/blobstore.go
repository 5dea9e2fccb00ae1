package daemon

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"fieldsync/replication/blob/s3"
	"fieldsync/runtime/localapi"
)

// objectStore is a blob store that reports its health (package blob/s3).
type objectStore interface {
	Health() s3.Health
	Location() string
}

// blobStoreStatus returns the object store's state and, while it does not
// answer, the alarm; nil for a local store.
func (b *Base) blobStoreStatus() (*localapi.BlobStore, *localapi.Alarm) {
	os, ok := b.Dir.Blobs.(objectStore)
	if !ok {
		return nil, nil
	}
	h := os.Health()
	st := &localapi.BlobStore{Location: os.Location(), Up: h.Up, Since: h.Since, LastError: h.LastError, Waiting: h.Waiting, WaitingBytes: h.WaitingBytes}
	if h.Up {
		return st, nil
	}
	return st, &localapi.Alarm{Kind: "blob-store-unavailable", Count: 1,
		Detail: fmt.Sprintf("the object store %s does not answer since %s: %d blobs (%d bytes) wait on local disk, not acknowledged; last error: %s",
			st.Location, h.Since.UTC().Format("2006-01-02 15:04:05Z"), h.Waiting, h.WaitingBytes, h.LastError)}
}

// blobStoreCollector exports the object store's health as gauges.
type blobStoreCollector struct{ b *Base }

var (
	blobStoreUpDesc      = prometheus.NewDesc("fieldsync_blob_store_up", "1 if the hub's object store answers, 0 while it does not (blobs then wait on local disk).", nil, nil)
	blobStoreWaitingDesc = prometheus.NewDesc("fieldsync_blob_store_waiting_bytes", "Bytes of blobs whole on local disk waiting for the object store.", nil, nil)
)

func (c *blobStoreCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- blobStoreUpDesc
	ch <- blobStoreWaitingDesc
}

func (c *blobStoreCollector) Collect(ch chan<- prometheus.Metric) {
	os, ok := c.b.Dir.Blobs.(objectStore)
	if !ok {
		return
	}
	h := os.Health()
	up := 0.0
	if h.Up {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(blobStoreUpDesc, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(blobStoreWaitingDesc, prometheus.GaugeValue, float64(h.WaitingBytes))
}
