package linkemu

import (
	"time"

	"fieldsync/replication"
)

// TimeLapse is a clock that runs Factor times faster than real time, for
// benchmarks whose emulated hours must take minutes: a link shaped at 128
// kbit/s on a TimeLapse of 20 carries 2.56 Mbit/s of real loopback
// traffic, and every timer of the sync runtime given the same clock (ticks,
// idle closes, backoff) fires 20 times sooner. Rates, delays and
// schedules stay in emulated time; what is not emulated — CPU, disk,
// the scheduler — costs Factor times more emulated time than it would, so
// figures measured on it are conservative (BENCHMARKS.md says how they
// compare with a run in real time).
type TimeLapse struct {
	factor float64
	real   time.Time // real time at the start
	base   time.Time // emulated time at the start
}

// NewTimeLapse returns a clock starting now and running factor (>= 1)
// times faster.
func NewTimeLapse(factor float64) *TimeLapse {
	now := time.Now()
	return &TimeLapse{factor: max(factor, 1), real: now, base: now}
}

// Factor is how many times faster than real time the clock runs.
func (c *TimeLapse) Factor() float64 { return c.factor }

// Now returns the emulated time.
func (c *TimeLapse) Now() time.Time {
	return c.base.Add(time.Duration(float64(time.Since(c.real)) * c.factor))
}

// NewTimer fires after d of emulated time.
func (c *TimeLapse) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	out := make(chan time.Time, 1)
	t := time.AfterFunc(time.Duration(float64(d)/c.factor), func() { out <- c.Now() })
	return out, t.Stop
}

var _ replication.Clock = (*TimeLapse)(nil)
