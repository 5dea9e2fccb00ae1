// Package syncnet runs the pure sync protocol (syncproto) over a real
// connection: frames through the wire codec, a reader goroutine, ticks
// from the injected clock, every received batch written to the log before
// it is acknowledged, and a close after both sides have been idle for a
// while, so a metered link carries nothing between syncs.
//
//	res, err := syncnet.Run(ctx, conn, syncnet.Options{Proto: cfg, Log: log, Codec: codec})
//	// res.Complete: everything was exchanged; res.BytesIn/BytesOut, res.Proto
//
// The connection is a plain TCP stream the dialing side opened (on a thin
// link the side that can dial — the laptop behind carrier NAT — dials),
// possibly wrapped in TLS and in the link emulator. memberlist is not used
// for bulk data: see package gossip for the measurement behind that choice.
//
// A cut connection loses at most the batch that was partly across the
// link: batches fully received were persisted with the heads that the next
// session's summary reports, so that session resumes exactly there.
//
// The connection carries segments (mux.go): the bytes of this side's zstd
// stream, and beside it the blob lane's chunks as raw frames, each
// compressed by itself only when that makes it smaller — image bytes
// gain nothing in the stream and would push the records out of its
// window. A chunk received is written and synced (syncproto.BlobWriters)
// before it is acknowledged, and what was received when a session ends is
// written before it closes, so a cut loses only the chunk partly across.
// The blob window follows the link: one chunk plus the rate × round trip
// (the round trip from this side's summary to the peer's blob status, the
// rate from earlier sessions or the chunks' own pace). On a link faster
// than 256 KB/s (a LAN, a district's fibre) the receiver's syncs, not the
// link, bound the rate: the window then probes upward, doubling while
// each doubling raises the rate by 15% (at most 31 chunks); a thin link
// never probes. The session loop steps every message that has arrived
// before it writes, so the chunks of a blob that came in during one sync
// go to the store, and are synced, together.
//
// Liveness is what arrives. A session that waits on its peer (a batch not
// yet acknowledged, a transfer under way) and has received nothing for
// LivenessTimeout (30 s) ends with ErrPeerSilent; a write that takes no
// byte for as long fails (writes go out in 4 KiB pieces, each with its
// own deadline). A side receiving a frame that has sent nothing for
// KeepaliveEvery (10 s) sends a keepalive — an empty ack, which changes
// nothing at the peer — so a sender of a long frame hears the link works.
// A silent cut (packets dropped, no reset) is so noticed within 30 s,
// instead of at TCP's retransmission timeout and IOTimeout (minutes).
package syncnet
