package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/klauspost/compress/zstd"

	"fieldsync/replication"
)

// body builds crafted bodies.
type body []byte

func (b body) uv(v uint64) body             { return binary.AppendUvarint(b, v) }
func (b body) raw(p ...byte) body           { return append(b, p...) }
func (b body) o(x byte) body                { o := oid(x); return append(b, o[:]...) }
func (b body) h(x byte) body                { h := hsh(x); return append(b, h[:]...) }
func (b body) zero(n int) body              { return append(b, make([]byte, n)...) }
func (b body) str(s string) body            { return append(b.uv(uint64(len(s))), s...) }
func (b body) head(x byte, seq uint64) body { return b.o(x).uv(seq).h(x) }

// entry appends a minimal entry: hlc, kind, schema, payload, no signature.
// entry appends an entry header (the payload goes in the section).
func (b body) entry(hlc uint64, kind byte, payload string) body {
	return b.uv(hlc).raw(kind).uv(1).uv(uint64(len(payload))).raw(sigAbsent)
}

// section appends the payload section for these payloads.
func (b body) section(payloads ...string) body {
	ps := make([][]byte, len(payloads))
	for i, p := range payloads {
		ps[i] = []byte(p)
	}
	return append(b, appendColumnar(nil, ps)...)
}

// hello is a valid hello body up to the strings.
func helloBody() body { return body{}.raw(0, 1).o(1) }

// batch1 is a valid batch body header with one range from seq 1.
func batch1() body { return body{}.uv(1).uv(1).o(1).uv(1).zero(32) }

