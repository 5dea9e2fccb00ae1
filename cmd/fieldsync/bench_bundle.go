package main

import (
	"fmt"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["bundle"] = benchmark{"bundle export and import MB/s against cp of the same bytes", benchBundle}
}

func benchBundle(e *env, args []string) error {
	fs := benchFlags(e, "bundle")
	n := fs.Int("n", 300, "dossiers (about 1 MB each with their files)")
	maxSize := fs.String("max-size", "", "bytes per part (default: one part)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	size, err := parseByteSize(*maxSize)
	if err != nil {
		return usagef("--max-size: %v", err)
	}
	dir, cleanup, err := benchDir()
	if err != nil {
		return err
	}
	defer cleanup()
	res, err := bench.Bundle(dir, *n, size)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "bundle of %d dossiers: %d entries, %d blobs (%.1f MB), %.1f MB in %d part(s)\n", res.Dossiers, res.Entries, res.Blobs, res.BlobMB, res.BundleMB, res.Parts)
	fmt.Fprintf(e.stdout, "  %-44s %6.2f s  %7.1f MB/s\n", "export (read, seal, sign, write, sync)", res.ExportS, res.ExportMBs)
	fmt.Fprintf(e.stdout, "  %-44s %6.2f s  %7.1f MB/s\n", "import (open, verify, ingest, store blobs)", res.ImportS, res.ImportMBs)
	fmt.Fprintf(e.stdout, "  %-44s %6.2f s  %7.1f MB/s\n", "cp of the same files, then sync", res.CopyS, res.CopyMBs)
	fmt.Fprintf(e.stdout, "  export / cp %.2fx, import / cp %.2fx (rates)\n", res.ExportVsCopy, res.ImportVsCopy)
	return nil
}
