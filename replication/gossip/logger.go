package gossip

import (
	"bytes"
	"context"
	"log"
	"log/slog"
)

// newStdLogger returns the *log.Logger memberlist and NetTransport write
// to, forwarding each line to l at the level of its "[LEVEL]" prefix.
func newStdLogger(l *slog.Logger) *log.Logger {
	return log.New(&slogWriter{l: l}, "", 0)
}

// slogWriter turns memberlist's "[WARN] memberlist: text" lines into slog
// records. Memberlist's errors are about what arrives from the network
// (a packet that does not decrypt, a stream cut short) or fails to leave
// it: anyone can cause them by sending a packet, so they are warnings, not
// errors of this replica. Each record carries a "cause": the line with its
// numbers (addresses, ports, sizes) folded, so that a rate-limiting
// handler (runtime/ratelog) counts one cause however many sources a
// flood spoofs.
type slogWriter struct{ l *slog.Logger }

var levelPrefixes = []struct {
	prefix string
	level  slog.Level
}{
	{"[DEBUG]", slog.LevelDebug},
	{"[INFO]", slog.LevelInfo},
	{"[WARN]", slog.LevelWarn},
	{"[ERR]", slog.LevelWarn},
	{"[ERROR]", slog.LevelWarn},
}

// maxCauseLen bounds a cause (the start of a line says what happened).
const maxCauseLen = 80

// causeOf is what happened without the particulars: the line cut where
// quoted or keyed values begin (a quote, "from=", a ": " after the
// "memberlist: " prefix), its remaining runs of digits (and hex digits
// next to them, as in IPv6 addresses) folded to '#', at most maxCauseLen.
func causeOf(line []byte) string {
	body := line
	if i := bytes.Index(body, []byte("memberlist: ")); i >= 0 {
		body = body[i+len("memberlist: "):]
	}
	for _, stop := range []string{`"`, "from=", ": ", "="} {
		if i := bytes.Index(body, []byte(stop)); i >= 0 {
			body = body[:i]
		}
	}
	out := make([]byte, 0, min(len(body), maxCauseLen))
	inNum := false
	for _, c := range bytes.TrimSpace(body) {
		if len(out) >= maxCauseLen {
			break
		}
		digit := c >= '0' && c <= '9' || inNum && (c >= 'a' && c <= 'f' || c == ':' || c == '.')
		if digit {
			if !inNum {
				out = append(out, '#')
			}
			inNum = true
			continue
		}
		inNum = false
		out = append(out, c)
	}
	return string(out)
}

// Write logs one line.
func (w *slogWriter) Write(b []byte) (int, error) {
	n := len(b)
	line := bytes.TrimSpace(b)
	level := slog.LevelInfo
	for _, p := range levelPrefixes {
		if bytes.HasPrefix(line, []byte(p.prefix)) {
			level = p.level
			line = bytes.TrimSpace(line[len(p.prefix):])
			break
		}
	}
	if w.l.Enabled(context.Background(), level) {
		w.l.Log(context.Background(), level, string(line), "src", "memberlist", "cause", causeOf(line))
	}
	return n, nil
}
