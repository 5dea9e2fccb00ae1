package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"sync"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/blob"
)

// sampleMessages is one or more valid messages of every type, covering the
// edge cases of each encoding.
func sampleMessages(tb testing.TB) map[string]Message {
	tb.Helper()
	_, a := testChain(tb, 1, 40, false)
	_, b := testChain(tb, 2, 12, true)
	_, c := testChain(tb, 3, 3, false)
	odd := append([]replication.Entry(nil), c...)
	// Backwards and extreme HLCs, an empty payload and the largest schema:
	// the chain is re-sealed so it still links.
	s, _ := testChain(tb, 3, 1, false)
	odd[1] = replication.Seal(s, replication.Draft{Kind: replication.KindVoid, Schema: 0xffff, HLC: 1<<64 - 1}, 2, odd[0].Hash())
	odd[2] = replication.Seal(s, replication.Draft{Kind: replication.Kind(200), Schema: 0, HLC: 0, Payload: []byte("{}")}, 3, odd[1].Hash())
	return map[string]Message{
		"hello": &Hello{Version: 1, Origin: a[0].Origin, Role: "node", Unit: "01001", Node: "laptop-xa-phu-linh-03"},
		"hello zero origin, longest strings": &Hello{Version: 0xffff, Role: string(bytes.Repeat([]byte("r"), MaxRoleBytes)),
			Tier: "tỉnh", Unit: string(bytes.Repeat([]byte("u"), MaxUnitBytes)), Node: string(bytes.Repeat([]byte("n"), MaxNodeBytes))},
		"summary empty":      &Summary{},
		"summary":            &Summary{Heads: []replication.OriginHead{{Origin: oid(1), Head: replication.Head{Seq: 1, Hash: hsh(1)}}, {Origin: oid(2), Head: replication.Head{Seq: 1 << 63, Hash: hsh(2)}}, {Origin: oid(9), Head: replication.Head{Seq: 300, Hash: hsh(3)}}}},
		"batch empty":        &Batch{ID: 7},
		"batch from genesis": &Batch{ID: 1, Ranges: []Range{rangeOf(a, 0, 40)}},
		"batch mid chain, sparse signatures, three origins": &Batch{ID: 1<<64 - 1, Ranges: sortRanges([]Range{
			rangeOf(a, 17, 30), rangeOf(b, 1, 12), rangeOf(c, 2, 3)})},
		"batch odd hlc kind schema payload": &Batch{ID: 3, Ranges: []Range{rangeOf(odd, 0, 3)}},
		"ack empty":                         &Ack{},
		"ack": &Ack{BatchID: 99, Heads: []replication.OriginHead{{Origin: oid(3), Head: replication.Head{Seq: 12, Hash: hsh(4)}}},
			Refused: []Refusal{{Origin: oid(4), Seq: 5, Reason: RefuseFork, Detail: "đã có mục khác ở seq 5"},
				{Origin: oid(1), Reason: RefuseReason(250)}}},
		"blob status empty": &BlobStatus{},
		"blob status": &BlobStatus{
			Origins:  []BlobNeed{{Origin: oid(1), Through: 40, Missing: []uint64{2, 3, 39, 40}}, {Origin: oid(2), Through: 1 << 62}},
			Partials: []BlobPartial{{Hash: bh(1), Offset: 16384}, {Hash: bh(9), Offset: blob.MaxSize - 1}}},
		"blob offer": &BlobOffer{Blobs: []OfferedBlob{
			{ID: blob.ID{Hash: bh(7), Size: 180_000}, Entry: replication.EntryID{Origin: oid(1), Seq: 2}},
			{ID: blob.ID{Hash: bh(3), Size: blob.MaxSize}, Entry: replication.EntryID{Origin: oid(2), Seq: 1 << 40}}}},
		"blob chunk":            &BlobChunk{Hash: bh(5), Offset: 32768, Data: bytes.Repeat([]byte{0xff, 0xd8, 0x00}, 5000)},
		"blob chunk last bytes": &BlobChunk{Hash: bh(6), Offset: blob.MaxSize - 1, Data: []byte{0xd9}},
		"blob ack": &BlobAck{Blobs: []BlobState{{Hash: bh(7), State: BlobHave}, {Hash: bh(3), State: BlobWant, Offset: 0},
			{Hash: bh(4), State: BlobWant, Offset: 49152}, {Hash: bh(8), State: BlobHeld, Offset: 16384}, {Hash: bh(5), State: BlobRefused, Reason: RefuseNoReference, Detail: "không có hồ sơ nào tham chiếu"}}},
	}
}

