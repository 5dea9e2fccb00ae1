package gossip

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestWrongPoolKeyIsLogged: a laptop given another pool key than its hub's
// cannot join; it says so in its log, at WARN, naming the seed and the
// likely cause (the key), rather than nothing at the default level.
func TestWrongPoolKeyIsLogged(t *testing.T) {
	hub := startPool(t, localConfig("hub"))
	var logs lockedBuf
	cfg := localConfig("laptop", seedOf(hub))
	cfg.SecretKey = testKey(7) // not the hub's
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	startPool(t, cfg)
	waitFor(t, 10*time.Second, "a WARN line about the failed join", func() bool {
		return strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "join")
	})
	s := logs.String()
	if !strings.Contains(s, "hub") || !strings.Contains(s, "key") {
		t.Fatalf("the line does not name the seed and the key:\n%s", s)
	}
	t.Logf("%s", s)
}
