package wire

import (
	"strings"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/blob"
)

func (b body) bh(x byte) body { h := bh(x); return append(b, h[:]...) }

// TestRejectCraftedBlobBodies: each rule of the blob lane's bodies, broken
// once, is refused with an error that names the field.
func TestRejectCraftedBlobBodies(t *testing.T) {
	c := mustCodec(t, Limits{MaxHeads: 3})
	zero := body{}.zero(blob.HashSize)
	for _, tc := range []struct {
		name   string
		typ    MsgType
		body   body
		target error
		words  []string
	}{
		{"status origins over limit", TypeBlobStatus, body{}.uv(4), replication.ErrTooLarge, []string{"blob status origins", "limit 3"}},
		{"status origins past end", TypeBlobStatus, body{}.uv(2).o(1).uv(1).uv(0), replication.ErrMalformed, []string{"blob status origins", "count 2"}},
		{"status through 0", TypeBlobStatus, body{}.uv(1).o(1).uv(0).uv(0).uv(0), replication.ErrMalformed, []string{"blob status origin 0", "through is 0"}},
		{"status origins unsorted", TypeBlobStatus, body{}.uv(2).o(2).uv(1).uv(0).o(1).uv(1).uv(0).uv(0), replication.ErrMalformed, []string{"blob status origin 1", "not above"}},
		{"status origins duplicate", TypeBlobStatus, body{}.uv(2).o(1).uv(1).uv(0).o(1).uv(1).uv(0).uv(0), replication.ErrMalformed, []string{"blob status origin 1", "not above"}},
		{"status missing step 0", TypeBlobStatus, body{}.uv(1).o(1).uv(9).uv(2).uv(3).uv(0).uv(0), replication.ErrMalformed, []string{"missing seq 1", "step 0"}},
		{"status missing past through", TypeBlobStatus, body{}.uv(1).o(1).uv(9).uv(2).uv(3).uv(7).uv(0), replication.ErrMalformed, []string{"missing seq 1", "1..9"}},
		{"status missing first 0", TypeBlobStatus, body{}.uv(1).o(1).uv(9).uv(1).uv(0).uv(0), replication.ErrMalformed, []string{"missing seq 0", "step 0"}},
		{"status missing count past end", TypeBlobStatus, body{}.uv(1).o(1).uv(9).uv(50).uv(1), replication.ErrMalformed, []string{"missing", "count 50"}},
		{"status missing over limit", TypeBlobStatus, body{}.uv(1).o(1).uv(9).uv(MaxBlobMissing + 1), replication.ErrTooLarge, []string{"missing", "limit"}},
		{"status partials over limit", TypeBlobStatus, body{}.uv(0).uv(MaxBlobPartials + 1), replication.ErrTooLarge, []string{"blob status partials", "limit"}},
		{"status partial zero hash", TypeBlobStatus, body{}.uv(0).uv(1).raw(zero...).uv(1), replication.ErrMalformed, []string{"blob status partial 0", "zero hash"}},
		{"status partial offset 0", TypeBlobStatus, body{}.uv(0).uv(1).bh(1).uv(0), replication.ErrMalformed, []string{"blob status partial 0", "offset 0"}},
		{"status partial offset at max size", TypeBlobStatus, body{}.uv(0).uv(1).bh(1).uv(blob.MaxSize), replication.ErrMalformed, []string{"offset 16777216"}},
		{"status partials unsorted", TypeBlobStatus, body{}.uv(0).uv(2).bh(9).uv(1).bh(1).uv(1), replication.ErrMalformed, []string{"blob status partial 1", "not above"}},
		{"status trailing", TypeBlobStatus, body{}.uv(0).uv(0).raw(0), replication.ErrMalformed, []string{"blob status", "trailing"}},
		{"offer empty", TypeBlobOffer, body{}.uv(0), replication.ErrMalformed, []string{"blob offer", "no blobs"}},
		{"offer over limit", TypeBlobOffer, body{}.uv(MaxBlobOffers + 1), replication.ErrTooLarge, []string{"blob offer", "limit"}},
		{"offer size 0", TypeBlobOffer, body{}.uv(1).bh(1).uv(0).o(1).uv(2), replication.ErrMalformed, []string{"blob offer 0", "size 0"}},
		{"offer size over max", TypeBlobOffer, body{}.uv(1).bh(1).uv(blob.MaxSize + 1).o(1).uv(2), replication.ErrMalformed, []string{"blob offer 0", "size 16777217"}},
		{"offer seq 0", TypeBlobOffer, body{}.uv(1).bh(1).uv(5).o(1).uv(0), replication.ErrMalformed, []string{"blob offer 0", "seq is 0"}},
		{"offer zero hash", TypeBlobOffer, body{}.uv(1).raw(zero...).uv(5).o(1).uv(2), replication.ErrMalformed, []string{"blob offer 0", "zero hash"}},
		{"offer twice", TypeBlobOffer, body{}.uv(2).bh(1).uv(5).o(1).uv(2).bh(1).uv(5).o(1).uv(3), replication.ErrMalformed, []string{"blob offer 1", "twice"}},
		{"offer trailing", TypeBlobOffer, body{}.uv(1).bh(1).uv(5).o(1).uv(2).raw(0), replication.ErrMalformed, []string{"blob offer", "trailing"}},
		{"chunk empty", TypeBlobChunk, body{}.bh(1).uv(0).uv(0), replication.ErrMalformed, []string{"blob chunk length is 0"}},
		{"chunk over limit", TypeBlobChunk, body{}.bh(1).uv(0).uv(MaxBlobChunkBytes + 1), replication.ErrTooLarge, []string{"blob chunk length", "limit"}},
		{"chunk past max size", TypeBlobChunk, body{}.bh(1).uv(blob.MaxSize-1).uv(2).raw(1, 2), replication.ErrMalformed, []string{"past the largest blob"}},
		{"chunk huge offset", TypeBlobChunk, body{}.bh(1).uv(1 << 63).uv(1).raw(1), replication.ErrMalformed, []string{"past the largest blob"}},
		{"chunk data short", TypeBlobChunk, body{}.bh(1).uv(0).uv(9).raw(1, 2), replication.ErrMalformed, []string{"blob chunk data", "needs 9"}},
		{"chunk zero hash", TypeBlobChunk, body{}.raw(zero...).uv(0).uv(1).raw(1), replication.ErrMalformed, []string{"blob chunk hash", "zero hash"}},
		{"chunk trailing", TypeBlobChunk, body{}.bh(1).uv(0).uv(1).raw(1, 2), replication.ErrMalformed, []string{"blob chunk", "trailing"}},
		{"ack empty", TypeBlobAck, body{}.uv(0), replication.ErrMalformed, []string{"blob ack", "no blobs"}},
		{"ack over limit", TypeBlobAck, body{}.uv(MaxBlobAcks + 1), replication.ErrTooLarge, []string{"blob ack", "limit"}},
		{"ack state 0", TypeBlobAck, body{}.uv(1).bh(1).raw(0), replication.ErrMalformed, []string{"blob ack 0", "state 0"}},
		{"ack state 5", TypeBlobAck, body{}.uv(1).bh(1).raw(5), replication.ErrMalformed, []string{"blob ack 0", "state 5"}},
		{"ack held offset past max", TypeBlobAck, body{}.uv(1).bh(1).raw(4).uv(blob.MaxSize), replication.ErrMalformed, []string{"blob ack 0", "offset"}},
		{"ack want offset past max", TypeBlobAck, body{}.uv(1).bh(1).raw(2).uv(blob.MaxSize), replication.ErrMalformed, []string{"blob ack 0", "offset"}},
		{"ack refused reason 0", TypeBlobAck, body{}.uv(1).bh(1).raw(3).raw(0).str(""), replication.ErrMalformed, []string{"blob ack 0", "reason is 0"}},
		{"ack refused detail too long", TypeBlobAck, body{}.uv(1).bh(1).raw(3).raw(11).str(strings.Repeat("x", MaxDetailBytes+1)), replication.ErrTooLarge, []string{"blob ack 0", "detail"}},
		{"ack have with trailing offset", TypeBlobAck, body{}.uv(1).bh(1).raw(1).uv(5), replication.ErrMalformed, []string{"blob ack", "trailing"}},
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

// TestEncodeInvalidBlobMessages: the encoder refuses what the decoder
// would, so a codec never writes a frame its peer refuses.
func TestEncodeInvalidBlobMessages(t *testing.T) {
	c := mustCodec(t, Limits{MaxHeads: 3})
	id := blob.ID{Hash: bh(1), Size: 10}
	entry := replication.EntryID{Origin: oid(1), Seq: 2}
	for _, tc := range []struct {
		name   string
		m      Message
		target error
	}{
		{"status through 0", &BlobStatus{Origins: []BlobNeed{{Origin: oid(1)}}}, ErrInvalidMessage},
		{"status missing above through", &BlobStatus{Origins: []BlobNeed{{Origin: oid(1), Through: 3, Missing: []uint64{4}}}}, ErrInvalidMessage},
		{"status missing unsorted", &BlobStatus{Origins: []BlobNeed{{Origin: oid(1), Through: 9, Missing: []uint64{4, 4}}}}, ErrInvalidMessage},
		{"status origins unsorted", &BlobStatus{Origins: []BlobNeed{{Origin: oid(2), Through: 1}, {Origin: oid(1), Through: 1}}}, ErrInvalidMessage},
		{"status origins over limit", &BlobStatus{Origins: make([]BlobNeed, 4)}, replication.ErrTooLarge},
		{"status partial offset 0", &BlobStatus{Partials: []BlobPartial{{Hash: bh(1)}}}, ErrInvalidMessage},
		{"status partials unsorted", &BlobStatus{Partials: []BlobPartial{{Hash: bh(9), Offset: 1}, {Hash: bh(1), Offset: 1}}}, ErrInvalidMessage},
		{"offer empty", &BlobOffer{}, ErrInvalidMessage},
		{"offer bad id", &BlobOffer{Blobs: []OfferedBlob{{ID: blob.ID{Hash: bh(1)}, Entry: entry}}}, ErrInvalidMessage},
		{"offer seq 0", &BlobOffer{Blobs: []OfferedBlob{{ID: id, Entry: replication.EntryID{Origin: oid(1)}}}}, ErrInvalidMessage},
		{"offer twice", &BlobOffer{Blobs: []OfferedBlob{{ID: id, Entry: entry}, {ID: id, Entry: entry}}}, ErrInvalidMessage},
		{"chunk empty", &BlobChunk{Hash: bh(1)}, ErrInvalidMessage},
		{"chunk zero hash", &BlobChunk{Data: []byte{1}}, ErrInvalidMessage},
		{"chunk too big", &BlobChunk{Hash: bh(1), Data: make([]byte, MaxBlobChunkBytes+1)}, replication.ErrTooLarge},
		{"chunk past max size", &BlobChunk{Hash: bh(1), Offset: blob.MaxSize, Data: []byte{1}}, ErrInvalidMessage},
		{"ack empty", &BlobAck{}, ErrInvalidMessage},
		{"ack state 0", &BlobAck{Blobs: []BlobState{{Hash: bh(1)}}}, ErrInvalidMessage},
		{"ack have with offset", &BlobAck{Blobs: []BlobState{{Hash: bh(1), State: BlobHave, Offset: 3}}}, ErrInvalidMessage},
		{"ack refused without reason", &BlobAck{Blobs: []BlobState{{Hash: bh(1), State: BlobRefused}}}, ErrInvalidMessage},
		{"ack want with reason", &BlobAck{Blobs: []BlobState{{Hash: bh(1), State: BlobWant, Reason: RefuseBusy}}}, ErrInvalidMessage},
		{"ack refused detail not utf8", &BlobAck{Blobs: []BlobState{{Hash: bh(1), State: BlobRefused, Reason: RefuseBusy, Detail: "\xff"}}}, ErrInvalidMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.AppendFrame(nil, tc.m)
			if len(out) != 0 {
				t.Fatalf("wrote %d bytes", len(out))
			}
			wantErr(t, err, tc.target)
		})
	}
}

// TestBlobChunkNotCompressedTwice: a chunk of incompressible bytes (an
// image) is stored as is, with only the frame header and the chunk's 40
// bytes of hash, offset and length around it.
func TestBlobChunkNotCompressedTwice(t *testing.T) {
	c := mustCodec(t, Limits{})
	data := make([]byte, 16<<10)
	r := testRand(5)
	r.Read(data)
	frame, err := c.AppendFrame(nil, &BlobChunk{Hash: bh(1), Offset: 1 << 20, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if h := parseHeader(frame); h.algo != algoNone {
		t.Fatalf("algo %d, want stored as is", h.algo)
	}
	if over := len(frame) - len(data); over > FrameHeaderSize+blob.HashSize+3+3 {
		t.Fatalf("frame overhead %d bytes", over)
	}
}

func FuzzDecodeBlobStatusBody(f *testing.F) {
	f.Add([]byte(body{}.uv(1).o(1).uv(9).uv(2).uv(3).uv(4).uv(1).bh(2).uv(100)))
	fuzzBody(f, decodeBlobStatus, nil)
}

func FuzzDecodeBlobOfferBody(f *testing.F) {
	f.Add([]byte(body{}.uv(1).bh(1).uv(5).o(1).uv(2)))
	fuzzBody(f, func(b []byte, _ *Limits) (*BlobOffer, error) { return decodeBlobOffer(b) }, nil)
}

func FuzzDecodeBlobChunkBody(f *testing.F) {
	f.Add([]byte(body{}.bh(1).uv(0).uv(3).raw(1, 2, 3)))
	fuzzBody(f, func(b []byte, _ *Limits) (*BlobChunk, error) { return decodeBlobChunk(b) }, nil)
}

func FuzzDecodeBlobAckBody(f *testing.F) {
	f.Add([]byte(body{}.uv(2).bh(1).raw(2).uv(100).bh(2).raw(3).raw(11).str("no")))
	fuzzBody(f, func(b []byte, _ *Limits) (*BlobAck, error) { return decodeBlobAck(b) }, nil)
}
