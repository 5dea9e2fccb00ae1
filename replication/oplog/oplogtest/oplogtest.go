// Package oplogtest is the conformance suite every oplog.Log passes, and
// helpers to build signed chains for tests. It is imported only by tests.
package oplogtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// Harness opens a log. Reopen must return a log over the same durable state
// after the previous one was closed.
type Harness struct {
	Open   func(t *testing.T) oplog.Log
	Reopen func(t *testing.T) oplog.Log
}

// NewSigner returns a deterministic signer for tests.
func NewSigner(seed uint64) *replication.KeySigner {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s, err := replication.GenerateKeySigner(readerFunc(func(p []byte) (int, error) {
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		return len(p), nil
	}), seed)
	if err != nil {
		panic(err)
	}
	return s
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// GenesisDraft returns the genesis draft for s.
func GenesisDraft(s *replication.KeySigner) replication.Draft {
	p, err := json.Marshal(replication.NewGenesis(s, replication.RoleNode, "", "18586"))
	if err != nil {
		panic(err)
	}
	return replication.Draft{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: p, HLC: replication.MakeHLC(1, 0)}
}

// Drafts returns n enroll drafts with distinct payloads.
func Drafts(n int, tag string) []replication.Draft {
	out := make([]replication.Draft, n)
	for i := range out {
		out[i] = replication.Draft{Kind: replication.KindEnroll, Schema: 1,
			Payload: fmt.Appendf(nil, `{"full_name":"Nguyễn Văn %s %d"}`, tag, i), HLC: replication.MakeHLC(int64(1000+i), 0)}
	}
	return out
}

// Chain builds a signed chain for s outside any log: genesis plus n entries.
func Chain(s *replication.KeySigner, n int, tag string) []replication.Entry {
	drafts := append([]replication.Draft{GenesisDraft(s)}, Drafts(n, tag)...)
	out := make([]replication.Entry, 0, len(drafts))
	var prev replication.Hash
	for i, d := range drafts {
		e := replication.Seal(s, d, uint64(i+1), prev)
		prev = e.Hash()
		out = append(out, e)
	}
	return out
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"append-chain", testAppendChain},
		{"append-rules", testAppendRules},
		{"get-scan", testGetScan},
		{"ingest-contiguous-and-idempotent", testIngestIdempotent},
		{"ingest-gap-writes-nothing", testIngestGap},
		{"ingest-fork-same-seq", testIngestForkSameSeq},
		{"ingest-fork-prev-mismatch", testIngestForkPrev},
		{"ingest-adds-missing-signature", testIngestSig},
		{"meta", testMeta},
		{"reopen", testReopen},
		{"concurrent-appends", testConcurrentAppends},
		{"closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

type result[T any] struct {
	v   T
	err error
}

// get pairs a value with its error so that tests can write get(f()).must(t).
func get[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func appendChain(t *testing.T, l oplog.Log, s *replication.KeySigner, n int) []replication.Entry {
	t.Helper()
	es := get(l.Append(s, []replication.Draft{GenesisDraft(s)})).must(t)
	return append(es, get(l.Append(s, Drafts(n, "a"))).must(t)...)
}

func testAppendChain(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	s := NewSigner(1)
	es := appendChain(t, l, s, 5)
	for i, e := range es {
		if e.Seq != uint64(i+1) || e.Origin != s.Origin() {
			t.Fatalf("entry %d is %s", i, e.ID())
		}
	}
	if _, err := replication.VerifyChain(s.PublicKey(), replication.Hash{}, es); err != nil {
		t.Fatalf("chain does not verify: %v", err)
	}
	head := get(l.Head(s.Origin())).must(t)
	if head.Seq != 6 || head.Hash != es[5].Hash() {
		t.Fatalf("head %+v", head)
	}
	v := get(l.Vector()).must(t)
	if len(v) != 1 || v[s.Origin()] != head {
		t.Fatalf("vector %v", v)
	}
}

func testAppendRules(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	s := NewSigner(2)
	if _, err := l.Append(s, Drafts(1, "x")); !errors.Is(err, replication.ErrBrokenChain) {
		t.Fatalf("append without genesis: %v", err)
	}
	appendChain(t, l, s, 1)
	if _, err := l.Append(s, []replication.Draft{GenesisDraft(s)}); !errors.Is(err, replication.ErrBrokenChain) {
		t.Fatalf("second genesis: %v", err)
	}
	if _, err := l.Append(s, Drafts(oplog.MaxAppendDrafts+1, "x")); !errors.Is(err, replication.ErrTooLarge) {
		t.Fatalf("too many drafts: %v", err)
	}
	big := []replication.Draft{{Kind: replication.KindEnroll, Payload: make([]byte, replication.MaxPayloadBytes+1)}}
	if _, err := l.Append(s, big); !errors.Is(err, replication.ErrTooLarge) {
		t.Fatalf("oversized payload: %v", err)
	}
	if head := get(l.Head(s.Origin())).must(t); head.Seq != 2 {
		t.Fatalf("refused appends moved the head to %d", head.Seq)
	}
}

func testGetScan(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	s := NewSigner(3)
	es := appendChain(t, l, s, 9)
	got := get(l.Get(replication.EntryID{Origin: s.Origin(), Seq: 4})).must(t)
	if got.Hash() != es[3].Hash() || !bytes.Equal(got.Sig, es[3].Sig) {
		t.Fatal("get returned another entry")
	}
	if _, err := l.Get(replication.EntryID{Origin: s.Origin(), Seq: 11}); !errors.Is(err, oplog.ErrNotFound) {
		t.Fatalf("get past head: %v", err)
	}
	var seqs []uint64
	if err := l.Scan(s.Origin(), 7, func(e replication.Entry) bool { seqs = append(seqs, e.Seq); return true }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[7 8 9 10]" {
		t.Fatalf("scan from 7: %v", seqs)
	}
	seqs = nil
	_ = l.Scan(s.Origin(), 1, func(e replication.Entry) bool { seqs = append(seqs, e.Seq); return len(seqs) < 3 })
	if fmt.Sprint(seqs) != "[1 2 3]" {
		t.Fatalf("scan stopped early: %v", seqs)
	}
	other := NewSigner(4)
	appendChain(t, l, other, 2)
	seqs = nil
	_ = l.Scan(s.Origin(), 10, func(e replication.Entry) bool { seqs = append(seqs, e.Seq); return true })
	if fmt.Sprint(seqs) != "[10]" {
		t.Fatalf("scan crossed into another origin: %v", seqs)
	}
}

func testIngestIdempotent(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	s := NewSigner(5)
	chain := Chain(s, 6, "b")
	res := get(l.Ingest(chain[:4], []oplog.KV{{Key: "ack/peer", Value: []byte("4")}})).must(t)
	if len(res.Applied) != 4 || res.Duplicates != 0 {
		t.Fatalf("first ingest %+v", res)
	}
	res = get(l.Ingest(chain, nil)).must(t) // overlaps what is held
	if len(res.Applied) != 3 || res.Duplicates != 4 || len(res.Forks) != 0 {
		t.Fatalf("overlapping ingest: applied %d dup %d forks %d", len(res.Applied), res.Duplicates, len(res.Forks))
	}
	res = get(l.Ingest(chain, nil)).must(t)
	if len(res.Applied) != 0 || res.Duplicates != 7 {
		t.Fatalf("replay: %+v", res)
	}
	if v := get(l.GetMeta("ack/peer")).must(t); string(v) != "4" {
		t.Fatalf("meta written with entries: %q", v)
	}
	if head := get(l.Head(s.Origin())).must(t); head.Seq != 7 || head.Hash != chain[6].Hash() {
		t.Fatalf("head %+v", head)
	}
}

func testIngestGap(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	a, b := NewSigner(6), NewSigner(7)
	ca, cb := Chain(a, 3, "c"), Chain(b, 3, "d")
	batch := append(append([]replication.Entry{}, ca...), cb[0], cb[2]) // b skips seq 2
	_, err := l.Ingest(batch, []oplog.KV{{Key: "ack/x", Value: []byte("1")}})
	if !errors.Is(err, replication.ErrBrokenChain) {
		t.Fatalf("gap: %v", err)
	}
	if v := get(l.Vector()).must(t); len(v) != 0 {
		t.Fatalf("a refused ingest wrote %v", v)
	}
	if _, err := l.GetMeta("ack/x"); !errors.Is(err, oplog.ErrNotFound) {
		t.Fatalf("a refused ingest wrote meta: %v", err)
	}
	nonGenesis := Chain(a, 2, "c")[1:]
	if _, err := l.Ingest(nonGenesis, nil); !errors.Is(err, replication.ErrBrokenChain) {
		t.Fatalf("ingest without genesis: %v", err)
	}
}

func testIngestForkSameSeq(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	s := NewSigner(8)
	x, y := Chain(s, 4, "x"), Chain(s, 4, "y") // same origin, two histories from seq 2
	get(l.Ingest(x[:3], nil)).must(t)
	other := Chain(NewSigner(9), 1, "z")
	res := get(l.Ingest(append(append([]replication.Entry{}, y[1:]...), other...), nil)).must(t)
	if len(res.Forks) != 1 {
		t.Fatalf("forks %+v", res.Forks)
	}
	f := res.Forks[0]
	if f.Seq != 2 || f.Held.Hash() != x[1].Hash() || f.Offered.Hash() != y[1].Hash() {
		t.Fatalf("fork evidence %+v", f)
	}
	if head := get(l.Head(s.Origin())).must(t); head.Seq != 3 || head.Hash != x[2].Hash() {
		t.Fatalf("fork moved the head: %+v", head)
	}
	if len(res.Applied) != 2 {
		t.Fatalf("other origins in the same ingest must still apply: %d", len(res.Applied))
	}
}

func testIngestForkPrev(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	s := NewSigner(10)
	x, y := Chain(s, 4, "x"), Chain(s, 4, "y")
	get(l.Ingest(x[:3], nil)).must(t)
	res := get(l.Ingest(y[3:], nil)).must(t) // seq 4 of y links to y's seq 3
	if len(res.Forks) != 1 || res.Forks[0].Seq != 3 || res.Forks[0].Offered.Seq != 4 {
		t.Fatalf("forks %+v", res.Forks)
	}
	if len(res.Applied) != 0 {
		t.Fatal("a fork was applied")
	}
}

func testIngestSig(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	s := NewSigner(11)
	chain := Chain(s, 3, "s")
	unsigned := append([]replication.Entry{}, chain...)
	unsigned[2].Sig = nil
	get(l.Ingest(unsigned, nil)).must(t)
	res := get(l.Ingest(chain[2:3], nil)).must(t)
	if res.SigsAdded != 1 || res.Duplicates != 1 {
		t.Fatalf("%+v", res)
	}
	got := get(l.Get(chain[2].ID())).must(t)
	if !bytes.Equal(got.Sig, chain[2].Sig) {
		t.Fatal("signature not stored")
	}
}

func testMeta(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	mustOK(t, l.PutMeta(oplog.KV{Key: "peer/b", Value: []byte("2")}, oplog.KV{Key: "peer/a", Value: []byte("1")}, oplog.KV{Key: "q", Value: []byte("x")}))
	var keys []string
	_ = l.ScanMeta("peer/", func(k string, v []byte) bool { keys = append(keys, k+"="+string(v)); return true })
	if fmt.Sprint(keys) != "[peer/a=1 peer/b=2]" {
		t.Fatalf("scan meta %v", keys)
	}
	mustOK(t, l.PutMeta(oplog.KV{Key: "peer/a"}))
	if _, err := l.GetMeta("peer/a"); !errors.Is(err, oplog.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	if err := l.PutMeta(oplog.KV{Key: "", Value: []byte("x")}); !errors.Is(err, replication.ErrMalformed) {
		t.Fatalf("empty key: %v", err)
	}
}

func testReopen(t *testing.T, h Harness) {
	l := h.Open(t)
	s := NewSigner(12)
	es := appendChain(t, l, s, 3)
	get(l.Ingest(Chain(NewSigner(13), 2, "r"), []oplog.KV{{Key: "k", Value: []byte("v")}})).must(t)
	want := get(l.Vector()).must(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = h.Reopen(t)
	defer l.Close()
	if got := get(l.Vector()).must(t); !got.Equal(want) {
		t.Fatalf("after reopen %v, want %v", got, want)
	}
	more := get(l.Append(s, Drafts(1, "after"))).must(t)
	if more[0].Seq != 5 || more[0].Prev != es[3].Hash() {
		t.Fatalf("append after reopen: %s prev %s", more[0].ID(), more[0].Prev.Short())
	}
	if v := get(l.GetMeta("k")).must(t); string(v) != "v" {
		t.Fatal("meta lost on reopen")
	}
}

func testConcurrentAppends(t *testing.T, h Harness) {
	l := h.Open(t)
	defer l.Close()
	s := NewSigner(14)
	get(l.Append(s, []replication.Draft{GenesisDraft(s)})).must(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if _, err := l.Append(s, Drafts(2, fmt.Sprint(g))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var got []replication.Entry
	_ = l.Scan(s.Origin(), 1, func(e replication.Entry) bool { got = append(got, e); return true })
	if len(got) != 81 {
		t.Fatalf("%d entries, want 81", len(got))
	}
	if _, err := replication.VerifyChain(s.PublicKey(), replication.Hash{}, got); err != nil {
		t.Fatalf("concurrent appends broke the chain: %v", err)
	}
}

func testClosed(t *testing.T, h Harness) {
	l := h.Open(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, oplog.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	if _, err := l.Vector(); !errors.Is(err, oplog.ErrClosed) {
		t.Fatalf("vector after close: %v", err)
	}
	if _, err := l.Append(NewSigner(15), []replication.Draft{GenesisDraft(NewSigner(15))}); !errors.Is(err, oplog.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