func TestRejectCraftedBodies(t *testing.T) {
	c := mustCodec(t, Limits{MaxHeads: 4, MaxRanges: 3, MaxEntries: 5, MaxRefusals: 2})
	for _, tc := range []struct {
		name   string
		typ    MsgType
		body   body
		target error
		words  []string
	}{
		{"empty body", TypeHello, body{}, replication.ErrMalformed, []string{"uncompressed length is 0"}},
		{"hello cut in version", TypeHello, body{}.raw(0), replication.ErrMalformed, []string{"hello version", "needs 2 bytes"}},
		{"hello version 0", TypeHello, body{}.raw(0, 0).o(1).str("").str("").str("").str(""), replication.ErrMalformed, []string{"hello version is 0"}},
		{"hello node too long", TypeHello, helloBody().str("node").str("").str("").str(string(make([]byte, MaxNodeBytes+1))), replication.ErrTooLarge, []string{"hello node", "65 bytes"}},
		{"hello role not utf8", TypeHello, helloBody().str("\xff").str("").str("").str(""), replication.ErrMalformed, []string{"hello role", "UTF-8"}},
		{"hello unit length past end", TypeHello, helloBody().str("").str("").uv(40).raw('x'), replication.ErrMalformed, []string{"hello unit", "needs 40 bytes"}},
		{"hello trailing", TypeHello, helloBody().str("").str("").str("").str("").raw(0), replication.ErrMalformed, []string{"hello", "1 trailing"}},
		{"summary non-minimal count", TypeSummary, body{}.raw(0x80, 0x00), replication.ErrMalformed, []string{"summary heads", "non-minimal"}},
		{"summary non-minimal seq", TypeSummary, body{}.uv(1).o(1).raw(0x81, 0x80, 0x00).h(1), replication.ErrMalformed, []string{"head 0", "seq", "non-minimal"}},
		{"summary varint overflow", TypeSummary, body{}.raw(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), replication.ErrMalformed, []string{"summary heads", "overflows"}},
		{"summary truncated varint", TypeSummary, body{}.raw(0x80), replication.ErrMalformed, []string{"summary heads", "truncated"}},
		{"summary count past end", TypeSummary, body{}.uv(3).head(1, 1), replication.ErrMalformed, []string{"summary heads", "count 3"}},
		{"summary count over limit", TypeSummary, body{}.uv(5), replication.ErrTooLarge, []string{"summary heads", "limit 4"}},
		{"summary huge count", TypeSummary, body{}.uv(1 << 62), replication.ErrTooLarge, []string{"summary heads"}},
		{"summary unsorted", TypeSummary, body{}.uv(2).head(2, 1).head(1, 1), replication.ErrMalformed, []string{"summary head 1", "not above"}},
		{"summary duplicate", TypeSummary, body{}.uv(2).head(1, 1).head(1, 2), replication.ErrMalformed, []string{"summary head 1", "not above"}},
		{"summary seq 0", TypeSummary, body{}.uv(1).head(1, 0), replication.ErrMalformed, []string{"summary head 0", "seq is 0"}},
		{"summary trailing", TypeSummary, body{}.uv(1).head(1, 1).raw(7), replication.ErrMalformed, []string{"summary", "trailing"}},
		{"batch non-minimal id", TypeBatch, body{}.raw(0x81, 0x00).uv(0), replication.ErrMalformed, []string{"batch id", "non-minimal"}},
		{"batch ranges past end", TypeBatch, body{}.uv(1).uv(2), replication.ErrMalformed, []string{"batch ranges", "count 2"}},
		{"batch ranges over limit", TypeBatch, body{}.uv(1).uv(4), replication.ErrTooLarge, []string{"batch ranges", "limit 3"}},
		{"batch entries past end", TypeBatch, batch1().uv(3).entry(1, 2, "a"), replication.ErrMalformed, []string{"batch range 0", "entries", "count 3"}},
		{"batch entries over limit", TypeBatch, batch1().uv(6).zero(40), replication.ErrTooLarge, []string{"batch range 0", "entries", "limit 5"}},
		{"batch entries over limit across ranges", TypeBatch, body{}.uv(1).uv(2).o(1).uv(1).zero(32).uv(3).o(2).uv(1).zero(32).uv(3).
			entry(1, 2, "").entry(1, 2, "").entry(1, 2, "").entry(1, 2, "").entry(1, 2, "").entry(1, 2, "").section("", "", "", "", "", ""), replication.ErrTooLarge, []string{"batch range 1", "limit 2"}},
		{"batch empty range", TypeBatch, batch1().uv(0).zero(10), replication.ErrMalformed, []string{"batch range 0", "count 0"}},
		{"batch start seq 0", TypeBatch, body{}.uv(1).uv(1).o(1).uv(0).zero(32).uv(1).entry(1, 2, ""), replication.ErrMalformed, []string{"batch range 0", "start seq 0"}},
		{"batch seq 1 with prev", TypeBatch, body{}.uv(1).uv(1).o(1).uv(1).h(1).uv(1).entry(1, 2, ""), replication.ErrMalformed, []string{"start seq 1"}},
		{"batch seq 2 without prev", TypeBatch, body{}.uv(1).uv(1).o(1).uv(2).zero(32).uv(1).entry(1, 2, ""), replication.ErrMalformed, []string{"start seq 2"}},
		{"batch seq overflow", TypeBatch, body{}.uv(1).uv(1).o(1).uv(1<<64-1).h(1).uv(2).entry(1, 2, "").entry(1, 2, ""), replication.ErrMalformed, []string{"overflows"}},
		{"batch kind 0", TypeBatch, batch1().uv(1).entry(1, 0, ""), replication.ErrMalformed, []string{"entry 0 (seq 1)", "kind is 0"}},
		{"batch schema too big", TypeBatch, batch1().uv(1).uv(1).raw(2).uv(1 << 16).str("").raw(0), replication.ErrMalformed, []string{"schema 65536"}},
		{"batch payload over limit", TypeBatch, batch1().uv(1).uv(1).raw(2).uv(1).uv(replication.MaxPayloadBytes + 1), replication.ErrTooLarge, []string{"payload length 65537"}},
		{"batch payload past end", TypeBatch, batch1().uv(1).uv(1).raw(2).uv(1).uv(100).raw(sigAbsent).uv(0).uv(0).raw('x', 0, 0, 0, 0), replication.ErrMalformed, []string{"payload", "needs 100 bytes"}},
		{"batch non-minimal payload length", TypeBatch, batch1().uv(1).uv(1).raw(2).uv(1).raw(0x81, 0x00).raw('x', 0), replication.ErrMalformed, []string{"payload length", "non-minimal"}},
		{"batch non-minimal hlc", TypeBatch, batch1().uv(1).raw(0x80, 0x80, 0x00).raw(2).uv(1).str("").raw(0), replication.ErrMalformed, []string{"hlc", "non-minimal"}},
		{"batch signature flag 2", TypeBatch, batch1().uv(1).uv(1).raw(2).uv(1).str("").raw(2), replication.ErrMalformed, []string{"signature flag 2"}},
		{"batch signature truncated", TypeBatch, batch1().uv(1).uv(1).raw(2).uv(1).str("").raw(1).zero(63), replication.ErrMalformed, []string{"signature", "needs 64"}},
		{"batch ranges unsorted", TypeBatch, body{}.uv(1).uv(2).o(2).uv(1).zero(32).uv(1).o(1).uv(1).zero(32).uv(1).entry(1, 2, "").entry(1, 2, "").section("", ""), replication.ErrMalformed, []string{"batch range 1", "not above"}},
		{"batch ranges duplicate", TypeBatch, body{}.uv(1).uv(2).o(1).uv(1).zero(32).uv(1).o(1).uv(2).h(1).uv(1).entry(1, 2, "").entry(1, 2, "").section("", ""), replication.ErrMalformed, []string{"batch range 1", "not above"}},
		{"batch trailing", TypeBatch, batch1().uv(1).entry(1, 2, "").section("").raw(0), replication.ErrMalformed, []string{"batch", "trailing"}},
		{"batch payload template past end", TypeBatch, batch1().uv(1).entry(1, 2, `{"a":1}`).uv(1).uv(50).raw('{'), replication.ErrMalformed, []string{"template", "needs 50"}},
		{"batch payload value unterminated", TypeBatch, batch1().uv(1).entry(1, 2, `{"a":1}`).uv(1).uv(7).raw('{', '"', 'a', '"', ':', 0, '}').uv(1).raw('1'), replication.ErrMalformed, []string{"payload value", "terminator"}},
		{"batch payload rebuilds to another length", TypeBatch, batch1().uv(1).entry(1, 2, `{"a":12}`).section(`{"a":1}`), replication.ErrMalformed, []string{"rebuilds to 7 bytes", "says 8"}},
		{"batch payload not canonical", TypeBatch, batch1().uv(1).entry(1, 2, `{"a":1}`).uv(0).uv(0).raw([]byte(`{"a":1}`)...), replication.ErrMalformed, []string{"canonical"}},
		{"ack refusals past end", TypeAck, body{}.uv(1).uv(0).uv(2), replication.ErrMalformed, []string{"ack refusals", "count 2"}},
		{"ack refusals over limit", TypeAck, body{}.uv(1).uv(0).uv(3), replication.ErrTooLarge, []string{"ack refusals", "limit 2"}},
		{"ack heads over limit", TypeAck, body{}.uv(1).uv(5), replication.ErrTooLarge, []string{"ack heads", "limit 4"}},
		{"ack unsorted heads", TypeAck, body{}.uv(1).uv(2).head(3, 1).head(2, 1).uv(0), replication.ErrMalformed, []string{"ack head 1", "not above"}},
		{"ack reason 0", TypeAck, body{}.uv(1).uv(0).uv(1).o(1).uv(1).raw(0).str(""), replication.ErrMalformed, []string{"ack refusal 0", "reason is 0"}},
		{"ack detail too long", TypeAck, body{}.uv(1).uv(0).uv(1).o(1).uv(1).raw(1).str(string(make([]byte, MaxDetailBytes+1))), replication.ErrTooLarge, []string{"ack refusal 0", "detail", "201 bytes"}},
		{"ack detail not utf8", TypeAck, body{}.uv(1).uv(0).uv(1).o(1).uv(1).raw(1).str("\xc3"), replication.ErrMalformed, []string{"detail", "UTF-8"}},
		{"ack trailing", TypeAck, body{}.uv(1).uv(0).uv(0).raw(1), replication.ErrMalformed, []string{"ack", "trailing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := c.DecodeFrame(frameRaw(tc.typ, tc.body))
			if m != nil {
				t.Fatalf("accepted as %+v", m)
			}
			wantErr(t, err, tc.target, tc.words...)
		})
	}
}

