package wire

import (
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"
)

var benchLevels = []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression}

// benchBatch is n signed entries of ~600-byte JSON enrollment payloads,
// from seq 101 of one origin (so the genesis is not in the sample).
func benchBatch(b *testing.B, n int) *Batch {
	_, es := testChain(b, 77, 100+n, false)
	return &Batch{ID: 1, Ranges: []Range{rangeOf(es, 100, 100+n)}}
}

func payloadBytes(bt *Batch) int {
	total := 0
	for _, e := range bt.Ranges[0].Entries {
		total += len(e.Payload)
	}
	return total
}

// BenchmarkEncodeBatch reports, per zstd level, the wire bytes per entry
// (frame/entry), the uncompressed body per entry and the ratio.
func BenchmarkEncodeBatch(b *testing.B) {
	for _, n := range []int{100, 500} {
		bt := benchBatch(b, n)
		for _, level := range benchLevels {
			b.Run(fmt.Sprintf("n=%d/%s", n, level), func(b *testing.B) {
				c, err := newCodec(Limits{}, level)
				if err != nil {
					b.Fatal(err)
				}
				var frame []byte
				b.ReportAllocs()
				for b.Loop() {
					if frame, err = c.AppendFrame(frame[:0], bt); err != nil {
						b.Fatal(err)
					}
				}
				h := parseHeader(frame)
				b.SetBytes(int64(h.ulen))
				b.ReportMetric(float64(len(frame))/float64(n), "frame-B/entry")
				b.ReportMetric(float64(h.ulen)/float64(n), "body-B/entry")
				b.ReportMetric(float64(payloadBytes(bt))/float64(n), "payload-B/entry")
				b.ReportMetric(float64(h.ulen)/float64(len(frame)), "ratio")
			})
		}
	}
}

// BenchmarkDecodeBatch decodes the frames each level produced; decoding
// rebuilds every entry and hashes it to link the next one.
func BenchmarkDecodeBatch(b *testing.B) {
	for _, n := range []int{100, 500} {
		bt := benchBatch(b, n)
		for _, level := range benchLevels {
			b.Run(fmt.Sprintf("n=%d/%s", n, level), func(b *testing.B) {
				c, err := newCodec(Limits{}, level)
				if err != nil {
					b.Fatal(err)
				}
				frame, err := c.AppendFrame(nil, bt)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(parseHeader(frame).ulen))
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := c.DecodeFrame(frame); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(frame))/float64(n), "frame-B/entry")
			})
		}
	}
}
