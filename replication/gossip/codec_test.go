package gossip

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/memberlist"

	"fieldsync/replication"
)

func fullMeta() Meta {
	return Meta{
		Role:     replication.RoleHub,
		Tier:     "district",
		Unit:     "445",
		SyncAddr: "10.77.0.1:7400",
		Origin:   origin(7),
		Digest:   [DigestSize]byte{1, 2, 3, 4, 5, 6, 7, 8},
		Entries:  1_100_000,
	}
}

// maxedMeta has every string at its limit (multi-byte UTF-8 included) and
// the largest entry count.
func maxedMeta() Meta {
	return Meta{
		Role:     replication.Role(strings.Repeat("r", maxRoleLen)),
		Tier:     strings.Repeat("ấ", maxTierLen/3) + "xx",
		Unit:     strings.Repeat("u", maxUnitLen),
		SyncAddr: strings.Repeat("a", maxSyncAddrLen),
		Origin:   origin(1),
		Digest:   [DigestSize]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		Entries:  ^uint64(0),
	}
}

func TestMetaRoundTrip(t *testing.T) {
	for _, m := range []Meta{{}, fullMeta(), maxedMeta(), {Role: replication.RoleNode, Unit: "Xã Hương Sơn"}} {
		b, err := encodeMeta(m)
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		got, err := decodeMeta(b)
		if err != nil || got != m {
			t.Fatalf("round trip %+v: got %+v, %v", m, got, err)
		}
	}
}

// memberlist panics when NodeMeta returns more than MetaMaxSize bytes; the
// encoding's bound must stay well under it, and the encoder must refuse
// anything longer instead of panicking later.
func TestMetaBound(t *testing.T) {
	if maxMetaBytes > memberlist.MetaMaxSize/2 {
		t.Fatalf("maxMetaBytes %d is not well under memberlist.MetaMaxSize %d", maxMetaBytes, memberlist.MetaMaxSize)
	}
	b, err := encodeMeta(maxedMeta())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("largest meta: %d bytes (bound %d, memberlist limit %d); typical hub meta: %d bytes",
		len(b), maxMetaBytes, memberlist.MetaMaxSize, len(mustEncodeMeta(t, fullMeta())))
	if len(b) > maxMetaBytes {
		t.Fatalf("largest meta %d bytes > bound %d", len(b), maxMetaBytes)
	}
	for _, mod := range []func(*Meta){
		func(m *Meta) { m.Role += "x" },
		func(m *Meta) { m.Tier += "x" },
		func(m *Meta) { m.Unit += "x" },
		func(m *Meta) { m.SyncAddr += "x" },
	} {
		m := maxedMeta()
		mod(&m)
		if _, err := encodeMeta(m); !errors.Is(err, replication.ErrTooLarge) {
			t.Errorf("over-long field: %v", err)
		}
	}
	if _, err := encodeMeta(Meta{Unit: "\xff"}); !errors.Is(err, replication.ErrMalformed) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	d := &delegate{newPool(Config{Name: "x", Logger: testLogger()}, b)}
	if got := d.NodeMeta(memberlist.MetaMaxSize); !bytes.Equal(got, b) {
		t.Error("NodeMeta does not return the encoded meta")
	}
	if got := d.NodeMeta(len(b) - 1); got != nil {
		t.Error("NodeMeta returned more than its limit")
	}
}

