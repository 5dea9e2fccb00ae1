package bench

import (
	"testing"
	"time"
)

// TestDossiersSmoke runs every lane of `bench dossiers` on a small load
// over a fast link: each finishes with every dossier complete, and the
// figures are consistent (the bench's own logic, not a measurement).
func TestDossiersSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("moves a few MB over loopback")
	}
	cfg := DossierConfig{Dossiers: 2, Rate: 8_000_000, RTT: 20 * time.Millisecond, Speedup: 1, Seed: 3, MaxEmulated: time.Minute}
	run := map[string]bool{"records alone": true, "dossiers 0% loss": true, "whole-file 0% loss": true}
	for _, sc := range DossierScenarios() {
		if !run[sc.Name] {
			continue
		}
		res, err := Dossiers(t.TempDir(), cfg, sc)
		if err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		t.Logf("%+v", res)
		switch {
		case res.Stopped || res.Complete != 2:
			t.Fatalf("%s: %d of 2 complete, stopped %v", sc.Name, res.Complete, res.Stopped)
		case res.RecordsSeconds <= 0 || res.CompleteSeconds < res.RecordsSeconds:
			t.Fatalf("%s: records at %.2f s, complete at %.2f s", sc.Name, res.RecordsSeconds, res.CompleteSeconds)
		case res.TimeOverBound < 1 || res.WireOverPayload < 1:
			t.Fatalf("%s: faster than the bound: %.3f, wire %.3f", sc.Name, res.TimeOverBound, res.WireOverPayload)
		}
	}
}
