package sim

import (
	"time"

	"fieldsync/replication"
	"fieldsync/replication/epoch"
)

// Workday hours during which laptops capture.
const (
	workStart = 7
	workEnd   = 17
)

// scheduleAll plants the first event of every schedule; each handler
// plants its own next one, until the heal phase.
func (s *Sim) scheduleAll() {
	for _, l := range s.links {
		l := l
		if l.kind == hubLink {
			s.after(s.upTicks(l), func() { s.toggleLink(l) })
		} else {
			s.after(s.rng.Uint64N(s.downTicks(l)), func() { s.toggleLink(l) })
		}
	}
	for _, r := range s.reps {
		if r.role == replication.RoleNode {
			r := r
			s.after(s.nextCapture(), func() { s.capture(r) })
		}
	}
	if s.opt.CrashEvery > 0 {
		s.after(s.expTicks(s.opt.CrashEvery), s.crashSomeone)
	}
	if s.opt.PartitionEvery > 0 {
		s.after(s.expTicks(s.opt.PartitionEvery), s.partitionSomething)
	}
	if s.opt.ClockFaults {
		s.after(s.expTicks(clockFaultEvery), s.clockFault)
	}
	s.scheduleRestores()
	s.scheduleClones()
	s.at(s.end, s.startHeal)
}

// downTicks and upTicks draw a link's next down and up times. Field links
// are down for hours (heavy tail to days) and up for minutes; colleagues
// meet for longer; hub links are up for most of a day.
func (s *Sim) downTicks(l *link) uint64 {
	switch l.kind {
	case hubLink:
		return s.heavyTicks(TicksPerHour, 1.5, maxDownTicks)
	case colleagueLink:
		return s.heavyTicks(2*s.opt.DownMedian, 1.2, maxDownTicks)
	}
	return s.heavyTicks(s.opt.DownMedian, 1.3, maxDownTicks)
}

func (s *Sim) upTicks(l *link) uint64 {
	switch l.kind {
	case hubLink:
		return s.heavyTicks(12*TicksPerHour, 1.0, 3*TicksPerDay)
	case colleagueLink:
		return s.heavyTicks(2*s.opt.UpMedian, 1.0, TicksPerDay)
	}
	return s.heavyTicks(s.opt.UpMedian, 1.0, TicksPerDay)
}

// toggleLink flips a link's contact schedule and plants the next flip.
func (s *Sim) toggleLink(l *link) {
	if s.healing {
		return
	}
	l.scheduledUp = !l.scheduledUp
	if l.scheduledUp {
		s.after(s.upTicks(l), func() { s.toggleLink(l) })
	} else {
		s.res.Faults.LinkCuts++
		s.after(s.downTicks(l), func() { s.toggleLink(l) })
	}
	s.applyLink(l)
}

// nextCapture draws the ticks to a laptop's next enrollment: Poisson
// arrivals over working hours, nothing at night.
func (s *Sim) nextCapture() uint64 {
	workTicks := (workEnd - workStart) * TicksPerHour
	d := s.expTicks(workTicks / uint64(s.opt.CapturesPerDay))
	t := s.now + d
	if h := t % TicksPerDay / TicksPerHour; h < workStart || h >= workEnd {
		day := t / TicksPerDay
		if h >= workEnd {
			day++
		}
		t = day*TicksPerDay + workStart*TicksPerHour + s.rng.Uint64N(TicksPerHour)
	}
	return t - s.now
}

// capture appends one enrollment on a laptop. An append that returned is
// acknowledged to the operator: recorded as acked, it must reach the
// province. A laptop that is down captures nothing (the officer waits).
func (s *Sim) capture(r *replica) {
	if s.healing {
		return
	}
	s.after(s.nextCapture(), func() { s.capture(r) })
	if !r.alive || r.rolling {
		return
	}
	now := r.clock.Now()
	if s.opt.ClockFaults && now.UnixMilli() <= r.hlc.Last().WallMillis() {
		s.cover(CovClockBehind)
	}
	h, _ := r.log.Head(r.signer.Origin())
	refs, err := s.captureBlobs(r) // saved and synced before the record
	if err != nil {
		s.failf("capture on %s: blobs: %v", r.name, err)
		return
	}
	d := replication.Draft{Kind: replication.KindEnroll, Schema: 1, HLC: r.hlc.Next(now),
		Payload: enrollPayload(s.rng, r.unit, r.name, int(h.Seq)+1, now, refs)}
	if s.opt.Bug == BugAckBeforeAppend {
		s.ackUnwritten(r, d, h)
		return
	}
	es, err := r.log.Append(r.signer, []replication.Draft{d})
	if err != nil {
		s.failf("capture on %s: %v", r.name, err)
		return
	}
	if s.opt.CrashEvery > 0 && s.rng.Float64() < appendCrashRate {
		// Durable but never shown as saved: not acked, yet it must still
		// travel like any entry (and must not come back as unexpected).
		s.recordAppend(r, es, false)
		s.cover(CovCrashBeforeOperatorAck)
		s.crash(r, "crash after append, before the operator saw it saved,")
		return
	}
	s.recordAppend(r, es, true)
}

// appendCrashRate is the share of captures, when crashes are on, after
// which the laptop crashes before showing the operator "saved".
const appendCrashRate = 0.01

// ackUnwritten is the injected bug BugAckBeforeAppend: the operator is
// told "saved" for an entry that never reached the log.
func (s *Sim) ackUnwritten(r *replica, d replication.Draft, h replication.Head) {
	e := replication.Seal(r.signer, d, h.Seq+1, h.Hash)
	s.created[entryKey{e.ID(), e.Hash()}] = true
	s.capturedAt[e.ID()] = s.now
	s.acked = append(s.acked, entryKey{e.ID(), e.Hash()})
}

// crashSomeone kills a random live replica. Its sessions die with it and
// their peers see the connections reset; its disk (the Mem log) stays.
func (s *Sim) crashSomeone() {
	if s.healing {
		return
	}
	s.after(s.expTicks(s.opt.CrashEvery), s.crashSomeone)
	r := s.reps[s.rng.IntN(len(s.reps))]
	if r.alive {
		s.crash(r, "crash")
	}
}

// restartDelay draws how long a crashed replica stays down: mostly
// minutes (a reboot), sometimes hours (a flat battery).
func (s *Sim) restartDelay() uint64 { return s.heavyTicks(30, 1.5, TicksPerDay) }

func (s *Sim) crash(r *replica, why string) {
	s.res.Faults.Crashes++
	r.blobs.Crash() // writers die; partial writes keep what they synced
	if r.role == replication.RoleNode && s.holdsUnsynced(r) {
		s.cover(CovCrashUnsynced)
	}
	s.log("%s %s", why, r.name)
	s.down(r)
	s.after(s.restartDelay(), func() { s.restart(r) })
}

// down stops a replica: its sessions end, in-flight messages are lost.
func (s *Sim) down(r *replica) {
	r.alive, r.dirty = false, false
	for _, l := range s.links {
		if l.a == r || l.b == r {
			s.applyLink(l)
		}
	}
}

// holdsUnsynced reports whether r holds own entries no other replica has:
// a crash now falls between the append and its sync.
func (s *Sim) holdsUnsynced(r *replica) bool {
	mine, _ := r.log.Head(r.signer.Origin())
	for _, o := range s.reps {
		if o != r {
			if h, _ := o.log.Head(r.signer.Origin()); h.Seq >= mine.Seq {
				return false
			}
		}
	}
	return true
}

// restart brings a crashed replica back over the same disk, with every
// in-memory state fresh: sessions, HLC (rebuilt from the log), the signer
// of the epoch the disk records, a hub's fork watch. A new epoch requested
// before is started first, as datadir.Open does.
func (s *Sim) restart(r *replica) {
	if r.alive {
		return
	}
	r.log = r.log.Reopen()
	if err := r.reopenNeeds(); err != nil {
		s.failf("restart %s: index of needs: %v", r.name, err)
		return
	}
	if e := diskEpoch(r.log); e != r.signer.Epoch() {
		r.signer = r.key.WithEpoch(e)
	}
	if err := r.restartHLC(); err != nil {
		s.failf("restart %s: %v", r.name, err)
		return
	}
	if err := s.finishRollover(r); err != nil {
		s.failf("restart %s: %v", r.name, err)
		return
	}
	if r.watch != nil {
		w, err := epoch.LoadWatch(r.log, maxClaims)
		if err != nil {
			s.failf("restart %s: fork watch: %v", r.name, err)
			return
		}
		r.watch = w
	}
	r.alive, r.rolling = true, false
	s.log("restart %s", r.name)
	for _, l := range s.links {
		if l.a == r || l.b == r {
			s.applyLink(l)
		}
	}
}

// partitionSomething cuts a hub off (a district from the province, or a
// hub from everything) or isolates a laptop, for a heavy-tailed time.
func (s *Sim) partitionSomething() {
	if s.healing {
		return
	}
	s.after(s.expTicks(s.opt.PartitionEvery), s.partitionSomething)
	r := s.reps[s.rng.IntN(len(s.reps))]
	var cut []*link
	for _, l := range s.links {
		if l.a == r || l.b == r {
			cut = append(cut, l)
		}
	}
	if r.role == replication.RoleHub && s.rng.IntN(2) == 0 && r.tier == "district" {
		cut = []*link{s.byPair[[2]string{r.name, "P"}]}
		s.res.Faults.Partitions++
	} else {
		s.res.Faults.Isolations++
	}
	d := s.heavyTicks(6*TicksPerHour, 1.2, maxDownTicks)
	s.log("partition %s for %s (%d links)", r.name, time.Duration(d)*TickDuration, len(cut))
	for _, l := range cut {
		l.partitioned++
		s.applyLink(l)
	}
	s.after(d, func() {
		if s.healing {
			return // the heal phase already lifted every partition
		}
		for _, l := range cut {
			l.partitioned--
			s.applyLink(l)
		}
	})
}

// clockFaultEvery is the mean ticks between clock faults when they are on.
const clockFaultEvery = 12 * TicksPerHour

// tenYears is the size of the wildest clock offset.
const tenYears = 10 * 365 * 24 * time.Hour

// clockFault moves one replica's wall clock: ±10 years, a backward jump,
// an RTC reset to 2000-01-01, or back to the right time. HLC timestamps of
// later captures take the hit; nothing may order by them.
func (s *Sim) clockFault() {
	if s.healing {
		return
	}
	s.after(s.expTicks(clockFaultEvery), s.clockFault)
	r := s.reps[s.rng.IntN(len(s.reps))]
	c := r.clock
	switch s.rng.IntN(4) {
	case 0:
		c.offset = tenYears
	case 1:
		c.offset = -tenYears
	case 2:
		c.offset -= time.Duration(1+s.rng.IntN(30*24)) * time.Hour
	case 3:
		c.offset = rtcReset.Sub(c.Now().Add(-c.offset))
	}
	s.res.Faults.ClockFaults++
	s.log("clock of %s now reads %s", r.name, c.Now().Format(time.DateTime))
}
