package wire

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/metrics"
	"strings"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/blob"
)

// The fuzz targets decode with small limits so that each input is cheap;
// fuzzLimits must still admit every valid seed.
var fuzzLimits = Limits{MaxBodyBytes: MinBodyLimit, MaxRanges: 64, MaxEntries: 512, MaxHeads: 1024, MaxRefusals: 64}

// fuzzBudget bounds what one decode may allocate under fuzzLimits: the
// stored and decompressed bodies with zstd slack, payload copies (< body),
// ~150 bytes per entry, and 1 MiB for the zstd decoder's one-time scratch,
// errors and the runtime.
const fuzzBudget = 3*MinBodyLimit + zstdSlack + 512*150 + 1<<20

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the seed corpora in testdata/fuzz")

// heapAllocs reads the cumulative heap allocation counter without stopping
// the world (unlike runtime.ReadMemStats).
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// checkRejected asserts a decoder's error is one of the two it may return.
func checkRejected(t *testing.T, m any, err error) {
	t.Helper()
	if !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, replication.ErrTooLarge) {
		t.Fatalf("error %v wraps neither ErrMalformed nor ErrTooLarge", err)
	}
	if v := reflect.ValueOf(m); v.IsValid() && !v.IsNil() {
		t.Fatalf("message %+v returned with error %v", m, err)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	c := mustCodec(f, fuzzLimits)
	f.Add(frameRaw(TypeSummary, []byte{0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		before := heapAllocs()
		m, n, err := c.DecodeFrame(b)
		if used := heapAllocs() - before; used > fuzzBudget {
			t.Fatalf("decode allocated %d bytes, budget %d", used, fuzzBudget)
		}
		rm, rn, rerr := c.ReadFrame(bytes.NewReader(b))
		if (err == nil) != (rerr == nil) || n != rn && err == nil {
			t.Fatalf("DecodeFrame (%d, %v) and ReadFrame (%d, %v) disagree", n, err, rn, rerr)
		}
		if err != nil {
			checkRejected(t, m, err)
			return
		}
		if !reflect.DeepEqual(m, rm) {
			t.Fatal("DecodeFrame and ReadFrame decoded different messages")
		}
		checkCanonicalFrame(t, c, b[:n], m)
	})
}

// checkCanonicalFrame: an accepted frame's body re-encodes to the same
// bytes, and the re-encoded frame has the same header and decodes to the
// same message. (The compressed bytes themselves are not canonical.)
func checkCanonicalFrame(t *testing.T, c *Codec, frame []byte, m Message) {
	h := parseHeader(frame)
	body, err := c.uncompress(h, frame[FrameHeaderSize:])
	if err != nil {
		t.Fatal(err)
	}
	re, err := c.appendBody(nil, m)
	if err != nil {
		t.Fatalf("accepted message does not encode: %v", err)
	}
	if !bytes.Equal(re, body) {
		t.Fatalf("body is not canonical:\n got %x\nwant %x", re, body)
	}
	f2, err := c.AppendFrame(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	h2 := parseHeader(f2)
	if h2.typ != h.typ || h2.ulen != h.ulen || h2.crc != h.crc {
		t.Fatalf("re-encoded header %+v, was %+v", h2, h)
	}
	if h.algo == algoNone && h2.algo == algoNone && !bytes.Equal(f2, frame) {
		t.Fatal("stored frame re-encodes to other bytes")
	}
	m2, _, err := c.DecodeFrame(f2)
	if err != nil || !reflect.DeepEqual(m2, m) {
		t.Fatalf("re-encoded frame decodes to %+v, %v", m2, err)
	}
}

// fuzzBody is the shared body of the per-type body targets: decode; if
// accepted, encoding gives back exactly the input.
func fuzzBody[M Message](f *testing.F, decode func([]byte, *Limits) (M, error), check func(*testing.T, M)) {
	c := mustCodec(f, fuzzLimits)
	f.Fuzz(func(t *testing.T, b []byte) {
		before := heapAllocs()
		m, err := decode(b, &c.lim)
		if used := heapAllocs() - before; used > fuzzBudget {
			t.Fatalf("decode allocated %d bytes, budget %d", used, fuzzBudget)
		}
		if err != nil {
			checkRejected(t, m, err)
			return
		}
		re, err := c.appendBody(nil, m)
		if err != nil {
			t.Fatalf("accepted message does not encode: %v", err)
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("not canonical:\n got %x\nwant %x", re, b)
		}
		if check != nil {
			check(t, m)
		}
	})
}

func FuzzDecodeBatchBody(f *testing.F) {
	f.Add([]byte(batch1().uv(1).entry(1, 2, "{}")))
	fuzzBody(f, decodeBatch, func(t *testing.T, b *Batch) {
		for _, rg := range b.Ranges {
			for i := range rg.Entries {
				// Every entry rebuilt is one replication's own codec takes.
				if _, err := rg.Entries[i].MarshalBinary(); err != nil {
					t.Fatalf("range %s entry %d: %v", rg.Origin.Short(), i, err)
				}
			}
		}
	})
}

func FuzzDecodeSummaryBody(f *testing.F) {
	f.Add([]byte(body{}.uv(1).head(1, 1)))
	fuzzBody(f, decodeSummary, nil)
}

func FuzzDecodeAckBody(f *testing.F) {
	f.Add([]byte(body{}.uv(1).uv(0).uv(0)))
	fuzzBody(f, decodeAck, nil)
}

func FuzzDecodeHelloBody(f *testing.F) {
	f.Add([]byte(helloBody().str("node").str("").str("01").str("n1")))
	fuzzBody(f, func(b []byte, _ *Limits) (*Hello, error) { return decodeHello(b) }, nil)
}

// TestWriteFuzzCorpus regenerates testdata/fuzz (go test -run
// TestWriteFuzzCorpus -write-corpus ./replication/wire/). The seeds are
// valid messages of every type, truncated and oversized frames, and bombs.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("pass -write-corpus to rewrite the seed corpora")
	}
	for target, seeds := range fuzzSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func fuzzSeeds(t *testing.T) map[string]map[string][]byte {
	c := mustCodec(t, fuzzLimits)
	frames, bodies := map[string][]byte{}, map[MsgType]map[string][]byte{}
	for _, typ := range []MsgType{TypeHello, TypeSummary, TypeBatch, TypeAck, TypeBlobStatus, TypeBlobOffer, TypeBlobChunk, TypeBlobAck} {
		bodies[typ] = map[string][]byte{}
	}
	for name, m := range sampleMessages(t) {
		fr, err := c.AppendFrame(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		slug := "valid-" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, name)
		frames[slug] = fr
		frames[slug+"-cut"] = fr[:len(fr)*2/3]
		bodies[m.Type()][slug] = mustBody(t, c, m)
	}
	_, es := testChain(t, 99, 100, false)
	big, err := c.AppendFrame(nil, &Batch{ID: 1, Ranges: []Range{rangeOf(es, 0, 100)}})
	if err != nil {
		t.Fatal(err)
	}
	frames["valid-batch-100-zstd"] = big
	bodies[TypeBatch]["batch-100"] = mustBody(t, c, &Batch{ID: 1, Ranges: []Range{rangeOf(es, 0, 100)}})
	oversized := bytes.Clone(frames["valid-summary"])
	header{version: 1, typ: byte(TypeBatch), algo: algoNone, ulen: 1<<32 - 1, slen: 1<<32 - 1}.put(oversized)
	frames["oversized-2^32-1"] = oversized
	z := zeroBomb(t)
	frames["bomb-no-size"] = zstdFrame(TypeBatch, make([]byte, 64<<10), z)
	lie := zstdFrame(TypeBatch, make([]byte, 64<<10), withFCS(t, z, 64<<10))
	frames["bomb-lying-size"] = lie
	frames["trailing"] = append(bytes.Clone(frames["valid-summary"]), 0)
	bodies[TypeBatch]["two-ranges"] = body{}.uv(1).uv(2).o(1).uv(1).zero(32).uv(2).entry(1, 2, "a").entry(3, 2, "b").o(2).uv(5).h(1).uv(1).uv(9).raw(2).uv(1).str("c").raw(1).zero(64)
	bodies[TypeSummary]["non-minimal"] = body{}.raw(0x80, 0x00)
	bodies[TypeAck]["refusal"] = body{}.uv(1).uv(1).head(1, 3).uv(1).o(2).uv(4).raw(3).str("fork")
	bodies[TypeBlobStatus]["missing-past-through"] = body{}.uv(1).o(1).uv(9).uv(2).uv(3).uv(7).uv(0)
	bodies[TypeBlobOffer]["twice"] = body{}.uv(2).bh(1).uv(5).o(1).uv(2).bh(1).uv(5).o(1).uv(3)
	bodies[TypeBlobChunk]["past-max-size"] = body{}.bh(1).uv(blob.MaxSize-1).uv(2).raw(1, 2)
	bodies[TypeBlobAck]["state-5"] = body{}.uv(1).bh(1).raw(5)
	return map[string]map[string][]byte{
		"FuzzDecodeFrame":          frames,
		"FuzzDecodeBatchBody":      bodies[TypeBatch],
		"FuzzDecodeSummaryBody":    bodies[TypeSummary],
		"FuzzDecodeAckBody":        bodies[TypeAck],
		"FuzzDecodeHelloBody":      bodies[TypeHello],
		"FuzzDecodeBlobStatusBody": bodies[TypeBlobStatus],
		"FuzzDecodeBlobOfferBody":  bodies[TypeBlobOffer],
		"FuzzDecodeBlobChunkBody":  bodies[TypeBlobChunk],
		"FuzzDecodeBlobAckBody":    bodies[TypeBlobAck],
	}
}
