package replication

import (
	"fmt"
	"time"
)

// HLC is a hybrid logical clock timestamp: the upper 48 bits are wall time in
// milliseconds since the Unix epoch, the lower 16 bits a logical counter.
//
// HLCs respect causality: an entry created by an origin that had already seen
// entry A carries an HLC greater than A's, whatever the wall clocks say,
// because HLCState.Observe folds every received timestamp in. Wall time is
// only a hint inside it; a laptop with a clock ten years off still produces
// HLCs that order after everything it has seen. Views never read a clock:
// they compare HLCs, then origin, then hash (a total order).
type HLC uint64

const hlcLogicalBits = 16

// MakeHLC builds an HLC from wall milliseconds and a logical counter.
func MakeHLC(wallMillis int64, logical uint16) HLC {
	if wallMillis < 0 {
		wallMillis = 0
	}
	return HLC(uint64(wallMillis)<<hlcLogicalBits | uint64(logical))
}

// WallMillis returns the wall-time part in milliseconds since the Unix epoch.
func (h HLC) WallMillis() int64 { return int64(uint64(h) >> hlcLogicalBits) }

// Logical returns the logical counter.
func (h HLC) Logical() uint16 { return uint16(h) }

// Time returns the wall-time part as a UTC time.
func (h HLC) Time() time.Time { return time.UnixMilli(h.WallMillis()).UTC() }

// String renders the HLC as RFC 3339 wall time plus the logical counter.
func (h HLC) String() string {
	return fmt.Sprintf("%s+%d", h.Time().Format("2006-01-02T15:04:05.000Z"), h.Logical())
}

// HLCState is the clock state of one writer. The zero value is ready to use.
// It is not safe for concurrent use; the single writer owns it.
type HLCState struct {
	last HLC
}

// Last returns the most recent timestamp issued or observed.
func (s *HLCState) Last() HLC { return s.last }

// Next returns a timestamp for a local event at wall time now. It is strictly
// greater than every timestamp issued or observed before, even if the wall
// clock went backwards.
func (s *HLCState) Next(now time.Time) HLC {
	pt := now.UnixMilli()
	if pt < 0 {
		pt = 0
	}
	if pt > s.last.WallMillis() {
		s.last = MakeHLC(pt, 0)
		return s.last
	}
	s.last = s.last.tick()
	return s.last
}

// Observe folds a timestamp received from elsewhere into the state, so the
// next local timestamp orders after it.
func (s *HLCState) Observe(remote HLC) {
	if remote > s.last {
		s.last = remote
	}
}

// tick returns the smallest HLC greater than h.
func (h HLC) tick() HLC {
	if h.Logical() == 1<<hlcLogicalBits-1 {
		return MakeHLC(h.WallMillis()+1, 0)
	}
	return h + 1
}
