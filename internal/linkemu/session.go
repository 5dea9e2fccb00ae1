package linkemu

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Stream-shaping limits and TCP constants.
const (
	// maxQueuedBytes bounds, per connection and direction, the bytes read
	// from the sender and not yet delivered; beyond it the emulator stops
	// reading, so the sender's writes block as on a slow link.
	maxQueuedBytes = 256 << 10
	// readChunk is the largest single read from a sender.
	readChunk = 32 << 10
	// maxRetransmits is how many times in a row one segment may be lost
	// before the connection is reset (Linux's tcp_retries2 is 15).
	maxRetransmits = 15
	// maxSegmentsPerStep bounds the segments one shaping step sends, so a
	// fast link cannot starve delivery.
	maxSegmentsPerStep = 256
	// delayedAck is the receiver's delayed-ACK timeout (Linux's minimum).
	delayedAck = 40 * time.Millisecond
	// ackEvery is how many full segments one delayed ACK acknowledges.
	ackEvery = 2
	// dupAcksPerLoss is the duplicate ACKs that trigger a fast retransmit;
	// the loss is detected once that many later segments have been sent.
	dupAcksPerLoss = 3
)

// errClosed ends a session whose ends closed normally.
var errClosed = errors.New("linkemu: connection closed")

// session is one shaped TCP connection between two real connections: the
// end on the dialing side, where Up data comes from, and the end on the
// listening side. Each direction has a pipe with two goroutines.
type session struct {
	link    *Link
	ends    [2]net.Conn // ends[Up] is the dialing side, ends[Down] the listening side
	pipes   [2]*pipe
	closing atomic.Bool // an end was fully closed: errors now end quietly

	once sync.Once
	done chan struct{} // closed by end
	err  error         // why the session ended; set before done closes
}

// newSession joins dialSide and listenSide through l. A non-zero connectAt
// is when the emulated SYN left: the handshake is counted and delays the
// first data by one RTT (Up) and one and a half (Down).
func newSession(l *Link, dialSide, listenSide net.Conn, connectAt time.Time) *session {
	s := &session{link: l, ends: [2]net.Conn{dialSide, listenSide}, done: make(chan struct{})}
	l.mu.Lock()
	id := l.mu.nextID
	l.mu.nextID++
	rtt := l.mu.prof.RTT
	l.mu.Unlock()
	for _, d := range []Direction{Up, Down} {
		s.pipes[d] = &pipe{
			s: s, dir: d, src: s.ends[d], dst: s.ends[d.Reverse()],
			rng:     rand.New(rand.NewPCG(l.seed, 2*id+uint64(d))),
			dataCh:  make(chan struct{}, 1),
			spaceCh: make(chan struct{}, 1),
		}
	}
	if !connectAt.IsZero() {
		s.pipes[Up].notBefore = connectAt.Add(rtt)
		s.pipes[Down].notBefore = connectAt.Add(rtt + rtt/2)
	}
	return s
}

// run shapes the session until both directions finish or it is broken.
func (s *session) run() {
	if !s.link.register(s) {
		s.abort(ErrLinkDown)
		return
	}
	if !s.pipes[Up].notBefore.IsZero() {
		s.link.control(Up, 1, synBytes)
		s.link.control(Down, 1, synBytes)
		s.link.control(Up, 1, TCPHeaderBytes)
	}
	var wg sync.WaitGroup
	for _, p := range s.pipes {
		wg.Go(p.read)
		wg.Go(p.shape)
	}
	wg.Wait()
	for _, c := range s.ends {
		_ = c.Close()
	}
	s.link.unregister(s)
}

// abort resets the session: both real connections are closed with a TCP
// RST, undelivered data is lost.
func (s *session) abort(err error) { s.end(err, true) }

// end ends the session for err, closing both real connections (with an RST
// if rst), once; later calls do nothing.
func (s *session) end(err error, rst bool) {
	s.once.Do(func() {
		s.err = err
		if errors.Is(err, ErrLinkDown) {
			s.link.noteBroken(s) // before the peers can see the reset
		}
		close(s.done)
		for _, c := range s.ends {
			if rst {
				reset(c)
			} else {
				_ = c.Close()
			}
		}
	})
}