// TestRejectHeader covers the frame header fields one at a time.
func TestRejectHeader(t *testing.T) {
	c := mustCodec(t, Limits{})
	good := frameRaw(TypeSummary, body{}.uv(1).head(1, 1))
	set := func(f func(h *header)) []byte {
		b := bytes.Clone(good)
		h := parseHeader(b)
		f(&h)
		h.put(b)
		return b
	}
	max := uint32(c.Limits().MaxBodyBytes)
	for _, tc := range []struct {
		name   string
		frame  []byte
		target error
		words  []string
	}{
		{"version 0", set(func(h *header) { h.version = 0 }), replication.ErrMalformed, []string{"frame version 0"}},
		{"version 2", set(func(h *header) { h.version = 2 }), replication.ErrMalformed, []string{"frame version 2"}},
		{"type 0", set(func(h *header) { h.typ = 0 }), replication.ErrMalformed, []string{"frame type 0"}},
		{"type 9", set(func(h *header) { h.typ = 9 }), replication.ErrMalformed, []string{"frame type 9"}},
		{"type 255", set(func(h *header) { h.typ = 255 }), replication.ErrMalformed, []string{"frame type 255"}},
		{"algo 4", set(func(h *header) { h.algo = 4 }), replication.ErrMalformed, []string{"frame algo 4"}},
		{"length 0", set(func(h *header) { h.ulen, h.slen = 0, 0 }), replication.ErrMalformed, []string{"uncompressed length is 0"}},
		{"length max, stored short", set(func(h *header) { h.ulen, h.slen = max, max }), replication.ErrMalformed, []string{"frame body truncated"}},
		{"length max+1", set(func(h *header) { h.ulen, h.slen = max+1, max+1 }), replication.ErrTooLarge, []string{"uncompressed length 4194305"}},
		{"length 2^32-1", set(func(h *header) { h.ulen, h.slen = 1<<32-1, 1<<32-1 }), replication.ErrTooLarge, []string{"uncompressed length 4294967295"}},
		{"length 2^31 (negative as int32)", set(func(h *header) { h.ulen, h.slen = 1<<31, 1<<31 }), replication.ErrTooLarge, []string{"uncompressed length"}},
		{"stored length differs, none", set(func(h *header) { h.slen-- }), replication.ErrMalformed, []string{"stored length"}},
		{"stored length 2^32-1", set(func(h *header) { h.slen = 1<<32 - 1 }), replication.ErrMalformed, []string{"stored length 4294967295"}},
		{"stored length 0, zstd", set(func(h *header) { h.algo, h.slen = algoZstd, 0 }), replication.ErrMalformed, []string{"zstd body"}},
		{"zstd not smaller", set(func(h *header) { h.algo = algoZstd }), replication.ErrMalformed, []string{"not below"}},
		{"zstd stored 2^32-1", set(func(h *header) { h.algo, h.slen = algoZstd, 1<<32-1 }), replication.ErrMalformed, []string{"not below"}},
		{"crc", set(func(h *header) { h.crc ^= 1 }), replication.ErrMalformed, []string{"checksum"}},
		{"type changed, crc kept", set(func(h *header) { h.typ = byte(TypeAck) }), replication.ErrMalformed, []string{"checksum"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.DecodeFrame(tc.frame)
			wantErr(t, err, tc.target, tc.words...)
			_, _, err = c.ReadFrame(bytes.NewReader(tc.frame))
			wantErr(t, err, tc.target, tc.words...)
		})
	}
}

