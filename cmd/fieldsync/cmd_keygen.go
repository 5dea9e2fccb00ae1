package main

import (
	"fmt"

	"fieldsync/replication/datadir"
)

func init() {
	register(&command{
		name:     "keygen",
		synopsis: "make a new random key file (gossip pool key, or data-at-rest key)",
		usage: `Usage: fieldsync keygen --out FILE

Writes a new random 32-byte key, in hex, to FILE with mode 0600. It never
overwrites a file. Use one key per gossip pool (every member of the pool
needs a copy; distribute it out of band) and keep data-at-rest keys apart
from the data they protect (see docs/SECURITY.md).

Example:
  fieldsync keygen --out /etc/fieldsync/district-445.key
`,
		run: runKeygen,
	})
}

func runKeygen(e *env, args []string) error {
	fs := newFlags(e, commands["keygen"])
	out := fs.String("out", "", "file to create")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	if err := datadir.WriteNewKey(*out, datadir.PoolKeySize); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote a new key to %s (mode 0600)\n", *out)
	return nil
}
