package sim

import (
	"fmt"

	"fieldsync/internal/simnet"
)

// maxDeliveriesPerTick bounds the messages delivered in one tick; every
// message takes at least a tick, so only a flood could reach it.
const maxDeliveriesPerTick = 1 << 16

// Run simulates opt's field days, then the heal phase, then checks every
// guarantee. It never panics on a failed guarantee: failures are in
// Result.Failures.
func Run(opt Options, logf func(format string, args ...any)) Result {
	s, err := New(opt, logf)
	if err != nil {
		return Result{Seed: opt.Seed, Options: opt, Failures: []string{err.Error()}}
	}
	return s.Run()
}

// Run drives the simulation to the end and returns its result.
func (s *Sim) Run() Result {
	for !s.stopped {
		s.step()
		if s.healing && s.quiescent() && !s.redial() {
			break
		}
		if s.healing && s.now-s.res.HealStart > MaxHealTicks {
			s.failf("not quiescent %d ticks into the heal phase (every link up, no faults)", MaxHealTicks)
		}
		s.advance()
	}
	s.res.HealTicks = s.now - s.res.HealStart
	s.log("quiescent %d ticks into the heal phase", s.res.HealTicks)
	s.res.Steps = s.steps
	s.res.SimTicks = s.now
	s.finish()
	if !s.stopped || s.healing {
		s.check()
	}
	copy(s.res.TraceHash[:], s.trace.Sum(nil))
	return s.res
}

// step processes one tick: scheduled events, due messages, sessions whose
// logs changed, session ticks.
func (s *Sim) step() {
	s.steps++
	s.net.AdvanceTo(s.now)
	s.runDue()
	s.deliverDue()
	s.pumpDirty()
	s.tickSessions()
	s.pumpDirty()
}

func (s *Sim) deliverDue() {
	for range maxDeliveriesPerTick {
		if s.stopped {
			return
		}
		m, ok := s.net.DeliverNext()
		if !ok {
			return
		}
		s.deliver(m.From, m.To, m.Payload, m.Duplicate)
	}
	s.failf("more than %d messages due in one tick", maxDeliveriesPerTick)
}

// tickSessions gives a tick to every session that may act on it, in link
// order.
func (s *Sim) tickSessions() {
	for _, l := range s.links {
		if l.conn == nil {
			continue
		}
		for _, e := range l.conn.ends {
			if !e.closed && e.busy(s.now) {
				e.s.Tick()
				s.pump(e)
			}
		}
	}
}

// anyBusy reports whether some session may act on the next tick.
func (s *Sim) anyBusy() bool {
	for _, l := range s.links {
		if l.conn != nil && (l.conn.ends[0].busy(s.now) || l.conn.ends[1].busy(s.now)) {
			return true
		}
	}
	return false
}

// advance moves to the next tick, or, when no session is busy, straight
// to the next event or delivery: the quiet nights cost nothing.
func (s *Sim) advance() {
	next := s.now + 1
	if !s.anyBusy() {
		far := ^uint64(0)
		if t, ok := s.nextEvent(); ok {
			far = t
		}
		if t, ok := s.net.NextDue(); ok {
			far = min(far, t)
		}
		if far != ^uint64(0) {
			next = max(next, far)
		}
	}
	s.now = next
}

// startHeal ends the field phase: every link up, every fault off, every
// replica restarted; the run continues until nothing moves.
func (s *Sim) startHeal() {
	s.healing = true
	s.res.HealStart = s.now
	for _, a := range s.acked {
		if h, _ := s.prov.log.Head(a.id.Origin); h.Seq < a.id.Seq {
			s.res.UnsentAtHeal++
		}
	}
	s.log("heal: every link up, faults off; %d of %d acked entries not yet at the province", s.res.UnsentAtHeal, len(s.acked))
	s.net.ConfigureAll(simnet.LinkConfig{MinDelay: minDelay, MaxDelay: minDelay + s.opt.MaxDelay})
	for _, r := range s.reps {
		if !r.alive {
			s.restart(r)
		}
	}
	for _, l := range s.links {
		l.scheduledUp, l.partitioned = true, 0
		s.applyLink(l)
	}
}

// redial starts every session anew once the healed system is quiet, as
// the replicators do (laptop sessions close when quiet and redial at least
// every RedialEvery; hub sessions every HubIdleTimeout): a fresh Hello and
// Summary compare every head, where an open session only learns what its
// peer acknowledges — a fork under entries a replica got from a third
// party meanwhile shows only to a new session, and a hub's upward session
// learns from a fresh status which blobs the province still lacks. It
// reports whether it did: not when nothing (entry or blob) was written
// since the last round.
func (s *Sim) redial() bool {
	total := uint64(0)
	for _, r := range s.reps {
		v, _ := r.log.Vector()
		u, _ := r.blobs.Usage()
		total += v.Total() + uint64(u.Blobs)
	}
	if total == s.healTotal {
		return false
	}
	s.healTotal = total
	s.log("heal: quiet; every session starts anew")
	for _, l := range s.links {
		if l.conn != nil {
			s.closeConn(l)
			s.applyLink(l)
		}
	}
	return true
}

// minDelay is every message's least time in flight: a transfer spans
// ticks, so a cut can fall in the middle of one.
const minDelay = 1

// quiescent reports whether the healed system has nothing left to do:
// nothing in flight, every link carrying a settled, idle session pair.
func (s *Sim) quiescent() bool {
	if s.net.InFlight() > 0 {
		return false
	}
	for _, l := range s.links {
		if l.conn == nil || l.conn.ends[0].busy(s.now) || l.conn.ends[1].busy(s.now) {
			return false
		}
	}
	for _, r := range s.reps {
		if r.dirty || !r.alive || r.rolling {
			return false
		}
	}
	return true
}

// finish folds the counters of the sessions still open and of the network
// into the result.
func (s *Sim) finish() {
	for _, l := range s.links {
		if l.conn != nil {
			for _, e := range l.conn.ends {
				s.addSessionStats(e.s.Stats())
			}
		}
	}
	st := s.net.Stats()
	s.res.Faults.Dropped = st.Dropped
	s.res.Faults.Duplicated = st.Duplicated
	s.res.Faults.Reordered = st.Reordered
	s.res.Faults.CutInFlight = st.Cut
	s.res.Acked = len(s.acked)
	fmt.Fprintf(s.trace, "end %d %d\n", s.now, s.steps)
}
