package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"fieldsync/internal/localapi"
	"fieldsync/node"
	"fieldsync/replication/oplog"
)

func init() {
	register(&command{
		name:     "import",
		synopsis: "import enrollments from JSON lines or CSV",
		usage: `Usage: fieldsync import --dir DIR [--format jsonl|csv] [--report FILE] [--json] FILE|-

Imports JSON lines or CSV (UTF-8, header row, with or without BOM; columns
in docs/import-format.md). Valid records are saved in group commits (each
group synced to disk before it is counted); a bad row is reported with its
line number and reasons and never stops the import or half-writes. Rejected
rows go to a report file (default DIR/reports/import-<time>.rejected.jsonl).
Ends with accepted / warned / rejected counts. Exit status 3 if any row was
rejected (every other row is saved).

Examples:
  fieldsync import --dir /var/lib/fieldsync enrollments.csv
  fieldsync gen --count 100000 --seed 1 | fieldsync import --dir /var/lib/fieldsync -
`,
		run: runImport,
	})
}

func runImport(e *env, args []string) error {
	fs := newFlags(e, commands["import"])
	dir := fs.String("dir", "", "data directory")
	format := fs.String("format", "", "jsonl or csv (default: detect)")
	reportPath := fs.String("report", "", "file for rejected rows (JSON lines)")
	asJSON := fs.Bool("json", false, "print a JSON line after every group commit and at the end")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(fs.Args()) != 1 {
		return usagef("give one input FILE, or - for standard input")
	}
	in, closeIn, err := inputFile(e, fs.Args())
	if err != nil {
		return err
	}
	defer closeIn()
	var total int64
	if f, ok := in.(*os.File); ok && f != os.Stdin {
		if fi, err := f.Stat(); err == nil {
			total = fi.Size()
		}
	}
	d, err := openDir(*dir)
	if errors.Is(err, oplog.ErrLocked) {
		return importViaDaemon(e, *dir, in, *format, *reportPath, *asJSON)
	}
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := node.New(d, node.Options{})
	if err != nil {
		return err
	}
	rep, repPath, err := openReport(*dir, *reportPath)
	if err != nil {
		return err
	}
	defer rep.Close()
	bar := newProgress(e.stderr, total)
	st, err := n.Import(bar.reader(in), node.ImportOptions{
		Format:     *format,
		OnRejected: func(row node.RejectedRow) { writeJSON(rep, row) },
		OnGroup: func(st node.ImportStats) {
			if *asJSON {
				writeJSON(e.stdout, st)
			}
			bar.update(st.Rows, "rows")
		},
	})
	bar.done()
	if err != nil {
		return fmt.Errorf("import stopped after %d rows (%d saved): %w", st.Rows, st.Accepted, err)
	}
	return finishImport(e, st, repPath, *asJSON)
}

// finishImport prints the counts and chooses the exit status.
func finishImport(e *env, st node.ImportStats, repPath string, asJSON bool) error {
	if asJSON {
		writeJSON(e.stdout, st)
	} else {
		fmt.Fprintf(e.stdout, "rows %d: accepted %d (warned %d), rejected %d\n", st.Rows, st.Accepted, st.Warned, st.Rejected)
	}
	if st.Rejected > 0 {
		return rejectedError{fmt.Errorf("%d row(s) rejected; reasons in %s", st.Rejected, repPath)}
	}
	os.Remove(repPath) // nothing rejected: no empty report left behind
	return nil
}

// importViaDaemon sends the input to the running daemon's API.
func importViaDaemon(e *env, dir string, in io.Reader, format, reportPath string, asJSON bool) error {
	c, err := localapi.Dial(dir)
	if err != nil {
		return fmt.Errorf("%w; and: %v", oplog.ErrLocked, err)
	}
	var res node.ImportResult
	if err := c.Do("POST", "/api/import?format="+url.QueryEscape(format), in, &res); err != nil {
		return err
	}
	rep, repPath, err := openReport(dir, reportPath)
	if err != nil {
		return err
	}
	defer rep.Close()
	for _, row := range res.Rejected {
		writeJSON(rep, row)
	}
	return finishImport(e, res.Stats, repPath, asJSON)
}

// openReport creates the rejected-rows report (mode 0600: it names rows of
// personal data).
func openReport(dir, path string) (*os.File, string, error) {
	if path == "" {
		rd := filepath.Join(dir, "reports")
		if err := os.MkdirAll(rd, 0o700); err != nil {
			return nil, "", err
		}
		path = filepath.Join(rd, "import-"+time.Now().UTC().Format("20060102T150405Z")+".rejected.jsonl")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	return f, path, err
}
