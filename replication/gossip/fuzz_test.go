package gossip

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"fieldsync/replication"
)

// The fuzz targets cover every decoder of this package's own formats:
// metadata, heads announcements (with the whole NotifyMsg path: relays,
// leave notices, the table and queue bounds) and the push/pull state. Run
// each with, for example,
//
//	go test ./replication/gossip -run '^$' -fuzz '^FuzzDecodeMeta$' -fuzztime 20s
//
// Seed corpora are in testdata/fuzz; GOSSIP_WRITE_CORPUS=1 go test -run
// TestWriteFuzzCorpus rewrites them from seedInputs.

// barePool is a Pool with no memberlist: enough for the delegates.
func barePool() *Pool {
	p := newPool(Config{Name: "me", Pool: "fuzz", Logger: testLogger()}, nil)
	p.numNodes.Store(5)
	return p
}

func FuzzDecodeMeta(f *testing.F) {
	for _, b := range seedInputs()["FuzzDecodeMeta"] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		enc, err := encodeMeta(m)
		if err != nil {
			t.Fatalf("decoded meta does not encode: %+v: %v", m, err)
		}
		if len(enc) > maxMetaBytes {
			t.Fatalf("re-encoded to %d bytes", len(enc))
		}
		if b[0] == metaVersion && !bytes.Equal(enc, b) {
			t.Fatalf("version 1 not canonical:\n in  %x\n out %x", b, enc)
		}
		if m2, err := decodeMeta(enc); err != nil || m2 != m {
			t.Fatalf("second round trip: %+v, %v", m2, err)
		}
	})
}

func FuzzDecodeHeadsMsg(f *testing.F) {
	for _, b := range seedInputs()["FuzzDecodeHeadsMsg"] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := decodeHeadsMsg(b); err == nil {
			msgs, err := packHeads(m.holder, m.heads)
			if err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0], b) {
				t.Fatalf("not canonical: %x -> %x, %v", b, msgs, err)
			}
		}
		// The receive path: never panics, keeps nothing of b, stays bounded.
		p := barePool()
		d := &delegate{p}
		in := bytes.Clone(b)
		d.NotifyMsg(in)
		d.NotifyMsg(in) // a duplicate is not news
		for i := range in {
			in[i] ^= 0xff // memberlist may reuse the buffer
		}
		if p.mu.heads.n > maxTrackedHeads || p.queue.NumQueued() > maxQueuedBroadcasts {
			t.Fatal("bounds exceeded")
		}
		for _, msg := range d.GetBroadcasts(2, 1400) {
			if len(msg) > maxHeadsMsgBytes {
				t.Fatalf("relayed a %d-byte message", len(msg))
			}
		}
	})
}

func FuzzMergeRemoteState(f *testing.F) {
	for _, b := range seedInputs()["FuzzMergeRemoteState"] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeState(b)
		if err == nil {
			enc, err := encodeState(m.holder, m.heads)
			if err != nil {
				t.Fatalf("decoded state does not encode: %v", err)
			}
			m2, err := decodeState(enc)
			if err != nil || m2.holder != m.holder || len(m2.heads) != len(m.heads) {
				t.Fatalf("round trip: %+v, %v", m2, err)
			}
		}
		p := barePool()
		(&delegate{p}).MergeRemoteState(bytes.Clone(b), true)
		if err == nil && m.holder != p.cfg.Name {
			if got := len(p.HeadsOf(m.holder)); got != len(m.heads) {
				t.Fatalf("merged %d heads of %d", got, len(m.heads))
			}
		} else if p.mu.heads.n != 0 {
			t.Fatal("a rejected state changed the table")
		}
		if p.queue.NumQueued() != 0 {
			t.Fatal("push/pull state was relayed")
		}
	})
}

// seedInputs returns the seed corpora: valid encodings of each kind,
// boundary cases and a few malformed ones.
func seedInputs() map[string][][]byte {
	meta := func(m Meta) []byte { b, _ := encodeMeta(m); return b }
	heads := func(holder string, n int) []byte {
		hs := sortedHeads(n, func(i int) uint64 { return uint64(1) << (i % 60) })
		msgs, _ := packHeads(holder, hs)
		return msgs[0]
	}
	state := func(holder string, n int) []byte {
		b, _ := encodeState(holder, sortedHeads(n, func(i int) uint64 { return uint64(i + 1) }))
		return b
	}
	leave, _ := encodeLeave("laptop-2")
	full := meta(fullMeta())
	return map[string][][]byte{
		"FuzzDecodeMeta": {
			meta(Meta{}), full, meta(maxedMeta()),
			meta(Meta{Role: replication.RoleNode, Unit: "Xã Hương Sơn", SyncAddr: "[fd00::1]:7400"}),
			append([]byte{2}, append(full[1:], "future"...)...),
			full[:len(full)-1], {1, 0x80, 0x00}, {0},
		},
		"FuzzDecodeHeadsMsg": {
			heads("hub", 1), heads("laptop-445-01", 25), heads("me", 3), leave,
			{kindHeads, 1, 'x', 1}, {kindLeave, 0}, {0x7f},
		},
		"FuzzMergeRemoteState": {
			state("hub", 0), state("hub", 5), state("district-hub-445", 200), state("me", 2),
			{kindState, 1, 'h', 3, 1}, {kindState},
		},
	}
}

// TestWriteFuzzCorpus writes seedInputs to testdata/fuzz in the format of
// `go test -fuzz` when GOSSIP_WRITE_CORPUS is set.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("GOSSIP_WRITE_CORPUS") == "" {
		t.Skip("set GOSSIP_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	for target, inputs := range seedInputs() {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range inputs {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