// TestExactBodyLimit: a body of exactly MaxBodyBytes passes, one byte more
// is refused by the encoder.
func TestExactBodyLimit(t *testing.T) {
	c := mustCodec(t, Limits{MaxBodyBytes: MinBodyLimit})
	s, err := replication.GenerateKeySigner(testRand(9), 1)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	chain := func(sizes ...int) *Batch {
		var es []replication.Entry
		prev := replication.Hash{}
		for i, n := range sizes {
			p := make([]byte, n)
			for j := range p {
				p[j] = byte(rnd.Uint32())
			}
			e := replication.Seal(s, replication.Draft{Kind: replication.KindEnroll, Payload: p}, uint64(i+1), prev)
			es, prev = append(es, e), e.Hash()
		}
		return &Batch{Ranges: []Range{rangeOf(es, 0, len(es))}}
	}
	// The third payload fills the body up; its length varint takes 2 bytes
	// instead of the 1 it took for an empty payload.
	last := MinBodyLimit - len(mustBody(t, c, chain(60_000, 60_000, 0))) - 1
	b := chain(60_000, 60_000, last)
	frame, err := c.AppendFrame(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if h := parseHeader(frame); h.ulen != MinBodyLimit {
		t.Fatalf("body is %d bytes, want exactly %d", h.ulen, MinBodyLimit)
	}
	if _, _, err := c.DecodeFrame(frame); err != nil {
		t.Fatal(err)
	}
	_, err = c.AppendFrame(nil, chain(60_000, 60_000, last+1))
	wantErr(t, err, replication.ErrTooLarge, "body is 131073 bytes")
}

func validFrames(tb testing.TB) map[string][]byte {
	tb.Helper()
	c := mustCodec(tb, Limits{})
	_, es := testChain(tb, 21, 6, true)
	out := map[string][]byte{}
	for name, m := range map[string]Message{
		"batch":   &Batch{ID: 300, Ranges: []Range{rangeOf(es, 1, 6)}},
		"summary": &Summary{Heads: []replication.OriginHead{{Origin: oid(1), Head: replication.Head{Seq: 9, Hash: hsh(1)}}}},
		"hello":   &Hello{Version: 1, Origin: oid(4), Role: "hub", Tier: "district", Unit: "0101", Node: "h1"},
		"ack":     &Ack{BatchID: 300, Heads: []replication.OriginHead{{Origin: oid(1), Head: replication.Head{Seq: 9, Hash: hsh(1)}}}, Refused: []Refusal{{Origin: oid(2), Seq: 4, Reason: RefuseRevoked, Detail: "revoked at 3"}}},
	} {
		f, err := c.AppendFrame(nil, m)
		if err != nil {
			tb.Fatal(err)
		}
		out[name] = f
	}
	if out["batch"][2]&algoZstd == 0 || out["summary"][2] != algoNone {
		tb.Fatal("want a compressed batch and a stored summary")
	}
	return out
}

// TestRejectTruncation cuts valid frames at every offset: DecodeFrame and
// ReadFrame both refuse them whole, as a truncation.
func TestRejectTruncation(t *testing.T) {
	c := mustCodec(t, Limits{})
	for name, frame := range validFrames(t) {
		t.Run(name, func(t *testing.T) {
			for i := range len(frame) {
				m, n, err := c.DecodeFrame(frame[:i])
				if m != nil || n != 0 {
					t.Fatalf("cut at %d: accepted", i)
				}
				wantErr(t, err, replication.ErrMalformed, "truncated")
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("cut at %d: %v does not wrap io.ErrUnexpectedEOF", i, err)
				}
				_, _, err = c.ReadFrame(bytes.NewReader(frame[:i]))
				if i == 0 {
					if err != io.EOF {
						t.Fatalf("empty stream: %v, want io.EOF", err)
					}
					continue
				}
				wantErr(t, err, replication.ErrMalformed, "truncated")
			}
		})
	}
}

