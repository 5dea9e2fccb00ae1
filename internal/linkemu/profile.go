package linkemu

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Wire overheads and frame limits used to count bytes on the wire.
const (
	// DefaultMSS is the TCP maximum segment size used when Profile.MSS is 0:
	// a 1500-byte IPv4 MTU minus 52 bytes of IP, TCP and timestamp option.
	DefaultMSS = 1448
	// TCPHeaderBytes is the header cost of every TCP segment and pure ACK:
	// 20 (IPv4) + 20 (TCP) + 12 (timestamp option, on by default in Linux,
	// which is why the MSS is 1448 and not 1460).
	TCPHeaderBytes = 52
	// synBytes is the size of a SYN or SYN-ACK: IP and TCP headers plus
	// 20 bytes of options (MSS, SACK-permitted, timestamps, window scale).
	synBytes = 60
	// UDPHeaderBytes is the header cost of a datagram that fits in one IP
	// packet: 20 (IPv4) + 8 (UDP).
	UDPHeaderBytes = 28
	// ipHeaderBytes is the header of each extra IP fragment of a datagram.
	ipHeaderBytes = 20
	// mtuBytes is the IP MTU assumed for fragmenting datagrams.
	mtuBytes = 1500
	// maxUDPPayload is the largest UDP payload over IPv4.
	maxUDPPayload = 65507
	// minMSS and maxMSS bound Profile.MSS.
	minMSS = 64
	maxMSS = 65495
)

// Profile describes one emulated link. The zero value of every field except
// Name means "no shaping" for that aspect: unlimited rate, no delay, no loss,
// always up. Profiles are plain values: copy a preset and change fields.
type Profile struct {
	// Name labels the profile in reports, e.g. "EDGE".
	Name string
	// RateBitsPerSec is the rate of each direction in bit/s; 0 = unlimited.
	RateBitsPerSec int64
	// UpRateBitsPerSec, if > 0, replaces RateBitsPerSec for the Up direction
	// (dialer to listener, laptop to hub): mobile uplinks are slower.
	UpRateBitsPerSec int64
	// RTT is the round-trip propagation delay; each direction adds RTT/2.
	RTT time.Duration
	// Jitter adds a uniform random delay in [0, Jitter) to each frame's
	// one-way delay. Streams stay in order; datagrams may be reordered.
	Jitter time.Duration
	// Loss is the probability in [0, 1] that one IP packet is lost.
	Loss float64
	// MSS is the TCP maximum segment size in bytes; 0 means DefaultMSS.
	MSS int
	// Schedule says when the link is up; nil means AlwaysUp.
	Schedule Schedule
}

// Preset profiles. The figures are typical of the links DESIGN.md §3 plans
// for (64-256 kbit/s, 300-800 ms RTT, 1-10 % loss, cuts of hours to days);
// doc.go says where each comes from. Copy one and change fields as needed.
var (
	// EDGE is a 2G/EDGE link: 160 kbit/s down, 80 kbit/s up, 600 ms RTT,
	// 2 % loss, 100 ms jitter.
	EDGE = Profile{Name: "EDGE", RateBitsPerSec: 160_000, UpRateBitsPerSec: 80_000,
		RTT: 600 * time.Millisecond, Jitter: 100 * time.Millisecond, Loss: 0.02}
	// ThreeG is a 3G (HSPA) link: 1 Mbit/s down, 384 kbit/s up, 200 ms RTT,
	// 1 % loss, 30 ms jitter.
	ThreeG = Profile{Name: "3G", RateBitsPerSec: 1_000_000, UpRateBitsPerSec: 384_000,
		RTT: 200 * time.Millisecond, Jitter: 30 * time.Millisecond, Loss: 0.01}
	// Satellite is a geostationary VSAT link: 256 kbit/s each way, 700 ms
	// RTT, 1 % loss, 30 ms jitter.
	Satellite = Profile{Name: "satellite", RateBitsPerSec: 256_000,
		RTT: 700 * time.Millisecond, Jitter: 30 * time.Millisecond, Loss: 0.01}
	// Intermittent is EDGE that is up 5 minutes every 2 hours.
	Intermittent = Profile{Name: "intermittent", RateBitsPerSec: 160_000, UpRateBitsPerSec: 80_000,
		RTT: 600 * time.Millisecond, Jitter: 100 * time.Millisecond, Loss: 0.02,
		Schedule: Periodic(5*time.Minute, 115*time.Minute)}
	// Bench128k is the benchmark link: 128 kbit/s each way, 300 ms RTT, no
	// loss, no jitter, always up. Callers set Loss and Schedule.
	Bench128k = Profile{Name: "bench128k", RateBitsPerSec: 128_000, RTT: 300 * time.Millisecond}
	// Perfect does no shaping; bytes are still counted.
	Perfect = Profile{Name: "perfect"}
)

