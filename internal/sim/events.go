package sim

import (
	"container/heap"
	"math"
)

// event is something scheduled at a tick. Events at the same tick run in
// the order they were scheduled (seq), so the schedule is deterministic.
type event struct {
	at  uint64
	seq uint64
	fn  func()
}

// eventQueue is a min-heap of events by (at, seq).
type eventQueue struct {
	items []event
	seq   uint64
}

func (q *eventQueue) Len() int { return len(q.items) }
func (q *eventQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}
func (q *eventQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *eventQueue) Push(x any)    { q.items = append(q.items, x.(event)) }
func (q *eventQueue) Pop() any {
	it := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return it
}

// at schedules fn at tick t.
func (s *Sim) at(t uint64, fn func()) {
	s.events.seq++
	heap.Push(&s.events, event{at: t, seq: s.events.seq, fn: fn})
}

// after schedules fn d ticks from now (at least one).
func (s *Sim) after(d uint64, fn func()) { s.at(s.now+max(d, 1), fn) }

// nextEvent returns the tick of the earliest event, if any.
func (s *Sim) nextEvent() (uint64, bool) {
	if s.events.Len() == 0 {
		return 0, false
	}
	return s.events.items[0].at, true
}

// runDue runs every event scheduled at or before now, including those the
// handlers schedule for now.
func (s *Sim) runDue() {
	for s.events.Len() > 0 && s.events.items[0].at <= s.now && !s.stopped {
		ev := heap.Pop(&s.events).(event)
		ev.fn()
	}
}

// expTicks draws an exponential duration with the given mean.
func (s *Sim) expTicks(mean uint64) uint64 {
	return uint64(s.rng.ExpFloat64()*float64(mean)) + 1
}

// heavyTicks draws a log-normal duration with the given median and shape,
// capped: most draws are near the median, a few are many times longer
// (the monsoon week).
func (s *Sim) heavyTicks(median uint64, sigma float64, limit uint64) uint64 {
	d := float64(median) * math.Exp(sigma*s.rng.NormFloat64())
	return min(max(uint64(d), 1), limit)
}
