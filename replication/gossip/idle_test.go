package gossip

import (
	"context"
	"os"
	"testing"
)

// TestIdleCostField measures the field profile's idle cost (see
// MeasureIdle for the method) and holds it to the design target:
// ≤ 30 KB an hour per field node in sync, sent and received.
func TestIdleCostField(t *testing.T) {
	t.Parallel()
	r, err := MeasureIdle(context.Background(), IdleOptions{Preset: PresetField, Laptops: 6})
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
		{Preset: PresetField}, {Preset: PresetField, NATed: true},
		{Preset: PresetSketch}, {Preset: PresetWAN}, {Preset: PresetLAN},
	} {
		r, err := MeasureIdle(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(r)
	}
}
