package sim

import (
	"errors"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/epoch"
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
	Restores       int // laptops put back to an earlier disk image
	Clones         int // laptops whose disk now runs twice
}

// Total returns the number of faults injected.
func (f Faults) Total() int {
	return f.LinkCuts + f.Partitions + f.Isolations + f.Crashes + f.ClockFaults + f.Dropped + f.Duplicated + f.Reordered +
		f.Restores + f.Clones
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
	// The guarantees, each expected to be 0. Forks counts forks no
	// restore or clone explains; ForksAccepted forked origins whose
	// branches stand at different hubs outside any quarantine; Hidden
	// acked entries the province holds only inside a quarantined range.
	Lost, HashMismatch, Dup, Unexpected, Gaps, Forks, Diverged, HLCBackward, ForksAccepted, Hidden int
	// Shortfalls of the design, counted apart (failures with
	// Options.StrictForks). Abandoned: acked captures a restored laptop
	// made after its disk image was taken that reached only other laptops
	// or lost the race to the hubs: the restored laptop no longer holds
	// them, so nothing re-issues them, and the hubs refuse them as a fork
	// (or quarantine them). HiddenRetired: acked entries at the province
	// inside a quarantined range, below the seq their writer's rollover
	// re-issued from (one past what a hub had acknowledged): a rollback
	// moved the writer to a new epoch before it acted on the notice, and
	// laptops act only on notices naming their current origin, so nothing
	// re-issues them.
	Abandoned, HiddenRetired int
	// Restores and clones: ForkIncidents is those whose copies wrote
	// different entries under one (origin, seq); ForksDetected those of
	// them detected (expected equal). Destroyed is acked entries whose only
	// copy a restore overwrote (not counted as lost); Reissued acked
	// entries the province holds as a re-issue only; IngestForks forks
	// found at ingest; Rollovers new epochs started; Notices fork notices
	// written by hubs.
	// ForksVanished: forks of which no two copies remain (a later restore
	// wiped one branch out) and nothing detected: nothing left to detect.
	ForkIncidents, ForksDetected, ForksVanished, Destroyed, Reissued, IngestForks, Rollovers, Notices int
	// Blobs: captured (each saved before its record), moved (committed at
	// a receiver), lost and corrupt (both expected 0: blobs.go), and
	// destroyed by a restore with the only store that held them.
	Blobs, BlobsMoved, BlobsLost, BlobsCorrupt, BlobsDestroyed int
	// BlobsBusy counts blobs refused because another session was
	// receiving them (expected: a laptop and its colleague race).
	// BlobsStranded is a design shortfall, counted apart like Abandoned:
	// blobs of a branch a restore or clone left behind, held only on
	// laptops that cannot deliver them (blobs.go, stranded).
	BlobsBusy, BlobsStranded int
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
	q := s.quarantines()
	s.checkLost(q)
	s.checkBlobs(q)
	s.checkUnexpected()
	s.checkVectors(q)
	s.checkIncidents()
	for _, r := range s.reps {
		s.checkChains(r)
	}
}

// quarantines returns, per origin, the lowest From of the quarantining
// fork notices the province holds: views set its entries aside from there
// (every hub holds the same notices, which the vector check proves).
func (s *Sim) quarantines() map[replication.OriginID]uint64 {
	q := map[replication.OriginID]uint64{}
	for _, h := range append([]*replica{s.prov}, s.hubs...) {
		err := s.prov.log.Scan(h.signer.Origin(), 2, func(e replication.Entry) bool {
			if e.Kind != replication.KindFork {
				return true
			}
			n, err := epoch.DecodeNotice(e.Payload)
			if err != nil {
				s.failf("fork notice %s at the province: %v", s.entryName(e.ID()), err)
				return true
			}
			if from, ok := q[n.Origin]; n.Quarantines() && (!ok || n.From < from) {
				q[n.Origin] = n.From
			}
			return true
		})
		if err != nil {
			s.failf("scan %s at the province: %v", h.name, err)
		}
	}
	return q
}

// visible reports whether views show entry id: outside any quarantine.
func visible(q map[replication.OriginID]uint64, id replication.EntryID) bool {
	from, ok := q[id.Origin]
	return !ok || id.Seq < from
}

// maxExamples bounds the failure lines one checker writes per run; a
// count line follows when it found more.
const maxExamples = 5