func mustEncodeMeta(t *testing.T, m Meta) []byte {
	t.Helper()
	b, err := encodeMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeMetaRejects(t *testing.T) {
	good := mustEncodeMeta(t, fullMeta())
	bad := map[string][]byte{
		"empty":             nil,
		"version 0":         append([]byte{0}, good[1:]...),
		"trailing byte":     append(append([]byte(nil), good...), 0),
		"over 512 bytes":    append(append([]byte(nil), good...), make([]byte, 512)...),
		"role over limit":   append([]byte{1, maxRoleLen + 1}, bytes.Repeat([]byte{'r'}, maxRoleLen+1)...),
		"non-canonical len": {1, 0x80, 0x00},
		"invalid utf-8":     {1, 1, 0xff},
		"huge length":       {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for i := 1; i < len(good); i++ {
		bad["truncated at "+string(rune('0'+i%10))+"/"+string(rune('a'+i/10))] = good[:i]
	}
	for name, b := range bad {
		if m, err := decodeMeta(b); err == nil {
			t.Errorf("%s: decoded %+v", name, m)
		} else if !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, replication.ErrTooLarge) {
			t.Errorf("%s: error %v does not wrap ErrMalformed/ErrTooLarge", name, err)
		}
	}
	// A later version may append fields; version 1 fields still decode.
	v2 := append([]byte{2}, good[1:]...)
	v2 = append(v2, "new field"...)
	if m, err := decodeMeta(v2); err != nil || m != fullMeta() {
		t.Errorf("version 2 with an extra field: %+v, %v", m, err)
	}
}

func sortedHeads(n int, seq func(i int) uint64) []replication.OriginHead {
	hs := make([]replication.OriginHead, 0, n)
	for i := range n {
		hs = append(hs, prefixHead(head(i, seq(i))))
	}
	slicesSortHeads(hs)
	return hs
}

func TestPackHeadsSplitsUnderLimit(t *testing.T) {
	holder := strings.Repeat("n", maxNameLen)
	hs := sortedHeads(500, func(i int) uint64 { return uint64(i+1) * 1e12 })
	msgs, err := packHeads(holder, hs)
	if err != nil {
		t.Fatal(err)
	}
	var back []replication.OriginHead
	for _, b := range msgs {
		if len(b) > maxHeadsMsgBytes {
			t.Fatalf("message of %d bytes", len(b))
		}
		m, err := decodeHeadsMsg(b)
		if err != nil || m.holder != holder {
			t.Fatalf("decode: %+v, %v", m, err)
		}
		back = append(back, m.heads...)
	}
	t.Logf("500 heads with a %d-byte holder and 6-byte seqs: %d messages", len(holder), len(msgs))
	if len(back) != len(hs) {
		t.Fatalf("%d heads back, want %d", len(back), len(hs))
	}
	for i := range hs {
		if back[i] != hs[i] {
			t.Fatalf("head %d: %v, want %v", i, back[i], hs[i])
		}
	}
	short := sortedHeads(30, func(int) uint64 { return 400 })
	msgs, _ = packHeads("laptop-445-01", short)
	if len(msgs) != 1 {
		t.Errorf("30 typical heads took %d messages, want 1", len(msgs))
	}
}

func TestHeadsEncodersRefuseBadInput(t *testing.T) {
	hs := sortedHeads(3, func(int) uint64 { return 1 })
	unordered := []replication.OriginHead{hs[1], hs[0]}
	dup := []replication.OriginHead{hs[0], hs[0]}
	zero := []replication.OriginHead{{Origin: origin(1)}}
	for name, in := range map[string][]replication.OriginHead{"unordered": unordered, "duplicate": dup, "seq 0": zero} {
		if _, err := packHeads("h", in); err == nil {
			t.Errorf("packHeads %s: no error", name)
		}
		if _, err := encodeState("h", in); err == nil {
			t.Errorf("encodeState %s: no error", name)
		}
	}
	if _, err := packHeads(strings.Repeat("n", maxNameLen+1), hs); err == nil {
		t.Error("long holder accepted")
	}
}

func TestDecodeHeadsRejects(t *testing.T) {
	hs := sortedHeads(3, func(i int) uint64 { return uint64(i + 1) })
	msgs, _ := packHeads("hub", hs)
	good := msgs[0]
	enc := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	oneHead := func(h replication.OriginHead) []byte { return appendHead(nil, h) }
	bad := map[string][]byte{
		"empty":           nil,
		"wrong kind":      append([]byte{kindState}, good[1:]...),
		"trailing":        append(append([]byte(nil), good...), 1),
		"oversized":       append(append([]byte(nil), good...), make([]byte, maxHeadsMsgBytes)...),
		"no heads":        enc([]byte{kindHeads, 3}, []byte("hub"), []byte{0}),
		"empty holder":    enc([]byte{kindHeads, 0, 1}, oneHead(hs[0])),
		"count too large": enc([]byte{kindHeads, 3}, []byte("hub"), []byte{0xff, 0x01}, oneHead(hs[0])),
		"unordered":       enc([]byte{kindHeads, 3}, []byte("hub"), []byte{2}, oneHead(hs[1]), oneHead(hs[0])),
		"duplicate":       enc([]byte{kindHeads, 3}, []byte("hub"), []byte{2}, oneHead(hs[0]), oneHead(hs[0])),
		"seq 0":           enc([]byte{kindHeads, 3}, []byte("hub"), []byte{1}, oneHead(replication.OriginHead{Origin: origin(1)})),
	}
	for i := 1; i < len(good); i++ {
		bad["truncated "+strings.Repeat("x", i)] = good[:i]
	}
	for name, b := range bad {
		if m, err := decodeHeadsMsg(b); err == nil {
			t.Errorf("%s: decoded %+v", name, m)
		} else if !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, replication.ErrTooLarge) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStateTruncatesAtLimit(t *testing.T) {
	hs := sortedHeads(2000, func(i int) uint64 { return uint64(1000 + i) })
	b, err := encodeState("district-hub-445", hs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > maxStateBytes {
		t.Fatalf("state of %d bytes", len(b))
	}
	m, err := decodeState(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2000 heads: state of %d bytes carries %d heads, says total %d", len(b), len(m.heads), m.total)
	if m.total != 2000 || len(m.heads) < 400 || len(m.heads) >= 2000 {
		t.Fatalf("total %d, %d heads", m.total, len(m.heads))
	}
	for i, h := range m.heads {
		if h != hs[i] {
			t.Fatalf("head %d differs", i)
		}
	}
	// count above total is malformed
	small, _ := encodeState("x", hs[:2])
	small[3] = 1 // total (1 byte after kind, len, 'x') := 1 < count 2
	if _, err := decodeState(small); err == nil {
		t.Error("count above total accepted")
	}
}

func TestHeadsTable(t *testing.T) {
	tb := newHeadsTable(3)
	h1, h2 := head(1, 5), head(2, 5)
	if r := tb.merge("a", []replication.OriginHead{h1, h2}); len(r.raised) != 2 {
		t.Fatalf("raised %d", len(r.raised))
	}
	if r := tb.merge("a", []replication.OriginHead{head(1, 4)}); len(r.raised) != 0 {
		t.Error("a lower seq raised the table")
	}
	other := head(1, 5)
	other.Hash[0] ^= 1
	if r := tb.merge("a", []replication.OriginHead{other}); r.conflicts != 1 || len(r.raised) != 0 {
		t.Errorf("same seq, other hash: %+v", r)
	}
	if r := tb.merge("b", []replication.OriginHead{h1, h2}); len(r.raised) != 1 || r.dropped != 1 {
		t.Errorf("over the bound: %+v", r)
	}
	if v := tb.vector("a"); v.Seq(origin(1)) != 5 || v[origin(1)].Hash != prefixHead(h1).Hash {
		t.Errorf("vector a: %v", v)
	}
	tb.forget("a")
	if tb.n != 1 || tb.vector("a") != nil {
		t.Errorf("after forget: n=%d", tb.n)
	}
	if r := tb.merge("b", []replication.OriginHead{head(3, 1)}); len(r.raised) != 1 {
		t.Error("room not given back by forget")
	}
}

func TestLeaveNotice(t *testing.T) {
	b, err := encodeLeave("laptop-1")
	if err != nil {
		t.Fatal(err)
	}
	if name, err := decodeLeave(b); err != nil || name != "laptop-1" {
		t.Fatalf("%q, %v", name, err)
	}
	for _, bad := range [][]byte{nil, {kindLeave}, {kindLeave, 0}, {kindHeads, 1, 'x'}, append(b, 0)} {
		if _, err := decodeLeave(bad); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
}
