package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["sync"] = benchmark{"a laptop's backlog to a hub over an emulated thin link, bytes and time vs zstd -19", benchSync}
}

func benchSync(e *env, args []string) error {
	fs := benchFlags(e, "sync")
	n := fs.Int("n", 10000, "enrollments in the backlog")
	rate := fs.Int64("rate", 128_000, "link rate, bits per second each way")
	rtt := fs.Duration("rtt", 300*time.Millisecond, "link round-trip time")
	only := fs.String("scenario", "", "run only the scenario with this name")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintf(tw, "%d enrollments, %d kbit/s, RTT %s\n", *n, *rate/1000, *rtt)
		fmt.Fprintln(tw, "SCENARIO\tWIRE B/ENROLL\tWIRE/ZSTD-19\tWIRE/RAW JSON\tTIME\tBOUND\tTIME/BOUND\tSESSIONS")
	}
	for _, sc := range bench.SyncScenarios() {
		if *only != "" && sc.Name != *only {
			continue
		}
		dir, cleanup, err := benchDir()
		if err != nil {
			return err
		}
		res, err := bench.Sync(dir, *n, *rate, *rtt, sc)
		cleanup()
		if err != nil {
			return err
		}
		if *asJSON {
			writeJSON(e.stdout, res)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.3f\t%.3f\t%.0f s\t%.0f s\t%.2f\t%d\n", res.Scenario, res.BytesPerRecord, res.OverZstd19, res.OverRaw,
			res.Seconds, res.BoundSeconds, res.TimeOverBound, res.Sessions)
		tw.Flush()
	}
	if !*asJSON {
		tw.Flush()
	}
	return nil
}