// TestRejectTruncatedBodies cuts valid bodies at every offset and frames
// them with a correct CRC: the structure alone must show the cut.
func TestRejectTruncatedBodies(t *testing.T) {
	c := mustCodec(t, Limits{})
	for name, frame := range validFrames(t) {
		t.Run(name, func(t *testing.T) {
			m, _, err := c.DecodeFrame(frame)
			if err != nil {
				t.Fatal(err)
			}
			b := mustBody(t, c, m)
			for i := range len(b) {
				_, _, err := c.DecodeFrame(frameRaw(m.Type(), b[:i]))
				wantErr(t, err, replication.ErrMalformed)
			}
		})
	}
}

// TestRejectBitFlips flips every bit of valid frames: each flip is
// refused (by the header checks, the zstd checks, the CRC or the body
// decoder), or, if accepted, decodes to the very same message.
func TestRejectBitFlips(t *testing.T) {
	c := mustCodec(t, Limits{})
	for name, frame := range validFrames(t) {
		t.Run(name, func(t *testing.T) {
			want, _, err := c.DecodeFrame(frame)
			if err != nil {
				t.Fatal(err)
			}
			same := 0
			for bit := range len(frame) * 8 {
				f := bytes.Clone(frame)
				f[bit/8] ^= 1 << (bit % 8)
				m, _, err := c.DecodeFrame(f)
				if err == nil {
					if !reflect.DeepEqual(m, want) {
						t.Fatalf("bit %d: accepted as a different message", bit)
					}
					same++
					continue
				}
				if !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, replication.ErrTooLarge) {
					t.Fatalf("bit %d: %v wraps neither ErrMalformed nor ErrTooLarge", bit, err)
				}
			}
			t.Logf("%d bits flipped, %d accepted as the same message", len(frame)*8, same)
		})
	}
}

