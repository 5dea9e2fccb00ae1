package gossip

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"fieldsync/replication"
)

// The reconnect loop (LIBRARIES.md pitfall 7; memberlist#222; serf's
// reconnect). memberlist stops probing a member it declared dead, forgets
// it after GossipToTheDeadTime and never joins it again by itself, so a
// partition longer than that is permanent without help. The loop keeps
// every peer it has seen (persisted through Config.Peers) and the seeds,
// and every ReconnectInterval (jittered) joins those that memberlist does
// not list as alive or suspect, each with its own exponential backoff, so
// that one unreachable laptop never delays the hub. Joins run in their own
// goroutines, a few at a time: each may block for TCPTimeout.

// peerSaveEvery is how often the LastSeen of a peer that stays alive is
// saved again (a save is a disk write on the caller's side).
const peerSaveEvery = 10 * time.Minute

// peerState is one reconnect candidate.
type peerState struct {
	name     string
	addr     string // last address seen or loaded
	seedAddr string // the configured seed address, if a seed
	seed     bool
	lastSeen time.Time
	savedAt  time.Time
	backoff  time.Duration
	next     time.Time // no attempt before this
	inFlight bool
	failures int // joins failed in a row
}

// initPeers fills the candidate list from the seeds and the stored peers.
func (p *Pool) initPeers(known []KnownPeer) {
	now := p.cfg.Clock.Now()
	for _, s := range p.cfg.Seeds {
		name, addr, _ := splitSeed(s) // validated by withDefaults
		if name == p.cfg.Name {
			continue
		}
		p.mu.peers[name] = &peerState{name: name, addr: addr, seedAddr: addr, seed: true, lastSeen: now}
	}
	if p.cfg.RefreshInterval > 0 {
		p.mu.nextRefresh = now.Add(jitter(p.cfg.RefreshInterval))
	}
	for _, k := range known {
		if k.Name == "" || k.Name == p.cfg.Name || len(p.mu.peers) >= maxKnownPeers {
			continue
		}
		if _, _, err := splitSeed(k.Name + "/" + k.Addr); err != nil {
			p.log.Warn("gossip: ignoring stored peer", "peer", k.Name, "err", err)
			continue
		}
		ps := p.mu.peers[k.Name]
		if ps == nil {
			ps = &peerState{name: k.Name}
			p.mu.peers[k.Name] = ps
		}
		ps.addr, ps.lastSeen, ps.savedAt = k.Addr, k.LastSeen, k.LastSeen
		if ps.lastSeen.IsZero() {
			ps.lastSeen = now
		}
	}
}

// notePeerLocked records that name is alive at addr, resets its backoff
// and marks it to be saved.
func (p *Pool) notePeerLocked(name, addr string, now time.Time) {
	ps := p.mu.peers[name]
	if ps == nil {
		if len(p.mu.peers) >= maxKnownPeers {
			return
		}
		ps = &peerState{name: name}
		p.mu.peers[name] = ps
	}
	moved := ps.addr != addr
	ps.addr, ps.lastSeen = addr, now
	ps.backoff, ps.next = 0, time.Time{}
	if moved || now.Sub(ps.savedAt) >= peerSaveEvery {
		ps.savedAt = now
		p.mu.dirty[name] = KnownPeer{Name: name, Addr: addr, LastSeen: now}
	}
}

func (p *Pool) runReconnect() {
	defer p.wg.Done()
	sem := make(chan struct{}, maxJoinsInFlight)
	for {
		p.reconnectRound(sem)
		p.savePeers()
		p.prune()
		wait := jitter(p.cfg.ReconnectInterval)
		p.mu.Lock()
		now := p.cfg.Clock.Now()
		for _, at := range []time.Time{p.mu.refreshAt, p.mu.nextRefresh} {
			if !at.IsZero() {
				wait = min(wait, max(at.Sub(now), 0))
			}
		}
		p.mu.Unlock()
		c, stop := p.cfg.Clock.NewTimer(wait)
		select {
		case <-p.stop:
			stop()
			return
		case <-p.kick:
			stop()
		case <-c:
		}
	}
}

// joinJob is one join the reconnect loop starts.
type joinJob struct {
	ps      *peerState
	targets []string // "name/host:port"
}

// reconnectRound starts joins to the peers that are due: not alive,
// past their backoff, seen within ReconnectTimeout (seeds always), and
// not laptops that only dial out (dialsOut). Every
// RefreshInterval it also rejoins the alive seeds, and when a peer holds
// a stale address for us (see conflictDelegate) every alive peer, once.
func (p *Pool) reconnectRound(sem chan struct{}) {
	if p.left.Load() || p.closed.Load() {
		return
	}
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	refreshAll := !p.mu.refreshAt.IsZero() && !now.Before(p.mu.refreshAt)
	if refreshAll {
		p.mu.refreshAt = time.Time{}
	}
	refreshSeeds := !p.mu.nextRefresh.IsZero() && !now.Before(p.mu.nextRefresh)
	if refreshSeeds {
		p.mu.nextRefresh = now.Add(jitter(p.cfg.RefreshInterval))
	}
	cands := make([]*peerState, 0, len(p.mu.peers))
	for _, ps := range p.mu.peers {
		if ps.inFlight {
			continue
		}
		if ms := p.mu.members[ps.name]; ms != nil && ms.state == StateAlive {
			p.notePeerLocked(ps.name, ms.addr, now)
			if refreshAll || (refreshSeeds && ps.seed) {
				cands = append(cands, ps)
			}
			continue
		}
		if now.Before(ps.next) || (!ps.seed && now.Sub(ps.lastSeen) > p.cfg.ReconnectTimeout) {
			continue
		}
		if ms := p.mu.members[ps.name]; !ps.seed && ms != nil && dialsOut(ms.meta) {
			continue // it rejoins us: the side that can dial, dials
		}
		cands = append(cands, ps)
	}
	slices.SortFunc(cands, func(a, b *peerState) int { return a.next.Compare(b.next) })
	var jobs []joinJob
	for _, ps := range cands[:min(len(cands), maxJoinsPerRound)] {
		ps.inFlight = true
		jobs = append(jobs, joinJob{ps: ps, targets: ps.targets()})
	}
	p.mu.Unlock()
	for _, j := range jobs {
		p.wg.Add(1)
		go p.join(j, sem)
	}
}

