package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"fieldsync/enrollment"
	"fieldsync/internal/localapi"
	"fieldsync/node"
)

// maxEnrollInput bounds what enroll reads (a day's captures fit easily).
const maxEnrollInput = 64 << 20

func init() {
	register(&command{
		name:     "enroll",
		synopsis: "validate and save enrollments (one JSON object, or JSON lines)",
		usage: `Usage: fieldsync enroll --dir DIR [--json] [FILE|-]

Reads one JSON enrollment, or JSON lines, from FILE or standard input.
Each valid record is saved durably (synced to disk) before its entry ID is
printed, with any warnings. A rejected record prints every reason, each
naming its field, and is not written; the exit status is then 3. The
reasons quote the values they judge: they are shown on a terminal, and
summarized (field and rule) in a file or pipe unless --show-pii is given.

Examples:
  fieldsync enroll --dir /var/lib/fieldsync citizen.json
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
	keys, showPII := addKeyFlags(fs), addShowPII(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m := newMasker(e, *showPII)
	in, closeIn, err := inputFile(e, fs.Args())
	if err != nil {
		return err
	}
	defer closeIn()
	// A running daemon first: it holds the key already, so an officer
	// enrolls without the laptop's passphrase (docs/keys.md).
	c, dialErr := dialDaemon(*dir)
	if dialErr == nil {
		return enrollViaDaemon(e, c, in, *asJSON, m)
	}
	d, err := openDirKeys(*dir, keys)
	if err != nil {
		return daemonOrOpenError(err, dialErr)
	}
	defer d.Close()
	n, err := node.New(d, node.Options{})
	if err != nil {
		return err
	}
	rejected := 0
	err = eachJSONValue(in, func(i int, raw []byte) error {
		line, err := enrollOne(n, i, raw)
		if err != nil {
			return err // a storage failure: stop
		}
		if line.Receipt == nil {
			rejected++
		}
		return printEnrollLine(e, *asJSON, m, line)
	})
	if err != nil {
		return err
	}
	if rejected > 0 {
		return rejectedError{fmt.Errorf("%d record(s) rejected; nothing of them was written", rejected)}
	}
	return nil
}

// enrollOne decodes and saves one record. A record that does not decode or
// does not validate is refused (line.Receipt nil); err is only for failures
// to save, which stop the command.
func enrollOne(n *node.Node, i int, raw []byte) (enrollLine, error) {
	line := enrollLine{Record: i}
	rec, err := enrollment.DecodeJSON(raw)
	if err != nil {
		line.Error = err.Error()
		return line, nil
	}
	r, err := n.Enroll(&rec)
	var rej *node.RejectedError
	switch {
	case errors.As(err, &rej):
		line.Rejected = rej.Findings
		return line, nil
	case errors.Is(err, node.ErrFrozen): // the freeze rule: refused, nothing written
		line.Error = err.Error()
		return line, nil
	case err != nil:
		return line, err
	}
	line.Receipt = &r
	return line, nil
}

func printEnrollLine(e *env, asJSON bool, m masker, l enrollLine) error {
	if asJSON {
		return writeMaskedJSON(e, m, l)
	}
	switch {
	case l.Receipt != nil:
		fmt.Fprintf(e.stdout, "saved %s (hash %s)\n", l.Receipt.ID, l.Receipt.Hash.Short())
		for _, f := range l.Receipt.Findings {
			fmt.Fprintf(e.stdout, "  %s: %s\n", f.Severity, m.findingText(f))
		}
		if l.Receipt.BacklogWarning != "" {
			fmt.Fprintf(e.stdout, "  warn: %s\n", l.Receipt.BacklogWarning)
		}
	case l.Rejected != nil:
		fmt.Fprintf(e.stdout, "record %d rejected, not saved:\n", l.Record)
		for _, f := range l.Rejected {
			if f.Severity == enrollment.Reject {
				fmt.Fprintf(e.stdout, "  %s\n", m.findingText(f))
			}
		}
	default:
		fmt.Fprintf(e.stdout, "record %d rejected, not saved:\n  %s\n", l.Record, m.decodeError(l.Error))
	}
	return nil
}

// eachJSONValue calls fn for each top-level JSON value in r: one object
// (pretty-printed or not) or JSON lines.
func eachJSONValue(r io.Reader, fn func(i int, raw []byte) error) error {
	dec := json.NewDecoder(io.LimitReader(r, maxEnrollInput))
	for i := 1; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("input is not JSON (record %d): %w", i, err)
		}
		if err := fn(i, raw); err != nil {
			return err
		}
	}
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

// enrollViaDaemon sends the input to the running daemon's API.
func enrollViaDaemon(e *env, c *localapi.Client, in io.Reader, asJSON bool, m masker) error {
	var results []node.EnrollResult
	body := localapi.Body{Type: localapi.TypeJSONLines, Reader: io.LimitReader(in, maxEnrollInput)}
	if err := c.Do("POST", "/api/enroll", body, &results); err != nil {
		return err
	}
	rejected := 0
	for _, r := range results {
		if r.Receipt == nil {
			rejected++
		}
		if err := printEnrollLine(e, asJSON, m, enrollLine(r)); err != nil {
			return err
		}
	}
	if rejected > 0 {
		return rejectedError{fmt.Errorf("%d record(s) rejected; nothing of them was written", rejected)}
	}
	return nil
}