// zstdFrame frames a zstd body as is, with a correct CRC over body.
func zstdFrame(typ MsgType, body, stored []byte) []byte {
	h := header{version: FrameVersion, typ: byte(typ), algo: algoZstd,
		ulen: uint32(len(body)), crc: checksum(typ, body), slen: uint32(len(stored))}
	b := make([]byte, FrameHeaderSize, FrameHeaderSize+len(stored))
	h.put(b)
	return append(b, stored...)
}

func TestRejectZstdBodies(t *testing.T) {
	c := mustCodec(t, Limits{})
	_, es := testChain(t, 5, 8, false)
	b := mustBody(t, c, &Batch{Ranges: []Range{rangeOf(es, 0, 8)}})
	good := c.enc.EncodeAll(b, nil)
	stream := func(opts ...zstd.EOption) []byte {
		var buf bytes.Buffer
		w, err := zstd.NewWriter(&buf, opts...)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}
	dict := make([]byte, 4096)
	for i := range dict {
		dict[i] = byte(i * 7)
	}
	withDict, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(77, dict), zstd.WithSingleSegment(true))
	if err != nil {
		t.Fatal(err)
	}
	// A small hello encoded without the single-segment flag: zstd then
	// leaves the content size out of the header.
	hello := mustBody(t, c, &Hello{Version: 1, Unit: string(bytes.Repeat([]byte("u"), 64)), Node: string(bytes.Repeat([]byte("n"), 64))})
	noFCS, err := zstd.NewWriter(nil, zstd.WithSingleSegment(false))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)/2] ^= 0x55
	for _, tc := range []struct {
		name   string
		stored []byte
		words  []string
		typ    MsgType
		body   []byte
	}{
		{"bad magic", append([]byte{0, 0, 0, 0}, good[4:]...), []string{"bad magic"}, 0, nil},
		{"skippable frame", skippable, []string{"skippable"}, 0, nil},
		{"skippable frame after", append(bytes.Clone(good), skippable...), []string{"12 trailing bytes after the zstd frame"}, 0, nil},
		{"second frame after", append(bytes.Clone(good), c.enc.EncodeAll([]byte("x"), nil)...), []string{"trailing bytes after the zstd frame"}, 0, nil},
		{"garbage after", append(bytes.Clone(good), 0), []string{"1 trailing bytes after the zstd frame"}, 0, nil},
		{"streamed", stream(), nil, 0, nil},
		{"no content size", noFCS.EncodeAll(hello, nil), []string{"does not declare its content size"}, TypeHello, hello},
		{"content size mismatch", c.enc.EncodeAll(b[:len(b)-1], nil), []string{"declares", "frame header allows"}, 0, nil},
		{"dictionary", withDict.EncodeAll(b, nil), []string{"dictionary 77"}, 0, nil},
		{"block cut", good[:len(good)-1], []string{"truncated"}, 0, nil},
		{"corrupt block", corrupt, []string{"body"}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.typ == 0 {
				tc.typ, tc.body = TypeBatch, b
			}
			m, _, err := c.DecodeFrame(zstdFrame(tc.typ, tc.body, tc.stored))
			if tc.words == nil { // other encoders' frames are fine when they declare their size
				if err != nil || m == nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, replication.ErrMalformed, tc.words...)
		})
	}
}