// checkLost: every acknowledged entry is at the province, as itself or as
// a re-issue naming it (origin, seq and hash), except those a restore
// destroyed with the only disk that held them. And views can show it: a
// copy inside a quarantined range counts only if a re-issue outside one
// carries it too (Hidden otherwise). The genesis of an origin its writer
// left for a new epoch need not arrive: it carries no capture, and the
// successor's genesis, at the province, names it.
//
// Two shortfalls the design does not cover yet are counted apart, and fail
// the run only with Options.StrictForks (see Result.Abandoned and
// Result.HiddenRetired); any other is a failure.
func (s *Sim) checkLost(q map[replication.OriginID]uint64) {
	reissued := map[entryKey]replication.EntryID{}
	s.reissuesIn(s.prov.log, reissued)
	retired := s.retiredAtProvince()
	for _, a := range s.acked {
		if s.forks.destroyed[a] || a.id.Seq == 1 && retired[a.id.Origin] {
			continue
		}
		rid, viaReissue := reissued[a]
		e, err := s.prov.log.Get(a.id)
		held := err == nil && e.Hash() == a.hash
		switch {
		case held && (visible(q, a.id) || viaReissue && visible(q, rid)):
			continue
		case !held && viaReissue && visible(q, rid):
			s.res.Reissued++
			continue
		case err != nil && !errors.Is(err, oplog.ErrNotFound):
			s.failf("read %s at the province: %v", s.entryName(a.id), err)
			continue
		case err == nil && !held && !s.forks.forkable(a.id.Origin):
			s.res.HashMismatch++
			s.failf("hash mismatch: the province holds %s with hash %s, acked %s", s.entryName(a.id), e.Hash().Short(), a.hash.Short())
			continue
		}
		why := "not at the province"
		switch {
		case held:
			why = "at the province only inside a quarantined range, not re-issued"
		case viaReissue:
			why = fmt.Sprintf("at the province only as re-issue %s, inside a quarantined range", s.entryName(rid))
		case err == nil:
			why = "not at the province (it holds another branch's entry there), nor re-issued"
		}
		s.shortfall(a, held || viaReissue, why)
	}
	for _, c := range []struct {
		n    int
		what string
	}{{s.res.Lost, "lost: %d of %d acked entries are not at the province"}, {s.res.Hidden, "hidden: %d of %d acked entries are at the province only inside quarantined ranges"}} {
		if c.n > maxExamples {
			s.failf(c.what, c.n, len(s.acked))
		}
	}
}

// shortfall classifies an acked entry the province does not show.
func (s *Sim) shortfall(a entryKey, present bool, why string) {
	w := s.writerOf[a]
	switch {
	case s.forks.abandoned[a]:
		s.res.Abandoned++
		if s.opt.StrictForks {
			s.failf("abandoned branch: acked entry %s, left behind by a restore, is %s", s.entryName(a.id), why)
		}
	case present && w != nil && a.id.Seq < w.left[a.id.Origin]:
		s.res.HiddenRetired++
		if s.opt.StrictForks {
			s.failf("hidden after rollover: acked entry %s is %s (%s left the origin re-issuing from seq %d, past it: a hub had it)",
				s.entryName(a.id), why, w.name, w.left[a.id.Origin])
		}
	case present:
		if s.res.Hidden++; s.res.Hidden <= maxExamples {
			s.failf("hidden: acked entry %s is %s", s.entryName(a.id), why)
		}
	default:
		if s.res.Lost++; s.res.Lost <= maxExamples {
			s.failf("lost: acked entry %s (captured at tick %d) is %s", s.entryName(a.id), s.capturedAt[a.id], why)
		}
	}
}

// retiredAtProvince returns the origins that a genesis held at the
// province names as replaced by a new epoch.
func (s *Sim) retiredAtProvince() map[replication.OriginID]bool {
	out := map[replication.OriginID]bool{}
	v, _ := s.prov.log.Vector()
	for _, o := range v.Origins() {
		if g, err := s.prov.log.Get(replication.EntryID{Origin: o, Seq: 1}); err == nil {
			if gen, err := replication.DecodeGenesis(g.Payload); err == nil && gen.PrevOrigin != nil {
				out[*gen.PrevOrigin] = true
			}
		}
	}
	return out
}

// entryName renders an entry as "l3:5 (origin 50d5ef1f)".
func (s *Sim) entryName(id replication.EntryID) string {
	if n, ok := s.originNames[id.Origin]; ok {
		return fmt.Sprintf("%s:%d (origin %s)", n, id.Seq, id.Origin.Short())
	}
	return id.String()
}

