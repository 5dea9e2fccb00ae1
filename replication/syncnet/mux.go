package syncnet

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// The connection carries segments, so that blob chunks can bypass the
// session's zstd stream: image bytes (JPEG, WSQ, JPEG 2000) do not shrink
// in it, would cost the compressor's CPU for nothing, and would push the
// records out of its 2 MiB window, which is what makes records cheap
// (BENCHMARKS.md, "Blob bytes and the stream").
//
//	segment: header uvarint(n<<1 | kind), then n bytes
//	kind 0: the next n bytes of this direction's zstd stream
//	kind 1: one wire frame sent as is, outside the stream: a blob chunk
//	        (the frame codec zstd-compresses its body only when that makes
//	        it smaller; for an image it does not)
//
// Segments of either kind interleave in the order the frames were sent.
// A raw segment must hold exactly one blob-chunk frame within the codec's
// limits; anything else ends the session.
const (
	segStream = 0
	segRaw    = 1
	// maxStreamSegment bounds a stream segment; longer writes of the
	// compressor are cut into several.
	maxStreamSegment = 256 << 10
)

// errSegment marks a connection whose segments break these rules.
var errSegment = errors.New("syncnet: malformed segment")

// segWriter writes segments to the connection.
type segWriter struct {
	w   io.Writer
	buf []byte
}

// Write sends p as stream segments (the zstd encoder writes here).
func (s *segWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), maxStreamSegment)
		if err := s.segment(segStream, p[:k]); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

// writeRaw sends one frame as a raw segment.
func (s *segWriter) writeRaw(frame []byte) error { return s.segment(segRaw, frame) }

// segment writes header and payload in one write (one TCP send).
func (s *segWriter) segment(kind int, p []byte) error {
	s.buf = binary.AppendUvarint(s.buf[:0], uint64(len(p))<<1|uint64(kind))
	s.buf = append(s.buf, p...)
	_, err := s.w.Write(s.buf)
	if cap(s.buf) > 2*maxStreamSegment {
		s.buf = nil // a big raw frame: do not keep its buffer
	}
	return err
}

// segReader reads segments: the stream's bytes through Read (the zstd
// decoder reads here), and each raw frame, decoded, to deliver, as soon
// as the stream's reader reaches it.
type segReader struct {
	r       *bufio.Reader
	codec   *wire.Codec
	deliver func(wire.Message) error
	left    int // bytes of the current stream segment not yet read
	frame   []byte
}

func newSegReader(r io.Reader, codec *wire.Codec, deliver func(wire.Message) error) *segReader {
	return &segReader{r: bufio.NewReaderSize(r, 32<<10), codec: codec, deliver: deliver}
}

// Read returns bytes of the zstd stream, delivering raw frames met on the
// way.
func (s *segReader) Read(p []byte) (int, error) {
	for s.left == 0 {
		if err := s.next(); err != nil {
			return 0, err
		}
	}
	n, err := s.r.Read(p[:min(len(p), s.left)])
	s.left -= n
	if err == io.EOF && s.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// next reads one segment header; a raw segment is read, decoded and
// delivered whole.
func (s *segReader) next() error {
	h, err := binary.ReadUvarint(s.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF // between segments: the peer ended cleanly
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: header cut: %w", errSegment, err)
		}
		return fmt.Errorf("%w: header: %w", errSegment, err)
	}
	n := h >> 1
	switch {
	case h&1 == segStream:
		if n == 0 || n > maxStreamSegment {
			return fmt.Errorf("%w: stream segment of %d bytes, want 1..%d", errSegment, n, maxStreamSegment)
		}
		s.left = int(n)
		return nil
	case n < wire.FrameHeaderSize || n > uint64(wire.FrameHeaderSize+s.codec.Limits().MaxBodyBytes):
		return fmt.Errorf("%w: raw segment of %d bytes", errSegment, n)
	}
	if cap(s.frame) < int(n) {
		s.frame = make([]byte, n)
	}
	frame := s.frame[:n]
	if _, err := io.ReadFull(s.r, frame); err != nil {
		return fmt.Errorf("%w: raw segment cut: %w", errSegment, err)
	}
	m, k, err := s.codec.DecodeFrame(frame)
	if err != nil {
		return err
	}
	if k != len(frame) {
		return fmt.Errorf("%w: %w: %d bytes after the raw frame", errSegment, replication.ErrMalformed, len(frame)-k)
	}
	if _, ok := m.(*wire.BlobChunk); !ok {
		return fmt.Errorf("%w: a %s frame outside the stream (only blob chunks travel raw)", errSegment, m.Type())
	}
	if len(s.frame) > 0 && cap(s.frame) > 2*maxStreamSegment {
		s.frame = nil
	}
	return s.deliver(m)
}

// Segments writes a connection's segments, for code that speaks the wire
// by hand rather than through a Session: the hostile-peer and adversarial
// tests, which must send exactly the bytes an attacker would.
type Segments struct{ w *segWriter }

// NewSegments writes segments to w.
func NewSegments(w io.Writer) *Segments { return &Segments{w: &segWriter{w: w}} }

// Write sends p as stream segments (give it to the zstd encoder).
func (s *Segments) Write(p []byte) (int, error) { return s.w.Write(p) }

// Raw sends frame as one raw segment.
func (s *Segments) Raw(frame []byte) error { return s.w.writeRaw(frame) }

// NewSegmentReader returns the zstd stream bytes of a connection read from
// r (give it to the zstd decoder); each raw frame met on the way is decoded
// with codec and handed to deliver. The counterpart of Segments.
func NewSegmentReader(r io.Reader, codec *wire.Codec, deliver func(wire.Message) error) io.Reader {
	return newSegReader(r, codec, deliver)
}