// TestEncoderRefuses: AppendFrame refuses messages that break their
// type's invariants, saying why, and writes nothing.
func TestEncoderRefuses(t *testing.T) {
	c := mustCodec(t, Limits{MaxHeads: 2, MaxRanges: 2, MaxEntries: 30, MaxRefusals: 1})
	_, a := testChain(t, 31, 12, false)
	_, b := testChain(t, 32, 3, false)
	gap := append(append([]replication.Entry(nil), a[0:3]...), a[4:6]...)
	foreign := append(append([]replication.Entry(nil), a[0:2]...), b[2])
	tampered := append([]replication.Entry(nil), a[0:3]...)
	tampered[1].Payload = []byte(`{"tampered":true}`)
	badSig := append([]replication.Entry(nil), a[0:1]...)
	badSig[0].Sig = badSig[0].Sig[:10]
	kind0 := append([]replication.Entry(nil), a[0:1]...)
	kind0[0].Kind = 0
	big := append([]replication.Entry(nil), a[0:1]...)
	big[0].Payload = make([]byte, replication.MaxPayloadBytes+1)
	heads := func(seqs ...uint64) []replication.OriginHead {
		var hs []replication.OriginHead
		for i, s := range seqs {
			hs = append(hs, replication.OriginHead{Origin: oid(byte(i + 1)), Head: replication.Head{Seq: s, Hash: hsh(1)}})
		}
		return hs
	}
	rg := func(es []replication.Entry) Range { return Range{Origin: a[0].Origin, Prev: es[0].Prev, Entries: es} }
	for _, tc := range []struct {
		name   string
		m      Message
		target []error
		words  []string
	}{
		{"nil", nil, []error{ErrInvalidMessage}, []string{"nil message"}},
		{"typed nil", (*Batch)(nil), []error{ErrInvalidMessage}, []string{"nil message"}},
		{"gap", &Batch{Ranges: []Range{rg(gap)}}, []error{ErrInvalidMessage, replication.ErrBrokenChain}, []string{"batch range 0", "entry 3 has seq 5, want 4", "contiguous"}},
		{"foreign entry", &Batch{Ranges: []Range{rg(foreign)}}, []error{ErrInvalidMessage, replication.ErrBrokenChain}, []string{"entry 2 is of origin"}},
		{"tampered entry", &Batch{Ranges: []Range{rg(tampered)}}, []error{ErrInvalidMessage, replication.ErrBrokenChain}, []string{"entry 2 (seq 3) names previous hash"}},
		{"wrong range prev", &Batch{Ranges: []Range{{Origin: a[0].Origin, Prev: hsh(9), Entries: a[4:6]}}}, []error{ErrInvalidMessage, replication.ErrBrokenChain}, []string{"entry 0 (seq 5) names previous hash"}},
		{"seq 1 with prev", &Batch{Ranges: []Range{{Origin: a[0].Origin, Prev: hsh(9), Entries: a[0:2]}}}, []error{ErrInvalidMessage, replication.ErrBrokenChain}, []string{"starts at seq 1"}},
		{"empty range", &Batch{Ranges: []Range{{Origin: a[0].Origin}}}, []error{ErrInvalidMessage}, []string{"no entries"}},
		{"ranges duplicate origin", &Batch{Ranges: []Range{rangeOf(a, 0, 2), rangeOf(a, 2, 4)}}, []error{ErrInvalidMessage}, []string{"batch range 1", "not above"}},
		{"signature length", &Batch{Ranges: []Range{rg(badSig)}}, []error{ErrInvalidMessage}, []string{"signature is 10 bytes"}},
		{"kind 0", &Batch{Ranges: []Range{rg(kind0)}}, []error{ErrInvalidMessage}, []string{"kind is 0"}},
		{"payload too big", &Batch{Ranges: []Range{rg(big)}}, []error{replication.ErrTooLarge}, []string{"payload 65537 bytes"}},
		{"too many ranges", &Batch{Ranges: make([]Range, 3)}, []error{replication.ErrTooLarge}, []string{"batch ranges: count 3, limit 2"}},
		{"too many entries", &Batch{Ranges: []Range{{Entries: make([]replication.Entry, 31)}}}, []error{replication.ErrTooLarge}, []string{"batch entries: count 31, limit 30"}},
		{"summary unsorted", &Summary{Heads: []replication.OriginHead{heads(1, 1)[1], heads(1)[0]}}, []error{ErrInvalidMessage}, []string{"summary head 1", "not above"}},
		{"summary duplicate", &Summary{Heads: []replication.OriginHead{heads(1)[0], heads(1)[0]}}, []error{ErrInvalidMessage}, []string{"summary head 1", "not above"}},
		{"summary seq 0", &Summary{Heads: heads(3, 0)}, []error{ErrInvalidMessage}, []string{"summary head 1: seq is 0"}},
		{"summary too many heads", &Summary{Heads: heads(1, 2, 3)}, []error{replication.ErrTooLarge}, []string{"summary heads: count 3, limit 2"}},
		{"hello version 0", &Hello{}, []error{ErrInvalidMessage}, []string{"hello version is 0"}},
		{"hello node too long", &Hello{Version: 1, Node: string(make([]byte, MaxNodeBytes+1))}, []error{replication.ErrTooLarge}, []string{"hello node: 65 bytes, limit 64"}},
		{"hello tier not utf8", &Hello{Version: 1, Tier: "\xff"}, []error{ErrInvalidMessage}, []string{"hello tier: not valid UTF-8"}},
		{"ack reason 0", &Ack{Refused: []Refusal{{Seq: 1}}}, []error{ErrInvalidMessage}, []string{"ack refusal 0: reason is 0"}},
		{"ack detail too long", &Ack{Refused: []Refusal{{Reason: 1, Detail: string(make([]byte, 201))}}}, []error{replication.ErrTooLarge}, []string{"ack refusal 0", "detail: 201 bytes"}},
		{"ack too many refusals", &Ack{Refused: make([]Refusal, 2)}, []error{replication.ErrTooLarge}, []string{"ack refusals: count 2, limit 1"}},
		{"ack unsorted heads", &Ack{Heads: []replication.OriginHead{heads(1, 1)[1], heads(1)[0]}}, []error{ErrInvalidMessage}, []string{"ack head 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.AppendFrame([]byte("keep"), tc.m)
			if string(out) != "keep" {
				t.Fatalf("dst changed to %q", out)
			}
			for _, target := range tc.target {
				wantErr(t, err, target, tc.words...)
			}
			n, err := c.WriteFrame(io.Discard, tc.m)
			if n != 0 || err == nil {
				t.Fatalf("WriteFrame wrote %d bytes, err %v", n, err)
			}
		})
	}
}

