package main

import (
	"errors"
	"fmt"

	"fieldsync/dossier"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/storage"
)

func init() {
	register(&command{
		name:     "verify",
		synopsis: "re-check every hash chain, signature and biometric blob in a data directory",
		usage: `Usage: fieldsync verify --dir DIR [--json]

Reads every table of the store whole (every block's checksum; a damaged
file is named, with what it holds), every key and value, and a hub's view
store the same way (derived from the log: a damaged view is built again
when the hub next starts), then re-reads
every origin's log from its genesis: seqs contiguous, each entry
linked to the previous by hash, every signature held valid under the
origin's key, the head signed. Then reads every biometric blob the records
reference, once each, and verifies it (every sealed record opens, the
whole hashes to its reference), and checks the header and name of every
file of the blob store. Names each missing or corrupt blob by entry, slot
and hash. Exits 1 on a chain break, a corrupt or unreadable blob, or a
blob of this laptop's own captures that it no longer holds (blobs of
other replicas' records not yet received are counted as pending, not
errors; those the province receipted may have been released).

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
	var out verifyReport
	// The store first: every table read whole, every block's checksum
	// (a damaged file is named), then every chain.
	if s, ok := d.Log.(interface {
		VerifyStore() (storage.StoreReport, error)
	}); ok {
		if out.Store, err = s.VerifyStore(); err != nil {
			return err
		}
	}
	// A hub's view store, read whole the same way (it is derived from the
	// log: a damaged file is named, and the hub builds it again).
	if v, err := d.VerifyView(); err != nil {
		return err
	} else if v.Tables > 0 || v.Keys > 0 {
		out.View = &v
	}
	rep, err := oplog.Verify(d.Log)
	if err != nil {
		return err
	}
	out.VerifyReport = rep
	if rep.OK() {
		if out.Blobs, out.BlobFiles, err = verifyBlobs(d); err != nil {
			return err
		}
	}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else if rep.OK() {
		fmt.Fprintf(e.stdout, "ok: %d origins, %d entries, %d signatures verified; store: %d tables (%.1f MB), %d keys read whole\n",
			rep.Origins, rep.Entries, rep.Signatures, out.Store.Tables, float64(out.Store.TableBytes)/1e6, out.Store.Keys)
		if v := out.View; v != nil {
			fmt.Fprintf(e.stdout, "view: %d tables (%.1f MB), %d keys read whole\n", v.Tables, float64(v.TableBytes)/1e6, v.Keys)
		}
		printBlobReport(e, &out)
	}
	if !rep.OK() {
		return errors.New("chain broken at " + rep.BreakAt.String() + ": " + rep.Break)
	}
	if b := out.Blobs; !b.OK() || len(out.BlobFiles) > 0 {
		return fmt.Errorf("biometric blobs: %d missing, %d corrupt, %d records unreadable, %d damaged files", b.Missing, b.Corrupt, b.Unreadable, len(out.BlobFiles))
	}
	return nil
}

// verifyReport is verify's JSON: the log's report and the blobs'.
type verifyReport struct {
	oplog.VerifyReport
	Store     storage.StoreReport  `json:"store"`
	View      *storage.StoreReport `json:"view,omitempty"` // a hub's view store
	Blobs     dossier.BlobReport   `json:"blobs"`
	BlobFiles []string             `json:"blob_files,omitempty"` // damaged files of the store, by path
}

// scrubber is a blob store that can check its files (or objects) for
// damage that hides them from Has and List: the sealed store and the
// object store both are.
type scrubber interface {
	Scrub(fn func(path, problem string)) (int, error)
}

// verifyBlobs checks every referenced blob and every file of the store.
// A laptop (a node) must hold the blobs of its own captures.
func verifyBlobs(d *datadir.Dir) (dossier.BlobReport, []string, error) {
	var files []string
	if sc, ok := d.Blobs.(scrubber); ok {
		if _, err := sc.Scrub(func(path, problem string) {
			if len(files) < dossier.MaxProblems {
				files = append(files, path+": "+problem)
			}
		}); err != nil {
			return dossier.BlobReport{}, nil, err
		}
	}
	opts := dossier.CheckOptions{}
	if d.Config.Role == replication.RoleNode {
		own := d.Signer.Origin()
		opts.Own = func(o replication.OriginID) bool { return o == own }
		n, err := node.New(d, node.Options{})
		if err != nil {
			return dossier.BlobReport{}, nil, err
		}
		opts.Released = n.Receipted
	}
	scan := func(fn func(e *replication.Entry) bool) error {
		v, err := d.Log.Vector()
		if err != nil {
			return err
		}
		for _, oh := range v.Heads() {
			stop := false
			if err := d.Log.Scan(oh.Origin, 1, func(e replication.Entry) bool {
				stop = !fn(&e)
				return !stop
			}); err != nil || stop {
				return err
			}
		}
		return nil
	}
	rep, err := dossier.CheckBlobs(d.Blobs, scan, opts)
	return rep, files, err
}

func printBlobReport(e *env, r *verifyReport) {
	b := r.Blobs
	fmt.Fprintf(e.stdout, "blobs: %d records reference %d blobs; %d verified (%.1f MB)", b.Records, b.Refs, b.Blobs, float64(b.Bytes)/1e6)
	if b.Pending > 0 {
		fmt.Fprintf(e.stdout, ", %d not yet received (%.1f MB)", b.Pending, float64(b.PendingBytes)/1e6)
	}
	if b.Released > 0 {
		fmt.Fprintf(e.stdout, ", %d released after receipts", b.Released)
	}
	if b.Unreferenced > 0 {
		fmt.Fprintf(e.stdout, ", %d stored but referenced by no record", b.Unreferenced)
	}
	fmt.Fprintf(e.stdout, "; %d missing, %d corrupt\n", b.Missing, b.Corrupt)
	for _, p := range b.Problems {
		fmt.Fprintf(e.stdout, "  %s\n", p)
	}
	for _, f := range r.BlobFiles {
		fmt.Fprintf(e.stdout, "  %s\n", f)
	}
}
