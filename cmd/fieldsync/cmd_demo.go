package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"fieldsync/internal/demo"
)

func init() {
	register(&command{
		name:     "demo",
		synopsis: "run a whole simulated province syncing on this machine (no setup)",
		usage: `Usage: fieldsync demo [flags]

Runs Hà Tĩnh on this machine: a provincial hub, district hubs and their
communes' laptops, each laptop behind an emulated 2G, EDGE or 3G link with
outages, real gossip pools and sync sessions on loopback, real data
directories in a temporary folder. About 20,000 generated enrollments are
captured at their campaign times, compressed into a minute and a quarter,
with noisy re-enrollments, people who moved to another district, and
conflicting corrections. 400 of the captures carry their dossiers — a
portrait, 13 finger images, irises and a signature at realistic sizes,
about 1 MB each, incompressible bytes in real JPEG, JPEG 2000, WSQ and PNG
containers — sealed on the laptops and moved behind the records over the
same thin links: at 2G and EDGE rates only part of them reach the
province during the demo, and the province receipts those that do. It
prints progress and the dashboards' addresses, then a table per hub
(entries, citizens, conflicts, duplicates, complete dossiers, blob bytes
still to come, digest) and whether every hub converged on the records.
Exit status 0 only if they did.

Examples:
  fieldsync demo
  fieldsync demo --keep                      # keep it running to explore the dashboards
  fieldsync demo --districts 5 --records 50000 --capture-for 3m
`,
		run: runDemo,
	})
}

func runDemo(e *env, args []string) error {
	fs := newFlags(e, commands["demo"])
	var cfg demo.Config
	fs.IntVar(&cfg.Districts, "districts", 3, "district hubs (1-13)")
	fs.IntVar(&cfg.Communes, "communes", 4, "communes per district")
	fs.IntVar(&cfg.Records, "records", 20000, "generated enrollments")
	fs.IntVar(&cfg.Dossiers, "dossiers", 400, "captures that carry their biometric files (~1 MB each; -1: none)")
	fs.Float64Var(&cfg.Noise, "noise", 0.05, "share of noisy re-enrollments")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "data seed")
	fs.DurationVar(&cfg.CaptureFor, "capture-for", 0, "real time the campaign's captures take (default 75s)")
	fs.DurationVar(&cfg.ConvergeWithin, "converge-within", 0, "how long to wait for convergence after the captures (default 90s)")
	fs.StringVar(&cfg.Dir, "dir", "", "keep the data directories here (default: a temporary folder, removed)")
	fs.StringVar(&cfg.DashboardAddr, "dashboard", "127.0.0.1:7980", "address of the province's dashboard")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep everything running after the summary, until interrupted")
	logLevel := fs.String("log-level", "error", "replicas' log level")
	asJSON := fs.Bool("json", false, "print the summary as JSON at the end")
	memprofile := fs.String("memprofile", "", "write a heap profile here at the end (for diagnosing memory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(e, *logLevel, "text")
	if err != nil {
		return err
	}
	cfg.Out, cfg.Logger = e.stdout, logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *memprofile != "" {
		cfg.AtEnd = func(demo.Summary) { writeHeapProfile(*memprofile) }
	}
	sum, err := demo.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		writeJSON(e.stdout, sum)
	}
	if !sum.Converged {
		return errors.New("the hubs did not converge")
	}
	return nil
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	runtime.GC()
	pprof.WriteHeapProfile(f)
}
