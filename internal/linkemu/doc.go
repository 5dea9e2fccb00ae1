// Package linkemu emulates thin, lossy, intermittent links in userspace, for
// tests, the demo and `fieldsync bench sync`. It is a harness: shipped
// packages never link it (internal/lint). The machines fieldsync runs on
// have no tc netem, so the emulator sits in the path as a TCP proxy, a
// connection wrapper, or a per-datagram decision for memberlist's packets.
//
// # Usage
//
//	link := linkemu.NewLink(linkemu.EDGE, linkemu.WithSeed(7))
//	proxy, err := link.Proxy("127.0.0.1:0", hubAddr) // laptop dials proxy.Addr()
//	...
//	link.Cut()          // break every connection now, refuse new ones
//	link.Heal()         // up again, whatever the schedule says
//	st := link.Stats()  // st.Up.WireBytes: laptop-to-hub bytes on the wire
//	proxy.Close()
//
// Link.WrapConn shapes a connection that already exists, Link.Dialer returns
// a dial function that shapes what it dials, and Link.Packet tells a
// memberlist Transport wrapper whether and when to deliver one datagram;
// Link.Member packages those as one gossip member sees them (it satisfies
// gossip.Link, so the shipped gossip package needs no emulator). All of
// them share the link's capacity, as traffic through one modem does.
//
// # Model
//
// A link has two directions, Up (from the dialing side: laptop to hub) and
// Down. Each direction is a serial line of Profile.Rate bit/s with one
// "busy until" time: a frame of w bytes on the wire occupies it for w*8/rate
// seconds after the previous frame, then arrives RTT/2 (plus a uniform
// random Jitter) later.
// A frame starts when the line frees and its bytes are there, whenever the
// emulator's goroutine gets to it: on a busy machine a late wake-up delays
// delivery but does not idle the emulated line (with a TimeLapse, each
// millisecond late would otherwise be Factor milliseconds of lost link).
//
// TCP streams are cut into segments of at most MSS bytes when the line is
// free, as a TCP sender does, so a bulk transfer sends full segments. Each
// costs its payload plus TCPHeaderBytes (52: IPv4 20, TCP 20, timestamps 12).
// Segments are delivered in order. The receiver sends a 52-byte ACK in the
// reverse direction for every two segments, or 40 ms after a lone one (so
// below about 300 kbit/s, as with Linux, nearly every segment is ACKed).
// The handshake (SYN and SYN-ACK of 60 bytes, ACK of 52) and each FIN and
// its ACK are counted too, and delay the first data by one RTT (Up) or one
// and a half (Down). ACKs and other control packets occupy the line but are
// never lost.
//
// A stream cannot lose bytes, so loss (Profile.Loss, per segment) is modelled
// as TCP recovers from it: the lost segment is detected by three duplicate
// ACKs (counted), one RTT plus three segment times after it was sent, then
// sent again ahead of new data. The retransmission costs its wire bytes
// again and delays the segment and everything behind it. A segment lost more
// than 15 times in a row resets the connection (ErrTooManyRetransmits).
//
// Each proxied or wrapped connection holds at most 256 KiB per direction
// that has been read from the sender and not yet delivered; beyond that the
// emulator stops reading, so the sender's writes block as on a slow link.
// Like a kernel send buffer, this means a Write returns before its data has
// crossed the link: measure transfer times at the receiver.
//
// Datagrams (Link.Packet) share the same lines. A datagram of n bytes costs
// n + UDPHeaderBytes (28), plus 20 bytes per extra IP fragment beyond a
// 1500-byte MTU; it is lost if any fragment is lost, and tail-dropped if
// 64 KiB already wait in its direction. Datagrams may be reordered by jitter.
//
// # Cuts
//
// A Schedule maps the time elapsed since the link's start to up or down:
// AlwaysUp, Periodic, Windows, Outages and the seeded, log-normal
// RandomOutages. Cut, Heal and FollowSchedule override it. When the link goes
// down, every connection through it is reset at once: both real sockets are
// closed with an RST (so the peers see "connection reset", never a clean
// EOF), and data not yet delivered is lost; bytes already sent stay counted.
// While the link is down the proxy accepts a connection and resets it at
// once without dialing the target, rather than letting the dial time out as
// it would behind a real dead modem (SYN retries take minutes): clients must
// treat both alike, and tests stay fast. Link.Dialer fails with ErrLinkDown.
// A datagram's fate is decided when it is sent: one already in flight when
// the link goes down still arrives. Cuts take both directions down together.
//
// Drop is the other kind of cut: silent. Nothing crosses, nothing is reset;
// after Heal each direction with data outstanding resumes at TCP's next
// retransmission (a timer doubling from 1 s up to 120 s), and a dial
// through Dialer during the silence waits for a SYN retry (1, 3, 7, 15, 31,
// 63 s) that finds the link back (drop.go). It is what a firewall dropping
// packets, or a dead upstream behind a live modem, looks like to the ends.
//
// # Approximations
//
// There is no congestion control: the sender keeps the line busy whenever
// it has data, with no slow start and no window reduction after a loss. At
// the thin rates fieldsync plans for the bandwidth-delay product is below
// Linux's initial window of ten segments, so real TCP is rate-limited too,
// except after losses on long-RTT links: by the Mathis et al. bound,
// throughput ≤ MSS/RTT × 1.22/√loss, about 105 kbit/s at 600 ms RTT and 5 %
// loss, 74 kbit/s at 10 %. Above that product of loss and RTT the emulator
// is optimistic about time; its byte counts stay right. Retransmission
// timeouts (tail losses, repeated losses) are modelled like fast
// retransmits, so they are optimistic too. Link-layer framing (PPP, RLC)
// and SACK options are not counted. Time comes from the link's
// replication.Clock, real time unless WithClock says otherwise; with a fake
// clock, proxied data moves only as the fake clock advances. Randomness
// comes from math/rand/v2 PCG sources seeded by WithSeed: the n-th
// connection of a link and the link's datagrams each have their own stream,
// so a run that opens connections in the same order sees the same losses.
//
// # Profiles
//
// DESIGN.md §3 plans for 64-256 kbit/s, 300-800 ms RTT, 1-10 % loss, and
// cuts of hours to days, and links that appear for a few minutes. The
// presets are typical published figures for each technology, not
// measurements of Vietnamese networks:
//
//   - EDGE: 160 kbit/s down, 80 kbit/s up, 600 ms RTT, 100 ms jitter, 2 %
//     loss. EGPRS carries at most 59.2 kbit/s per timeslot (MCS-9); common
//     handsets use 4 slots down and 1-2 up, and field throughput is about
//     two thirds of the peak. EDGE RTTs are 300-1000 ms.
//   - ThreeG: 1 Mbit/s down, 384 kbit/s up (the Release 99 uplink), 200 ms
//     RTT, 30 ms jitter, 1 % loss: HSPA in a rural cell.
//   - Satellite: 256 kbit/s each way, 700 ms RTT, 30 ms jitter, 1 % loss: a
//     geostationary VSAT plan; the propagation alone is about 480 ms.
//   - Intermittent: EDGE up 5 minutes every 2 hours.
//   - Bench128k: 128 kbit/s each way, 300 ms RTT, no loss, always up; the
//     benchmark link, whose loss and schedule the benchmark sets.
//   - Perfect: no shaping, but bytes are counted.
//
// Profile.Accelerate runs a schedule faster for the demo (hours in seconds)
// without changing rates or delays.
package linkemu
