package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"fieldsync/enrollment"
	"fieldsync/node"
	"fieldsync/runtime/localapi"
)

// EachDossier calls fn with each dossier of next, or the row error that
// kept one from decoding; any other error stops, io.EOF ends.
func EachDossier(next Dossiers, fn func(i int, d *node.Dossier, decodeErr error) error) error {
	for {
		i, d, err := next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil && !node.IsRowError(err):
			return err
		}
		if err := fn(i, d, err); err != nil {
			return err
		}
	}
}

// RowFailure is the error text of a row that did not decode.
func RowFailure(err error) string { return fmt.Sprint(err) }

// enrollOne saves one dossier. A record that does not decode or does not
// validate is refused (Receipt nil); err is only for failures to save,
// which stop the command.
func enrollOne(n *node.Node, i int, d *node.Dossier, decodeErr error) (node.EnrollResult, error) {
	res := node.EnrollResult{Record: i}
	if decodeErr != nil {
		res.Error = RowFailure(decodeErr)
		return res, nil
	}
	r, err := n.SaveDossier(d)
	if errors.Is(err, node.ErrFrozen) { // the freeze rule: refused, nothing written
		res.Error = err.Error()
		return res, nil
	}
	return res, answer(&res, r, err)
}

// answer fills res with a save's outcome: the receipt, or the findings
// that refused it; the error returned is only a failure to save.
func answer(res *node.EnrollResult, r node.Receipt, err error) error {
	var rej *node.RejectedError
	switch {
	case errors.As(err, &rej):
		res.Rejected = rej.Findings
	case err != nil:
		return err
	default:
		res.Receipt = &r
	}
	return nil
}

// LocalRejection checks a dossier's files before it is sent to a daemon,
// which takes files inline and reads no path: a file that was missing,
// unreadable or too large, of the wrong type, or a slot given twice (which
// one JSON object cannot carry) is refused here, naming the file and the
// slot, and nothing is sent. The daemon checks everything again.
func LocalRejection(d *node.Dossier) enrollment.Findings {
	if _, fs := enrollment.BuildBiometrics(&d.Record, d.Files); fs.Rejected() {
		return fs.Filter(enrollment.Reject)
	}
	return nil
}

// MaxDaemonBatch bounds one request of dossiers to a daemon (its limit is
// localapi.MaxRequestBytes).
const MaxDaemonBatch = 64 << 20

// Batches encodes dossiers as JSON lines with their files inline and calls
// Send for each batch of at most MaxDaemonBatch bytes (or
// node.MaxGroupRecords dossiers).
type Batches struct {
	buf  bytes.Buffer
	n    int
	Send func(body io.Reader) error
}

// Add queues a dossier (line is its record number), sending the batch
// first when it would grow past its bounds.
func (b *Batches) Add(d *node.Dossier, line int) error {
	enc, err := node.EncodeDossierJSON(d, line)
	if err != nil {
		return err
	}
	if b.n > 0 && (b.buf.Len()+len(enc) > MaxDaemonBatch || b.n == node.MaxGroupRecords) {
		if err := b.Flush(); err != nil {
			return err
		}
	}
	b.buf.Write(enc)
	b.buf.WriteByte('\n')
	b.n++
	return nil
}

// Flush sends what is queued.
func (b *Batches) Flush() error {
	if b.n == 0 {
		return nil
	}
	err := b.Send(bytes.NewReader(b.buf.Bytes()))
	b.buf.Reset()
	b.n = 0
	return err
}

// PostDossiers sends dossier lines to one of the daemon's routes.
func PostDossiers(c *localapi.Client, path string, body io.Reader, out any) error {
	return c.Do(http.MethodPost, path, localapi.Body{Type: localapi.TypeJSONLines, Reader: body}, out)
}
