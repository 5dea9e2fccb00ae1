package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"fieldsync/replication/gossip"
)

func init() {
	benchmarks["idle"] = benchmark{"gossip bytes per hour of an idle laptop: the field profile vs memberlist's WAN and LAN defaults", benchIdle}
}

// benchIdle measures what an in-sync gossip pool costs a laptop per hour
// on a metered link (DESIGN.md §6), for the field profile and, as
// baselines, memberlist's own presets, in one run.
func benchIdle(e *env, args []string) error {
	fs := benchFlags(e, "idle")
	laptops := fs.Int("laptops", 6, "laptops in the pool, besides the hub")
	window := fs.Duration("window", 0, "wall time measured per preset (default: the preset's own, 10 s or more)")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	if !*asJSON {
		fmt.Fprintln(tw, "PRESET\tKB/H LAPTOP\tMAX KB/H\tKB/H HUB\tPROBE\tPUSH/PULL\tSIMULATED\t")
	}
	var field float64
	for _, p := range []gossip.IdlePreset{gossip.PresetField, gossip.PresetWAN, gossip.PresetLAN} {
		r, err := gossip.MeasureIdle(context.Background(), gossip.IdleOptions{Preset: p, Laptops: *laptops, Window: *window})
		if err != nil {
			return err
		}
		if p == gossip.PresetField {
			field = r.LaptopBytesPerHour
		}
		if *asJSON {
			writeJSON(e.stdout, r)
			continue
		}
		pushPull := r.PushPullInterval.String()
		if r.PushPullInterval == 0 { // the field profile refreshes instead
			pushPull = "refresh " + r.RefreshInterval.String()
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t\n", p, r.LaptopBytesPerHour/1000, r.LaptopMaxBytesPerHour/1000, r.HubBytesPerHour/1000,
			r.ProbeInterval, pushPull, r.Simulated.Round(time.Minute))
		if p != gossip.PresetField && field > 0 {
			fmt.Fprintf(tw, "\t(%.0fx the field profile)\t\t\t\t\t\t\n", r.LaptopBytesPerHour/field)
		}
	}
	return tw.Flush()
}
