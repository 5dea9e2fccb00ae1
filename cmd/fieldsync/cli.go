package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"fieldsync/node"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/client"
	"fieldsync/runtime/localapi"
)

// openDir opens a data directory for direct access by a command; its key
// comes from the environment or config.json (see keys.go, openDirKeys).
func openDir(dir string) (*datadir.Dir, error) { return openDirKeys(dir, nil) }

// quietLogger logs warnings and errors to stderr (storage complaints).
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// isTerminal reports whether w is a character device (a terminal), where
// progress bars make sense; pipes and files get plain lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line progress bar on a terminal; elsewhere (a log
// file, a pipe) it writes a plain line every plainEvery.
type progress struct {
	w     io.Writer
	on    bool
	total int64        // bytes expected, 0 if unknown
	read  atomic.Int64 // bytes read so far
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	return &progress{w: w, on: isTerminal(w), total: total, start: time.Now()}
}

// reader counts bytes read from r for the bar.
func (p *progress) reader(r io.Reader) io.Reader { return &countingReader{r: r, n: &p.read} }

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// plainEvery is how often progress is logged when not on a terminal.
const plainEvery = 10 * time.Second

// update redraws at most ten times a second.
func (p *progress) update(rows int, label string) {
	every := 100 * time.Millisecond
	if !p.on {
		every = plainEvery
		if p.last.IsZero() {
			p.last = p.start // the first plain line after plainEvery
		}
	}
	if time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	rate := float64(rows) / time.Since(p.start).Seconds()
	if !p.on {
		fmt.Fprintf(p.w, "progress: %d %s, %.0f/s, %s\n", rows, label, rate, time.Since(p.start).Round(time.Second))
		return
	}
	bar := ""
	if p.total > 0 {
		frac := float64(p.read.Load()) / float64(p.total)
		n := int(frac * 30)
		bar = fmt.Sprintf("[%s%s] %3.0f%% ", strings.Repeat("#", n), strings.Repeat(" ", 30-n), frac*100)
	}
	fmt.Fprintf(p.w, "\r%s%d %s, %.0f/s ", bar, rows, label, rate)
}

// done clears the bar line.
func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// dialDaemon reaches the daemon running for dir, if one is.
func dialDaemon(dir string) (*localapi.Client, error) {
	if dir == "" {
		return nil, usagef("--dir is required")
	}
	return localapi.Dial(dir)
}

// openClient reaches dir's daemon, or opens dir offline with the key the
// flags (keys may be nil) or the environment give, on top of o.
func openClient(dir string, keys *keyFlags, o datadir.OpenOptions) (client.Client, error) {
	if dir == "" {
		return nil, usagef("--dir is required")
	}
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	return client.Open(dir, func() (datadir.OpenOptions, error) { return keys.openOptions(o) })
}

// onDaemonOrDir reaches dir's daemon (daemon gets its API) or, when none
// answers, opens dir with the key the flags or the environment give
// (offline gets the client over it): for the commands whose work goes
// beyond client.Client (import, bundles, the view's reports).
func onDaemonOrDir(dir string, keys *keyFlags, o datadir.OpenOptions, daemon func(*localapi.Client) error, offline func(*client.Offline) error) error {
	c, err := openClient(dir, keys, o)
	if err != nil {
		return err
	}
	defer c.Close()
	switch c := c.(type) {
	case *client.Daemon:
		return daemon(c.API)
	case *client.Offline:
		return offline(c)
	}
	return fmt.Errorf("unknown client %T", c)
}

// refusedByDaemon turns the daemon's refusal of the input (422: not UTF-8,
// an unreadable header) into the refusal it is (exit status 3, its message
// alone); other errors stay failures.
func refusedByDaemon(err error) error {
	if err == nil {
		return nil
	}
	var le *localapi.Error
	if errors.As(err, &le) && le.Status == http.StatusUnprocessableEntity {
		return rejectedError{errors.New(le.Message)}
	}
	return err
}

// inputRefused turns an error that refuses the input as a whole (not UTF-8
// text, an unreadable header, an unknown column: node.IsInputError) into
// the refusal it is: exit status 3, nothing of it written.
func inputRefused(err error) error {
	var re rejectedError
	if err != nil && node.IsInputError(err) && !errors.As(err, &re) {
		return rejectedError{err}
	}
	return err
}
