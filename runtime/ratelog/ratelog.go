package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// CauseKey is the attribute that names a record's cause.
const CauseKey = "cause"

// Defaults: ten lines of a cause a minute, then a count.
const (
	DefaultWindow = time.Minute
	DefaultBurst  = 10
	// maxCauses bounds the causes tracked; past it, new causes share one
	// bucket.
	maxCauses = 1024
)

// Options configures New.
type Options struct {
	Window time.Duration
	Burst  int
	Now    func() time.Time // default time.Now
}

// Handler is a rate-limiting slog.Handler.
type Handler struct {
	next  slog.Handler
	st    *state
	cause string // a cause set by WithAttrs
}

type state struct {
	mu     sync.Mutex
	window time.Duration
	burst  int
	now    func() time.Time
	causes map[string]*bucket
}

type bucket struct {
	start      time.Time
	n          int
	suppressed int
}

// New wraps next.
func New(next slog.Handler, o Options) *Handler {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{next: next, st: &state{window: o.Window, burst: o.Burst, now: o.Now, causes: map[string]*bucket{}}}
}

// Wrap returns l logging through a rate-limiting handler with the defaults.
func Wrap(l *slog.Logger) *slog.Logger { return slog.New(New(l.Handler(), Options{})) }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	cause := h.cause
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == CauseKey {
			cause = a.Value.String()
			return false
		}
		return true
	})
	if cause == "" {
		cause = r.Message
	}
	pass, suppressed, limiting := h.st.take(r.Level.String() + "|" + cause)
	if !pass {
		return nil
	}
	if suppressed > 0 || limiting {
		r = r.Clone()
		if suppressed > 0 {
			r.AddAttrs(slog.Int("suppressed", suppressed))
		}
		if limiting {
			r.AddAttrs(slog.String("rate_limited", "more lines of this cause are counted, not written, for up to "+h.st.window.String()))
		}
	}
	return h.next.Handle(ctx, r)
}

// take counts one record of key: whether it passes, how many of its cause
// were suppressed since the last that passed, and whether it is the last
// to pass in this window.
func (s *state) take(key string) (pass bool, suppressed int, limiting bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.causes[key]
	if !ok {
		if len(s.causes) >= maxCauses-1 { // one place is the overflow's
			s.expireLocked(now)
		}
		if len(s.causes) >= maxCauses-1 {
			key = "|overflow"
			b = s.causes[key]
		}
		if b == nil {
			b = &bucket{start: now}
			s.causes[key] = b
		}
	}
	if now.Sub(b.start) >= s.window {
		suppressed, b.suppressed = b.suppressed, 0
		b.start, b.n = now, 0
	}
	b.n++
	if b.n > s.burst {
		b.suppressed++
		return false, 0, false
	}
	return true, suppressed, b.n == s.burst
}

func (s *state) expireLocked(now time.Time) {
	for k, b := range s.causes {
		if now.Sub(b.start) >= s.window && b.suppressed == 0 {
			delete(s.causes, k)
		}
	}
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	for _, a := range as {
		if a.Key == CauseKey {
			c.cause = a.Value.String()
		}
	}
	c.next = h.next.WithAttrs(as)
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}
