// Package wire is fieldsync's wire codec: it turns the sync protocol's
// messages (Hello, Summary, Batch, Ack, and the blob lane's four) into bounded, checksummed,
// versioned, zstd-compressed frames and back. It does no I/O of its own
// beyond the io.Reader and io.Writer it is handed, and keeps no state
// between frames.
//
// # Usage
//
// One Codec per process, shared by every connection:
//
//	codec, err := wire.NewCodec(wire.DefaultLimits())
//	...
//	// sender: measure a batch while building it, then frame it
//	sz := wire.NewBatchSizer(batchID)
//	... add entries while sz.SizeWith(&e) <= budget ...
//	n, err := codec.WriteFrame(conn, &wire.Batch{ID: batchID, Ranges: ranges})
//
//	// receiver
//	for {
//		m, n, err := codec.ReadFrame(conn)
//		if err == io.EOF { break }        // peer closed between frames
//		if err != nil { ... }             // ErrMalformed/ErrTooLarge: drop the link
//		switch m := m.(type) {
//		case *wire.Batch: ... verify chains, ingest, reply with an *wire.Ack
//		}
//	}
//
// AppendFrame and DecodeFrame do the same on byte slices (DecodeFrame
// returns how many bytes the frame took, so frames can be concatenated).
//
// # The frame
//
//	offset size
//	0      1   version (FrameVersion = 1)
//	1      1   type: 1 hello, 2 summary, 3 batch, 4 ack; the blob lane's
//	           5 blob-status, 6 blob-offer, 7 blob-chunk, 8 blob-ack (blob.go)
//	2      1   algo: 0 stored as is, 1 zstd
//	3      4   uncompressed body length, u32 big endian, 1..MaxBodyBytes
//	7      4   CRC32-Castagnoli of [version][type] + uncompressed body, u32 BE
//	11     4   stored body length, u32 BE (= length if algo 0, < length if 1)
//	15     -   stored body
//
// The CRC also covers the version and type bytes, so that one flipped bit
// in the type cannot get a valid body read as another message. A zstd
// body must be exactly one zstd frame, without dictionary, declaring a
// content size equal to the header's uncompressed length: a decompression
// bomb (a few KB that inflate to a GiB) that hides its size or lies about
// it is refused before decoding, and the decoder writes into a buffer of
// exactly the declared length, which cannot exceed MaxBodyBytes.
//
// # Bodies
//
// Bodies use uvarints for counts, lengths and seqs, and fixed bytes for
// origins, hashes and signatures. Encodings are canonical: varints must be
// minimal, lists sorted where the type says so, flags 0 or 1, no trailing
// bytes. Every body the decoder accepts re-encodes to the same bytes, so
// there is exactly one encoding per message and nothing in it is
// malleable. A batch range sends origin, first seq and previous hash once,
// and per entry only what the chain cannot rebuild (HLC as a delta, kind,
// schema, payload, signature); the decoder rebuilds each Entry in full,
// computing each Prev from the entry before, so a tampered entry breaks
// the chain that replication.VerifyChain checks.
//
// # Compression and hashes
//
// Bodies are compressed with zstd (at the level that gave the smallest
// frames on signed enrollment batches, see encoderLevel; links are 64-256
// kbit/s, so bytes cost more than CPU) only when the result is smaller: small summaries and acks travel as is, since zstd's own header
// would make them bigger. The decoder refuses a zstd body that is not
// smaller, so the choice is part of the format.
//
// Entry hashes and signatures cover each entry's own canonical encoding
// (replication.Entry.Hash), never the compressed bytes, and the frame CRC
// covers the uncompressed body: compressed output differs between zstd
// versions and levels, so nothing that must verify later may depend on it.
// For the same reason canonical form is a property of the body, not of the
// compressed bytes.
//
// # Limits and memory
//
// Every length and count read from the wire is checked against a limit
// (Limits, and the Max* constants) and against the bytes left before
// anything is allocated. Decoding one frame holds at most the stored body
// (ReadFrame only; <= MaxBodyBytes) plus the decompression buffer (the
// declared length, <= MaxBodyBytes, plus at most one 128 KiB zstd block of
// slack), plus the decoded message: payload copies (< body) and ~120
// bytes per entry (<= MaxEntries), 56 per head (<= MaxHeads). The zstd
// decoder adds ~140 KB of scratch once per Codec. A decompression bomb
// costs no more than an honest frame of the length it claims
// (TestDecompressionBomb measures it). The encoder enforces the same
// limits, so a codec never writes what a peer with equal limits
// refuses.
//
// # Errors
//
// Decoders wrap replication.ErrMalformed for input that is not a valid
// frame (a truncated one also wraps io.ErrUnexpectedEOF) and
// replication.ErrTooLarge for input over a limit; the message names the
// field. A frame is rejected whole: no partial batch is returned. Encoders
// wrap ErrInvalidMessage (and replication.ErrBrokenChain for ranges that do
// not link) or replication.ErrTooLarge.
package wire
