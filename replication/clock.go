package replication

import "time"

// Clock is how time enters fieldsync. Pure cores never read it; shells take
// one from their config, and tests and the simulation pass a fake. A nil
// Clock anywhere a Clock is accepted means the real one (see OrReal).
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once after d, and a stop func.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// RealClock reads the system clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (RealClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// OrReal returns c, or RealClock if c is nil.
func OrReal(c Clock) Clock {
	if c == nil {
		return RealClock{}
	}
	return c
}

var _ Clock = RealClock{}