// TestEncoderRefusesUnsortedRanges builds two ranges in the wrong order.
func TestEncoderRefusesUnsortedRanges(t *testing.T) {
	c := mustCodec(t, Limits{})
	_, a := testChain(t, 41, 2, false)
	_, b := testChain(t, 42, 2, false)
	rs := sortRanges([]Range{rangeOf(a, 0, 2), rangeOf(b, 0, 2)})
	rs[0], rs[1] = rs[1], rs[0]
	_, err := c.AppendFrame(nil, &Batch{Ranges: rs})
	wantErr(t, err, ErrInvalidMessage, "batch range 1", "not above")
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("link down") }

// failReader returns some bytes, then an error that is not EOF.
type failReader struct{ b []byte }

func (r *failReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errors.New("link down")
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestIOErrors(t *testing.T) {
	c := mustCodec(t, Limits{})
	frame := validFrames(t)["batch"]
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"write", func() error { _, err := c.WriteFrame(failWriter{}, &Summary{}); return err }},
		{"read header", func() error { _, _, err := c.ReadFrame(&failReader{b: frame[:5]}); return err }},
		{"read body", func() error { _, _, err := c.ReadFrame(&failReader{b: frame[:40]}); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || errors.Is(err, replication.ErrMalformed) || !bytesContains(err.Error(), "link down") {
				t.Fatalf("got %v, want the link error, not ErrMalformed", err)
			}
		})
	}
}

func bytesContains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }
