package main

import (
	"flag"
	"fmt"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["append"] = benchmark{"durable capture latency p50/p99 vs a bare synced Badger txn", benchAppend}
	benchmarks["import"] = benchmark{"import throughput (records/s) and peak memory", benchImport}
}

func benchFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("bench "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

func benchAppend(e *env, args []string) error {
	fs := benchFlags(e, "append")
	n := fs.Int("n", 2000, "records, saved one at a time")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, cleanup, err := benchDir()
	if err != nil {
		return err
	}
	defer cleanup()
	res, err := bench.Append(dir, *n)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "durable capture, %d records of ~%d B, one synced write each\n", res.Records, res.PayloadBytes)
	fmt.Fprintf(e.stdout, "  %-34s p50 %8.0f µs   p99 %8.0f µs\n", "node.Enroll (validate+sign+append)", res.Enroll.P50us, res.Enroll.P99us)
	fmt.Fprintf(e.stdout, "  %-34s p50 %8.0f µs   p99 %8.0f µs\n", "oplog.Append (sign+append)", res.Append.P50us, res.Append.P99us)
	fmt.Fprintf(e.stdout, "  %-34s p50 %8.0f µs   p99 %8.0f µs\n", "bare synced Badger txn, same size", res.BareBadger.P50us, res.BareBadger.P99us)
	fmt.Fprintf(e.stdout, "  append / bare: p50 %.2fx, p99 %.2fx\n", res.RatioP50, res.RatioP99)
	return nil
}

func benchImport(e *env, args []string) error {
	fs := benchFlags(e, "import")
	n := fs.Int("n", 100000, "generated records to import")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, cleanup, err := benchDir()
	if err != nil {
		return err
	}
	defer cleanup()
	res, err := bench.Import(dir, *n)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "import of %d generated records: %.1f s, %.0f records/s; accepted %d, rejected %d\n", res.Records, res.Seconds, res.RecordsPerSec, res.Accepted, res.Rejected)
	fmt.Fprintf(e.stdout, "  peak Go heap %.0f MB, peak RSS %.0f MB (includes the generated input held in memory)\n", res.PeakHeapMB, res.PeakRSSMB)
	return nil
}
