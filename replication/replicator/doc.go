// Package replicator runs a replica's sync sessions over the network: the
// runtime shared by the field-node and hub daemons.
//
//	r, _ := replicator.New(replicator.Config{Dir: dir, Listener: ln, Static: []string{parentAddr}, Pools: pools})
//	go r.Run(ctx)
//	r.Wake()            // after a capture: it goes out at the next contact
//	peers, _ := r.Peers() // per peer: last contact, their heads, backlog, rate, drain time
//
// Who dials whom: the side that can dial, dials. A laptop behind carrier NAT
// dials its hub (static parent address or a hub its gossip pool shows) and,
// of two laptops, the one with the smaller name dials the other; a hub dials
// hubs of a higher tier; nobody dials a laptop. A target is contacted when
// something is known to be exchangeable (a backlog for it, or gossip showing
// it holds more), after a local change (batched by WakeDelay), and at least
// every RedialEvery as an anti-entropy floor; failures back off with jitter,
// except that a session that moved entries buys its link 30 redials at
// MinBackoff: a 2G link that just broke is most likely back in seconds,
// and a growing backoff would overshoot the outage.
//
// Batches follow the link: once a rate has been observed on it, a dialed
// session bounds its batches to about 2 s of that rate (never below 64 KB
// uncompressed, never above the configured bound), because a cut loses the
// batches in flight.
//
// With Config.Blobs the sessions run the blob lane (syncproto/blobs.go):
// the replica's blob store (Dir.Blobs), the index of incomplete dossiers
// (Needs), blobs up the hierarchy only (hub tiers ranked by Tiers), chunk
// writes of all sessions through one gate (BlobWriters at a time), and a
// session broken after blob work leaves its target wanted, so a cut in the
// middle of a blob is redialed at once.
//
// Admission (admission.go): an accepted connection is pending until it has
// authenticated, within HandshakeTimeout (10 s), in a pool of its own
// (256, at most 16 per source address; when full, the oldest pending
// connection of the address holding the most is closed), so idle or
// stalled connections from a stranger never hold a session slot. Only an
// authenticated device takes one of the 64 session slots, at most two at a
// time; a new session from a device replaces an older one that has
// received nothing for 5 s.
//
// Liveness and redials: a session that waits on its peer and hears nothing
// for syncnet.Options.LivenessTimeout (30 s) ends; status says the peer is
// unreachable, and its last contact is the last thing received, never
// this side's own sends. Connection attempts are short and staggered (a
// fresh SYN every second, 3 s each) so a link's return is caught within
// about a second, and gossip seeing a failing peer again (alive, or with
// news) abandons an attempt and dials at once. Contact failures are WARN
// lines at the 1st, 2nd, 4th… in a row.
//
// Per peer it keeps the last contact, the peer's heads, bytes and entries
// moved, the wire bytes per entry and the transfer rate observed on that
// link, and the entries it counts out are those the peer says it holds of
// what was sent to it (in an ack, or in a later session's summary when
// the ack was lost in a cut): a resend counts once; from those and the
// current log it computes the backlog (entries and
// bytes the peer still lacks, under the same offer policy the protocol
// uses) and the time to drain it. Peer states are persisted in the log's
// metadata at the end of each session.
package replicator
