package main

import (
	"fmt"
	"text/tabwriter"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["antientropy"] = benchmark{"bytes and CPU per sync round between two in-sync hubs (grows with origins, not entries)", benchAntiEntropy}
}

func benchAntiEntropy(e *env, args []string) error {
	fs := benchFlags(e, "antientropy")
	rounds := fs.Int("rounds", 20, "sync rounds per configuration")
	full := fs.Bool("full", true, "include the 1,000,000-entry configuration (1,000 origins x 1,000)")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	configs := [][2]int{{10, 1000}, {100, 1000}, {1000, 10}, {1000, 100}}
	if *full {
		configs = append(configs, [2]int{1000, 1000})
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	if !*asJSON {
		fmt.Fprintln(tw, "ORIGINS\tENTRIES\tWIRE B/ROUND\tB/ORIGIN\tCPU MS/ROUND\tENTRIES SENT\t")
	}
	for _, c := range configs {
		dir, cleanup, err := benchDir()
		if err != nil {
			return err
		}
		res, err := bench.AntiEntropy(dir, c[0], c[1], *rounds)
		cleanup()
		if err != nil {
			return err
		}
		if *asJSON {
			writeJSON(e.stdout, res)
			continue
		}
		fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.1f\t%.1f\t%d\t\n", res.Origins, res.Entries, res.WireBytes, res.BytesPerOrigin, res.CPUMillis, res.EntriesSentBack)
	}
	return tw.Flush()
}
