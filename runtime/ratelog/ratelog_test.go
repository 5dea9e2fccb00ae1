package ratelog

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLinesAreLimitedPerCause(t *testing.T) {
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	l := slog.New(New(slog.NewTextHandler(&buf, nil), Options{Window: time.Minute, Burst: 3, Now: func() time.Time { return now }}))
	for i := range 100 {
		l.Warn("refused a sync connection", "cause", "handshake", "from", fmt.Sprintf("10.0.0.%d", i))
		l.Error("disk below its floor") // another cause, by message
	}
	l.Info("refused a sync connection", "cause", "handshake") // another level: its own cause
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	count := func(sub string) int {
		n := 0
		for _, s := range lines {
			if strings.Contains(s, sub) {
				n++
			}
		}
		return n
	}
	if count("level=WARN") != 3 || count("disk below") != 3 || count("level=INFO") != 1 {
		t.Fatalf("first window:\n%s", buf.String())
	}
	if count("rate_limited=") != 2 {
		t.Fatalf("the last line to pass should say that more are counted:\n%s", buf.String())
	}
	buf.Reset()
	now = now.Add(time.Minute)
	l.Warn("refused a sync connection", "cause", "handshake")
	if !strings.Contains(buf.String(), "suppressed=97") {
		t.Fatalf("the next window's first line carries the count: %s", buf.String())
	}
}

func TestCauseFromWithAttrsAndBoundedCauses(t *testing.T) {
	var buf bytes.Buffer
	h := New(slog.NewTextHandler(&buf, nil), Options{Burst: 1})
	l := slog.New(h).With("cause", "gossip-packet")
	l.Warn("a")
	l.Warn("b") // same cause, other text: suppressed
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d lines:\n%s", n, buf.String())
	}
	for i := range 3 * maxCauses {
		slog.New(h).Warn(fmt.Sprintf("distinct %d", i))
	}
	if len(h.st.causes) > maxCauses {
		t.Fatalf("%d causes tracked", len(h.st.causes))
	}
}
