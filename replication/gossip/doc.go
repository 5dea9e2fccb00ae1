// Package gossip is fieldsync's membership layer, and the only package that
// imports hashicorp/memberlist (v0.7.0). It keeps a pool of members and
// their failure detection, and gossips small digests, so that every member
// knows who holds what and whom to sync with. It does not move data: each
// member advertises the address of its own sync listener in its metadata,
// and the side that can dial opens a dedicated TCP stream to it (package
// syncnet) when the digests differ.
//
// # Walkthrough
//
//	pool, err := gossip.Start(gossip.Config{
//		Name:      "x445-laptop-01",
//		Pool:      "district/445",          // memberlist's Label
//		SecretKey: districtKey,             // 32 bytes, one per pool
//		Profile:   gossip.ProfileField,
//		BindAddr:  overlayIP,               // see "NAT" below
//		Meta: gossip.Meta{Role: replication.RoleNode, Unit: "445",
//			Origin: me, Digest: gossip.VectorDigest(v), Entries: v.Total()},
//		Seeds:  []string{"district-445/10.77.0.1:7946"}, // name/host:port
//		Peers:  peerStore,                  // over the node's Badger log
//		Logger: logger,
//	})
//	defer pool.Shutdown()
//	for ev := range pool.Events() {          // join, leave, update, heads
//		for _, m := range pool.Members() {   // sorted by name
//			if m.State == gossip.StateAlive && m.Meta.SyncAddr != "" && !m.Meta.InSyncWith(mine) {
//				// dial m.Meta.SyncAddr; pool.HeadsOf(m.Name) says what it holds
//			}
//		}
//		if pool.TakeResync() { /* events were dropped: re-read everything */ }
//	}
//	// after an append or an ingest:
//	pool.UpdateMeta(newMeta)                // digest and entry count
//	pool.AnnounceHeads(v.Heads())           // only raised heads travel
//
// Start returns at once: the reconnect loop joins the seeds and the peers
// the PeerStore remembers, from its own goroutine (a join can block for
// TCPTimeout). Leave announces a departure; Shutdown stops without one.
//
// # Pools
//
// A district pool holds a district hub and its communes' laptops; the
// provincial pool holds the provincial hub and the district hubs. A
// district hub is in both: two Pool values in one process, each with its
// own port, key and label (Config.Pool), which never mix (memberlist drops
// packets and streams with another label, and the keys differ anyway).
// Laptops use ProfileField, hub pools ProfileLAN.
//
// # What travels, and how
//
//   - Membership and failure detection: memberlist's SWIM probes (UDP ping
//     and ack; indirect pings through other members when one fails).
//   - Meta, in every alive message: role, tier, unit, sync address, origin,
//     an 8-byte prefix of the member's version-vector digest and its entry
//     count. Two members with equal digests hold the same entries. The
//     encoding is versioned and at most 219 bytes (memberlist panics above
//     512); UpdateMeta refuses longer fields.
//   - Heads announcements (AnnounceHeads): "member M holds origin O up to
//     seq S, hash prefix H", queued as one memberlist NamedBroadcast per
//     (M, O) so that a newer head replaces a queued older one, packed many
//     to a ≤ 1 KB message on the way out, and relayed once by each member
//     that finds one new. The spread is epidemic and best effort: each
//     relayer sends a head 4×⌈log10(N+1)⌉ times to random members, and in
//     tests about 1 member in 100 misses a given head. HeadsOf is a hint.
//   - Push/pull state (LocalState, MergeRemoteState): the member's own
//     heads, at most 16 KiB, exchanged on every join over a TCP stream. The
//     field profile has no periodic push/pull; instead each member rejoins
//     its seeds (its hubs) every RefreshInterval (1 h), which repairs
//     membership and both sides' own heads exactly, and costs about 3 KB.
//   - Leave notices: memberlist tells a delegate that a member is gone but
//     not whether it left or died, so Leave also gossips a small notice.
//
// Nothing else moves. Gossip carries no replay protection and no data: an
// event or a head is only ever a reason to open a sync stream, whose
// summaries are exact (RELIABILITY.md: "never act on gossip beyond a hint
// to sync"). Every decoder of these formats rejects malformed input with
// an error wrapping replication.ErrMalformed or ErrTooLarge and allocates
// no more than its input's size allows; each has a fuzz target.
//
// # The field profile
//
// From memberlist.DefaultWANConfig, slowed for 2G/EDGE and satellite
// links. Failure detection takes minutes, which is all a laptop needs: its
// sync is driven by its own dialing, not by the hub noticing it.
//
//	setting                  value      why
//	ProbeInterval            90 s       each member sends and answers about one ping per interval (~500 B
//	                                    with headers): 90 s keeps a member in sync under 30 KB/h (60 s
//	                                    would be ~32 KB/h with the refresh); failure is seen in minutes
//	ProbeTimeout             10 s       EDGE RTTs are 0.3-1 s, and a ping can queue behind a sync
//	                                    batch on an 80 kbit/s uplink (64 KiB drain in ~6.5 s)
//	IndirectChecks           2          on a failed probe, ask 2 others; on a lossy pool more mostly
//	                                    costs bytes (the others are often cut too)
//	SuspicionMult            6          suspicion lasts 6 × 90 s = 9 min (pools up to 10; longer in bigger
//	                                    ones): time for a member behind a flaky link to refute
//	SuspicionMaxTimeoutMult  2          without confirmations, at most 18 min
//	AwarenessMaxMultiplier   8          (default) a member whose own probes fail slows to 12 min
//	RetransmitMult           4          (WAN default) each broadcast goes out 4×⌈log10(N+1)⌉ times
//	GossipInterval           2 s        memberlist sends nothing when the queues are empty
//	                                    (TestNoGossipWhenQueuesAreEmpty); 2 s packs many heads per packet
//	GossipNodes              3          targets per gossip round
//	GossipToTheDeadTime      10 min     a dead member still hears gossip for 10 min, then is forgotten
//	                                    (the reconnect loop takes over)
//	PushPullInterval         0          no periodic full-state exchange: the hourly refresh with the
//	                                    seeds and the application's sync do anti-entropy
//	TCPTimeout               60 s       a join's push/pull (membership + ≤ 16 KiB of heads) fits with room
//	                                    on an 80 kbit/s uplink; also the dial timeout of a join
//	DisableTcpPingsForNode   non-hubs   TCP fallback pings only towards hubs: free while UDP works,
//	                                    and they keep the hub alive for a NAT'd laptop (below);
//	                                    towards laptops they would only cost handshakes
//	EnableCompression        false      payloads are small or zstd already; LZW on streams expands them
//	DeadNodeReclaimTime      60 s       a member restarted on a new port is accepted back
//	RequireNodeNames         true       joins name their target ("name/host:port")
//	Label, SecretKey         per pool   AES-256-GCM on every packet and stream; another pool's
//	                                    members cannot join (TestForeignMembersCannotJoin)
//	GossipVerifyIncoming/Outgoing true
//	CIDRsAllowed             Config     e.g. the overlay's networks; enforced on every datagram and stream
//	ReconnectInterval        60 s       the reconnect loop's tick (±20 % jitter)
//	ReconnectMaxBackoff      5 min      per-peer backoff cap after failed joins
//	ReconnectTimeout         72 h       stored peers unseen for longer are not retried (seeds always are)
//	RefreshInterval          1 h        rejoin the seeds although alive (about 3 KB)
//	AnnounceInterval         60 s       UpdateMeta and AnnounceHeads are coalesced to one push a minute
//
// ProfileLAN (hub pools) is memberlist.DefaultLANConfig with compression
// off, TCPTimeout 30 s, push/pull every 5 min, GossipToTheDeadTime 5 min,
// DeadNodeReclaimTime 60 s, names required, encrypted. ProfileLocal is
// DefaultLocalConfig for tests on loopback only.
//
// # Idle cost
//
// A laptop in a pool that is in sync costs 22.5-23 KB an hour, sent and
// received (about 9.8 KB each way from 160 packets of failure detection,
// plus one 3-3.5 KB refresh), in pools of 7 and 9 members; the hub about
// 37 and 48 KB/h. For comparison, measured the same way with 7 members:
//
//	preset                                   per laptop, KB/h   sent only
//	field (this package)                     22.5               9.8 (+ refresh)
//	LIBRARIES.md §5 sketch (probe 15 s,      140                70
//	  push/pull 10 min, TCP pings)
//	memberlist DefaultWANConfig              538                270
//	memberlist DefaultLANConfig              2073               1036
//
// (LIBRARIES.md §0.9 counted sent bytes only: LAN ≈ 1.1 MB/h, WAN ≈ 0.3,
// field-tuned ≈ 0.1; these agree.) Laptops behind NAT without an overlay
// cost 18 KB/h on average but up to 27 KB/h, and the hub more (their
// membership churns; below).
//
// Method (MeasureIdle, TestIdleCostField, TestIdleCostPresets with
// GOSSIP_IDLE_ALL=1): a hub and 6 or 8 laptops on loopback, encrypted,
// labelled, with real names and 8 heads each, run the preset with every
// interval and timeout divided by the same factor (100× for the field:
// probes every 900 ms, timeout 100 ms), so a wall-clock second stands for
// 100 real seconds. Once the pool is formed and memberlist's join
// broadcasts have run out, each member's transport counts bytes for the
// window (36 s = one real hour), as estimated wire bytes: UDP payload +
// 28 B per datagram; TCP payload + 52 B per segment, an ACK per burst,
// handshake and teardown (the link emulator's model; they agree within
// 1 %, TestCountingAgreesWithLinkEmulator). bytes/h = bytes × 3600 s /
// (window × factor). One refresh is measured apart and added once per
// RefreshInterval. A busy machine that misses a scaled probe timeout adds
// indirect probes, so the figure errs high. `fieldsync bench idle` runs
// MeasureIdle for the three presets side by side (BENCHMARKS.md).
//
// # NAT
//
// memberlist cannot work across carrier NAT on its own: acks and probes go
// to the address a member advertises, never to where its packets came
// from, and a laptop on a 2G SIM advertises an address nobody can reach.
// The deployment answer is an overlay network with stable addresses
// (LIBRARIES.md §4.1). fieldsync's rule, with or without one, is that the
// side that can dial, dials: laptops dial their hubs' sync addresses; no
// hub ever needs to reach a laptop, and nothing in this package assumes it
// can. Laptops advertise no SyncAddr.
//
// What works for a NAT'd laptop (TestNATedLaptopStillSeesHub): it joins
// its hub outbound (a TCP push/pull answered on the same connection), so
// it learns the hub's metadata, sync address and heads, and the hub learns
// its heads; its own gossip to the hub goes out fine. Its UDP probes of
// the hub go unanswered (the acks go to its advertised address), but the
// TCP fallback ping, allowed towards hubs only, keeps the hub alive in its
// view; without it the view flaps and the reconnect loop rejoins each
// time. What does not work: the hub declares the laptop dead within
// minutes and rejoins it in vain, laptops declare each other dead, and the
// hub's later gossip never reaches the laptop: its view of the hub's heads
// is refreshed hourly or at a rejoin. Membership of NAT'd laptops flaps,
// and that is never data loss: data moves only over sync streams the
// laptop dials, and the hub keeps every entry it acknowledged.
//
// A laptop whose address changes (a modem reconnect) must Shutdown its
// Pool and Start a new one: memberlist fixes the advertised address at
// creation. Peers accept the new address once they have held the old one
// dead for DeadNodeReclaimTime; the restarted member learns of the stale
// address from memberlist's conflict report and rejoins then
// (TestRestartOnNewPort: accepted 0.87 s after the restart with scaled
// timings, 0.85 s being the computed wait).
//
// # Reconnect loop
//
// memberlist forgets a member after a partition longer than suspicion +
// GossipToTheDeadTime and never joins it again by itself (memberlist#222;
// the control case of TestReconnectAfterLongPartition shows it). Like
// serf's reconnect, the loop keeps every peer it has seen (saved through
// Config.Peers from its own goroutine, never from memberlist's) and the
// seeds, and every ReconnectInterval joins those memberlist does not list
// alive, each with its own jittered exponential backoff up to
// ReconnectMaxBackoff, at most 8 per round and 4 at a time, so a dead
// laptop never delays the hub. It never rejoins a laptop that advertises
// no sync address (Role node, empty SyncAddr): such a laptop only dials
// out, and rejoins its hubs itself. In the field profile a silent member is
// declared dead 10-20 min after it goes quiet, and a healed link is used
// again within ReconnectMaxBackoff (5 min) plus jitter, whatever memberlist
// remembers; the laptop's sync does not wait for either.
//
// # Bulk data: a dedicated stream, chosen by measurement
//
// DESIGN.md §3 asked whether bulk deltas should use memberlist's reliable
// channel or a dedicated connection advertised in Meta.SyncAddr.
// MeasureBulk (a test harness, measure_bulk_test.go: TestBulkTransferChoice;
// GOSSIP_BULK_ALL=1 for the matrix)
// sends an incompressible payload from a member behind an emulated
// 128 kbit/s, 300 ms RTT link (internal/linkemu.Bench128k):
//
//	payload  method                TCPTimeout    send returned    received  on the wire  outcome
//	60 KiB   SendReliable          1 s (Local)   0.31 s, nil      never     14 KB        lost silently
//	60 KiB   SendReliable          10, 30, 60 s  0.30 s, nil      4.44 s    66.4 KB      delivered, sender cannot know
//	60 KiB   TCP stream + app ack  -             0.31 s           4.45 s    66.4 KB      confirmed at 4.60 s
//	600 KiB  SendReliable          1 s, 10 s     1.0, 10.0 s, err never     14-163 KB    failed after TCPTimeout
//	600 KiB  SendReliable          30 s (WAN)    23.3 s, nil      never     495 KB       lost silently
//	600 KiB  SendReliable          60 s (field)  23.3 s, nil      40.2 s    659 KB       delivered, sender cannot know
//	600 KiB  TCP stream + app ack  -             23.3 s           40.2 s    659 KB       confirmed at 40.4 s
//
// Bytes and time are the same (1.07-1.08× the payload: headers, ACKs,
// encryption), so the choice is about knowing. SendReliable returns once
// its bytes are in the local buffers; the receiver applies TCPTimeout as a
// deadline for the whole message, so anything that takes longer than
// TCPTimeout to cross (at 128 kbit/s, 60 s carries ~900 KiB; on EDGE's
// 80 kbit/s uplink less, and less again with loss) is dropped by the
// receiver while the sender saw nil. It has no acknowledgement, no resume
// after a cut, and no sender-side write deadline. fieldsync therefore
// moves data only over its own sync stream (advertised as Meta.SyncAddr,
// opened by the side that can dial), with application-level acks per
// bounded batch and resume from the last ack; memberlist carries only
// membership and digests.
//
// # memberlist traps handled here
//
//   - Event and conflict delegates run under memberlist's node lock
//     (memberlist#237, antrea#4469): they only update the Pool's own table
//     and hand events to a buffered channel without blocking (dropping and
//     setting TakeResync when full); no delegate calls a Memberlist method.
//   - The Node given to delegates and returned by Members carries a State
//     field memberlist never updates (its nodeState shadows it), and its
//     fields change under memberlist's lock: the Pool keeps its own table
//     from the events, so StateSuspect is never reported and StateLeft
//     comes from the leave notice.
//   - TransmitLimitedQueue.Prune dereferences a tree built lazily: it is
//     only called on a queue that holds something.
//   - NodeMeta above MetaMaxSize panics: the encoding is bounded at 219
//     bytes and NodeMeta returns nothing rather than more than its limit.
//   - CIDRsAllowed only keeps foreign addresses out of memberlist's member
//     list: it still answers their pings and push/pulls and delivers their
//     messages. The transport drops their datagrams and streams too, and
//     dials from the bind address (TestCIDRsAllowed). The pool key remains
//     the real gate.
//   - MockNetwork hangs once a member stops: every test runs real
//     memberlist over loopback through this package's transport, which
//     counts bytes and, with Config.Link, shapes every datagram (a timer
//     delivers it; memberlist's goroutines never wait) and every stream.
package gossip
