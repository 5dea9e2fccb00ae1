package main

import (
	"fmt"
	"time"

	"fieldsync/node"
	"fieldsync/replication"
)

func init() {
	register(&command{
		name:     "retain",
		synopsis: "release the blobs of dossiers the province has receipted (records stay)",
		usage: `Usage: fieldsync retain --dir DIR [--older-than DAYS] [--dry-run] [--json]

On a laptop: deletes the biometric blobs (photos, fingerprints, irises,
signature) of its own dossiers that the provincial hub has receipted —
it holds each of them whole and verified — and that were captured more
than DAYS ago (default: config.json blob_retention_days, else 7). The
records stay; a blob another record still needs is kept. A running laptop
does this every hour by itself; this command is for doing it now, or for
seeing what it would release (--dry-run). 'fieldsync verify' counts the
released blobs as released, not missing.

Example:
  fieldsync retain --dir /var/lib/fieldsync --older-than 3 --dry-run
`,
		run: runRetain,
	})
}

func runRetain(e *env, args []string) error {
	fs := newFlags(e, commands["retain"])
	dir := fs.String("dir", "", "data directory")
	days := fs.Int("older-than", 0, "release receipted dossiers captured more than this many days ago (default: the directory's retention)")
	dryRun := fs.Bool("dry-run", false, "count what would be released, delete nothing")
	asJSON := fs.Bool("json", false, "print JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDirKeys(*dir, keys)
	if err != nil {
		return err
	}
	defer d.Close()
	if d.Config.Role != replication.RoleNode {
		return usagef("retain is for laptops: a hub keeps every blob it holds")
	}
	n, err := node.New(d, node.Options{})
	if err != nil {
		return err
	}
	age := node.RetentionOf(d.Config)
	if *days > 0 {
		age = time.Duration(*days) * 24 * time.Hour
	}
	if age < 0 {
		fmt.Fprintln(e.stdout, "this laptop keeps every blob (blob_retention_days is -1); give --older-than to release some")
		return nil
	}
	rep, err := n.Retain(age, *dryRun)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, rep)
	}
	verb := "released"
	if *dryRun {
		verb = "would release"
	}
	fmt.Fprintf(e.stdout, "%s %d blobs (%s) of %d receipted dossiers captured more than %d days ago; %d kept for other records\n",
		verb, rep.Blobs, bytesText(rep.Bytes), rep.Dossiers, int(age.Hours()/24), rep.Kept)
	return nil
}