// broken returns why the session was reset, or nil if it was not.
func (s *session) broken() error {
	select {
	case <-s.done:
		if s.err != errClosed {
			return s.err
		}
	default:
	}
	return nil
}

// segment is up to one MSS of stream data.
type segment struct {
	data   []byte
	arrive time.Time // when it reaches the receiver; zero while lost
	due    time.Time // when a lost segment is retransmitted
	losses int
}

// pipe shapes one direction of a session: read moves bytes from src into
// pending, shape sends them as segments over the link and writes them to
// dst in order when they arrive.
type pipe struct {
	s         *session
	dir       Direction
	src, dst  net.Conn
	rng       *rand.Rand // loss and jitter draws; used by shape only
	notBefore time.Time  // the handshake: no data before then
	dataCh    chan struct{}
	spaceCh   chan struct{}

	mu struct {
		sync.Mutex
		pending      []byte    // read, not yet sent
		dataSince    time.Time // when pending last became non-empty
		eof          bool      // src has ended
		queued       int       // pending plus in flight
		flight       []*segment
		rtx          []*segment // lost, by due time
		unacked      int        // delivered segments not yet ACKed
		firstUnacked time.Time
		stalled      time.Time // outstanding when a silent cut began (drop.go)
	}
}

// notify wakes a goroutine waiting on c without blocking.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// read copies src into pending while there is room.
func (p *pipe) read() {
	buf := make([]byte, readChunk)
	for {
		room := p.waitRoom()
		if room == 0 {
			return
		}
		n, err := p.src.Read(buf[:min(room, len(buf))])
		if n > 0 {
			p.push(buf[:n])
		}
		if err != nil {
			p.srcEnded(err)
			return
		}
	}
}

// waitRoom blocks until fewer than maxQueuedBytes are queued, and returns
// the room, or 0 if the session ended.
func (p *pipe) waitRoom() int {
	for {
		p.mu.Lock()
		room := maxQueuedBytes - p.mu.queued
		p.mu.Unlock()
		if room > 0 {
			return room
		}
		select {
		case <-p.spaceCh:
		case <-p.s.done:
			return 0
		}
	}
}

func (p *pipe) push(b []byte) {
	now := p.s.link.clock.Now()
	p.mu.Lock()
	if len(p.mu.pending) == 0 {
		p.mu.dataSince = now
	}
	p.mu.pending = append(p.mu.pending, b...)
	p.mu.queued += len(b)
	p.mu.Unlock()
	notify(p.dataCh)
}

// srcEnded handles the end of src: EOF (or an end this session closed) is
// an orderly close, anything else a reset.
func (p *pipe) srcEnded(err error) {
	if !errors.Is(err, io.EOF) && !p.s.closing.Load() {
		p.s.abort(fmt.Errorf("linkemu: %v read: %w", p.dir, err))
		return
	}
	p.mu.Lock()
	p.mu.eof = true
	p.mu.Unlock()
	notify(p.dataCh)
}

// shape sends and delivers until src has ended and everything is delivered.
func (p *pipe) shape() {
	for {
		now := p.s.link.clock.Now()
		out, wake, done, err := p.step(now)
		if err != nil {
			p.s.abort(err)
			return
		}
		if len(out) > 0 {
			if _, err := out.WriteTo(p.dst); err != nil {
				p.dstFailed(err)
				return
			}
			continue
		}
		if done {
			p.finish()
			return
		}
		if !p.wait(now, wake) {
			return
		}
	}
}

// wait blocks until wake (zero: no deadline), new data, or the session's end,
// which it reports as false.
func (p *pipe) wait(now, wake time.Time) bool {
	var fire <-chan time.Time
	if !wake.IsZero() {
		d := wake.Sub(now)
		if d <= 0 {
			return true
		}
		c, stop := p.s.link.clock.NewTimer(d)
		defer stop()
		fire = c
	}
	select {
	case <-fire:
	case <-p.dataCh:
	case <-p.s.done:
		return false
	}
	return true
}

