package sim

import (
	"fmt"
	"maps"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
)

// The restore and clone nemeses (RELIABILITY.md G14): IT restores a
// laptop's disk from an image taken days before, or a disk image runs on
// a second laptop. Either way two copies of one log may write different
// entries under one (origin, seq): that must be detected, and no
// acknowledged capture may be lost for it.

// incident is one restore or clone.
type incident struct {
	kind   string // "restore" or "clone"
	rep    string // the restored laptop, or the clone
	origin replication.OriginID
	at     uint64
	// diverged: some copy wrote an entry where another replica held a
	// different one (at divergedAt).
	diverged   bool
	divergedAt uint64
}

// forkBook is what the nemesis caused and what the system noticed.
type forkBook struct {
	incidents []*incident
	byOrigin  map[replication.OriginID][]*incident
	// detected lists, per origin, when a rollback event, a hub's ingest
	// fork or a genesis-evidence notice named it.
	detected map[replication.OriginID][]uint64
	// destroyed: acked entries whose only copy was on a disk a restore
	// overwrote. No system can bring them back; they are counted apart.
	destroyed map[entryKey]bool
	// abandoned: acked captures of a restored laptop that its disk image
	// lacks and that survive on other replicas only — the branch the
	// restore left behind (see Result.Abandoned).
	abandoned map[entryKey]bool
}

func newForkBook() forkBook {
	return forkBook{byOrigin: map[replication.OriginID][]*incident{}, detected: map[replication.OriginID][]uint64{},
		destroyed: map[entryKey]bool{}, abandoned: map[entryKey]bool{}}
}

// forkable reports whether a restore or clone could have forked o: only
// those origins may show forks, rollbacks and notices.
func (b *forkBook) forkable(o replication.OriginID) bool { return len(b.byOrigin[o]) > 0 }

func (b *forkBook) restoredOrigin(o replication.OriginID) bool {
	for _, in := range b.byOrigin[o] {
		if in.kind == "restore" {
			return true
		}
	}
	return false
}

func (b *forkBook) add(s *Sim, in *incident) {
	b.incidents = append(b.incidents, in)
	b.byOrigin[in.origin] = append(b.byOrigin[in.origin], in)
	fmt.Fprintf(s.trace, "%s %d %s %s\n", in.kind, s.now, in.rep, in.origin.Short())
}

func (b *forkBook) detect(s *Sim, o replication.OriginID, how string) {
	if ds := b.detected[o]; len(ds) == 0 || ds[len(ds)-1] != s.now {
		b.detected[o] = append(ds, s.now)
		s.log("fork of origin %s detected: %s", s.originName(o), how)
	}
}

// detectedSince reports whether o was detected at or after tick t.
func (b *forkBook) detectedSince(o replication.OriginID, t uint64) bool {
	ds := b.detected[o]
	return len(ds) > 0 && ds[len(ds)-1] >= t
}

// laptops returns the field laptops, clones included, in creation order.
func (s *Sim) laptops() []*replica {
	var out []*replica
	for _, r := range s.reps {
		if r.role == replication.RoleNode {
			out = append(out, r)
		}
	}
	return out
}

// scheduleRestores plants each restore: an image of a laptop's disk taken
// in the first two thirds of the field days, put back later.
func (s *Sim) scheduleRestores() {
	for range s.opt.Restores {
		imageAt := 1 + s.drng.Uint64N(s.end*2/3)
		restoreAt := imageAt + 1 + s.drng.Uint64N(s.end-imageAt-1)
		s.at(imageAt, func() {
			ls := s.laptops()
			r := ls[s.drng.IntN(len(ls))]
			img := r.log.Snapshot()
			bimg, err := copyBlobs(r.blobs)
			if err != nil {
				s.failf("disk image of %s: blobs: %v", r.name, err)
				return
			}
			s.log("disk image of %s taken (origin %s, %d entries of it)", r.name, s.originName(r.key.WithEpoch(diskEpoch(img)).Origin()), headSeq(img, r.signer.Origin()))
			s.at(restoreAt, func() { s.restore(r, img, bimg) })
		})
	}
}

func headSeq(l *oplog.Mem, o replication.OriginID) uint64 {
	h, _ := l.Head(o)
	return h.Seq
}

// restore puts a disk image back on a laptop and restarts it: it writes
// the image's origin from the image's head on.
func (s *Sim) restore(r *replica, img *oplog.Mem, blobs *blob.Mem) {
	if s.healing {
		return
	}
	s.res.Faults.Restores++
	o := r.key.WithEpoch(diskEpoch(img)).Origin()
	s.log("restore %s from its disk image: origin %s back to seq %d (it held %d of %s)", r.name, s.originName(o), headSeq(img, o),
		headSeq(r.log, r.signer.Origin()), s.originName(r.signer.Origin()))
	if r.alive {
		s.down(r)
	}
	old, oldBlobs := r.log, r.blobs
	r.log, r.blobs = img, blobs
	r.rolling = false
	s.noteDestroyedBlobs(r, oldBlobs)
	// What the image lacks was never applied there: exactly-once counts
	// from the image on.
	for id := range r.applied {
		if id.Seq > headSeq(img, id.Origin) {
			delete(r.applied, id)
		}
	}
	s.noteDestroyed(r, old)
	s.forks.add(s, &incident{kind: "restore", rep: r.name, origin: o, at: s.now})
	s.after(s.restartDelay(), func() { s.restart(r) })
}

