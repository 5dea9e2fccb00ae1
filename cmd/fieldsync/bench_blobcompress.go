package main

import (
	"fmt"

	"fieldsync/internal/bench"
)

func init() {
	benchmarks["blobcompress"] = benchmark{"what zstd makes of image files sent in chunks (compressed only when smaller) and whole (zstd -19)", benchBlobCompress}
}

func benchBlobCompress(e *env, args []string) error {
	fs := benchFlags(e, "blobcompress")
	images := fs.String("images", "", "a directory of image files to measure too (grouped by extension)")
	chunk := fs.Int("chunk", 0, "chunk size in bytes (0: the lane's default)")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rs, err := bench.BlobCompress(*images, *chunk)
	if err != nil {
		return err
	}
	if *asJSON {
		for _, r := range rs {
			writeJSON(e.stdout, r)
		}
		return nil
	}
	c := *chunk
	if c == 0 {
		c = 16 << 10
	}
	fmt.Fprint(e.stdout, bench.BlobCompressTable(rs, c))
	return nil
}
