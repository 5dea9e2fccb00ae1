package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Time in the simulation is a tick counter. One tick is TickDuration of
// simulated wall time: coarse enough that a week is cheap to simulate when
// nothing happens, fine enough that a link window of a few minutes holds
// several round trips.
const (
	// TickDuration is the simulated wall time of one tick.
	TickDuration = 10 * time.Second
	// TicksPerHour and TicksPerDay convert durations to ticks.
	TicksPerHour = uint64(time.Hour / TickDuration)
	TicksPerDay  = 24 * TicksPerHour
)

// Limits of one run. A limit on everything: a run that hits one fails
// with a message naming it, it never spins.
const (
	// MaxHealTicks bounds the final heal phase: with every link up and no
	// faults, the system must be quiescent within this many ticks (the
	// slowest of 200 seeds needs under 40 minutes).
	MaxHealTicks = 12 * TicksPerHour
	// maxPumpRounds bounds the Ready/Persisted rounds of one session in
	// one pump; each round sends at most a window of batches.
	maxPumpRounds = 10_000
	// maxDirtyRounds bounds the rounds of re-pumping the sessions of
	// replicas whose logs changed, within one tick.
	maxDirtyRounds = 10_000
	// LongPartitionTicks is what counts as a long partition for the
	// coverage assertion: a link down for more than two days.
	LongPartitionTicks = 2 * TicksPerDay
	// maxDownTicks caps a link's heavy-tailed down time (and a hub
	// partition): a monsoon week.
	maxDownTicks = 7 * TicksPerDay
)

// Options is what a seed expands to: the topology size, the workload, the
// protocol's tunables and, swarm-testing style, which fault types are on
// and how hard. Every field is drawn from the seed by FromSeed; a failing
// run prints String, so the option set is visible next to the seed.
type Options struct {
	Seed uint64
	// Days of simulated field work before the heal phase.
	Days int
	// Laptops in the field (6..8), two per commune, communes alternating
	// between the two districts.
	Laptops int
	// CapturesPerDay is each laptop's mean enrollments per working day.
	CapturesPerDay int

	// Protocol tunables (syncproto.Config), varied so that batches split,
	// windows fill and checkpoints fall at different places.
	MaxBatchEntries int
	Window          int
	CheckpointEvery uint64

	// Contact schedule: median ticks a laptop–hub link stays down and up.
	DownMedian, UpMedian uint64

	// Message faults on every link (0 when off).
	Loss, Dup, Reorder float64
	// MaxDelay is the jitter of a message in ticks.
	MaxDelay uint64
	// CrashEvery is the mean ticks between crash-restarts (0: off);
	// PersistCrash is the probability that a replica crashes after a
	// batch is written and before its ack leaves (0: off).
	CrashEvery   uint64
	PersistCrash float64
	// PartitionEvery is the mean ticks between hub partitions and node
	// isolations (0: off).
	PartitionEvery uint64
	// ClockFaults turns on wall-clock faults: offsets of ±10 years,
	// backward jumps, resets to 2000-01-01.
	ClockFaults bool
	// Restores is how many times a laptop's disk is put back to an image
	// taken earlier in the run; Clones how many times a laptop's disk is
	// copied onto a second laptop that runs it too (0: off).
	Restores, Clones int
	// Blobs: captures save blobs and every session runs the blob lane
	// (blobs.go). On in about two seeds of three.
	Blobs bool
	// StrictForks makes the design shortfalls Result.Abandoned and
	// Result.HiddenRetired failures (off: counted and reported only).
	StrictForks bool

	// Bug injects a known defect into the simulated shells, so that a test
	// can check that the checkers catch it. FromSeed leaves it BugNone.
	Bug Bug
}

// Bug names a defect the simulation can inject into its own shells, to
// test the checkers (a checker that never fails proves nothing).
type Bug int

