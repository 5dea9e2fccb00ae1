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
// records.
type slogWriter struct{ l *slog.Logger }

var levelPrefixes = []struct {
	prefix string
	level  slog.Level
}{
	{"[DEBUG]", slog.LevelDebug},
	{"[INFO]", slog.LevelInfo},
	{"[WARN]", slog.LevelWarn},
	{"[ERR]", slog.LevelError},
	{"[ERROR]", slog.LevelError},
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
		w.l.Log(context.Background(), level, string(line), "src", "memberlist")
	}
	return n, nil
}