// bh is a test blob hash.
func bh(b byte) blob.Hash {
	var h blob.Hash
	for i := range h {
		h[i] = b ^ byte(3*i)
	}
	return h
}

func TestRoundTrip(t *testing.T) {
	c := mustCodec(t, Limits{})
	for name, m := range sampleMessages(t) {
		t.Run(name, func(t *testing.T) {
			frame, err := c.AppendFrame([]byte("prefix"), m)
			if err != nil {
				t.Fatal(err)
			}
			if string(frame[:6]) != "prefix" {
				t.Fatal("AppendFrame overwrote dst")
			}
			got, n, err := c.DecodeFrame(frame[6:])
			if err != nil {
				t.Fatal(err)
			}
			if n != len(frame)-6 {
				t.Fatalf("consumed %d of %d", n, len(frame)-6)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip changed the message:\n got %+v\nwant %+v", got, m)
			}
			again, err := c.AppendFrame(nil, got)
			if err != nil || !bytes.Equal(again, frame[6:]) {
				t.Fatalf("re-encoding differs (err %v)", err)
			}
		})
	}
}

// TestBatchEntriesVerify: a batch of real signed entries decodes to
// entries with the same hashes, whose chain verifies.
func TestBatchEntriesVerify(t *testing.T) {
	c := mustCodec(t, Limits{})
	for _, tc := range []struct {
		name    string
		n, from int
		sparse  bool
	}{
		{"100 from genesis", 100, 0, false},
		{"500 from seq 200, sparse signatures", 700, 199, true},
		{"genesis only", 1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, es := testChain(t, 11, tc.n, tc.sparse)
			rg := rangeOf(es, tc.from, tc.n)
			frame, err := c.AppendFrame(nil, &Batch{ID: 5, Ranges: []Range{rg}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.n >= 100 && frame[2]&algoZstd == 0 {
				t.Fatal("a batch of 100 JSON entries was not compressed")
			}
			m, _, err := c.DecodeFrame(frame)
			if err != nil {
				t.Fatal(err)
			}
			got := m.(*Batch).Ranges[0]
			for i := range got.Entries {
				if got.Entries[i].Hash() != rg.Entries[i].Hash() {
					t.Fatalf("entry %d: hash differs", i)
				}
			}
			head, err := replication.VerifyChain(s.PublicKey(), got.Prev, got.Entries)
			if err != nil {
				t.Fatal(err)
			}
			if head != es[tc.n-1].Hash() {
				t.Fatal("chain head differs")
			}
			t.Logf("%d entries: body %d bytes, frame %d bytes, %.0f bytes/entry",
				len(got.Entries), parseHeader(frame).ulen, len(frame), float64(len(frame))/float64(len(got.Entries)))
		})
	}
}

// TestDecodedPayloadsAreFresh: decoded payloads do not alias the frame.
func TestDecodedPayloadsAreFresh(t *testing.T) {
	c := mustCodec(t, Limits{})
	_, es := testChain(t, 4, 2, false)
	frame := frameRaw(TypeBatch, mustBody(t, c, &Batch{Ranges: []Range{rangeOf(es, 0, 2)}}))
	m, _, err := c.DecodeFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	clear(frame)
	got := m.(*Batch).Ranges[0].Entries
	if got[1].Hash() != es[1].Hash() || !bytes.Equal(got[1].Sig, es[1].Sig) {
		t.Fatal("decoded entry changed when the frame was overwritten")
	}
}

func mustBody(tb testing.TB, c *Codec, m Message) []byte {
	tb.Helper()
	b, err := c.appendBody(nil, m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestStream writes every sample to one stream and reads them back, then
// a clean io.EOF.
func TestStream(t *testing.T) {
	c := mustCodec(t, Limits{})
	samples := sampleMessages(t)
	var buf bytes.Buffer
	var order []Message
	total := 0
	for _, m := range samples {
		n, err := c.WriteFrame(&buf, m)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		order = append(order, m)
	}
	if total != buf.Len() {
		t.Fatalf("WriteFrame reported %d bytes, wrote %d", total, buf.Len())
	}
	for i, want := range order {
		got, _, err := c.ReadFrame(&buf)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("frame %d differs", i)
		}
	}
	if _, n, err := c.ReadFrame(&buf); err != io.EOF || n != 0 {
		t.Fatalf("at end: n=%d err=%v, want 0, io.EOF", n, err)
	}
}

func TestCompressOnlyWhenSmaller(t *testing.T) {
	c := mustCodec(t, Limits{})
	for name, m := range sampleMessages(t) {
		t.Run(name, func(t *testing.T) {
			frame, err := c.AppendFrame(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			h := parseHeader(frame)
			if h.algo != algoNone && h.slen >= h.ulen {
				t.Fatalf("zstd stored %d >= body %d", h.slen, h.ulen)
			}
			if h.algo == algoNone && len(c.enc.EncodeAll(frame[FrameHeaderSize:], nil)) < int(h.ulen) {
				t.Fatal("stored as is although zstd would be smaller")
			}
		})
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{TypeHello.String(), "hello"}, {TypeAck.String(), "ack"}, {MsgType(0).String(), "msgtype(0)"}, {MsgType(9).String(), "msgtype(9)"},
		{RefuseBadSignature.String(), "bad-signature"}, {RefuseInternal.String(), "internal"}, {RefuseReason(0).String(), "reason(0)"}, {RefuseReason(77).String(), "reason(77)"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q", tc.got)
			}
		})
	}
}

func TestRefuseReasonFor(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want RefuseReason
	}{
		{replication.ErrBadSignature, RefuseBadSignature},
		{replication.ErrBrokenChain, RefuseBrokenChain},
		{replication.ErrFork, RefuseFork},
		{replication.ErrUnknownOrigin, RefuseUnknownOrigin},
		{replication.ErrTooLarge, RefuseTooLarge},
		{replication.ErrMalformed, RefuseMalformed},
		{errors.New("disk full"), RefuseInternal},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			if got := RefuseReasonFor(errors.Join(errors.New("ctx"), tc.err)); got != tc.want {
				t.Fatalf("got %s", got)
			}
		})
	}
}