const (
	// BugNone: the shells behave.
	BugNone Bug = iota
	// BugAckBeforeAppend: a laptop tells the operator "saved" and never
	// writes the entry. The lost checker must fire.
	BugAckBeforeAppend
	// BugHubDropsUpward: the district hubs never send to the province.
	// The vector and lost checkers must fire.
	BugHubDropsUpward
	// BugDoubleApply: a replica counts a batch's entries as applied again
	// when the same batch arrives twice. The duplicate checker must fire.
	BugDoubleApply
	// BugKeepOldOrigin: a laptop ignores rollbacks and fork notices and
	// keeps writing its restored or cloned origin. The lost and
	// own-head checkers must fire.
	BugKeepOldOrigin
	// BugNoForkNotice: hubs write no fork notices, so two branches of a
	// cloned origin stand at different hubs unquarantined and unreissued.
	// The forks-accepted checker must fire.
	BugNoForkNotice
	// BugHubKeepsBlobs: the district hubs send the province records but
	// no blobs. The blobs-lost checker must fire.
	BugHubKeepsBlobs
	// BugBlobBitFlip: a hub's shell flips a bit of every chunk before it
	// writes it (a bad disk or a buggy shell). The store refuses each blob
	// at commit; the blobs-lost checker must fire.
	BugBlobBitFlip
)

// FromSeed expands a seed into options. Each fault type is on with
// probability one half (swarm testing: a run with fewer fault types
// explores each one more deeply), at a rate also drawn from the seed.
func FromSeed(seed uint64) Options {
	r := rand.New(rand.NewPCG(seed, 0x0b7a11e5))
	o := Options{
		Seed:            seed,
		Days:            3 + r.IntN(6),
		Laptops:         6 + r.IntN(3),
		CapturesPerDay:  4 + r.IntN(16),
		MaxBatchEntries: pick(r, 8, 32, 100, 1000),
		Window:          1 + r.IntN(3),
		CheckpointEvery: pick(r, uint64(4), 16, 64),
		DownMedian:      pick(r, uint64(1), 3, 8) * TicksPerHour,
		UpMedian:        pick(r, uint64(12), 60, 240),
		MaxDelay:        pick(r, uint64(0), 1, 3),
	}
	on := func() bool { return r.IntN(2) == 0 }
	if on() {
		o.Loss = pick(r, 0.01, 0.05, 0.2)
	}
	if on() {
		o.Dup = pick(r, 0.01, 0.05, 0.2)
	}
	if on() {
		o.Reorder = pick(r, 0.05, 0.2)
	}
	if on() {
		o.CrashEvery = pick(r, uint64(2), 8, 24) * TicksPerHour
	}
	if on() {
		o.PersistCrash = pick(r, 0.01, 0.05)
	}
	if on() {
		o.PartitionEvery = pick(r, uint64(12), 48) * TicksPerHour
	}
	o.ClockFaults = on()
	if on() {
		o.Restores = 1 + r.IntN(2)
	}
	if on() {
		o.Clones = 1 + r.IntN(2)
	}
	// Drawn from a stream of its own: every other option of a seed is
	// what it was before the blob lane.
	o.Blobs = rand.New(rand.NewPCG(seed, 0xb10b)).IntN(3) != 0
	return o
}

func pick[T any](r *rand.Rand, vs ...T) T { return vs[r.IntN(len(vs))] }

// String renders the options on one line, TigerBeetle style, so a failure
// report shows which faults were on.
func (o Options) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed=%d days=%d laptops=%d captures/day=%d batch=%d window=%d checkpoint=%d down=%dh up=%dt delay=0..%d",
		o.Seed, o.Days, o.Laptops, o.CapturesPerDay, o.MaxBatchEntries, o.Window, o.CheckpointEvery,
		o.DownMedian/TicksPerHour, o.UpMedian, o.MaxDelay)
	fmt.Fprintf(&b, " loss=%s dup=%s reorder=%s", rate(o.Loss), rate(o.Dup), rate(o.Reorder))
	fmt.Fprintf(&b, " crash=%s persist-crash=%s partition=%s clock=%s restores=%s clones=%s",
		every(o.CrashEvery), rate(o.PersistCrash), every(o.PartitionEvery), onOff(o.ClockFaults), count(o.Restores), count(o.Clones))
	fmt.Fprintf(&b, " blobs=%s", onOff(o.Blobs))
	if o.StrictForks {
		b.WriteString(" strict-forks")
	}
	if o.Bug != BugNone {
		fmt.Fprintf(&b, " bug=%d", o.Bug)
	}
	return b.String()
}

func rate(p float64) string {
	if p == 0 {
		return "off"
	}
	return fmt.Sprintf("%g", p)
}

func every(t uint64) string {
	if t == 0 {
		return "off"
	}
	return fmt.Sprintf("~%dh", t/TicksPerHour)
}

func count(n int) string {
	if n == 0 {
		return "off"
	}
	return fmt.Sprint(n)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
