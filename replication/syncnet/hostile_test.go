package syncnet_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"fieldsync/replication"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/wire"
)

var hostileCodec = func() *wire.Codec {
	c, err := wire.NewCodec(wire.DefaultLimits())
	if err != nil {
		panic(err)
	}
	return c
}()

// streamMemoryBudget is what one session may allocate for what it reads:
// the zstd window and decoder state plus one frame at the codec's limit,
// with room to spare. RELIABILITY.md §2 (G11) asks for 64 MiB per message.
const streamMemoryBudget = 64 << 20

// TestHostileStreamsAreRefusedWithBoundedMemory plays a hostile peer that
// sends, instead of a session, each of: a zstd bomb (1 GiB of zeros in a
// few KB), a frame declaring a huge body, a zstd window beyond the
// stream's, bytes that are not zstd at all, bytes that are not even
// segments, a raw segment declaring a terabyte, a raw frame that is not a
// blob chunk, and a raw chunk frame that is a decompression bomb. The session must end with
// an error quickly, having allocated less than the budget, and write
// nothing.
func TestHostileStreamsAreRefusedWithBoundedMemory(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(w io.Writer) error
	}{
		{"zero bomb", func(w io.Writer) error {
			return zstdStream(w, 1<<20, func(z io.Writer) error { return zeros(z, 1<<30) })
		}},
		{"huge declared body", func(w io.Writer) error {
			return zstdStream(w, 1<<20, func(z io.Writer) error {
				hdr := []byte{1, 3, 0}                      // version, batch, no compression
				hdr = binary.AppendUvarint(hdr, 1<<40)      // uncompressed length
				hdr = binary.BigEndian.AppendUint32(hdr, 0) // crc
				hdr = binary.AppendUvarint(hdr, 1<<40)      // stored length
				if _, err := z.Write(hdr); err != nil {
					return err
				}
				return zeros(z, 64<<20)
			})
		}},
		{"window beyond the stream's", func(w io.Writer) error {
			return zstdStream(w, 64<<20, func(z io.Writer) error { return random(z, 32<<20) })
		}},
		{"not zstd", func(w io.Writer) error { return random(syncnet.NewSegments(w), 8<<20) }},
		{"not segments", func(w io.Writer) error { return random(w, 8<<20) }},
		{"raw segment past the frame limit", func(w io.Writer) error {
			_, err := w.Write(binary.AppendUvarint(nil, uint64(1<<40)<<1|1))
			return err
		}},
		{"raw frame that is not a chunk", func(w io.Writer) error {
			frame, err := hostileCodec.AppendFrame(nil, &wire.Summary{})
			if err != nil {
				return err
			}
			return syncnet.NewSegments(w).Raw(frame)
		}},
		{"raw chunk bomb", func(w io.Writer) error {
			// A chunk frame claiming a zstd body that inflates past its
			// declared length: the codec refuses it before decoding.
			body := append(make([]byte, 32), 1) // hash (zero: refused too), then junk
			frame := make([]byte, wire.FrameHeaderSize)
			frame[0], frame[1], frame[2] = wire.FrameVersion, byte(wire.TypeBlobChunk), 1
			binary.BigEndian.PutUint32(frame[3:], 4<<20)
			binary.BigEndian.PutUint32(frame[11:], uint32(len(body)))
			return syncnet.NewSegments(w).Raw(append(frame, body...))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReplica(t, "hub", replication.RoleHub, 31, t.TempDir())
			var hostile bytes.Buffer // made before measuring: the attacker's costs are not ours
			if err := tc.send(&hostile); err != nil {
				t.Fatal(err)
			}
			client, server := net.Pipe()
			go io.Copy(io.Discard, client) // what the session says is ignored
			go func() {
				client.Write(hostile.Bytes())
				client.Close()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			before := totalAlloc()
			start := time.Now()
			_, err := syncnet.Run(ctx, server, r.opts())
			took, grew := time.Since(start), totalAlloc()-before
			if err == nil {
				t.Fatal("a hostile stream ended without an error")
			}
			if grew > streamMemoryBudget {
				t.Errorf("allocated %d MiB reading it, budget %d MiB", grew>>20, streamMemoryBudget>>20)
			}
			if v, _ := r.log.Vector(); v.Total() != 1 {
				t.Errorf("the log holds %d entries, want only its genesis", v.Total())
			}
			t.Logf("refused in %s after %d MiB allocated: %v", took.Round(time.Millisecond), grew>>20, err)
		})
	}
}

// totalAlloc is the bytes allocated so far by the process.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// zstdStream writes a zstd stream with the given window, whose content
// body writes, in the connection's segments.
func zstdStream(w io.Writer, window int, body func(io.Writer) error) error {
	z, err := zstd.NewWriter(syncnet.NewSegments(w), zstd.WithWindowSize(window), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	if err := body(z); err != nil {
		return err
	}
	return z.Close()
}

func zeros(w io.Writer, n int) error {
	buf := make([]byte, 1<<20)
	for ; n > 0; n -= len(buf) {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// random writes n bytes that do not compress (a fixed pattern generator:
// the test must not depend on crypto/rand).
func random(w io.Writer, n int) error {
	var buf bytes.Buffer
	x := uint64(0x9e3779b97f4a7c15)
	for buf.Len() < 1<<20 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		buf.Write(binary.LittleEndian.AppendUint64(nil, x))
	}
	for ; n > 0; n -= buf.Len() {
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
