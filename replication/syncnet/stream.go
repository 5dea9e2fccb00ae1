package syncnet

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// A session's byte stream is one zstd stream each way, flushed after every
// frame: a frame is decodable as soon as it arrives, and each batch is
// compressed with everything sent before it in the session as context.
// That is what brings the wire close to `zstd -19` of the whole backlog
// while batches stay small (a cut wastes at most one); see BENCHMARKS.md.
// Frames inside the stream are not compressed again (wire.NewStreamCodec)
// but still hex-packed. A new connection starts new streams.
const (
	// StreamWindow is the zstd window of a session stream: about a
	// thousand enrollments of context, and the memory each side holds.
	StreamWindow = 2 << 20
	// streamMaxMemory bounds what the stream decoder may allocate: the
	// window plus its working buffers. A decompression bomb stops here;
	// each frame is further bounded by its header's declared length.
	streamMaxMemory = 4 * StreamWindow
)

var (
	encoders sync.Map  // zstd.EncoderLevel → *sync.Pool of *zstd.Encoder, Reset per session
	decoders sync.Pool // *zstd.Decoder, Reset per session
)

// DefaultStreamLevel is the zstd level of a session stream when Options
// does not choose one. Levels cost memory per open session (measured with
// a 2 MiB window: fastest 4.7 MB, default 5.7, better 8.5, best 38): a
// laptop compresses its thin uplink with the best level, a hub with many
// sessions a cheaper one (replicator chooses).
const DefaultStreamLevel = zstd.SpeedBestCompression

func encoderPool(level zstd.EncoderLevel) *sync.Pool {
	p, _ := encoders.LoadOrStore(level, &sync.Pool{})
	return p.(*sync.Pool)
}

// streamWriter compresses what a session writes.
type streamWriter struct {
	enc   *zstd.Encoder
	level zstd.EncoderLevel
}

func newStreamWriter(w io.Writer, level zstd.EncoderLevel) (*streamWriter, error) {
	if level == 0 {
		level = DefaultStreamLevel
	}
	if enc, ok := encoderPool(level).Get().(*zstd.Encoder); ok {
		enc.Reset(w)
		return &streamWriter{enc: enc, level: level}, nil
	}
	enc, err := zstd.NewWriter(w,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(StreamWindow),
		zstd.WithEncoderCRC(false)) // every frame carries its own CRC32C
	if err != nil {
		return nil, err
	}
	return &streamWriter{enc: enc, level: level}, nil
}

// Write compresses p; call Flush to send it.
func (s *streamWriter) Write(p []byte) (int, error) { return s.enc.Write(p) }

// Flush sends everything written so far as complete zstd blocks.
func (s *streamWriter) Flush() error { return s.enc.Flush() }

// close ends the stream (the peer sees a clean end) and returns the
// encoder to the pool.
func (s *streamWriter) close() error {
	err := s.enc.Close()
	s.enc.Reset(nil)
	encoderPool(s.level).Put(s.enc)
	return err
}

// streamReader decompresses what a session reads, bounded in memory.
type streamReader struct {
	dec *zstd.Decoder
}

func newStreamReader(r io.Reader) (*streamReader, error) {
	if dec, ok := decoders.Get().(*zstd.Decoder); ok {
		if err := dec.Reset(r); err != nil {
			return nil, err
		}
		return &streamReader{dec: dec}, nil
	}
	dec, err := zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1), // decode in the reading goroutine
		zstd.WithDecoderMaxWindow(StreamWindow),
		zstd.WithDecoderMaxMemory(streamMaxMemory))
	if err != nil {
		return nil, err
	}
	return &streamReader{dec: dec}, nil
}

func (s *streamReader) Read(p []byte) (int, error) { return s.dec.Read(p) }

func (s *streamReader) close() {
	s.dec.Reset(nil)
	decoders.Put(s.dec)
}
