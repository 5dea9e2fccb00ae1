package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"fieldsync/node"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/client"
	"fieldsync/runtime/localapi"
)

func init() {
	register(&command{
		name:     "import",
		synopsis: "import enrollments and their biometric files from CSV, JSON lines or folders",
		usage: `Usage: fieldsync import --dir DIR [--format jsonl|csv] [--files FOLDER] [--json] FILE|FOLDER|-

Imports JSON lines or CSV (UTF-8, header row, with or without BOM; columns
in docs/import-format.md), or a FOLDER of person folders (each with
record.json and a file per slot: face.jpg, finger_r2.wsq, iris_l.jp2 ...).
Rows name their biometric files by slot — CSV columns SLOT_file and
SLOT_exception, JSON "files" — with paths relative to the input file's
folder (or --files). Every file is checked (type from its bytes, size and
dimension limits, whole) and its reference computed from its bytes; a
missing, unreadable, oversized or wrong-type file, or an empty slot
without its exception code, rejects its row naming the file and slot.
Valid records are saved in group commits (each group's blobs sealed and
synced, then its records synced, before it is counted); a bad row is
reported with its line number (or folder) and reasons and never stops
the import or half-writes. The
reasons quote citizens' data, so rejected rows go to a report sealed under
the directory's key (DIR/reports/import-rejected-<time>-<id>.sealed); read
it with 'fieldsync rejected --dir DIR'. Ends with accepted / warned /
rejected counts. Exit status 3 if any row was rejected (every other row is
saved).

On a laptop the freeze rule applies to imports as to captures: the import
stops at the limit of captures not yet at a hub (5,000 by default; see
init --max-unsynced). A directory made for a bulk load lifts it with
'init --max-unsynced -1'.

Examples:
  fieldsync import --dir /var/lib/fieldsync enrollments.csv
  fieldsync import --dir /var/lib/fieldsync /media/usb/day-0412/
  fieldsync init --dir /tmp/load --role node --unit 18586 --open --max-unsynced -1
  fieldsync gen --count 100000 --seed 1 | fieldsync import --dir /tmp/load -
`,
		run: runImport,
	})
}

func runImport(e *env, args []string) error {
	fs := newFlags(e, commands["import"])
	dir := fs.String("dir", "", "data directory")
	format := fs.String("format", "", "jsonl or csv (default: detect)")
	reportPath := fs.String("report", "", "removed: rejected rows are sealed in DIR/reports (see fieldsync rejected)")
	asJSON := fs.Bool("json", false, "print a JSON line after every group commit and at the end")
	filesBase := fs.String("files", "", "folder relative file paths are read from (default: the input file's folder)")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *reportPath != "" {
		return usagef("--report was removed: rejected rows quote citizens' data, so they are sealed in DIR/reports; read them with 'fieldsync rejected --dir DIR' (add --show-pii --json > FILE to export them on purpose)")
	}
	if len(fs.Args()) != 1 {
		return usagef("give one input FILE or FOLDER, or - for standard input")
	}
	arg := fs.Args()[0]
	// A running daemon first: it holds the key already (the key is needed
	// here only to seal a report of rejected rows).
	return onDaemonOrDir(*dir, keys, datadir.OpenOptions{}, func(c *localapi.Client) error {
		return inputRefused(importViaDaemon(e, c, *dir, keys, arg, *format, *filesBase, *asJSON))
	}, func(c *client.Offline) error {
		return importOffline(e, c.Dir, fs.Args(), *format, *filesBase, *asJSON)
	})
}

// importOffline imports into the directory itself (its daemon stopped).
func importOffline(e *env, d *datadir.Dir, args []string, format, filesBase string, asJSON bool) error {
	arg := args[0]
	folder := false
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		folder = true
	}
	var in io.Reader
	var total int64
	if !folder {
		r, closeIn, err := inputFile(e, args)
		if err != nil {
			return err
		}
		defer closeIn()
		in = r
		if f, ok := r.(*os.File); ok && f != os.Stdin {
			if fi, err := f.Stat(); err == nil {
				total = fi.Size()
			}
		}
	}
	base := filesBase
	if base == "" && arg != "-" {
		base = filepath.Dir(arg)
	}
	n, err := node.New(d, node.Options{})
	if err != nil {
		return err
	}
	rep := &rejectedReport{keys: d.Keyring()}
	defer rep.close()
	bar := newProgress(e.stderr, total)
	opts := node.ImportOptions{
		Format:     format,
		OnRejected: rep.add,
		OnGroup: func(st node.ImportStats) {
			if asJSON {
				writeJSON(e.stdout, st)
			}
			bar.update(st.Rows, "rows")
		},
		Files: &node.FileSource{Base: base},
	}
	var st node.ImportStats
	if folder {
		st, err = n.ImportDir(arg, opts)
	} else {
		st, err = n.Import(bar.reader(in), opts)
	}
	bar.done()
	if cerr := rep.close(); err == nil && cerr != nil {
		err = cerr
	}
	if node.IsInputError(err) {
		return rejectedError{fmt.Errorf("import refused after %d rows (%d saved): %w", st.Rows, st.Accepted, err)}
	}
	if err != nil {
		return fmt.Errorf("import stopped after %d rows (%d saved): %w", st.Rows, st.Accepted, err)
	}
	return finishImport(e, d.Path, st, rep, asJSON)
}

