package epoch

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// writer is a device with a log holding n captures after its genesis.
func writer(t *testing.T, n int) (*oplog.Mem, *replication.KeySigner, func() replication.HLC) {
	t.Helper()
	s, err := replication.GenerateKeySigner(rand.NewChaCha8([32]byte{1}), 7)
	if err != nil {
		t.Fatal(err)
	}
	l := oplog.NewMem()
	var clock replication.HLC
	hlc := func() replication.HLC { clock++; return clock }
	g := replication.NewGenesis(s, replication.RoleNode, "", "18586")
	drafts := []replication.Draft{genesisDraft(t, g, hlc())}
	for i := range n {
		drafts = append(drafts, replication.Draft{Kind: replication.KindEnroll, Schema: 1, Payload: fmt.Appendf(nil, `{"n":%d}`, i), HLC: hlc()})
	}
	for len(drafts) > 0 {
		k := min(len(drafts), oplog.MaxAppendDrafts)
		if _, err := l.Append(s, drafts[:k]); err != nil {
			t.Fatal(err)
		}
		drafts = drafts[k:]
	}
	return l, s, hlc
}

func genesisDraft(t *testing.T, g replication.Genesis, hlc replication.HLC) replication.Draft {
	t.Helper()
	d, err := jsonDraft(g, hlc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkReissued checks the new origin: a genesis naming the old head,
// then exactly the old entries from..head, in order, each once.
func checkReissued(t *testing.T, l oplog.Log, old, next *replication.KeySigner, from uint64) {
	t.Helper()
	oldHead, _ := l.Head(old.Origin())
	var es []replication.Entry
	l.Scan(next.Origin(), 1, func(e replication.Entry) bool { es = append(es, e); return true })
	if _, err := replication.VerifyChain(next.PublicKey(), replication.Hash{}, es); err != nil {
		t.Fatalf("new origin's chain: %v", err)
	}
	g, err := replication.VerifyGenesis(&es[0])
	if err != nil {
		t.Fatal(err)
	}
	if *g.PrevOrigin != old.Origin() || g.PrevSeq != oldHead.Seq || *g.PrevHash != oldHead.Hash || g.Epoch != next.Epoch() {
		t.Fatalf("genesis names %s seq %d, want %s seq %d", g.PrevOrigin.Short(), g.PrevSeq, old.Origin().Short(), oldHead.Seq)
	}
	want := oldHead.Seq - from + 1
	if from > oldHead.Seq {
		want = 0
	}
	if got := uint64(len(es) - 1); got != want {
		t.Fatalf("%d re-issues, want %d (from %d through %d)", got, want, from, oldHead.Seq)
	}
	for i, e := range es[1:] {
		r, err := DecodeReissue(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := l.Get(r.Of)
		if err != nil || r.Of.Seq != from+uint64(i) || r.Hash != orig.Hash() || !bytes.Equal(r.Payload, orig.Payload) || r.Kind != orig.Kind {
			t.Fatalf("re-issue %d: %s, want seq %d with the original's hash and payload (%v)", i, r.Of, from+uint64(i), err)
		}
	}
}

func TestStartReissuesFromTheGivenSeq(t *testing.T) {
	for _, tc := range []struct {
		name           string
		captures       int
		reissueFrom    uint64
		wantFrom       uint64
		wantGenesisFld uint64
	}{
		{"all after the genesis", 5, 0, 2, 2},
		{"a hub acknowledged up to 4", 10, 5, 5, 5},
		{"several append groups", 2500, 3, 3, 3},
		{"a hub holds everything", 5, 7, 7, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, old, hlc := writer(t, tc.captures)
			next, err := Start(l, old, replication.Genesis{Role: replication.RoleNode, Unit: "18586"}, 99, tc.reissueFrom, hlc)
			if err != nil {
				t.Fatal(err)
			}
			if next.Origin() == old.Origin() || next.Epoch() != 99 || !bytes.Equal(next.PublicKey(), old.PublicKey()) {
				t.Fatalf("next signer: origin %s epoch %d", next.Origin().Short(), next.Epoch())
			}
			checkReissued(t, l, old, next, tc.wantFrom)
			g, _ := genesisOf(l, next.Origin())
			if g.ReissueFrom != tc.wantGenesisFld {
				t.Errorf("genesis reissue_from %d, want %d", g.ReissueFrom, tc.wantGenesisFld)
			}
		})
	}
}

// failingLog fails every Append after the first `allow`, like a process
// killed between two durable groups.
type failingLog struct {
	*oplog.Mem
	allow int
}

var errCrash = errors.New("crash")

func (f *failingLog) Append(s replication.Signer, d []replication.Draft) ([]replication.Entry, error) {
	if f.allow == 0 {
		return nil, errCrash
	}
	f.allow--
	return f.Mem.Append(s, d)
}

// TestResumeAfterACrashPartWay: killed after the genesis and after some
// groups, Resume finishes the re-issue with nothing carried twice.
func TestResumeAfterACrashPartWay(t *testing.T) {
	for allow := 1; allow <= 3; allow++ {
		t.Run(fmt.Sprint(allow, " appends before the crash"), func(t *testing.T) {
			l, old, hlc := writer(t, 2600)
			f := &failingLog{Mem: l, allow: allow}
			if _, err := Start(f, old, replication.Genesis{Role: replication.RoleNode, Unit: "18586"}, 5, 2, hlc); !errors.Is(err, errCrash) {
				t.Fatalf("start: %v, want the crash", err)
			}
			next := old.WithEpoch(5)
			n, err := Resume(l, next, hlc)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("nothing left to resume: the crash came too late")
			}
			checkReissued(t, l, old, next, 2)
			if n, err := Resume(l, next, hlc); n != 0 || err != nil {
				t.Fatalf("second resume appended %d: %v", n, err)
			}
		})
	}
}

func TestStartRefuses(t *testing.T) {
	l, old, hlc := writer(t, 3)
	if _, err := Start(l, old, replication.Genesis{Role: replication.RoleNode}, old.Epoch(), 2, hlc); err == nil {
		t.Error("the current epoch again was accepted")
	}
	empty := oplog.NewMem()
	if _, err := Start(empty, old, replication.Genesis{Role: replication.RoleNode}, 9, 2, hlc); !errors.Is(err, ErrNoHead) {
		t.Errorf("empty log: %v, want ErrNoHead", err)
	}
}

// TestStartOverAnEpochOfReissues: a laptop that moved to a new epoch is
// restored or cloned again before a hub took the re-issues; the next epoch
// re-issues them too, each naming the original capture (a re-issue of a
// re-issue would be refused, and the laptop could never start), and a
// crash part-way resumes at the right seq.
func TestStartOverAnEpochOfReissues(t *testing.T) {
	tmpl := replication.Genesis{Role: replication.RoleNode, Unit: "18586"}
	for allow := 0; allow <= 2; allow++ {
		t.Run(fmt.Sprint(allow, " appends before a crash"), func(t *testing.T) {
			l, old, hlc := writer(t, 1200) // seqs 2..1201
			mid, err := Start(l, old, tmpl, 5, 3, hlc)
			if err != nil {
				t.Fatal(err)
			}
			// Two captures in the new epoch after its 1199 re-issues.
			if _, err := l.Append(mid, []replication.Draft{{Kind: replication.KindEnroll, Schema: 1, Payload: []byte(`{"n":"a"}`), HLC: hlc()},
				{Kind: replication.KindEnroll, Schema: 1, Payload: []byte(`{"n":"b"}`), HLC: hlc()}}); err != nil {
				t.Fatal(err)
			}
			var next *replication.KeySigner
			if allow == 0 {
				next, err = Start(l, mid, tmpl, 6, 2, hlc)
			} else {
				_, err = Start(&failingLog{Mem: l, allow: allow}, mid, tmpl, 6, 2, hlc)
				if !errors.Is(err, errCrash) {
					t.Fatalf("start: %v, want the crash", err)
				}
				next = mid.WithEpoch(6)
				_, err = Resume(l, next, hlc)
			}
			if err != nil {
				t.Fatal(err)
			}
			var es []replication.Entry
			l.Scan(next.Origin(), 2, func(e replication.Entry) bool { es = append(es, e); return true })
			if len(es) != 1201 {
				t.Fatalf("%d re-issues, want 1201 (1199 re-issued ones, 2 captures)", len(es))
			}
			for i, e := range es {
				r, err := DecodeReissue(e.Payload)
				if err != nil {
					t.Fatal(err)
				}
				want := replication.EntryID{Origin: old.Origin(), Seq: uint64(i + 3)}
				if i >= 1199 {
					want = replication.EntryID{Origin: mid.Origin(), Seq: uint64(i - 1199 + 1201)}
				}
				orig, err := l.Get(want)
				if err != nil || r.Of != want || r.Hash != orig.Hash() || r.Kind != replication.KindEnroll || !bytes.Equal(r.Payload, orig.Payload) {
					t.Fatalf("re-issue %d names %s, want the capture %s (%v)", i, r.Of, want, err)
				}
			}
			if n, err := Resume(l, next, hlc); n != 0 || err != nil {
				t.Fatalf("a finished epoch resumed %d: %v", n, err)
			}
		})
	}
}
