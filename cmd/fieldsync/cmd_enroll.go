package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"fieldsync/enrollment"
	"fieldsync/enrollment/pii"
	"fieldsync/node"
	"fieldsync/replication/datadir"
)

// maxEnrollInput bounds what enroll reads (a day's captures fit easily).
const maxEnrollInput = 64 << 20

func init() {
	register(&command{
		name:     "enroll",
		synopsis: "validate and save enrollments with their biometric files",
		usage: `Usage: fieldsync enroll --dir DIR [--json] [--files FOLDER] [FILE|FOLDER|-]

Reads enrollments from FILE or standard input — one JSON object, or JSON
lines — or a person's FOLDER (record.json and one file per slot: face.jpg,
finger_r1.wsq … slap_thumbs.wsq, iris_l.jp2, signature.png), or a folder of
such folders. A record's "files" object names its biometric files by slot
(paths relative to the input file's folder, or to --files), or gives an
empty slot's exception code: see docs/import-format.md.

Each file is checked (type judged from its bytes: JPEG, JPEG 2000, WSQ or
PNG as its slot takes; size and dimension limits; not cut short) and its
reference computed from its bytes; the blobs are sealed and synced, then
the record saved durably, before its entry ID is printed with any
warnings. A rejected record — a bad field, or a missing, unreadable,
oversized or wrong-type file, or an empty slot without its exception
code — prints every reason, each naming its field or its file and slot,
and nothing of it is written; the exit status is then 3. The reasons
quote the values they judge: they are shown on a terminal, and summarized
(field and rule) in a file or pipe unless --show-pii is given.

Examples:
  fieldsync enroll --dir /var/lib/fieldsync citizen.json
  fieldsync enroll --dir /var/lib/fieldsync /media/usb/dossiers/0042
  fieldsync gen --count 5 | fieldsync enroll --dir /var/lib/fieldsync --json
`,
		run: runEnroll,
	})
}

// enrollLine is the JSON output for one record (the daemon answers the same).
type enrollLine node.EnrollResult

func runEnroll(e *env, args []string) error {
	fs := newFlags(e, commands["enroll"])
	dir := fs.String("dir", "", "data directory")
	asJSON := fs.Bool("json", false, "one JSON result per record")
	filesBase := fs.String("files", "", "folder relative file paths are read from (default: the input file's folder)")
	keys, showPII := addKeyFlags(fs), addShowPII(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(fs.Args()) > 1 {
		return usagef("give at most one input FILE or FOLDER")
	}
	arg := ""
	if len(fs.Args()) == 1 {
		arg = fs.Args()[0]
	}
	m := newMasker(e, *showPII)
	next, closeIn, err := enrollInput(e, arg, *filesBase)
	if err != nil {
		return err
	}
	defer closeIn()
	rejected := 0
	count := func(l enrollLine) error {
		if l.Receipt == nil {
			rejected++
		}
		return printEnrollLine(e, *asJSON, m, l)
	}
	// A running daemon first: it holds the key already, so an officer
	// enrolls without the laptop's passphrase (docs/keys.md).
	c, err := openClient(*dir, keys, datadir.OpenOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := refusedByDaemon(c.Enroll(next, func(r node.EnrollResult) error { return count(enrollLine(r)) })); err != nil {
		return err
	}
	if rejected > 0 {
		return rejectedError{fmt.Errorf("%d record(s) rejected; nothing of them was written", rejected)}
	}
	return nil
}

// enrollInput returns a function yielding the input's dossiers in order
// (a record number, the dossier, or the error that kept it from decoding)
// then io.EOF: JSON values (an object, pretty-printed or not, or JSON
// lines) from a file or standard input, or the dossiers of a folder.
func enrollInput(e *env, arg, filesBase string) (func() (int, *node.Dossier, error), func(), error) {
	if arg != "" && arg != "-" {
		if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
			in, err := openDossierInput(e, arg, "", filesBase)
			if err != nil {
				return nil, nil, err
			}
			return func() (int, *node.Dossier, error) {
				i, d, err := in.dr.Next()
				return i, &d, err
			}, in.close, nil
		}
	}
	in, closeIn, err := inputFile(e, optionalArg(arg))
	if err != nil {
		return nil, nil, err
	}
	base := filesBase
	if base == "" && arg != "" && arg != "-" {
		base = filepath.Dir(arg)
	}
	if base == "" {
		base = "."
	}
	src := &node.FileSource{Base: base}
	text, err := enrollment.OpenText(io.LimitReader(in, maxEnrollInput), 0) // UTF-8 (a BOM skipped), or refused saying what to do
	if err != nil {
		closeIn()
		return nil, nil, rejectedError{err}
	}
	dec := json.NewDecoder(text)
	i := 0
	return func() (int, *node.Dossier, error) {
		i++
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return i, nil, io.EOF
		}
		if err != nil {
			return i, nil, rejectedError{fmt.Errorf("input is not JSON (record %d): %w; give one JSON object, or JSON lines (one object per line), in UTF-8", i, err)}
		}
		d, _, err := node.DecodeDossierJSON(bytes.TrimSpace(raw), src)
		var de *enrollment.DecodeError
		if err != nil && !errors.As(err, &de) {
			err = &enrollment.DecodeError{Err: err} // this record only
		}
		if err != nil {
			return i, nil, err
		}
		return i, &d, nil
	}, closeIn, nil
}

func optionalArg(arg string) []string {
	if arg == "" {
		return nil
	}
	return []string{arg}
}

func printEnrollLine(e *env, asJSON bool, m pii.Masker, l enrollLine) error {
	if asJSON {
		return writeMaskedJSON(e, m, l)
	}
	switch {
	case l.Receipt != nil:
		fmt.Fprintf(e.stdout, "saved %s (hash %s)\n", l.Receipt.ID, l.Receipt.Hash.Short())
		for _, f := range l.Receipt.Findings {
			fmt.Fprintf(e.stdout, "  %s: %s\n", f.Severity, m.Finding(f))
		}
		if l.Receipt.BacklogWarning != "" {
			fmt.Fprintf(e.stdout, "  warn: %s\n", l.Receipt.BacklogWarning)
		}
	case l.Rejected != nil:
		fmt.Fprintf(e.stdout, "record %d rejected, not saved:\n", l.Record)
		for _, f := range l.Rejected {
			if f.Severity == enrollment.Reject {
				fmt.Fprintf(e.stdout, "  %s\n", m.Finding(f))
			}
		}
	default:
		fmt.Fprintf(e.stdout, "record %d rejected, not saved:\n  %s\n", l.Record, m.DecodeError(l.Error))
	}
	return nil
}

// inputFile opens the single FILE argument, or stdin for none or "-".
func inputFile(e *env, args []string) (io.Reader, func(), error) {
	switch {
	case len(args) > 1:
		return nil, nil, usagef("give at most one input file")
	case len(args) == 0 || args[0] == "-":
		return e.stdin, func() {}, nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}
