package linkemu

import "time"

// maxPacketQueueBytes is the emulated modem's datagram queue per direction:
// a datagram that would wait behind more than this many bytes is dropped.
const maxPacketQueueBytes = 64 << 10

// Packet decides the fate of one datagram with n bytes of payload sent now
// in direction dir. It returns ok=false if the datagram is dropped: the link
// is down, the direction's queue is full, or an IP fragment of it is lost.
// Otherwise the caller delivers it after the returned delay, which covers
// waiting behind earlier traffic, serialisation at the link's rate, half
// the RTT and jitter. The datagram's wire bytes (payload, UDP/IP headers,
// one IP header per extra fragment) are counted even when it is lost in
// transit, and it occupies the link like stream traffic does. Packet does
// not block and is safe for concurrent use.
func (l *Link) Packet(dir Direction, n int) (deliverAfter time.Duration, ok bool) {
	dir.check()
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.mu.stats.dir(dir)
	s.Packets++
	if up, _ := l.stateLocked(now); !up {
		s.PacketsCut++
		s.PacketsDropped++
		return 0, false
	}
	wire, frags := udpWire(max(n, 0))
	rate := l.mu.prof.Rate(dir)
	start := later(l.mu.busy[dir], now)
	if n > maxUDPPayload || queuedBytes(start.Sub(now), rate)+wire > maxPacketQueueBytes {
		s.PacketsOverflow++
		s.PacketsDropped++
		return 0, false
	}
	end := start.Add(txTime(wire, rate))
	l.mu.busy[dir] = end
	s.WireBytes += int64(wire)
	s.PacketPayloadBytes += int64(n)
	if l.lostLocked(frags) {
		s.PacketsLost++
		s.PacketsDropped++
		return 0, false
	}
	return end.Sub(now) + l.mu.prof.RTT/2 + l.packetJitterLocked(), true
}

// lostLocked draws the loss of each of frags IP fragments.
func (l *Link) lostLocked(frags int) bool {
	lost := false
	for range frags {
		if l.mu.prof.Loss > 0 && l.mu.pktRng.Float64() < l.mu.prof.Loss {
			lost = true
		}
	}
	return lost
}

func (l *Link) packetJitterLocked() time.Duration {
	if j := l.mu.prof.Jitter; j > 0 {
		return time.Duration(l.mu.pktRng.Int64N(int64(j)))
	}
	return 0
}

// queuedBytes converts a queueing delay on a link of rate bit/s to bytes.
func queuedBytes(d time.Duration, rate int64) int {
	if rate <= 0 || d <= 0 {
		return 0
	}
	return int(int64(d) * rate / 8 / int64(time.Second))
}
