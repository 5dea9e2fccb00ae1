package linkemu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"fieldsync/replication"
)

// Direction is one way through a link.
type Direction int

const (
	// Up is from the side that dials to the side that listens: laptop to hub.
	Up Direction = iota
	// Down is from the listening side to the dialing side: hub to laptop.
	Down
)

// Reverse returns the other direction.
func (d Direction) Reverse() Direction { return 1 - d }

// String returns "up" or "down".
func (d Direction) String() string {
	switch d {
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

func (d Direction) check() {
	if d != Up && d != Down {
		panic(fmt.Sprintf("linkemu: invalid direction %d", int(d)))
	}
}

// ErrLinkDown is returned (wrapped) by dials while the link is down, and by
// Read and Write on a wrapped connection that a cut broke.
var ErrLinkDown = errors.New("linkemu: link down")

// ErrTooManyRetransmits is returned (wrapped) on a wrapped connection that
// lost the same segment more than 15 times in a row; the emulator gives up
// on it as TCP does.
var ErrTooManyRetransmits = errors.New("linkemu: too many retransmissions")

// override is the state Cut and Heal force on a link.
type override int

const (
	followSchedule override = iota
	forcedDown
	forcedUp
)

// packetStream is the PCG stream of the link's datagram RNG; stream
// connections use 2*id and 2*id+1, so this one never collides.
const packetStream = 1<<64 - 1

// Link is one emulated link with an Up and a Down direction. Everything that
// goes through it, proxied TCP connections, wrapped connections and
// datagrams, shares each direction's capacity, as traffic through one modem
// does. A Link is safe for concurrent use.
type Link struct {
	clock replication.Clock
	start time.Time
	seed  uint64

	mu struct {
		sync.Mutex
		prof     Profile
		force    override
		busy     [2]time.Time // each direction is serialising until then
		stats    Stats
		pktRng   *rand.Rand
		nextID   uint64
		sessions map[*session]struct{}
		watcher  *watcher // running while sessions exist
		// dropping: a silent cut (drop.go); healedAt: when the last ended.
		dropping bool
		healedAt time.Time
	}
}

// Option configures NewLink.
type Option func(*Link)

// WithClock sets the clock for schedules and delays; nil means real time.
// With a fake clock, proxied data moves only as the fake clock advances;
// with a TimeLapse, everything moves that many times faster.
func WithClock(c replication.Clock) Option { return func(l *Link) { l.clock = replication.OrReal(c) } }

// WithSeed seeds the link's loss and jitter draws (default 1).
func WithSeed(seed int64) Option { return func(l *Link) { l.seed = uint64(seed) } }

// WithStart sets the time at which the schedule's elapsed time is 0
// (default: the clock's time when NewLink is called).
func WithStart(t time.Time) Option { return func(l *Link) { l.start = t } }

// NewLink returns a link shaped by p. It panics if p is invalid (call
// p.Validate first for profiles from user input).
func NewLink(p Profile, opts ...Option) *Link {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	l := &Link{clock: replication.RealClock{}, seed: 1}
	for _, o := range opts {
		o(l)
	}
	if l.start.IsZero() {
		l.start = l.clock.Now()
	}
	l.mu.prof = p
	l.mu.pktRng = rand.New(rand.NewPCG(l.seed, packetStream))
	l.mu.sessions = make(map[*session]struct{})
	return l
}

// Profile returns the link's current profile (with defaults filled in).
func (l *Link) Profile() Profile {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.prof
}

// SetProfile changes the link's profile live: new rates, delays and loss
// apply to frames sent from now on, and the new schedule (still timed from
// the link's start) takes effect at once.
func (l *Link) SetProfile(p Profile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	l.mu.prof = p
	l.mu.Unlock()
	l.reconsider()
	return nil
}

// Up reports whether the link is up now.
func (l *Link) Up() bool {
	up, _ := l.state(l.clock.Now())
	return up
}

// Cut takes the link down until Heal or FollowSchedule, whatever the
// schedule says. Connections through it are broken before Cut returns.
func (l *Link) Cut() {
	l.mu.Lock()
	l.mu.force = forcedDown
	l.mu.Unlock()
	l.endDrop()
	l.breakAll()
}

// Heal brings the link up until Cut or FollowSchedule, overriding a
// scheduled cut.
func (l *Link) Heal() { l.setForce(forcedUp) }

// FollowSchedule ends a Cut or Heal: the schedule decides again.
func (l *Link) FollowSchedule() { l.setForce(followSchedule) }

func (l *Link) setForce(o override) {
	l.mu.Lock()
	l.mu.force = o
	l.mu.Unlock()
	l.endDrop()
	l.reconsider()
}

// state reports whether the link is up at t, and when that next changes
// (the zero time for never, or while Cut or Heal holds).
func (l *Link) state(t time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stateLocked(t)
}

func (l *Link) stateLocked(t time.Time) (bool, time.Time) {
	switch l.mu.force {
	case forcedDown:
		return false, time.Time{}
	case forcedUp:
		return true, time.Time{}
	}
	e := max(t.Sub(l.start), 0)
	up, next := l.mu.prof.Schedule.At(e)
	if next == Forever {
		return up, time.Time{}
	}
	return up, l.start.Add(next)
}

// Stats returns a snapshot of the link's counters.
func (l *Link) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.stats
}

// reserve books direction d for one frame that may start at ready (<= now).
// If the link is still busy it returns the time it frees up and ok=false.
// Otherwise it calls frame(start) for the frame's wire bytes, marks the link
// busy for their serialisation, counts them, and returns the frame's end.
func (l *Link) reserve(d Direction, now, ready time.Time, frame func(start time.Time) int) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The frame starts when the line is free and its bytes are there
	// (ready: when they were read, or when a loss was detected), even if
	// this is later than that: a shaping goroutine woken late by a busy
	// machine must not idle the emulated line. (Starting it at now instead
	// cost 4-15 % of a 2G link's rate in `bench dossiers` under load, more
	// the faster emulated time ran: every late wake was lost link time.)
	start := later(l.mu.busy[d], ready)
	if start.After(now) {
		return start, false
	}
	wire := frame(start)
	end := start.Add(txTime(wire, l.mu.prof.Rate(d)))
	l.mu.busy[d] = end
	l.mu.stats.dir(d).WireBytes += int64(wire)
	return end, true
}

// control counts n control packets (ACK, SYN, FIN) of size bytes each in
// direction d; they occupy the link but are never lost.
func (l *Link) control(d Direction, n, size int) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.busy[d] = later(l.mu.busy[d], now).Add(txTime(n*size, l.mu.prof.Rate(d)))
	s := l.mu.stats.dir(d)
	s.ControlPackets += int64(n)
	s.ControlBytes += int64(n * size)
	s.WireBytes += int64(n * size)
}

// count applies f to the counters of direction d.
func (l *Link) count(d Direction, f func(*DirStats)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l.mu.stats.dir(d))
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
