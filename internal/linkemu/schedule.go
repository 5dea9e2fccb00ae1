package linkemu

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Forever is the "next change" of a state that never changes.
const Forever = time.Duration(math.MaxInt64)

// Limits of the random schedule.
const (
	// maxRandomCycles bounds the up/down cycles a random schedule draws; the
	// drawn sequence then repeats. 65536 cycles of even one minute each cover
	// more than 45 days.
	maxRandomCycles = 1 << 16
	// minRandomPhase and maxRandomPhase clamp every drawn up or down
	// duration (before acceleration); 30 days is RELIABILITY.md's longest cut.
	minRandomPhase = time.Second
	maxRandomPhase = 30 * 24 * time.Hour
)

// Schedule says when a link is up, as a function of the time elapsed since
// the link's start. Implementations must be deterministic and safe for
// concurrent use.
type Schedule interface {
	// At reports whether the link is up at elapsed (>= 0), and the elapsed
	// time (> elapsed) at which that state next changes, or Forever.
	At(elapsed time.Duration) (up bool, next time.Duration)
}

// AlwaysUp returns a schedule that is never down.
func AlwaysUp() Schedule { return alwaysUp{} }

type alwaysUp struct{}

func (alwaysUp) At(time.Duration) (bool, time.Duration) { return true, Forever }
func (alwaysUp) String() string                         { return "always up" }

// Periodic returns a schedule that is up for up, then down for down, and
// repeats, starting up at elapsed 0. "10 s cuts every 30 s" is
// Periodic(20*time.Second, 10*time.Second). A down <= 0 is always up; an
// up <= 0 (with down > 0) is always down.
func Periodic(up, down time.Duration) Schedule {
	if down <= 0 {
		return AlwaysUp()
	}
	return periodic{up: max(up, 0), down: down}
}

type periodic struct{ up, down time.Duration }

func (p periodic) At(e time.Duration) (bool, time.Duration) {
	if p.up == 0 {
		return false, Forever
	}
	cycle := p.up + p.down
	base := e - e%cycle
	if e-base < p.up {
		return true, base + p.up
	}
	return false, base + cycle
}

func (p periodic) String() string { return fmt.Sprintf("up %v every %v", p.up, p.up+p.down) }

// Window is a span [Start, End) of elapsed time.
type Window struct{ Start, End time.Duration }

// Windows returns a schedule that is up only inside the given windows and
// down before, between and after them. Empty windows are ignored and
// overlapping ones merged.
func Windows(ws ...Window) Schedule { return newSpans(ws, true) }

// Outages returns a schedule that is down only inside the given windows, the
// complement of Windows: Outages(Window{3 * time.Second, 5 * time.Second})
// is a single 2 s cut.
func Outages(ws ...Window) Schedule { return newSpans(ws, false) }

// spans is a sorted list of disjoint windows inside which the state is
// inside; outside them it is !inside.
type spans struct {
	ws     []Window
	inside bool
}

func newSpans(ws []Window, inside bool) spans {
	sorted := slices.DeleteFunc(slices.Clone(ws), func(w Window) bool { return w.End <= w.Start })
	slices.SortFunc(sorted, func(a, b Window) int { return cmp.Compare(a.Start, b.Start) })
	var merged []Window
	for _, w := range sorted {
		if n := len(merged); n > 0 && w.Start <= merged[n-1].End {
			merged[n-1].End = max(merged[n-1].End, w.End)
			continue
		}
		merged = append(merged, w)
	}
	return spans{ws: merged, inside: inside}
}

func (s spans) At(e time.Duration) (bool, time.Duration) {
	// i is the first window that ends after e.
	i, _ := slices.BinarySearchFunc(s.ws, e, func(w Window, e time.Duration) int {
		if w.End <= e {
			return -1
		}
		return 1
	})
	if i == len(s.ws) {
		return !s.inside, Forever
	}
	if w := s.ws[i]; e >= w.Start {
		return s.inside, w.End
	}
	return !s.inside, s.ws[i].Start
}

func (s spans) String() string {
	kind := "up in"
	if !s.inside {
		kind = "down in"
	}
	return fmt.Sprintf("%s %v", kind, s.ws)
}

// RandomOutages returns a seeded random schedule for demos and soak tests:
// it starts up, and alternates up and down periods whose lengths are drawn
// from log-normal distributions with medians upMedian and downMedian and
// shape sigma (1 to 2 gives the heavy tail of field outages). Each draw is
// clamped to [1 s, 30 days]. The same seed gives the same schedule; after
// 65536 cycles the sequence repeats.
func RandomOutages(seed int64, upMedian, downMedian time.Duration, sigma float64) Schedule {
	return &random{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		up:    upMedian,
		down:  downMedian,
		sigma: sigma,
	}
}

// random draws its cycles lazily; ends[i] is the elapsed time at which
// phase i ends (even phases are up, odd phases down).
type random struct {
	up, down time.Duration
	sigma    float64

	mu   sync.Mutex
	rng  *rand.Rand
	ends []time.Duration
}

func (r *random) At(e time.Duration) (bool, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	offset := time.Duration(0)
	if r.fill(e) {
		period := r.ends[len(r.ends)-1]
		offset = e - e%period
		e -= offset
	}
	i, _ := slices.BinarySearchFunc(r.ends, e, func(end, e time.Duration) int {
		if end <= e {
			return -1
		}
		return 1
	})
	next := r.ends[i] + offset
	if next < 0 { // overflow far in the future
		next = Forever
	}
	return i%2 == 0, next
}

// fill draws phases until they cover e, and reports whether the draw limit
// was reached (the sequence then repeats).
func (r *random) fill(e time.Duration) bool {
	for len(r.ends) < 2*maxRandomCycles {
		if n := len(r.ends); n > 0 && r.ends[n-1] > e {
			return false
		}
		median := r.up
		if len(r.ends)%2 == 1 {
			median = r.down
		}
		last := time.Duration(0)
		if n := len(r.ends); n > 0 {
			last = r.ends[n-1]
		}
		r.ends = append(r.ends, last+r.draw(median))
	}
	return true
}

func (r *random) draw(median time.Duration) time.Duration {
	d := float64(median) * math.Exp(r.sigma*r.rng.NormFloat64())
	return time.Duration(min(max(d, float64(minRandomPhase)), float64(maxRandomPhase)))
}

func (r *random) String() string {
	return fmt.Sprintf("random: up ~%v, down ~%v (log-normal, sigma %g)", r.up, r.down, r.sigma)
}

// scaled runs inner factor times faster (see Profile.Accelerate).
type scaled struct {
	inner  Schedule
	factor float64
}

func (s scaled) At(e time.Duration) (bool, time.Duration) {
	up, next := s.inner.At(scaleDur(e, s.factor))
	if next == Forever {
		return up, Forever
	}
	n := scaleDur(next, 1/s.factor)
	if scaleDur(n, s.factor) < next { // round up, not down
		n++
	}
	if n <= e { // rounding: the change must lie strictly ahead
		n = e + 1
	}
	return up, n
}

func (s scaled) String() string { return fmt.Sprintf("%v (x%g faster)", s.inner, s.factor) }

// scaleDur multiplies d by f, saturating at Forever.
func scaleDur(d time.Duration, f float64) time.Duration {
	v := float64(d) * f
	if v >= float64(Forever) {
		return Forever
	}
	return time.Duration(v)
}
