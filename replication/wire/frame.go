package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"

	"fieldsync/replication"
)

// Algo says how a frame's body is stored: bit 0 zstd, bit 1 hex packing.
const (
	algoNone    = 0 // stored as is
	algoZstd    = 1 // one zstd frame, strictly smaller than the body
	algoHex     = 2 // hex-packed (hexpack.go), strictly smaller than the body
	algoHexZstd = 3 // hex-packed, then one zstd frame smaller than the packed form
)

// encoderWindow is the zstd window the encoder uses: larger than any
// useful match distance in a batch, small enough for a laptop.
const encoderWindow = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Codec encodes and decodes frames. It holds one zstd encoder and one
// decoder, reused for every frame; it is safe for concurrent use (calls
// share the single encoder and decoder, so they take turns compressing).
// Create one per process with NewCodec.
type Codec struct {
	lim  Limits
	enc  *zstd.Encoder // nil for a stream codec
	dec  *zstd.Decoder
	bufs sync.Pool // *[]byte body scratch
}

// encoderLevel is the zstd level. BenchmarkEncodeBatch measured signed
// batches of ~600-byte JSON enrollments (100 and 500 entries): Better
// gave the smallest frames (~1% below Best, whose matcher gains nothing on
// the hashes and signatures that dominate the compressed bytes) at a fifth
// to a ninth of Best's CPU and allocation. Best won by ~3% only on
// payloads without signatures or hashes. Links are 64-256 kbit/s, so bytes
// decide; revisit with the benchmark if payloads change.
const encoderLevel = zstd.SpeedBetterCompression

// NewCodec returns a codec enforcing l (zero fields take their defaults).
// It fails only on limits out of range.
func NewCodec(l Limits) (*Codec, error) {
	return newCodec(l, encoderLevel)
}

