package linkemu

import (
	"context"
	"fmt"
	"time"
)

// Silent cuts. Cut resets every connection at once, as a modem that lost
// its carrier does on most phones; a link can also go silent instead — a
// cable pulled upstream, a firewall dropping packets, a cell that stops
// forwarding — and then nothing tells the ends. Drop emulates that: until
// Heal (or Cut or FollowSchedule), nothing crosses the link either way
// and nothing is reset. Each direction that had data outstanding resumes
// at TCP's next retransmission after the link returns (its timer doubles
// from 1 s during the silence, to at most 120 s: so a connection stalled
// for 120 s resumes up to a minute after the link is back); one that was
// idle resumes at once. A dial through Dialer during the silence sends
// its SYN at 1, 3, 7, 15, 31 and 63 s (Linux's SYN retries) and connects
// at the first of those the link is back, or gives up after 127 s, as a
// kernel does; its context bounds it as usual.

// Retransmission timing of a silent cut.
const (
	rtoInitial = time.Second
	rtoMax     = 120 * time.Second
)

// synRetries are when a SYN is sent again after a connect began (Linux,
// tcp_syn_retries = 6); the last entry is when the connect gives up.
var synRetries = []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second, 31 * time.Second, 63 * time.Second, 127 * time.Second}

// Drop makes the link silent: nothing crosses it, nothing is reset, until
// Heal, Cut or FollowSchedule.
func (l *Link) Drop() {
	l.mu.Lock()
	l.mu.dropping = true
	l.mu.Unlock()
}

// Dropping reports whether the link is silent now (Drop).
func (l *Link) Dropping() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.dropping
}

// endDrop ends a silent cut (Heal, Cut, FollowSchedule) and wakes every
// connection so that it resumes on its retransmission timer.
func (l *Link) endDrop() {
	l.mu.Lock()
	was := l.mu.dropping
	l.mu.dropping = false
	l.mu.healedAt = l.clock.Now()
	victims := make([]*session, 0, len(l.mu.sessions))
	for s := range l.mu.sessions {
		victims = append(victims, s)
	}
	l.mu.Unlock()
	if !was {
		return
	}
	for _, s := range victims {
		for _, p := range s.pipes {
			notify(p.dataCh)
		}
	}
}

// resumeAfter is when a direction stalled since stalled, by a silence
// that ended at healed, sends again: the first retransmission at or
// after healed on a timer doubling from rtoInitial up to rtoMax.
func resumeAfter(stalled, healed time.Time) time.Time {
	at, rto := stalled.Add(rtoInitial), rtoInitial
	for at.Before(healed) {
		rto = min(2*rto, rtoMax)
		at = at.Add(rto)
	}
	return at
}

// silentLocked handles a silent cut for one pipe at now (p.mu held): it
// reports whether the pipe must wait, and until when (zero: until woken).
func (p *pipe) silentLocked(now time.Time) (wait bool, until time.Time) {
	l := p.s.link
	l.mu.Lock()
	dropping, healed := l.mu.dropping, l.mu.healedAt
	l.mu.Unlock()
	outstanding := len(p.mu.pending) > 0 || len(p.mu.flight) > 0 || len(p.mu.rtx) > 0
	if dropping {
		if outstanding && p.mu.stalled.IsZero() {
			p.mu.stalled = now
		}
		return true, time.Time{}
	}
	if !p.mu.stalled.IsZero() {
		if at := resumeAfter(p.mu.stalled, healed); at.After(now) {
			return true, at
		}
		p.mu.stalled = time.Time{}
		// What was in flight arrives with the retransmission, not before.
		for _, seg := range p.mu.flight {
			if !seg.arrive.IsZero() && seg.arrive.Before(now) {
				seg.arrive = now.Add(p.s.link.Profile().RTT / 2)
			}
		}
	}
	return false, time.Time{}
}

// waitSYN holds a dial while the link is silent, as a kernel retrying its
// SYN does: it returns when a retry finds the link back, or an error.
func (l *Link) waitSYN(ctx context.Context, addr string) error {
	start := l.clock.Now()
	for i, at := range synRetries {
		if err := l.sleep(ctx, start.Add(at).Sub(l.clock.Now())); err != nil {
			return fmt.Errorf("linkemu: dial %s: %w", addr, err)
		}
		if !l.Dropping() {
			return nil
		}
		if i == len(synRetries)-1 {
			break
		}
	}
	return fmt.Errorf("linkemu: dial %s: connection timed out (no answer to %d SYNs)", addr, len(synRetries)-1)
}