// dialsOut reports whether a member's metadata says it only dials out: a
// laptop with no sync address, typically behind carrier NAT, which no one
// can reach. The reconnect loop leaves rejoining to it.
func dialsOut(m Meta) bool { return m.Role == replication.RoleNode && m.SyncAddr == "" }

// targets returns the addresses to try for ps, the last seen first.
func (ps *peerState) targets() []string {
	addrs := []string{ps.addr}
	if ps.seedAddr != "" && ps.seedAddr != ps.addr {
		addrs = append(addrs, ps.seedAddr)
	}
	var out []string
	for _, a := range addrs {
		if a != "" {
			out = append(out, ps.name+"/"+a)
		}
	}
	return out
}

// join runs one join (waiting for a slot) and schedules the peer's next
// attempt: after ReconnectInterval on success, after a doubled, jittered
// backoff capped at ReconnectMaxBackoff on failure.
func (p *Pool) join(j joinJob, sem chan struct{}) {
	defer p.wg.Done()
	select {
	case sem <- struct{}{}:
	case <-p.stop:
		p.mu.Lock()
		j.ps.inFlight = false
		p.mu.Unlock()
		return
	}
	n, err := p.ml.Join(j.targets)
	<-sem
	p.joins.Add(1)
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	ps := j.ps
	ps.inFlight = false
	if err == nil && n > 0 {
		if ps.failures > 0 && ps.seed {
			p.log.Info("gossip: joined the pool", "cause", "gossip-join", "peer", ps.name, "after_failures", ps.failures)
		}
		ps.backoff, ps.failures = 0, 0
		ps.next = now.Add(p.cfg.ReconnectInterval)
		p.log.Debug("gossip: joined", "peer", ps.name, "targets", j.targets)
		return
	}
	p.joinFailures.Add(1)
	ps.failures++
	ps.backoff = min(max(2*ps.backoff, p.cfg.ReconnectInterval), p.cfg.ReconnectMaxBackoff)
	ps.next = now.Add(jitter(ps.backoff))
	p.logJoinFailure(ps, j.targets, err)
}

// logJoinFailure tells the operator a join fails: for a seed, at WARN on
// the 1st, 2nd, 4th… failure in a row (a laptop away from its hub for
// days writes a few lines), with what the error points to; for other
// peers, and in between, at DEBUG.
func (p *Pool) logJoinFailure(ps *peerState, targets []string, err error) {
	msg := "gossip: cannot join the pool through this peer"
	if err != nil {
		switch e := err.Error(); {
		case strings.Contains(e, "decrypt"), strings.Contains(e, "label"), strings.Contains(e, "encrypt"):
			msg = "gossip: cannot join the pool: the peer does not share this pool's key (or name): check the key file and name given to --pool (the same for every member of the pool)"
		case strings.Contains(e, "refused"), strings.Contains(e, "timeout"), strings.Contains(e, "no route"), strings.Contains(e, "unreachable"):
			msg = "gossip: cannot join the pool: the peer does not answer (down, or the link is)"
		}
	}
	if ps.seed && ps.failures&(ps.failures-1) == 0 {
		p.log.Warn(msg, "cause", "gossip-join", "peer", ps.name, "targets", targets, "failures_in_a_row", ps.failures, "retry_in", ps.backoff, "err", err)
		return
	}
	p.log.Debug(msg, "peer", ps.name, "targets", targets, "failures_in_a_row", ps.failures, "retry_in", ps.backoff, "err", err)
}

// savePeers hands the peers marked dirty to the PeerStore.
func (p *Pool) savePeers() {
	p.mu.Lock()
	dirty := p.mu.dirty
	p.mu.dirty = make(map[string]KnownPeer)
	p.mu.Unlock()
	if p.cfg.Peers == nil {
		return
	}
	for _, k := range dirty {
		if err := p.cfg.Peers.SavePeer(k); err != nil {
			p.log.Warn("gossip: cannot save peer", "peer", k.Name, "err", err)
		}
	}
}

// prune forgets members dead or left for longer than departedRetention,
// with their heads.
func (p *Pool) prune() {
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, ms := range p.mu.members {
		if (ms.state == StateDead || ms.state == StateLeft) && now.Sub(ms.changed) > departedRetention {
			delete(p.mu.members, name)
			p.mu.heads.forget(name)
		}
	}
}

// jitter returns d ± reconnectJitter.
func jitter(d time.Duration) time.Duration {
	f := 1 + reconnectJitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}
