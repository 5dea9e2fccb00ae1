package gossip

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestIdleCostField measures the field profile's idle cost (see
// MeasureIdle for the method) and holds it to the design target:
// ≤ 30 KB an hour per field node in sync, sent and received. It is not
// parallel, and scales time 100× only (probe timeout 100 ms), so that a
// busy machine does not miss probe timeouts, which would add indirect
// probes and inflate the figure.
func TestIdleCostField(t *testing.T) {
	if raceEnabled {
		t.Skip("a measurement in scaled time: meaningless under the race detector (CI runs it without)")
	}
	r, err := MeasureIdle(context.Background(), IdleOptions{Preset: PresetField, Laptops: 6, Scale: 100, Window: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.LaptopBytesPerHour > 30_000 {
		t.Errorf("field idle cost %.1f KB/h per laptop, target ≤ 30 KB/h", r.LaptopBytesPerHour/1000)
	}
}

// TestIdleCostPresets compares the presets (about two minutes); run with
// GOSSIP_IDLE_ALL=1.
func TestIdleCostPresets(t *testing.T) {
	if os.Getenv("GOSSIP_IDLE_ALL") == "" {
		t.Skip("set GOSSIP_IDLE_ALL=1 to measure every preset")
	}
	for _, o := range []IdleOptions{
		{Preset: PresetField, Scale: 100, Window: 36 * time.Second},
		{Preset: PresetField, Scale: 100, Window: 36 * time.Second, Laptops: 8},
		{Preset: PresetField, Scale: 100, Window: 36 * time.Second, NATed: true},
		{Preset: PresetSketch}, {Preset: PresetWAN}, {Preset: PresetLAN},
	} {
		r, err := MeasureIdle(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(r)
	}
}

// BenchmarkIdleField reports the field profile's idle cost as a metric
// (one measurement of about 18 s per iteration):
//
//	go test ./replication/gossip -run '^$' -bench IdleField -benchtime 1x
func BenchmarkIdleField(b *testing.B) {
	for b.Loop() {
		r, err := MeasureIdle(context.Background(), IdleOptions{Preset: PresetField, Scale: 100, Window: 15 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.LaptopBytesPerHour/1000, "KB/h/laptop")
		b.ReportMetric(r.HubBytesPerHour/1000, "KB/h/hub")
	}
}
