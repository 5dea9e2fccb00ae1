package sim

import (
	"encoding/binary"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
)

// The shells' side of restores and clones, as the real ones do it (the
// packages that decide are the real ones: syncproto, epoch, oplog):
//
//   - a rollback of the replica's own origin (syncproto.EventRollback)
//     records a new epoch that re-issues from one past the highest own seq
//     a hub acknowledged with the hash held here, and restarts
//     (runtime/daemon's rollover, replicator.HubAck);
//   - a laptop that ingests a quarantining fork notice naming its own
//     origin does the same from the notice's From (node's forkedHere);
//   - the restart starts the epoch: draws and records it, epoch.Start (or
//     Resume), then switches the recorded epoch and the signer, so the next
//     sessions say the new origin in their Hello (datadir.finishRollover);
//   - hubs turn fork evidence into KindFork notices in their own logs by
//     epoch.Watch's rules (hub/forks.go).
//
// What a real replica keeps on disk is kept in the Mem's metadata, so a
// restored disk image brings its old epoch back, and a clone copies it.
const (
	// metaEpoch is the epoch the replica writes in (config.json's).
	metaEpoch = "sim/epoch"
	// metaRollover is a requested new epoch (datadir's epoch/rollover).
	metaRollover = "sim/rollover"
)

// maxClaims bounds a hub's remembered genesis claims (hub/forks.go's).
const maxClaims = 100_000

// diskEpoch is the epoch a disk records: 1 until a rollover.
func diskEpoch(l *oplog.Mem) uint64 {
	b, err := l.GetMeta(metaEpoch)
	if err != nil || len(b) != 8 {
		return 1
	}
	return binary.BigEndian.Uint64(b)
}

// rolloverReq is what metaRollover records: the origin to leave, the first
// seq of it to re-issue, and the new epoch once drawn.
type rolloverReq struct {
	from        replication.OriginID
	reissueFrom uint64
	epoch       uint64
}

func (q rolloverReq) encode() []byte {
	b := append([]byte(nil), q.from[:]...)
	b = binary.BigEndian.AppendUint64(b, q.reissueFrom)
	return binary.BigEndian.AppendUint64(b, q.epoch)
}

func pendingRollover(l *oplog.Mem) (rolloverReq, bool) {
	var q rolloverReq
	b, err := l.GetMeta(metaRollover)
	if err != nil || len(b) != replication.OriginIDSize+16 {
		return q, false
	}
	copy(q.from[:], b)
	q.reissueFrom = binary.BigEndian.Uint64(b[replication.OriginIDSize:])
	q.epoch = binary.BigEndian.Uint64(b[replication.OriginIDSize+8:])
	return q, true
}

// requestRollover records a move to a new epoch re-issuing from
// reissueFrom and restarts the replica at once (daemon.NewEpoch: only the
// first request before the restart counts).
func (s *Sim) requestRollover(r *replica, reissueFrom uint64, why string) {
	if s.opt.Bug == BugKeepOldOrigin {
		return
	}
	if _, ok := pendingRollover(r.log); ok {
		return
	}
	q := rolloverReq{from: r.signer.Origin(), reissueFrom: reissueFrom}
	if err := r.log.PutMeta(oplog.KV{Key: metaRollover, Value: q.encode()}); err != nil {
		s.failf("%s: record a new epoch: %v", r.name, err)
		return
	}
	r.rolling = true
	s.log("%s leaves origin %s (%s): new epoch, re-issue from seq %d, restart", r.name, s.originName(q.from), why, reissueFrom)
	fmt.Fprintf(s.trace, "rollover-request %d %s %d\n", s.now, r.name, reissueFrom)
	s.at(s.now, func() {
		if !r.alive || !r.rolling {
			return // crashed or restored meanwhile: its next start decides
		}
		s.down(r)
		s.after(1, func() { s.restart(r) })
	})
}

// rolledBack is the shell's answer to a rollback of its own origin.
func (s *Sim) rolledBack(r, peer *replica, ev syncproto.Event) {
	s.forks.detect(s, ev.Origin, "rollback at "+r.name)
	// Everything is re-issued (daemon.rollover): what one hub acknowledged
	// may be a branch another hub's fork notice later sets aside.
	s.requestRollover(r, 2, fmt.Sprintf("%s holds seq %d of it: %s", peer.name, ev.Seq, ev.Detail))
}