func newCodec(l Limits, level zstd.EncoderLevel) (*Codec, error) {
	l, err := l.withDefaults()
	if err != nil {
		return nil, err
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(encoderWindow),
		zstd.WithSingleSegment(true), // always declare the content size
		zstd.WithEncoderCRC(false))   // the frame's CRC32C covers the body
	if err != nil {
		return nil, fmt.Errorf("wire: zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(uint64(l.MaxBodyBytes)),
		zstd.WithDecoderMaxWindow(uint64(l.MaxBodyBytes)),
		zstd.WithDecodeAllCapLimit(true))
	if err != nil {
		return nil, fmt.Errorf("wire: zstd decoder: %w", err)
	}
	return &Codec{lim: l, enc: enc, dec: dec}, nil
}

// NewStreamCodec returns a codec for frames that travel inside a
// compressed stream (a sync session's zstd stream, see package syncnet):
// it never zstd-compresses a frame itself — compressing twice only adds
// bytes — but still hex-packs. It decodes every frame NewCodec writes.
func NewStreamCodec(l Limits) (*Codec, error) {
	c, err := newCodec(l, encoderLevel)
	if err != nil {
		return nil, err
	}
	c.enc = nil
	return c, nil
}

// Limits returns the limits the codec enforces, defaults filled in.
func (c *Codec) Limits() Limits { return c.lim }

// header is the fixed frame header.
type header struct {
	version, typ, algo byte
	ulen, crc, slen    uint32
}

func parseHeader(b []byte) header {
	return header{
		version: b[0], typ: b[1], algo: b[2],
		ulen: binary.BigEndian.Uint32(b[3:]),
		crc:  binary.BigEndian.Uint32(b[7:]),
		slen: binary.BigEndian.Uint32(b[11:]),
	}
}

func (h header) put(b []byte) {
	b[0], b[1], b[2] = h.version, h.typ, h.algo
	binary.BigEndian.PutUint32(b[3:], h.ulen)
	binary.BigEndian.PutUint32(b[7:], h.crc)
	binary.BigEndian.PutUint32(b[11:], h.slen)
}

// check validates the header alone, before anything is read or allocated
// for the body: afterwards slen <= ulen <= MaxBodyBytes.
func (c *Codec) check(h header) error {
	switch {
	case h.version != FrameVersion:
		return malformed("frame version %d, this build reads %d", h.version, FrameVersion)
	case !MsgType(h.typ).known():
		return malformed("frame type %d unknown", h.typ)
	case h.algo > algoHexZstd:
		return malformed("frame algo %d unknown", h.algo)
	case h.ulen == 0:
		return malformed("frame uncompressed length is 0")
	case uint64(h.ulen) > uint64(c.lim.MaxBodyBytes):
		return tooLarge("frame uncompressed length %d, limit %d", h.ulen, c.lim.MaxBodyBytes)
	case h.algo == algoNone && h.slen != h.ulen:
		return malformed("frame stored length %d, uncompressed length %d: an uncompressed body is stored as is", h.slen, h.ulen)
	case h.algo != algoNone && h.slen >= h.ulen:
		return malformed("frame stored length %d not below uncompressed length %d: packing and zstd are used only when they shrink the body", h.slen, h.ulen)
	}
	return nil
}

// checksum is CRC32-Castagnoli over [version][type] then the uncompressed
// body: a flipped type bit cannot make a valid body pass as another message.
func checksum(typ MsgType, body []byte) uint32 {
	crc := crc32.Update(0, castagnoli, []byte{FrameVersion, byte(typ)})
	return crc32.Update(crc, castagnoli, body)
}

// AppendFrame appends the frame of m to dst. The body is zstd-compressed
// only when that makes it smaller. On error dst is returned unchanged in
// content (its capacity may have grown): errors wrap ErrInvalidMessage,
// replication.ErrBrokenChain (with ErrInvalidMessage) or
// replication.ErrTooLarge.
func (c *Codec) AppendFrame(dst []byte, m Message) ([]byte, error) {
	if isNil(m) {
		return dst, fmt.Errorf("wire: encode: %w", invalid("nil message"))
	}
	bp := c.getBuf()
	defer c.bufs.Put(bp)
	body, err := c.appendBody((*bp)[:0], m)
	*bp = body[:0]
	if err != nil {
		return dst, fmt.Errorf("wire: encode %s: %w", m.Type(), err)
	}
	if len(body) > c.lim.MaxBodyBytes {
		return dst, fmt.Errorf("wire: encode %s: %w", m.Type(),
			tooLarge("body is %d bytes, limit %d", len(body), c.lim.MaxBodyBytes))
	}
	return c.appendFramed(dst, m.Type(), body), nil
}

// appendFramed writes header and stored body for an encoded body: hex-packed
// when that shrinks it, then zstd-compressed when that shrinks it further
// (never for a stream codec).
func (c *Codec) appendFramed(dst []byte, typ MsgType, body []byte) []byte {
	h := header{version: FrameVersion, typ: byte(typ), algo: algoNone,
		ulen: uint32(len(body)), crc: checksum(typ, body)}
	stored := body
	if packed := packHex(nil, body); packed != nil {
		stored, h.algo = packed, algoHex
	}
	start := len(dst)
	dst = append(dst, make([]byte, FrameHeaderSize)...)
	if c.enc != nil {
		dst = c.enc.EncodeAll(stored, dst)
		if len(dst)-start-FrameHeaderSize < len(stored) {
			h.algo |= algoZstd
			stored = nil
		} else {
			dst = dst[:start+FrameHeaderSize]
		}
	}
	dst = append(dst, stored...)
	h.slen = uint32(len(dst) - start - FrameHeaderSize)
	h.put(dst[start:])
	return dst
}

func (c *Codec) getBuf() *[]byte {
	if bp, ok := c.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

func (c *Codec) appendBody(dst []byte, m Message) ([]byte, error) {
	switch m := m.(type) {
	case *Hello:
		return appendHello(dst, m)
	case *Summary:
		return appendSummary(dst, m, &c.lim)
	case *Batch:
		return appendBatch(dst, m, &c.lim)
	case *Ack:
		return appendAck(dst, m, &c.lim)
	case *BlobStatus:
		return appendBlobStatus(dst, m, &c.lim)
	case *BlobOffer:
		return appendBlobOffer(dst, m)
	case *BlobChunk:
		return appendBlobChunk(dst, m)
	case *BlobAck:
		return appendBlobAck(dst, m)
	}
	return dst, invalid("message type %T unknown", m)
}

// isNil reports a nil message or a nil pointer to one.
func isNil(m Message) bool {
	switch m := m.(type) {
	case nil:
		return true
	case *Hello:
		return m == nil
	case *Summary:
		return m == nil
	case *Batch:
		return m == nil
	case *Ack:
		return m == nil
	case *BlobStatus:
		return m == nil
	case *BlobOffer:
		return m == nil
	case *BlobChunk:
		return m == nil
	case *BlobAck:
		return m == nil
	}
	return false
}

func (c *Codec) decodeBody(typ MsgType, body []byte) (Message, error) {
	switch typ {
	case TypeHello:
		return decodeHello(body)
	case TypeSummary:
		return decodeSummary(body, &c.lim)
	case TypeBatch:
		return decodeBatch(body, &c.lim)
	case TypeAck:
		return decodeAck(body, &c.lim)
	case TypeBlobStatus:
		return decodeBlobStatus(body, &c.lim)
	case TypeBlobOffer:
		return decodeBlobOffer(body)
	case TypeBlobChunk:
		return decodeBlobChunk(body)
	case TypeBlobAck:
		return decodeBlobAck(body)
	}
	return nil, malformed("frame type %d unknown", typ)
}

// DecodeFrame decodes the frame at the start of b and returns the message
// and the bytes consumed (FrameHeaderSize + stored length); bytes after it
// are left alone (the next frame). Decoded messages own their memory; b may
// be reused. A truncated frame wraps replication.ErrMalformed and
// io.ErrUnexpectedEOF; a corrupted one replication.ErrMalformed; one over a
// limit replication.ErrTooLarge.
func (c *Codec) DecodeFrame(b []byte) (Message, int, error) {
	if len(b) < FrameHeaderSize {
		return nil, 0, fmt.Errorf("wire: %w", truncated("frame header", len(b), FrameHeaderSize))
	}
	h := parseHeader(b)
	if err := c.check(h); err != nil {
		return nil, 0, fmt.Errorf("wire: %w", err)
	}
	n := FrameHeaderSize + int(h.slen)
	if len(b) < n {
		return nil, 0, fmt.Errorf("wire: %w", truncated("frame body", len(b)-FrameHeaderSize, int(h.slen)))
	}
	m, err := c.decodeStored(h, b[FrameHeaderSize:n])
	if err != nil {
		return nil, 0, err
	}
	return m, n, nil
}

func truncated(what string, got, want int) error {
	return fmt.Errorf("%w: %s truncated: %d of %d bytes: %w", replication.ErrMalformed, what, got, want, io.ErrUnexpectedEOF)
}

// WriteFrame encodes m and writes its frame to w in one Write. It returns
// the bytes written.
func (c *Codec) WriteFrame(w io.Writer, m Message) (int, error) {
	bp := c.getBuf()
	defer c.bufs.Put(bp)
	frame, err := c.AppendFrame((*bp)[:0], m)
	*bp = frame[:0]
	if err != nil {
		return 0, err
	}
	n, err := w.Write(frame)
	if err != nil {
		return n, fmt.Errorf("wire: write %s frame: %w", m.Type(), err)
	}
	return n, nil
}

// ReadFrame reads one frame from r: the fixed header, checked against the
// limits before anything is allocated, then exactly the stored length. It
// never reads past the frame and holds at most the stored body plus the
// uncompressed body (each <= MaxBodyBytes) at once. It returns the message
// and the bytes read. A clean end of stream before the first header byte
// returns io.EOF unwrapped; a stream ending inside a frame wraps
// replication.ErrMalformed and io.ErrUnexpectedEOF; other read errors are
// wrapped as is.
func (c *Codec) ReadFrame(r io.Reader) (Message, int, error) {
	var hb [FrameHeaderSize]byte
	n, err := io.ReadFull(r, hb[:])
	if err != nil {
		return nil, n, readErr(err, "frame header", n, FrameHeaderSize)
	}
	h := parseHeader(hb[:])
	if err := c.check(h); err != nil {
		return nil, n, fmt.Errorf("wire: %w", err)
	}
	stored := make([]byte, h.slen)
	k, err := io.ReadFull(r, stored)
	n += k
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, n, readErr(err, "frame body", k, len(stored))
	}
	m, err := c.decodeStored(h, stored)
	return m, n, err
}

func readErr(err error, what string, got, want int) error {
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("wire: %w", truncated(what, got, want))
	}
	return fmt.Errorf("wire: read %s: %w", what, err)
}

