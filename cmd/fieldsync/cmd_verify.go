package main

import (
	"errors"
	"fmt"

	"fieldsync/replication/oplog"
)

func init() {
	register(&command{
		name:     "verify",
		synopsis: "re-check every hash chain and signature in a data directory",
		usage: `Usage: fieldsync verify --dir DIR [--json]

Re-reads every origin's log from its genesis: seqs contiguous, each entry
linked to the previous by hash, every signature held valid under the
origin's key, the head signed. Reports the first break and exits 1 if any.

Example:
  fieldsync verify --dir /var/lib/fieldsync
`,
		run: runVerify,
	})
}

func runVerify(e *env, args []string) error {
	fs := newFlags(e, commands["verify"])
	dir := fs.String("dir", "", "data directory")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDirKeys(*dir, keys)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := oplog.Verify(d.Log)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else if rep.OK() {
		fmt.Fprintf(e.stdout, "ok: %d origins, %d entries, %d signatures verified\n", rep.Origins, rep.Entries, rep.Signatures)
	}
	if !rep.OK() {
		return errors.New("chain broken at " + rep.BreakAt.String() + ": " + rep.Break)
	}
	return nil
}