// finishImport prints the counts and chooses the exit status.
func finishImport(e *env, dir string, st node.ImportStats, rep *rejectedReport, asJSON bool) error {
	if asJSON {
		writeJSON(e.stdout, st)
	} else {
		fmt.Fprintf(e.stdout, "rows %d: accepted %d (warned %d), rejected %d\n", st.Rows, st.Accepted, st.Warned, st.Rejected)
	}
	if rep.err != nil {
		return fmt.Errorf("%d row(s) rejected, and their report could not be saved: %w", st.Rejected, rep.err)
	}
	if st.Rejected > 0 {
		return rejectedError{fmt.Errorf("%d row(s) rejected; see why with: fieldsync rejected --dir %s --report %s", st.Rejected, dir, rep.name())}
	}
	return nil
}

// rejectedReport seals rejected rows into a report of the data directory,
// made at the first rejected row (no empty reports).
type rejectedReport struct {
	keys *datadir.Keyring
	w    *datadir.ReportWriter
	file string // the report's name, once made
	err  error  // the first failure to write; the import goes on
}

func (r *rejectedReport) add(row node.RejectedRow) {
	if r.err != nil {
		return
	}
	b, err := json.Marshal(row)
	if err == nil && r.w == nil {
		if r.w, err = r.keys.CreateReport(rejectedReportKind); err == nil {
			r.file = r.w.Name()
		}
	}
	if err == nil {
		err = r.w.Add(b)
	}
	r.err = err
}

func (r *rejectedReport) name() string { return r.file }

func (r *rejectedReport) close() error {
	if r.w == nil {
		return r.err
	}
	w := r.w
	r.w = nil
	if err := w.Close(); err != nil && r.err == nil {
		r.err = err
	}
	return r.err
}

// importViaDaemon reads the input here — rows, and the files they name —
// and sends the dossiers to the running daemon's API with their files
// inline, in batches; rows that do not decode, or whose files this command
// could not read, are rejected here. The rows the daemon rejected come back
// in its answers; all are sealed here into one report, with the key the
// flags, the environment or config.json give.
func importViaDaemon(e *env, c *localapi.Client, dir string, keys *keyFlags, arg, format, filesBase string, asJSON bool) error {
	in, err := openDossierInput(e, arg, format, filesBase)
	if err != nil {
		return err
	}
	defer in.close()
	var res node.ImportResult
	folderOf := func(line int) string {
		if in.folder == nil {
			return ""
		}
		return in.folder(line)
	}
	reject := func(row node.RejectedRow) {
		row.Folder = folderOf(row.Line)
		res.Rejected = append(res.Rejected, row)
	}
	b := &client.Batches{Send: func(body io.Reader) error {
		var part node.ImportResult
		if err := refusedByDaemon(client.PostDossiers(c, "/api/import?format=jsonl", body, &part)); err != nil {
			return err
		}
		res.Stats = addStats(res.Stats, part.Stats)
		for _, row := range part.Rejected {
			reject(row)
		}
		if asJSON {
			writeJSON(e.stdout, res.Stats)
		}
		return nil
	}}
	for {
		line, d, err := in.dr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		switch {
		case err != nil && !node.IsRowError(err):
			b.Flush()
			return fmt.Errorf("import stopped after %d rows (%d saved): %w", res.Stats.Rows, res.Stats.Accepted, err)
		case err != nil:
			res.Stats.Rows++
			res.Stats.Rejected++
			reject(node.RejectedRow{Line: line, Reasons: []node.Reason{{Message: err.Error()}}})
		default:
			if fs := client.LocalRejection(&d); fs != nil {
				res.Stats.Rows++
				res.Stats.Rejected++
				reject(node.RejectedRow{Line: line, Reasons: node.ReasonsOf(fs)})
				continue
			}
			if err := b.Add(&d, line); err != nil {
				return fmt.Errorf("import stopped after %d rows (%d saved): %w", res.Stats.Rows, res.Stats.Accepted, err)
			}
		}
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("import stopped after %d rows (%d saved): %w", res.Stats.Rows, res.Stats.Accepted, err)
	}
	rep := &rejectedReport{}
	if len(res.Rejected) > 0 {
		// The key is needed only now, to seal the report.
		o, err := keys.openOptions(datadir.OpenOptions{})
		if err == nil {
			rep.keys, err = datadir.Unlock(dir, o)
		}
		if err != nil {
			return unsealedRejections(e, res, err)
		}
	}
	for _, row := range res.Rejected {
		rep.add(row)
	}
	rep.close()
	return finishImport(e, dir, res.Stats, rep, asJSON)
}

// addStats adds the counts of one batch's import to the running total.
func addStats(a, b node.ImportStats) node.ImportStats {
	a.Rows += b.Rows
	a.Accepted += b.Accepted
	a.Warned += b.Warned
	a.Rejected += b.Rejected
	a.Groups += b.Groups
	if b.LastSeq > a.LastSeq {
		a.LastSeq, a.LastHash = b.LastSeq, b.LastHash
	}
	return a
}

// unsealedRejections reports rows the daemon rejected when their report
// cannot be sealed (no key at hand): line, field and rule only, which
// quote nothing of the rows.
func unsealedRejections(e *env, res node.ImportResult, keyErr error) error {
	fmt.Fprintf(e.stdout, "rows %d: accepted %d (warned %d), rejected %d\n", res.Stats.Rows, res.Stats.Accepted, res.Stats.Warned, res.Stats.Rejected)
	for _, row := range res.Rejected {
		for _, r := range row.Reasons {
			fmt.Fprintf(e.stdout, "  line %d: %s %s\n", row.Line, orDash(r.Field), orDash(r.Code))
		}
	}
	return rejectedError{fmt.Errorf("%d row(s) rejected; their full report was not kept because the directory's key is not at hand (%v)", res.Stats.Rejected, keyErr)}
}