// decodeStored turns a checked header and its stored body into a message.
func (c *Codec) decodeStored(h header, stored []byte) (Message, error) {
	typ := MsgType(h.typ)
	body, err := c.uncompress(h, stored)
	if err == nil && checksum(typ, body) != h.crc {
		err = malformed("frame checksum %08x does not match the body's %08x", h.crc, checksum(typ, body))
	}
	if err != nil {
		return nil, fmt.Errorf("wire: %s frame: %w", typ, err)
	}
	m, err := c.decodeBody(typ, body)
	if err != nil {
		return nil, fmt.Errorf("wire: %s body: %w", typ, err)
	}
	return m, nil
}

// zstdSlack is the most room past the declared length the decode buffer
// gets: one zstd block (at most 128 KiB, and never more than the frame's
// window) plus the decoder's 16-byte over-copy. The decoder checks the
// length only after each block, so a frame that lies about its size
// overruns by up to one block; with the slack that block lands in the
// buffer instead of making append grow it (which costs ~2.25x the declared
// length). Measured in TestDecompressionBomb.
const (
	zstdMaxBlock = 128 << 10
	zstdOverCopy = 16
	zstdSlack    = zstdMaxBlock + zstdOverCopy
)

// uncompress returns the body, exactly h.ulen bytes, or an error. A zstd
// body is decoded into a buffer of h.ulen plus one block of capacity,
// after checking that the zstd frame declares h.ulen bytes.
func (c *Codec) uncompress(h header, stored []byte) ([]byte, error) {
	switch h.algo {
	case algoNone:
		return stored, nil
	case algoHex:
		return unpackCanonical(stored, int(h.ulen))
	case algoHexZstd:
		packed, err := c.unzstd(stored, 0, uint64(h.ulen)-1)
		if err != nil {
			return nil, err
		}
		return unpackCanonical(packed, int(h.ulen))
	}
	return c.unzstd(stored, uint64(h.ulen), uint64(h.ulen))
}

// unpackCanonical unpacks a hex-packed body and checks that packing it
// again gives the same bytes: one stored form per body.
func unpackCanonical(packed []byte, want int) ([]byte, error) {
	body, err := unpackHex(make([]byte, 0, want), packed, want)
	if err != nil {
		return nil, err
	}
	if again := packHex(nil, body); !bytes.Equal(again, packed) {
		return nil, malformed("hex-packed body is not in canonical form")
	}
	return body, nil
}

// unzstd decodes one zstd frame that must declare a content size in
// [lo, hi] (bounded by the frame header before anything is allocated).
func (c *Codec) unzstd(stored []byte, lo, hi uint64) ([]byte, error) {
	size, window, err := checkZstdFrame(stored, lo, hi)
	if err != nil {
		return nil, err
	}
	slack := int(min(window, zstdMaxBlock)) + zstdOverCopy
	body, err := c.dec.DecodeAll(stored, make([]byte, 0, int(size)+slack))
	if err != nil {
		return nil, fmt.Errorf("%w: zstd body: %w", replication.ErrMalformed, err)
	}
	if uint64(len(body)) != size {
		return nil, malformed("zstd body decodes to %d bytes, it declares %d", len(body), size)
	}
	return body, nil
}
