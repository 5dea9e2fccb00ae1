package wire

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"fieldsync/replication"
)

const bombSize = 1 << 30

var bomb = sync.OnceValues(func() ([]byte, error) {
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20))
	if err != nil {
		return nil, err
	}
	zeros := make([]byte, 1<<20)
	for range bombSize / len(zeros) {
		if _, err := w.Write(zeros); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

// zeroBomb returns a zstd stream of 1 GiB of zeros: a streaming frame,
// which does not declare its content size.
func zeroBomb(tb testing.TB) []byte {
	tb.Helper()
	b, err := bomb()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// withFCS rewrites a streamed zstd frame's header to declare fcs bytes of
// content (4-byte field), the way a hostile sender would lie about it.
func withFCS(tb testing.TB, frame []byte, fcs uint32) []byte {
	tb.Helper()
	fhd := frame[4]
	if fhd&0xe3 != 0 { // FCS flag, single segment, dictionary must be unset
		tb.Fatalf("unexpected frame header descriptor %08b", fhd)
	}
	out := append([]byte(nil), frame[:4]...)
	out = append(out, fhd|2<<6, frame[5])
	out = binary.LittleEndian.AppendUint32(out, fcs)
	return append(out, frame[6:]...)
}

// measure runs f once and returns the bytes it allocated and how long it
// took.
func measure(f func()) (uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, d
}

// TestDecompressionBomb: 1 GiB of zeros compressed to ~32 KB, framed with
// a small and a huge claimed length, with and without a (lying) zstd
// content size. Every one is refused within a second, and decoding
// allocates at most the claimed length (<= MaxBodyBytes) plus
// bombOverhead.
//
// Budget: ReadFrame holds the stored body (< claimed length) and the
// decode buffer (the claimed length plus zstdSlack, one zstd block);
// DecodeFrame only the latter. bombOverhead adds the error (measured:
// ~9 KB). The zstd decoder also keeps ~140 KB of block scratch that it
// allocates on its first use and then reuses; the codec is warmed up first
// so that one-time cost is not counted against each frame.
func TestDecompressionBomb(t *testing.T) {
	const bombOverhead = zstdSlack + 32<<10
	c := mustCodec(t, Limits{})
	z := zeroBomb(t)
	t.Logf("1 GiB of zeros: %d bytes of zstd", len(z))
	body := make([]byte, 256<<10) // what the CRC covers: any claim
	warm, _ := measure(func() { c.DecodeFrame(zstdFrame(TypeBatch, body, withFCS(t, z, 256<<10))) })
	t.Logf("first bomb (warm-up, includes the zstd decoder's one-time scratch): %d bytes", warm)
	max := uint32(c.Limits().MaxBodyBytes)
	for _, tc := range []struct {
		name   string
		stored []byte
		ulen   uint32
		target error
		words  []string
	}{
		{"no size, claims 256 KiB", z, 256 << 10, replication.ErrMalformed, []string{"does not declare its content size"}},
		{"no size, claims max", z, max, replication.ErrMalformed, []string{"does not declare its content size"}},
		{"no size, claims 2^32-1", z, 1<<32 - 1, replication.ErrTooLarge, []string{"uncompressed length 4294967295"}},
		{"says 1 GiB, claims 256 KiB", withFCS(t, z, bombSize), 256 << 10, replication.ErrMalformed, []string{"declares 1073741824 bytes"}},
		{"says 1 GiB, claims 2^32-1", withFCS(t, z, bombSize), 1<<32 - 1, replication.ErrTooLarge, []string{"uncompressed length"}},
		{"lies 256 KiB, claims 256 KiB", withFCS(t, z, 256<<10), 256 << 10, replication.ErrMalformed, []string{"zstd body"}},
		{"lies max, claims max", withFCS(t, z, max), max, replication.ErrMalformed, []string{"zstd body"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := zstdFrame(TypeBatch, body, tc.stored)
			h := parseHeader(frame)
			h.ulen = tc.ulen
			h.put(frame)
			var err error
			alloc, took := measure(func() { _, _, err = c.DecodeFrame(frame) })
			wantErr(t, err, tc.target, tc.words...)
			t.Logf("DecodeFrame: %v, allocated %d bytes: %v", took, alloc, err)
			if budget := uint64(min(tc.ulen, max)) + bombOverhead; alloc > budget {
				t.Errorf("DecodeFrame allocated %d bytes, budget %d", alloc, budget)
			}
			alloc, took = measure(func() { _, _, err = c.ReadFrame(bytes.NewReader(frame)) })
			wantErr(t, err, tc.target, tc.words...)
			if budget := uint64(len(tc.stored)) + uint64(min(tc.ulen, max)) + bombOverhead; alloc > budget {
				t.Errorf("ReadFrame allocated %d bytes, budget %d", alloc, budget)
			}
			if took > time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

// TestReadFrameAllocatesAfterChecks: a header claiming 4 GiB, followed by
// nothing, costs no allocation beyond the error.
func TestReadFrameAllocatesAfterChecks(t *testing.T) {
	c := mustCodec(t, Limits{})
	hb := make([]byte, FrameHeaderSize)
	header{version: FrameVersion, typ: byte(TypeBatch), algo: algoZstd, ulen: 1<<32 - 1, slen: 1<<32 - 2}.put(hb)
	var err error
	allocs := testing.AllocsPerRun(100, func() { _, _, err = c.ReadFrame(bytes.NewReader(hb)) })
	wantErr(t, err, replication.ErrTooLarge, "uncompressed length 4294967295")
	alloc, _ := measure(func() { _, _, err = c.ReadFrame(bytes.NewReader(hb)) })
	if allocs > 16 || alloc > 4<<10 {
		t.Fatalf("%v allocations, %d bytes for a refused header", allocs, alloc)
	}
	// A plausible header with the body missing allocates the stored
	// length once and reports the truncation.
	header{version: FrameVersion, typ: byte(TypeBatch), algo: algoZstd, ulen: 1 << 20, slen: 1<<20 - 1}.put(hb)
	alloc, _ = measure(func() {
		_, _, err = c.ReadFrame(io.MultiReader(bytes.NewReader(hb), bytes.NewReader(make([]byte, 10))))
	})
	wantErr(t, err, replication.ErrMalformed, "frame body truncated: 10 of 1048575")
	if alloc > 1<<20+64<<10 {
		t.Fatalf("allocated %d bytes", alloc)
	}
}