// step sends what the link allows at now and collects what has arrived. It
// returns the bytes to deliver, when to step next (zero: on new data only),
// and whether the direction is finished.
func (p *pipe) step(now time.Time) (net.Buffers, time.Time, bool, error) {
	prof := p.s.link.Profile()
	p.mu.Lock()
	defer p.mu.Unlock()
	if wait, until := p.silentLocked(now); wait {
		return nil, until, false, nil
	}
	wakeTx, err := p.transmitLocked(now, prof)
	if err != nil {
		return nil, time.Time{}, false, err
	}
	out, wakeRx := p.deliverLocked(now)
	done := p.mu.eof && len(p.mu.pending) == 0 && len(p.mu.flight) == 0
	return out, earliest(wakeTx, wakeRx), done, nil
}

// transmitLocked sends segments while the link is free, and returns when
// it should next try (zero: nothing to send).
func (p *pipe) transmitLocked(now time.Time, prof Profile) (time.Time, error) {
	for range maxSegmentsPerStep {
		ready, ok := p.readyLocked()
		if !ok {
			return time.Time{}, nil
		}
		if ready.After(now) {
			return ready, nil
		}
		var seg *segment
		var resend bool
		end, ok := p.s.link.reserve(p.dir, now, ready, func(start time.Time) int {
			seg, resend = p.pickLocked(start, prof.MSS)
			return len(seg.data) + TCPHeaderBytes
		})
		if !ok {
			return end, nil
		}
		if err := p.sentLocked(seg, resend, end, prof); err != nil {
			return time.Time{}, err
		}
	}
	return now, nil
}

// readyLocked returns the earliest time the next segment may start: new
// data once read, a lost segment once its loss is detected, neither before
// the handshake.
func (p *pipe) readyLocked() (time.Time, bool) {
	var t time.Time
	switch {
	case len(p.mu.rtx) > 0 && (len(p.mu.pending) == 0 || p.mu.rtx[0].due.Before(p.mu.dataSince)):
		t = p.mu.rtx[0].due
	case len(p.mu.pending) > 0:
		t = p.mu.dataSince
	default:
		return time.Time{}, false
	}
	return later(t, p.notBefore), true
}

// pickLocked takes the segment to send at start: a lost one that is due
// first, else the next MSS of pending data.
func (p *pipe) pickLocked(start time.Time, mss int) (*segment, bool) {
	if len(p.mu.rtx) > 0 && !p.mu.rtx[0].due.After(start) {
		seg := p.mu.rtx[0]
		p.mu.rtx[0] = nil
		p.mu.rtx = p.mu.rtx[1:]
		return seg, true
	}
	k := min(mss, len(p.mu.pending))
	seg := &segment{data: p.mu.pending[:k:k]}
	p.mu.pending = p.mu.pending[k:]
	if len(p.mu.pending) == 0 {
		p.mu.pending = nil
	}
	p.mu.flight = append(p.mu.flight, seg)
	return seg, false
}

// sentLocked counts a segment whose serialisation ends at end, and decides
// whether it is lost (then it is resent once its loss is detected) or when
// it arrives.
func (p *pipe) sentLocked(seg *segment, resend bool, end time.Time, prof Profile) error {
	n := int64(len(seg.data))
	p.s.link.count(p.dir, func(s *DirStats) {
		if resend {
			s.Retransmits++
			s.RetransmitBytes += n
			return
		}
		s.Segments++
		s.PayloadBytes += n
	})
	if prof.Loss > 0 && p.rng.Float64() < prof.Loss {
		seg.losses++
		if seg.losses > maxRetransmits {
			return fmt.Errorf("linkemu: %v segment lost %d times: %w", p.dir, seg.losses, ErrTooManyRetransmits)
		}
		detect := prof.RTT + dupAcksPerLoss*txTime(prof.MSS+TCPHeaderBytes, prof.Rate(p.dir))
		seg.arrive, seg.due = time.Time{}, end.Add(detect)
		p.mu.rtx = append(p.mu.rtx, seg)
		p.s.link.control(p.dir.Reverse(), dupAcksPerLoss, TCPHeaderBytes)
		return nil
	}
	seg.arrive = end.Add(prof.RTT/2 + p.jitter(prof))
	return nil
}

