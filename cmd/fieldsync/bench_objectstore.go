package main

import (
	"context"
	"fmt"

	"fieldsync/internal/bench"
	"fieldsync/internal/seaweed"
)

func init() {
	benchmarks["objectstore"] = benchmark{"blob ingest into an object store on a real SeaweedFS vs the local sealed store vs plain files", benchObjectStore}
}

func benchObjectStore(e *env, args []string) error {
	fs := benchFlags(e, "objectstore")
	n := fs.Int("n", 300, "dossiers (a station-day; about 1 MB each)")
	writers := fs.Int("writers", 4, "concurrent blob writers (the replicator's default)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	bin, err := seaweed.Build(context.Background(), e.stderr)
	if err != nil {
		return err
	}
	dir, cleanup, err := benchDir()
	if err != nil {
		return err
	}
	defer cleanup()
	res, err := bench.ObjectStore(dir, bin, *n, *writers)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "blob ingest of %d dossiers: %d blobs, %.1f MB, %d writers, 64 KiB chunks each synced\n", res.Dossiers, res.Blobs, res.MB, res.Writers)
	fmt.Fprintf(e.stdout, "  %-46s %7.1f MB/s\n", "plain files, synced (baseline)", res.PlainMBs)
	fmt.Fprintf(e.stdout, "  %-46s %7.1f MB/s\n", "local sealed store (DIR/blobs)", res.SealedMBs)
	fmt.Fprintf(e.stdout, "  %-46s %7.1f MB/s\n", "object store on SeaweedFS (sealed, uploaded)", res.S3MBs)
	fmt.Fprintf(e.stdout, "  SeaweedFS / local sealed %.2fx, / plain files %.2fx; %d of %d blobs read back verified, %d objects\n",
		res.S3VsLocal, res.S3VsPlain, res.Verified, res.Blobs, res.Objects)
	return nil
}
