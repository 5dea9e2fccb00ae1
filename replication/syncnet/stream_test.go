package syncnet

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"

	"fieldsync/replication/wire"
)

// FuzzStreamFrames feeds arbitrary bytes to a session's read side (the
// segments, the zstd stream decoder, then the frame codec) for a few
// frames: no panic, every frame that decodes is within the codec's
// limits, and only blob chunks come out of raw segments.
func FuzzStreamFrames(f *testing.F) {
	codec, err := wire.NewStreamCodec(wire.DefaultLimits())
	if err != nil {
		f.Fatal(err)
	}
	var good bytes.Buffer
	sw, _ := newStreamWriter(&segWriter{w: &good}, zstd.SpeedFastest)
	codec.WriteFrame(sw, &wire.Hello{Version: 1, Role: "node", Node: "l1"})
	codec.WriteFrame(sw, &wire.Summary{})
	sw.Flush()
	sw.close()
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add([]byte{0x08, 0x28, 0xb5, 0x2f, 0xfd}) // a bare zstd magic number
	chunk, _ := codec.AppendFrame(nil, &wire.BlobChunk{Hash: [32]byte{1}, Data: []byte("image")})
	var mixed bytes.Buffer
	(&segWriter{w: &mixed}).writeRaw(chunk)
	mixed.Write(good.Bytes())
	f.Add(mixed.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		delivered := 0
		segs := newSegReader(bytes.NewReader(b), codec, func(m wire.Message) error {
			if _, ok := m.(*wire.BlobChunk); !ok {
				t.Fatalf("a raw %s frame was delivered", m.Type())
			}
			if delivered++; delivered > 16 {
				return io.EOF
			}
			return nil
		})
		sr, err := newStreamReader(segs)
		if err != nil {
			return
		}
		defer sr.close()
		for range 16 {
			if _, _, err := codec.ReadFrame(sr); err != nil {
				return
			}
		}
	})
}
