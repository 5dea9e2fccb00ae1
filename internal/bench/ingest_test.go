package bench

import (
	"testing"
)

// TestIngestAccounting checks the measurement's bookkeeping on a small
// run: every entry the laptops wrote reaches the hub's log and view, the
// batches respect the protocol's limits, and both baselines wrote the
// same entries. No timing is asserted.
func TestIngestAccounting(t *testing.T) {
	cfg := IngestConfig{N: 1200, Origins: 12, Noise: 0.1, Seed: 3}
	res, err := Ingest(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected > cfg.N/20 || res.Entries != cfg.N-res.Rejected+cfg.Origins || res.Hub.Applied != res.Entries {
		t.Errorf("%d generated, %d rejected, %d origins: %d entries delivered, %d applied", cfg.N, res.Rejected, cfg.Origins, res.Entries, res.Hub.Applied)
	}
	// The view also holds the hub's own entries (its genesis and its
	// bundle key, published at start) and the probe laptop's.
	probe, own := res.Hub.ProbeEntries, 2
	if res.Hub.View.Entries != res.Entries+own+probe || res.Hub.View.Versions != res.Entries-cfg.Origins+probe-1 || res.Hub.View.Invalid != 0 {
		t.Errorf("view %+v after %d entries", res.Hub.View, res.Entries)
	}
	if res.Batches < cfg.Origins || res.EntriesPerBatch > 1000 || res.SignedShare >= 0.5 {
		t.Errorf("%d batches, %.0f entries each, %.2f signed: not as sync cuts them", res.Batches, res.EntriesPerBatch, res.SignedShare)
	}
	if res.WrittenMB <= res.PayloadMB || res.RawBatch.EntriesPerSec <= 0 || res.RawStream.EntriesPerSec <= 0 {
		t.Errorf("baseline wrote %.2f MB for %.2f MB of payloads: %+v %+v", res.WrittenMB, res.PayloadMB, res.RawBatch, res.RawStream)
	}
	if rs := res.Hub.Restart; !rs.SameDigest || rs.LagAtOpen != 0 || rs.Seconds <= 0 {
		t.Errorf("restart %+v: the view must come back as it was, with nothing to apply", rs)
	}
}

// BenchmarkIngest is `fieldsync bench ingest` at a small size: per
// iteration, the hub path and the per-batch baseline on fresh directories.
// The input is built once, outside the timer.
func BenchmarkIngest(b *testing.B) {
	in, err := buildIngestInput(b.TempDir(), IngestConfig{N: 3000, Origins: 30, Noise: 0.05, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var hubSecs, rawSecs float64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dir := b.TempDir()
		raw, err := rawPhase(dir+"/raw", in, true)
		if err != nil {
			b.Fatal(err)
		}
		h, err := hubPhase(dir+"/hub", in, "")
		if err != nil {
			b.Fatal(err)
		}
		rawSecs += raw.Seconds
		hubSecs += h.Seconds
	}
	n := float64(in.entries) * float64(b.N)
	b.ReportMetric(n/hubSecs, "hub-entries/s")
	b.ReportMetric(n/rawSecs, "raw-entries/s")
	b.ReportMetric(rawSecs/hubSecs, "hub/raw")
}
