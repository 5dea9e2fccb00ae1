package syncnet

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/zstd"

	"fieldsync/replication/delta"
)

// FuzzStreamFrames feeds arbitrary bytes to a session's read side (the
// zstd stream decoder, then the frame codec) for a few frames: no panic,
// and every frame that decodes is within the codec's limits.
func FuzzStreamFrames(f *testing.F) {
	codec, err := delta.NewStreamCodec(delta.DefaultLimits())
	if err != nil {
		f.Fatal(err)
	}
	var good bytes.Buffer
	sw, _ := newStreamWriter(&good, zstd.SpeedFastest)
	codec.WriteFrame(sw, &delta.Hello{Version: 1, Role: "node", Node: "l1"})
	codec.WriteFrame(sw, &delta.Summary{})
	sw.Flush()
	sw.close()
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd}) // a bare zstd magic number
	f.Fuzz(func(t *testing.T, b []byte) {
		sr, err := newStreamReader(bytes.NewReader(b))
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