// noteDestroyed marks the acked entries the restore took away for good:
// held on the old disk, not in the image, and held nowhere else, neither as
// themselves nor re-issued.
func (s *Sim) noteDestroyed(r *replica, old *oplog.Mem) {
	var gone []entryKey
	for _, a := range s.acked {
		if !s.forks.destroyed[a] && holds(old, a) && !holds(r.log, a) {
			gone = append(gone, a)
		}
	}
	if len(gone) == 0 {
		return
	}
	reissued := map[entryKey]replication.EntryID{}
	for _, x := range s.reps {
		if x != r {
			s.reissuesIn(x.log, reissued)
		}
	}
	for _, a := range gone {
		if _, ok := reissued[a]; ok {
			if s.deviceOf[a.id.Origin] == r.device {
				s.forks.abandoned[a] = true
			}
			continue
		}
		elsewhere := false
		for _, x := range s.reps {
			if x != r && holds(x.log, a) {
				elsewhere = true
				break
			}
		}
		switch {
		case !elsewhere:
			s.forks.destroyed[a] = true
			s.res.Destroyed++
		case s.deviceOf[a.id.Origin] == r.device:
			s.forks.abandoned[a] = true
		}
	}
}

// holds reports whether l holds entry a with its hash.
func holds(l *oplog.Mem, a entryKey) bool {
	if h, _ := l.Head(a.id.Origin); h.Seq < a.id.Seq {
		return false
	}
	e, err := l.Get(a.id)
	return err == nil && e.Hash() == a.hash
}

// reissuesIn adds to into every entry that l's re-issues name, with the
// re-issue's own id.
func (s *Sim) reissuesIn(l *oplog.Mem, into map[entryKey]replication.EntryID) {
	v, _ := l.Vector()
	for _, o := range v.Origins() {
		g, err := l.Get(replication.EntryID{Origin: o, Seq: 1})
		if err != nil {
			continue
		}
		if gen, err := replication.DecodeGenesis(g.Payload); err != nil || gen.PrevOrigin == nil || gen.ReissueFrom == 0 {
			continue
		}
		_ = l.Scan(o, 2, func(e replication.Entry) bool {
			if e.Kind != replication.KindReissue {
				return false // re-issues come first, right after the genesis
			}
			if r, err := epoch.DecodeReissue(e.Payload); err == nil {
				into[entryKey{r.Of, r.Hash}] = e.ID()
			}
			return true
		})
	}
}

// scheduleClones plants each clone at a random time of the field days.
func (s *Sim) scheduleClones() {
	for range s.opt.Clones {
		s.at(s.end/10+s.drng.Uint64N(s.end*7/10), s.cloneSomeone)
	}
}

// cloneSomeone copies a laptop's disk — log, key, epoch — onto a new
// laptop of the same commune, with a field link of its own to the
// laptop's district hub or to the other one (two branches may then reach
// different hubs), capturing from now on.
func (s *Sim) cloneSomeone() {
	if s.healing {
		return
	}
	ls := s.laptops()
	src := ls[s.drng.IntN(len(ls))]
	s.res.Faults.Clones++
	hub := s.hubs[src.district]
	if s.drng.IntN(2) == 0 {
		hub = s.hubs[1-src.district]
	}
	c := &replica{name: fmt.Sprintf("c%d", s.res.Faults.Clones), role: replication.RoleNode, unit: src.unit, district: src.district,
		log: src.log.Snapshot(), key: src.key, device: src.device, applied: maps.Clone(src.applied)}
	c.signer = c.key.WithEpoch(diskEpoch(c.log))
	c.clock = &simClock{s: s}
	var err error
	if c.blobs, err = copyBlobs(src.blobs); err == nil {
		err = c.reopenNeeds()
	}
	if err != nil {
		s.failf("clone of %s: blobs: %v", src.name, err)
		return
	}
	s.reps = append(s.reps, c)
	s.net.AddNode(c.name)
	l := s.addLink(fieldLink, c, hub)
	for _, p := range [][2]string{{c.name, hub.name}, {hub.name, c.name}} {
		s.net.Configure(p[0], p[1], s.linkConfig())
	}
	o := c.signer.Origin()
	s.log("clone %s of %s (origin %s, %d entries of it), linked to %s", c.name, src.name, s.originName(o), headSeq(c.log, o), hub.name)
	s.forks.add(s, &incident{kind: "clone", rep: c.name, origin: o, at: s.now})
	s.restart(c)
	s.after(s.rng.Uint64N(s.downTicks(l)), func() { s.toggleLink(l) })
	s.after(s.nextCapture(), func() { s.capture(c) })
}

// checkDiverged marks the incidents of e's origin diverged when another
// replica holds a different entry at e's seq: from now on two entries
// exist under one (origin, seq), and the system must find out.
func (s *Sim) checkDiverged(r *replica, e *replication.Entry) {
	var open []*incident
	for _, in := range s.forks.byOrigin[e.Origin] {
		if !in.diverged {
			open = append(open, in)
		}
	}
	if len(open) == 0 {
		return
	}
	for _, x := range s.reps {
		if x == r || headSeq(x.log, e.Origin) < e.Seq {
			continue
		}
		if held, err := x.log.Get(e.ID()); err == nil && held.Hash() != e.Hash() {
			for _, in := range open {
				in.diverged, in.divergedAt = true, s.now
			}
			s.log("fork: %s wrote %s, %s holds another entry there", r.name, s.entryName(e.ID()), x.name)
			fmt.Fprintf(s.trace, "diverged %d %s %d\n", s.now, e.Origin.Short(), e.Seq)
			return
		}
	}
}
