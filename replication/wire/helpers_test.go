package wire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"fieldsync/replication"
)

// testRand is a deterministic byte source for keys.
func testRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

func mustCodec(tb testing.TB, l Limits) *Codec {
	tb.Helper()
	c, err := NewCodec(l)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

var (
	familyNames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"}
	middleNames = []string{"Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc"}
	givenNames  = []string{"An", "Bình", "Cường", "Dũng", "Hoà", "Hương", "Lan", "Mai", "Nam", "Phúc", "Quân", "Thảo", "Tuấn", "Yến"}
	streets     = []string{"Thôn Đông", "Thôn Tây", "Xóm Chợ", "Ấp Bắc", "Bản Nà Phặc", "Tổ dân phố 3"}
)

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// enrollPayload returns a realistic ~600-byte JSON enrollment record.
func enrollPayload(r *rand.Rand, i int) []byte {
	rec := map[string]any{
		"record_id":   fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff),
		"pin":         fmt.Sprintf("%03d%d%02d%06d", 1+r.IntN(96), r.IntN(4), r.IntN(100), r.IntN(1_000_000)),
		"full_name":   pick(r, familyNames) + " " + pick(r, middleNames) + " " + pick(r, givenNames),
		"dob":         fmt.Sprintf("%04d-%02d-%02d", 1940+r.IntN(80), 1+r.IntN(12), 1+r.IntN(28)),
		"sex":         []string{"M", "F"}[r.IntN(2)],
		"ethnicity":   "Kinh",
		"commune":     fmt.Sprintf("%05d", r.IntN(100000)),
		"address":     fmt.Sprintf("%s, số %d", pick(r, streets), 1+r.IntN(300)),
		"father_name": pick(r, familyNames) + " Văn " + pick(r, givenNames),
		"mother_name": pick(r, familyNames) + " Thị " + pick(r, givenNames),
		"photo_sha":   fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()),
		"finger_sha":  fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()),
		"officer":     fmt.Sprintf("CA-%06d", r.IntN(1_000_000)),
		"captured_at": time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 97 * time.Second).Format(time.RFC3339),
		"status":      "captured",
		"notes":       strings.Repeat("đã xác minh giấy tờ; ", 1+r.IntN(3)),
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	return b
}

// testChain builds a signed chain of n entries (seq 1 is the genesis).
// When sparse, only every 4th and the last entry carry a signature.
func testChain(tb testing.TB, seed uint64, n int, sparse bool) (*replication.KeySigner, []replication.Entry) {
	tb.Helper()
	s, err := replication.GenerateKeySigner(testRand(seed), 1)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	g, err := json.Marshal(replication.NewGenesis(s, replication.RoleNode, "", "01001"))
	if err != nil {
		tb.Fatal(err)
	}
	hlc := replication.MakeHLC(time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC).UnixMilli(), 0)
	out := make([]replication.Entry, 0, n)
	prev := replication.Hash{}
	for i := range n {
		d := replication.Draft{Kind: replication.KindEnroll, Schema: 3, Payload: nil, HLC: hlc}
		if i == 0 {
			d.Kind, d.Schema, d.Payload = replication.KindGenesis, replication.GenesisSchema, g
		} else {
			d.Payload = enrollPayload(r, i)
		}
		e := replication.Seal(s, d, uint64(i+1), prev)
		if sparse && i%4 != 3 && i != n-1 {
			e.Sig = nil
		}
		out = append(out, e)
		prev = e.Hash()
		hlc += replication.HLC(r.IntN(200_000) << 16)
	}
	return s, out
}

// rangeOf returns entries[from:to] as a range.
func rangeOf(es []replication.Entry, from, to int) Range {
	return Range{Origin: es[from].Origin, Prev: es[from].Prev, Entries: es[from:to]}
}

// sortRanges orders ranges by origin, as a batch requires.
func sortRanges(rs []Range) []Range {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Origin.Less(rs[j-1].Origin); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	return rs
}

// frameRaw frames an already-encoded body stored as is (algo none), with a
// correct CRC: the way to hand a crafted body to the decoder.
func frameRaw(typ MsgType, body []byte) []byte {
	h := header{version: FrameVersion, typ: byte(typ), algo: algoNone,
		ulen: uint32(len(body)), crc: checksum(typ, body), slen: uint32(len(body))}
	b := make([]byte, FrameHeaderSize, FrameHeaderSize+len(body))
	h.put(b)
	return append(b, body...)
}

// wantErr checks err wraps target and mentions every one of words.
func wantErr(tb testing.TB, err, target error, words ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %v", target)
	}
	if !errors.Is(err, target) {
		tb.Fatalf("error %q does not wrap %q", err, target)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			tb.Fatalf("error %q does not mention %q", err, w)
		}
	}
}

func oid(b byte) replication.OriginID {
	var o replication.OriginID
	o[0], o[15] = b, b
	return o
}

func hsh(b byte) replication.Hash {
	var h replication.Hash
	for i := range h {
		h[i] = b + byte(i)
	}
	return h
}
