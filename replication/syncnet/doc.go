// Package syncnet runs the pure sync protocol (syncproto) over a real
// connection: frames through the delta codec, a reader goroutine, ticks
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
package syncnet