func TestClipDetail(t *testing.T) {
	long := string(bytes.Repeat([]byte("ữ"), 100)) // 3 bytes each
	for _, tc := range []struct{ name, in string }{
		{"short", "ok"}, {"long multibyte", long}, {"invalid utf8", "a\xffb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ClipDetail(tc.in)
			if err := checkString("detail", got, MaxDetailBytes); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewCodecLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    Limits
		ok   bool
	}{
		{"zero means defaults", Limits{}, true},
		{"smallest body", Limits{MaxBodyBytes: MinBodyLimit}, true},
		{"body below minimum", Limits{MaxBodyBytes: MinBodyLimit - 1}, false},
		{"body above maximum", Limits{MaxBodyBytes: MaxBodyLimit + 1}, false},
		{"negative", Limits{MaxHeads: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCodec(tc.l)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err == nil && c.Limits().MaxRefusals != DefaultMaxRefusals {
				t.Fatal("zero limit not defaulted")
			}
		})
	}
}

// TestConcurrentUse shares one codec between goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	c := mustCodec(t, Limits{})
	samples := sampleMessages(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for range 5 {
				for _, m := range samples {
					f, err := c.AppendFrame(nil, m)
					if err == nil {
						var got Message
						got, _, err = c.DecodeFrame(f)
						if err == nil && !reflect.DeepEqual(got, m) {
							err = errors.New("concurrent round trip changed a message")
						}
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
