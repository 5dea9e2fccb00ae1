package sim

import (
	"errors"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// Faults counts what the nemesis injected in one run.
type Faults struct {
	LinkCuts       int // contact-schedule link losses
	Partitions     int // a district cut from the province
	Isolations     int // a replica cut from every peer
	Crashes        int // crash-restarts (including PersistCrashes)
	PersistCrashes int // crashes after a batch was written, before its ack
	ClockFaults    int // wall clocks moved ±10 years, back, or to 2000
	Dropped        int // messages lost
	Duplicated     int // messages delivered twice
	Reordered      int // messages held back behind later ones
	CutInFlight    int // messages lost with a cut or reset connection
}

// Total returns the number of faults injected.
func (f Faults) Total() int {
	return f.LinkCuts + f.Partitions + f.Isolations + f.Crashes + f.ClockFaults + f.Dropped + f.Duplicated + f.Reordered
}

// Result is what one run measured and what its checkers found.
type Result struct {
	Seed    uint64
	Options Options
	// Steps is the ticks processed; SimTicks the simulated span (quiet
	// stretches are skipped, so Steps ≤ SimTicks).
	Steps, SimTicks uint64
	Faults          Faults
	// Acked is the entries acknowledged at capture (geneses included).
	Acked int
	// The guarantees, each expected to be 0.
	Lost, HashMismatch, Dup, Unexpected, Gaps, Forks, Diverged, HLCBackward int
	// Bytes is every frame sent, in wire bytes.
	Bytes int64
	// Protocol figures.
	EntriesSent, Retransmits, GapRefusals, DupBatchesDelivered int
	// ProvinceDelays is, per entry that reached the province, the ticks
	// from its capture.
	ProvinceDelays []uint64
	// HealStart and HealTicks: when the heal phase began, how long it took
	// to quiesce; UnsentAtHeal is the acked entries not yet at the
	// province when it began; MaxDownTicks the longest link outage.
	HealStart, HealTicks, MaxDownTicks uint64
	UnsentAtHeal                       int
	// Coverage counts how often each Sometimes assertion fired.
	Coverage [NumCoverage]int
	// TraceHash is a SHA-256 of every capture, connection and delivery
	// (tick, ends, frame bytes): equal for two runs of one seed.
	TraceHash [32]byte
	// Failures says what failed, first failures first; empty on success.
	Failures []string
}

// OK reports whether every guarantee held.
func (r *Result) OK() bool { return len(r.Failures) == 0 }

// check runs the checkers after the heal phase.
func (s *Sim) check() {
	s.checkLost()
	s.checkUnexpected()
	s.checkVectors()
	for _, r := range s.reps {
		s.checkChains(r)
	}
}

// maxExamples bounds the failure lines one checker writes per run; a
// count line follows when it found more.
const maxExamples = 5

// checkLost: every acknowledged entry is at the province with its hash.
func (s *Sim) checkLost() {
	for _, id := range s.acked {
		e, err := s.prov.log.Get(id)
		switch {
		case errors.Is(err, oplog.ErrNotFound):
			if s.res.Lost++; s.res.Lost <= maxExamples {
				s.failf("lost: acked entry %s (captured at tick %d) is not at the province", s.entryName(id), s.capturedAt[id])
			}
		case err != nil:
			s.failf("read %s at the province: %v", s.entryName(id), err)
		case e.Hash() != s.created[id]:
			s.res.HashMismatch++
			s.failf("hash mismatch: the province holds %s with hash %s, acked %s", s.entryName(id), e.Hash().Short(), s.created[id].Short())
		}
	}
	if s.res.Lost > maxExamples {
		s.failf("lost: %d of %d acked entries are not at the province", s.res.Lost, len(s.acked))
	}
}

// entryName renders an entry as "l3:5 (origin 50d5ef1f)".
func (s *Sim) entryName(id replication.EntryID) string {
	for _, r := range s.reps {
		if r.signer.Origin() == id.Origin {
			return fmt.Sprintf("%s:%d (origin %s)", r.name, id.Seq, id.Origin.Short())
		}
	}
	return id.String()
}

// checkUnexpected: the province holds nothing no replica wrote, and its
// copy of each origin has HLCs that only grow along the chain (wall
// clocks went wild; the HLC state, rebuilt from the log at restart, must
// not).
func (s *Sim) checkUnexpected() {
	v, err := s.prov.log.Vector()
	if err != nil {
		s.failf("province vector: %v", err)
		return
	}
	for _, o := range v.Origins() {
		var last replication.HLC
		err := s.prov.log.Scan(o, 1, func(e replication.Entry) bool {
			if h, ok := s.created[e.ID()]; !ok || h != e.Hash() {
				s.res.Unexpected++
				s.failf("unexpected: the province holds %s, which no replica wrote", s.entryName(e.ID()))
			}
			if e.HLC <= last {
				s.res.HLCBackward++
				s.failf("hlc: %s has HLC %s, not after the previous %s", s.entryName(e.ID()), e.HLC, last)
			}
			last = e.HLC
			return true
		})
		if err != nil {
			s.failf("scan %s at the province: %v", o.Short(), err)
		}
	}
}

// checkVectors: the three hubs hold identical vectors, and every laptop's
// own head is the province's.
func (s *Sim) checkVectors() {
	pv, _ := s.prov.log.Vector()
	for _, r := range s.reps {
		v, err := r.log.Vector()
		if err != nil {
			s.failf("%s vector: %v", r.name, err)
			continue
		}
		if r.tier != "" && !v.Equal(pv) {
			s.res.Diverged++
			s.failf("vectors differ after heal: %s holds %d entries of %d origins, the province %d of %d: %s",
				r.name, v.Total(), len(v), pv.Total(), len(pv), vectorDiff(v, pv))
		}
		own := r.signer.Origin()
		if mine, theirs := v[own], pv[own]; r.tier == "" && mine != theirs {
			s.res.Diverged++
			s.failf("%s's own head is seq %d, the province holds seq %d of it", r.name, mine.Seq, theirs.Seq)
		}
	}
}

// vectorDiff names the first origins where two vectors differ.
func vectorDiff(a, b replication.Vector) string {
	out := ""
	n := 0
	for _, o := range b.Clone().Merge(a).Origins() {
		if a[o] != b[o] && n < 3 {
			out += fmt.Sprintf("[%s: %d vs %d] ", o.Short(), a[o].Seq, b[o].Seq)
			n++
		}
	}
	return out
}

// checkChains: every chain every replica holds verifies from its genesis,
// gap-free, with a signed head.
func (s *Sim) checkChains(r *replica) {
	rep, err := oplog.Verify(r.log)
	switch {
	case err != nil:
		s.failf("verify %s: %v", r.name, err)
	case !rep.OK():
		s.res.Gaps++
		s.failf("gaps/chain: %s: %s at %v", r.name, rep.Break, rep.BreakAt)
	}
}