// originName renders an origin as "l3#2 (50d5ef1f)".
func (s *Sim) originName(o replication.OriginID) string {
	if n, ok := s.originNames[o]; ok {
		return n + " (" + o.Short() + ")"
	}
	return o.Short()
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
			if !s.created[entryKey{e.ID(), e.Hash()}] {
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
// own (current) head is the province's, on an origin no notice
// quarantines.
//
// A forked origin is the exception: two branches may have reached
// different hubs, and a hub never takes the other branch's entries where
// it holds its own, so the hubs' logs legitimately differ past the fork.
// What views show must still be equal, and views set the origin aside from
// the quarantine's From: so for a quarantined origin the hubs must agree
// below From — each holds seq From-1 with the same hash — and may differ
// from From on. A difference that no quarantine covers is a fork accepted
// (or a divergence, for an origin no nemesis copied).
func (s *Sim) checkVectors(q map[replication.OriginID]uint64) {
	pv, _ := s.prov.log.Vector()
	for _, r := range s.reps {
		v, err := r.log.Vector()
		if err != nil {
			s.failf("%s vector: %v", r.name, err)
			continue
		}
		if r.tier != "" && r != s.prov {
			s.compareHub(r, v, pv, q)
		}
		own := r.signer.Origin()
		if r.tier != "" {
			continue
		}
		if mine, theirs := v[own], pv[own]; mine != theirs {
			s.res.Diverged++
			s.failf("%s's own head is seq %d, the province holds seq %d of it", r.name, mine.Seq, theirs.Seq)
		}
		if from, ok := q[own]; ok {
			s.res.Diverged++
			s.failf("%s still writes origin %s, quarantined from seq %d", r.name, s.originName(own), from)
		}
	}
}

// compareHub compares a district hub's vector with the province's.
func (s *Sim) compareHub(r *replica, v, pv replication.Vector, q map[replication.OriginID]uint64) {
	var differ []replication.OriginID
	for _, o := range v.Clone().Merge(pv).Origins() {
		from, quarantined := q[o]
		if !quarantined {
			if v[o] != pv[o] {
				differ = append(differ, o)
			}
			continue
		}
		if k := from - 1; k >= 1 && (v[o].Seq < k || pv[o].Seq < k || hashAt(r.log, o, k) != hashAt(s.prov.log, o, k)) {
			differ = append(differ, o)
		}
	}
	for _, o := range differ {
		if s.forks.forkable(o) {
			s.res.ForksAccepted++
			s.failf("fork accepted: %s and the province hold origin %s to seq %d and %d, differing where no notice quarantines it (from %d)",
				r.name, s.originName(o), v[o].Seq, pv[o].Seq, q[o])
			continue
		}
		s.res.Diverged++
		s.failf("vectors differ after heal: %s holds %d entries of %d origins, the province %d of %d: %s",
			r.name, v.Total(), len(v), pv.Total(), len(pv), vectorDiff(v, pv))
	}
}

// stillForked reports whether two replicas hold different entries of o at
// one seq (compared where the shorter copy ends: chains that agree there
// agree below).
func (s *Sim) stillForked(o replication.OriginID) bool {
	for i, a := range s.reps {
		ha := headSeq(a.log, o)
		for _, b := range s.reps[i+1:] {
			if k := min(ha, headSeq(b.log, o)); k > 0 && hashAt(a.log, o, k) != hashAt(b.log, o, k) {
				return true
			}
		}
	}
	return false
}

func hashAt(l *oplog.Mem, o replication.OriginID, seq uint64) replication.Hash {
	e, err := l.Get(replication.EntryID{Origin: o, Seq: seq})
	if err != nil {
		return replication.Hash{}
	}
	return e.Hash()
}

// checkIncidents: every restore or clone whose copies wrote different
// entries under one (origin, seq) was detected after it happened — a
// rollback event, a fork found at a hub's ingest, or a genesis notice.
// A fork whose other branch was itself wiped out since (a later restore
// took the only copy) left nothing to detect: it is counted as vanished.
func (s *Sim) checkIncidents() {
	for _, in := range s.forks.incidents {
		if !in.diverged {
			continue
		}
		if !s.forks.detectedSince(in.origin, in.at) && !s.stillForked(in.origin) {
			s.res.ForksVanished++
			continue
		}
		s.res.ForkIncidents++
		if !s.forks.detectedSince(in.origin, in.at) {
			s.failf("undetected: the %s of %s at tick %d forked origin %s at tick %d, and nothing noticed", in.kind, in.rep, in.at,
				s.originName(in.origin), in.divergedAt)
			continue
		}
		s.res.ForksDetected++
		if in.kind == "clone" {
			s.cover(CovCloneDetected)
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
