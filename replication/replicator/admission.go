package replicator

import (
	"io"
	"net"
	"sync"
)

// Admission of inbound connections. A connection is admitted in two
// steps. Until it has authenticated (the TLS handshake with a roster key;
// in open mode, until it is wrapped), it is pending: pending connections
// have their own small pool, each is bounded by Config.HandshakeTimeout,
// and one address holds at most maxPendingPerAddr of them. When the pool
// or an address's share is full, the oldest pending connection of the
// address holding the most is closed to make room: a handshake of a real
// peer takes a second or two, so the oldest is the one that stalls, and a
// flood must reopen connections faster than real handshakes finish to
// keep one out. Only an authenticated peer takes one of the maxAccepted
// session slots, and holds at most one (a new session from the same device
// replaces its older one, which is most likely dead on a cut link).
//
// Before this, a slot was taken at accept, so 64 idle TCP connections with
// no key held every slot for the 45 s the handshake could take, and a
// laptop's next session waited for them (issue #14, finding 1).
const (
	// maxPending bounds connections accepted and not yet authenticated.
	maxPending = 256
	// maxPendingPerAddr bounds one source address's share of them: a
	// commune's laptops behind one carrier NAT stay well under it.
	maxPendingPerAddr = 16
)

// pendingPool tracks pending connections by source address, oldest first.
// It is the pure part of admission: no sockets, no clock (age is the order
// of admission).
type pendingPool struct {
	mu      sync.Mutex
	max     int
	perAddr int
	byAddr  map[string][]*pending
	total   int
	seq     uint64
	evicted int
}

// pending is one admitted connection waiting to authenticate.
type pending struct {
	addr string
	seq  uint64 // admission order: lower is older
	c    io.Closer
	done bool
}

func newPendingPool(max, perAddr int) *pendingPool {
	return &pendingPool{max: max, perAddr: perAddr, byAddr: map[string][]*pending{}}
}

// admit registers c from addr, closing the connections it displaces (the
// oldest of addr when addr holds its share; otherwise, when the pool is
// full, the oldest of the address holding the most). The caller calls
// release when c has authenticated or failed.
func (p *pendingPool) admit(addr string, c io.Closer) *pending {
	p.mu.Lock()
	var victims []*pending
	if len(p.byAddr[addr]) >= p.perAddr {
		victims = append(victims, p.evictLocked(addr))
	} else if p.total >= p.max {
		victims = append(victims, p.evictLocked(p.fullestLocked()))
	}
	p.seq++
	e := &pending{addr: addr, seq: p.seq, c: c}
	p.byAddr[addr] = append(p.byAddr[addr], e)
	p.total++
	p.mu.Unlock()
	for _, v := range victims {
		v.c.Close() // its handshake fails and it releases itself (a no-op)
	}
	return e
}

// fullestLocked returns the address holding the most pending connections
// (of equals, the one whose oldest is oldest).
func (p *pendingPool) fullestLocked() string {
	best, n, oldest := "", 0, uint64(0)
	for a, es := range p.byAddr {
		if len(es) > n || len(es) == n && es[0].seq < oldest {
			best, n, oldest = a, len(es), es[0].seq
		}
	}
	return best
}

func (p *pendingPool) evictLocked(addr string) *pending {
	es := p.byAddr[addr]
	v := es[0]
	p.removeLocked(v)
	p.evicted++
	return v
}

func (p *pendingPool) removeLocked(e *pending) {
	if e.done {
		return
	}
	e.done = true
	es := p.byAddr[e.addr]
	for i, x := range es {
		if x == e {
			es = append(es[:i], es[i+1:]...)
			break
		}
	}
	if len(es) == 0 {
		delete(p.byAddr, e.addr)
	} else {
		p.byAddr[e.addr] = es
	}
	p.total--
}

// release ends e's pending state (authenticated, failed or evicted).
func (p *pendingPool) release(e *pending) {
	p.mu.Lock()
	p.removeLocked(e)
	p.mu.Unlock()
}

// stats returns the pending count and how many were evicted so far.
func (p *pendingPool) stats() (pending, evicted int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, p.evicted
}

// hostOf is the source address a connection counts against: its IP
// without the port.
func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}
