package main

import (
	"fmt"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["forward"] = benchmark{"a district hub forwarding a station-day of dossiers to the province over loopback: blob throughput at a hub", benchForward}
}

func benchForward(e *env, args []string) error {
	fs := benchFlags(e, "forward")
	n := fs.Int("n", 300, "dossiers (a station-day is 300)")
	seed := fs.Uint64("seed", 10, "seed of the generated dossiers")
	size := fs.Int64("dossier-bytes", 0, "scale each dossier's files to about this many bytes (0: the generator's, ~1 MB)")
	streaming := fs.Bool("streaming", false, "start the province while the district still takes the laptop's dossiers")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, cleanup, err := benchDir()
	if err != nil {
		return err
	}
	defer cleanup()
	res, err := bench.Forward(dir, bench.ForwardConfig{Dossiers: *n, Seed: *seed, DossierBytes: *size, Streaming: *streaming})
	if err != nil {
		return err
	}
	if *asJSON {
		writeJSON(e.stdout, res)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: %d dossiers, %d blobs, %.1f MB: the province complete in %.1f s: %.1f MB/s, %.0f blobs/s (complete %v)\n",
		res.Mode, res.Dossiers, res.Blobs, float64(res.BlobBytes)/1e6, res.Seconds, res.MBPerSec, res.BlobsPerS, res.Complete)
	return nil
}