func (p *pipe) jitter(prof Profile) time.Duration {
	if prof.Jitter <= 0 {
		return 0
	}
	return time.Duration(p.rng.Int64N(int64(prof.Jitter)))
}

// deliverLocked pops the in-order segments that have arrived by now, sends
// the receiver's ACKs, and returns the next arrival or ACK time.
func (p *pipe) deliverLocked(now time.Time) (net.Buffers, time.Time) {
	var out net.Buffers
	n := 0
	for len(p.mu.flight) > 0 {
		h := p.mu.flight[0]
		if h.arrive.IsZero() || h.arrive.After(now) {
			break
		}
		p.ackArrivalLocked(h.arrive)
		out = append(out, h.data)
		n += len(h.data)
		p.mu.flight[0] = nil
		p.mu.flight = p.mu.flight[1:]
	}
	if n > 0 {
		p.mu.queued -= n
		p.s.link.count(p.dir, func(s *DirStats) { s.DeliveredBytes += int64(n) })
		notify(p.spaceCh)
	}
	var wake time.Time
	if p.mu.unacked > 0 {
		ackAt := p.mu.firstUnacked.Add(delayedAck)
		if !now.Before(ackAt) {
			p.ackLocked()
		} else {
			wake = ackAt
		}
	}
	if len(p.mu.flight) > 0 && !p.mu.flight[0].arrive.IsZero() {
		wake = earliest(wake, p.mu.flight[0].arrive)
	}
	return out, wake
}

// ackArrivalLocked runs the receiver's delayed ACK for a segment arriving
// at t: one ACK per ackEvery segments, or delayedAck after a lone one.
func (p *pipe) ackArrivalLocked(t time.Time) {
	if p.mu.unacked > 0 && t.Sub(p.mu.firstUnacked) >= delayedAck {
		p.ackLocked()
	}
	p.mu.unacked++
	if p.mu.unacked == 1 {
		p.mu.firstUnacked = t
	}
	if p.mu.unacked >= ackEvery {
		p.ackLocked()
	}
}

func (p *pipe) ackLocked() {
	p.s.link.control(p.dir.Reverse(), 1, TCPHeaderBytes)
	p.mu.unacked = 0
}

// finish passes on the sender's close once everything is delivered: a
// half-close (FIN) when both ends are TCP, else a full close of dst, after
// which the session winds down quietly.
func (p *pipe) finish() {
	p.mu.Lock()
	if p.mu.unacked > 0 {
		p.ackLocked()
	}
	p.mu.Unlock()
	p.s.link.control(p.dir, 1, TCPHeaderBytes)           // FIN
	p.s.link.control(p.dir.Reverse(), 1, TCPHeaderBytes) // its ACK
	cw, dstHalf := p.dst.(interface{ CloseWrite() error })
	_, srcHalf := p.src.(interface{ CloseRead() error })
	if dstHalf && srcHalf && !p.s.closing.Load() {
		if err := cw.CloseWrite(); err != nil {
			p.s.abort(fmt.Errorf("linkemu: %v close: %w", p.dir, err))
		}
		return
	}
	p.s.closing.Store(true)
	_ = p.dst.Close()
}

// dstFailed handles a failed delivery: a reset, unless the session is
// already closing, when the receiver is simply gone.
func (p *pipe) dstFailed(err error) {
	if p.s.closing.Load() {
		p.s.end(errClosed, false)
		return
	}
	p.s.abort(fmt.Errorf("linkemu: %v write: %w", p.dir, err))
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