// errInvalidProfile is wrapped by Validate.
var errInvalidProfile = errors.New("linkemu: invalid profile")

// Validate checks p and fills zero values: MSS becomes DefaultMSS and a nil
// Schedule becomes AlwaysUp.
func (p *Profile) Validate() error {
	switch {
	case p.RateBitsPerSec < 0 || p.UpRateBitsPerSec < 0:
		return fmt.Errorf("%w: negative rate", errInvalidProfile)
	case p.RTT < 0 || p.Jitter < 0:
		return fmt.Errorf("%w: negative delay", errInvalidProfile)
	case math.IsNaN(p.Loss) || p.Loss < 0 || p.Loss > 1:
		return fmt.Errorf("%w: loss %v not in [0, 1]", errInvalidProfile, p.Loss)
	case p.MSS != 0 && (p.MSS < minMSS || p.MSS > maxMSS):
		return fmt.Errorf("%w: mss %d not in [%d, %d]", errInvalidProfile, p.MSS, minMSS, maxMSS)
	}
	if p.MSS == 0 {
		p.MSS = DefaultMSS
	}
	if p.Schedule == nil {
		p.Schedule = AlwaysUp()
	}
	return nil
}

// Rate returns the rate of direction d in bit/s; 0 means unlimited.
func (p Profile) Rate(d Direction) int64 {
	if d == Up && p.UpRateBitsPerSec > 0 {
		return p.UpRateBitsPerSec
	}
	return p.RateBitsPerSec
}

// Accelerate returns a copy of p whose schedule runs factor times faster:
// "up 5 minutes every 2 hours" accelerated by 720 is up 0.42 s every 10 s.
// Rates, RTT and loss are unchanged. A factor <= 0 returns p unchanged.
func (p Profile) Accelerate(factor float64) Profile {
	if factor <= 0 || factor == 1 {
		return p
	}
	s := p.Schedule
	if s == nil {
		s = AlwaysUp()
	}
	p.Schedule = scaled{inner: s, factor: factor}
	p.Name = fmt.Sprintf("%s x%g", p.Name, factor)
	return p
}

// String describes p in one line, e.g. for benchmark reports.
func (p Profile) String() string {
	sched := "always up"
	if p.Schedule != nil {
		sched = fmt.Sprint(p.Schedule)
	}
	return fmt.Sprintf("%s: down %s up %s, rtt %v, jitter %v, loss %g%%, %s",
		p.Name, rateString(p.Rate(Down)), rateString(p.Rate(Up)), p.RTT, p.Jitter, p.Loss*100, sched)
}

func rateString(bps int64) string {
	if bps == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g kbit/s", float64(bps)/1000)
}

// txTime is how long n bytes occupy a link of rate bit/s (0 = unlimited).
func txTime(n int, rate int64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(int64(n) * 8 * int64(time.Second) / rate)
}

// udpWire returns the bytes on the wire and the IP fragment count of a
// datagram with n bytes of payload.
func udpWire(n int) (wire, frags int) {
	perFrag := mtuBytes - ipHeaderBytes
	frags = (n + UDPHeaderBytes - ipHeaderBytes + perFrag - 1) / perFrag
	frags = max(frags, 1)
	return n + UDPHeaderBytes + (frags-1)*ipHeaderBytes, frags
}
