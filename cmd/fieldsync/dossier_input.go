package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"fieldsync/enrollment"
	"fieldsync/node"
	"fieldsync/runtime/localapi"
)

// dossierInput is what enroll and import read: a CSV or JSON-lines file
// (or standard input) whose rows may name files, or a folder of person
// folders, or one person's folder (docs/import-format.md).
type dossierInput struct {
	dr     node.DossierReader
	folder func(int) string // a row's folder, for folder input
	close  func()
}

// openDossierInput opens arg ("-" or "" for standard input). Relative file
// paths in rows are read from filesBase, else from the input file's folder
// (the working folder for standard input).
func openDossierInput(e *env, arg, format, filesBase string) (*dossierInput, error) {
	if arg != "" && arg != "-" {
		if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
			dd, err := node.OpenDossierDir(arg)
			if err != nil {
				return nil, err
			}
			return &dossierInput{dr: dd, folder: dd.Folder, close: func() {}}, nil
		}
	}
	base := filesBase
	in, closeIn := e.stdin, func() {}
	if arg != "" && arg != "-" {
		f, err := os.Open(arg)
		if err != nil {
			return nil, err
		}
		in, closeIn = f, func() { f.Close() }
		if base == "" {
			base = filepath.Dir(arg)
		}
	}
	if base == "" {
		base = "."
	}
	dr, err := node.OpenDossiers(in, format, &node.FileSource{Base: base})
	if err != nil {
		closeIn()
		return nil, err
	}
	return &dossierInput{dr: dr, close: closeIn}, nil
}

// localRejection checks a dossier's files before it is sent to a daemon,
// which takes files inline and reads no path: a file that was missing,
// unreadable or too large, of the wrong type, or a slot given twice (which
// one JSON object cannot carry) is refused here, naming the file and the
// slot, and nothing is sent. The daemon checks everything again.
func localRejection(d *node.Dossier) enrollment.Findings {
	if _, fs := enrollment.BuildBiometrics(&d.Record, d.Files); fs.Rejected() {
		return fs.Filter(enrollment.Reject)
	}
	return nil
}

// maxDaemonBatch bounds one request of dossiers to a daemon (its limit is
// localapi.MaxRequestBytes).
const maxDaemonBatch = 64 << 20

// dossierBatches encodes dossiers as JSON lines with their files inline
// and calls send for each batch of at most maxDaemonBatch bytes (or
// node.MaxGroupRecords dossiers).
type dossierBatches struct {
	buf  bytes.Buffer
	n    int
	send func(body io.Reader) error
}

func (b *dossierBatches) add(d *node.Dossier, line int) error {
	enc, err := node.EncodeDossierJSON(d, line)
	if err != nil {
		return err
	}
	if b.n > 0 && (b.buf.Len()+len(enc) > maxDaemonBatch || b.n == node.MaxGroupRecords) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	b.buf.Write(enc)
	b.buf.WriteByte('\n')
	b.n++
	return nil
}

func (b *dossierBatches) flush() error {
	if b.n == 0 {
		return nil
	}
	err := b.send(bytes.NewReader(b.buf.Bytes()))
	b.buf.Reset()
	b.n = 0
	return err
}

// postDossiers sends dossier lines to one of the daemon's routes.
func postDossiers(c *localapi.Client, path string, body io.Reader, out any) error {
	return refusedByDaemon(c.Do("POST", path, localapi.Body{Type: localapi.TypeJSONLines, Reader: body}, out))
}

// isEOF reports the end of a dossier input.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// rowFailure is the error text of a row that did not decode.
func rowFailure(err error) string { return fmt.Sprint(err) }