// finishRollover starts a requested epoch at a restart: the epoch is drawn
// and recorded first, then the genesis and re-issues (epoch.Start, or
// Resume when the genesis is written), then the recorded epoch switches
// and the request is cleared in one write.
func (s *Sim) finishRollover(r *replica) error {
	q, ok := pendingRollover(r.log)
	if !ok {
		return nil
	}
	if q.epoch == 0 {
		q.epoch = s.drawEpoch(r)
		if err := r.log.PutMeta(oplog.KV{Key: metaRollover, Value: q.encode()}); err != nil {
			return err
		}
	}
	next := r.key.WithEpoch(q.epoch)
	hlc := func() replication.HLC { return r.hlc.Next(r.clock.Now()) }
	head, err := r.log.Head(next.Origin())
	if err != nil {
		return err
	}
	if head.Seq > 0 {
		_, err = epoch.Resume(r.log, next, hlc)
	} else if r.signer.Origin() != q.from {
		err = fmt.Errorf("the disk's epoch names origin %s, the request %s", r.signer.Origin().Short(), q.from.Short())
	} else {
		_, err = epoch.Start(r.log, r.signer, replication.Genesis{Role: r.role, Tier: r.tier, Unit: r.unit}, q.epoch, q.reissueFrom, hlc)
	}
	if err != nil {
		return fmt.Errorf("new epoch for %s: %w", s.originName(q.from), err)
	}
	var es []replication.Entry
	if err := r.log.Scan(next.Origin(), head.Seq+1, func(e replication.Entry) bool { es = append(es, e); return true }); err != nil {
		return err
	}
	if err := r.log.PutMeta(oplog.KV{Key: metaEpoch, Value: binary.BigEndian.AppendUint64(nil, q.epoch)}, oplog.KV{Key: metaRollover}); err != nil {
		return err
	}
	r.signer = next
	if r.left == nil {
		r.left = map[replication.OriginID]uint64{}
	}
	r.left[q.from] = max(q.reissueFrom, 2)
	s.nameOrigin(r)
	s.recordAppend(r, es, false)
	s.res.Rollovers++
	if s.forks.restoredOrigin(q.from) {
		s.cover(CovRestoreRolledOver)
	}
	s.log("%s starts origin %s after %s: %d re-issues from seq %d", r.name, s.originName(next.Origin()), s.originName(q.from), max(len(es), 1)-1, q.reissueFrom)
	fmt.Fprintf(s.trace, "rollover %d %s %s %d\n", s.now, r.name, next.Origin().Short(), len(es))
	return nil
}

// drawEpoch draws a new epoch from the seed (datadir draws from
// crypto/rand): never 0 or 1, never the current one.
func (s *Sim) drawEpoch(r *replica) uint64 {
	for {
		if e := s.drng.Uint64(); e > 1 && e != r.signer.Epoch() {
			return e
		}
	}
}

// publishNotice writes a hub's fork notice, once per origin and evidence
// (epoch.Watch.Claim), as hub/forks.go does.
func (s *Sim) publishNotice(r *replica, n epoch.Notice) {
	if s.opt.Bug == BugNoForkNotice || !r.watch.Claim(n) {
		return
	}
	payload, err := n.Encode()
	var es []replication.Entry
	if err == nil {
		d := replication.Draft{Kind: replication.KindFork, Schema: epoch.NoticeSchema, Payload: payload, HLC: r.hlc.Next(r.clock.Now())}
		es, err = r.log.Append(r.signer, []replication.Draft{d})
	}
	if err != nil {
		r.watch.Release(n)
		s.failf("%s: fork notice for %s: %v", r.name, s.originName(n.Origin), err)
		return
	}
	s.recordAppend(r, es, false)
	s.res.Notices++
	if n.Quarantines() {
		s.cover(CovForkQuarantined)
	}
	s.log("%s: fork notice (%s) for origin %s from seq %d, at seq %d", r.name, n.Evidence, s.originName(n.Origin), n.From, n.At)
	fmt.Fprintf(s.trace, "notice %d %s %s %d %d %d\n", s.now, r.name, n.Origin.Short(), n.Evidence, n.From, n.At)
}

// hubIngested runs a hub's fork watch over what it just stored.
func (s *Sim) hubIngested(r *replica, applied []replication.Entry) {
	for _, n := range r.watch.Ingested(r.log, applied) {
		s.forks.detect(s, n.Origin, "genesis evidence at "+r.name)
		s.publishNotice(r, n)
	}
}

// laptopIngested is node's forkedHere: a quarantining notice naming the
// laptop's own origin starts a new epoch re-issuing from its From.
func (s *Sim) laptopIngested(r *replica, applied []replication.Entry) {
	for i := range applied {
		if applied[i].Kind != replication.KindFork {
			continue
		}
		n, err := epoch.DecodeNotice(applied[i].Payload)
		if err == nil && n.Quarantines() && n.Origin == r.signer.Origin() {
			s.requestRollover(r, n.From, "a hub's fork notice names it")
			return
		}
	}
}
