package syncproto_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// stateMessages is one message of every kind the protocol has.
func stateMessages() []wire.Message {
	h := wire.Hello{Version: 1, Role: "node", Node: "peer"}
	return []wire.Message{&h, &wire.Summary{}, &wire.Batch{ID: 1}, &wire.Ack{}, &wire.BlobStatus{}, &wire.BlobOffer{}, &wire.BlobChunk{}, &wire.BlobAck{}}
}

// sessionIn returns a started hub session brought to state st by an honest
// peer's messages (Failed: by one out of order, on an ordered link; by a
// Hello no version sends, on a lossy one).
func sessionIn(t *testing.T, st syncproto.StateType, lossy bool) *syncproto.Session {
	t.Helper()
	r := newReplica("h", replication.RoleHub, 40)
	cfg := syncproto.DefaultConfig(wire.Hello{Role: "hub", Node: "h", Origin: r.signer.Origin()})
	cfg.Lossy = lossy
	s, err := syncproto.NewSession(cfg, r.log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	ms := stateMessages()
	switch st {
	case syncproto.StateWaitSummary:
		mustStep(t, s, ms[0])
	case syncproto.StateSyncing:
		mustStep(t, s, ms[0])
		mustStep(t, s, ms[1])
	case syncproto.StateFailed:
		bad := &wire.Hello{Version: 0, Role: "node"}
		if err := s.Step(bad); !errors.Is(err, syncproto.ErrProtocol) {
			t.Fatalf("a hello of version 0: %v, want ErrProtocol", err)
		}
	}
	if s.State() != st {
		t.Fatalf("set-up reached %s, want %s", s.State(), st)
	}
	return s
}

// TestStateTransitions steps every message kind in every state, on an
// ordered link and on a lossy one, and checks the next state or the
// protocol violation (the table in state.go's StateType doc).
func TestStateTransitions(t *testing.T) {
	const (
		wh, ws, sy, fa = syncproto.StateWaitHello, syncproto.StateWaitSummary, syncproto.StateSyncing, syncproto.StateFailed
	)
	// want[state] lists, per message of stateMessages, the next state;
	// Failed means Step returns ErrProtocol. drops counts the messages a
	// state drops (Stats.MessagesDropped).
	type row struct {
		want  [8]syncproto.StateType
		drops int
	}
	ordered := map[syncproto.StateType]row{
		wh: {want: [8]syncproto.StateType{ws, fa, fa, fa, fa, fa, fa, fa}},
		ws: {want: [8]syncproto.StateType{ws, sy, fa, fa, fa, fa, fa, fa}},
		sy: {want: [8]syncproto.StateType{sy, sy, sy, sy, sy, sy, sy, sy}},
		fa: {want: [8]syncproto.StateType{fa, fa, fa, fa, fa, fa, fa, fa}},
	}
	lossy := map[syncproto.StateType]row{
		wh: {want: [8]syncproto.StateType{ws, wh, wh, wh, wh, wh, wh, wh}, drops: 1},
		ws: {want: [8]syncproto.StateType{ws, sy, ws, ws, ws, ws, ws, ws}},
		sy: {want: [8]syncproto.StateType{sy, sy, sy, sy, sy, sy, sy, sy}},
		fa: {want: [8]syncproto.StateType{fa, fa, fa, fa, fa, fa, fa, fa}},
	}
	for _, link := range []struct {
		name  string
		lossy bool
		table map[syncproto.StateType]row
	}{{"ordered", false, ordered}, {"lossy", true, lossy}} {
		for _, from := range []syncproto.StateType{wh, ws, sy, fa} {
			for i, m := range stateMessages() {
				t.Run(fmt.Sprintf("%s/%s/%s", link.name, from, m.Type()), func(t *testing.T) {
					s := sessionIn(t, from, link.lossy)
					dropped := s.Stats().MessagesDropped
					err := s.Step(m)
					want := link.table[from].want[i]
					switch {
					case want == fa && !errors.Is(err, syncproto.ErrProtocol):
						t.Fatalf("Step: %v, want ErrProtocol", err)
					case want != fa && err != nil:
						t.Fatalf("Step: %v", err)
					case s.State() != want:
						t.Fatalf("state %s, want %s", s.State(), want)
					}
					if got := s.Stats().MessagesDropped - dropped; got != link.table[from].drops && want == from && from != fa {
						t.Fatalf("dropped %d, want %d", got, link.table[from].drops)
					}
					if want == fa {
						if _, rerr := s.Ready(); !errors.Is(rerr, syncproto.ErrProtocol) {
							t.Fatalf("Ready after the violation: %v, want the violation", rerr)
						}
					}
				})
			}
		}
	}
}

// TestMessageBeforeHelloNamesIt: the error says which message came before
// which, and the session stays failed with it.
func TestMessageBeforeHelloNamesIt(t *testing.T) {
	s := sessionIn(t, syncproto.StateWaitHello, false)
	err := s.Step(&wire.Batch{ID: 3})
	if err == nil || !strings.Contains(err.Error(), "batch before the peer's hello") {
		t.Fatalf("err %v", err)
	}
	if again := s.Step(&wire.Hello{Version: 1, Role: "node"}); !errors.Is(again, syncproto.ErrProtocol) || again.Error() != err.Error() {
		t.Fatalf("a failed session took a hello: %v", again)
	}
	s = sessionIn(t, syncproto.StateWaitSummary, false)
	if err := s.Step(&wire.Ack{}); err == nil || !strings.Contains(err.Error(), "ack before the peer's summary") {
		t.Fatalf("err %v", err)
	}
}

// TestBadHelloFailsEveryState: a Hello no version sends is a violation
// wherever it comes.
func TestBadHelloFailsEveryState(t *testing.T) {
	for _, st := range []syncproto.StateType{syncproto.StateWaitHello, syncproto.StateWaitSummary, syncproto.StateSyncing} {
		for _, h := range []*wire.Hello{{Version: 0, Role: "node"}, {Version: 1, Role: "admin"}} {
			s := sessionIn(t, st, true)
			if err := s.Step(h); !errors.Is(err, syncproto.ErrProtocol) || s.State() != syncproto.StateFailed {
				t.Fatalf("%s: hello %+v: %v, state %s", st, h, err, s.State())
			}
		}
	}
}

// TestFailedPersistEndsTheSession: Persisted with an error fails the
// session; it acknowledges nothing after.
func TestFailedPersistEndsTheSession(t *testing.T) {
	l, h := newReplica("l", replication.RoleNode, 41), newReplica("h", replication.RoleHub, 42)
	l.capture(t, 3)
	sh := h.session(t)
	mustStep(t, sh, &wire.Hello{Version: 1, Role: "node", Node: "l"})
	mustStep(t, sh, &wire.Summary{})
	mustStep(t, sh, &wire.Batch{ID: 1, Ranges: []wire.Range{{Origin: l.signer.Origin(), Entries: scanAll(t, l)}}})
	rd, err := sh.Ready()
	if err != nil || rd.Persist == nil {
		t.Fatalf("ready: %v %+v", err, rd.Persist)
	}
	disk := errors.New("disk full")
	if err := sh.Persisted(oplog.IngestResult{}, disk); !errors.Is(err, disk) {
		t.Fatalf("Persisted: %v", err)
	}
	if sh.State() != syncproto.StateFailed {
		t.Fatalf("state %s", sh.State())
	}
	if err := sh.Step(&wire.Ack{}); !errors.Is(err, disk) {
		t.Fatalf("Step after a failed persist: %v", err)
	}
	if rd, err := sh.Ready(); !errors.Is(err, disk) || len(rd.Messages) != 0 {
		t.Fatalf("Ready after a failed persist: %v, %d messages", err, len(rd.Messages))
	}
}

// TestHonestExchangeOnAnOrderedLinkIsNeverOutOfOrder runs whole sessions
// with every kind of message (records, a fork, blobs) on a link that keeps
// order, the two sides strict: what an honest peer sends is always taken.
func TestHonestExchangeOnAnOrderedLinkIsNeverOutOfOrder(t *testing.T) {
	l, h := newBlobReplica(t, "l", replication.RoleNode, 43), newBlobReplica(t, "h", replication.RoleHub, 44)
	l.capture(t, 300)
	l.captureDossiers(t, 3, 60_000, 20_000)
	sl, sh := l.session(t), h.session(t)
	pump(t, l, h, sl, sh, nil) // fails the test on any Step error
	for _, s := range []*syncproto.Session{sl, sh} {
		if s.State() != syncproto.StateSyncing || s.Stats().MessagesDropped != 0 {
			t.Fatalf("state %s, dropped %d", s.State(), s.Stats().MessagesDropped)
		}
	}
	mustEqualVectors(t, l, h)
}

// TestConfigLimitsFollowTheCodec: a batch larger than the codec's limits
// is refused at Validate, and a codec limit below the defaults lowers the
// bound.
func TestConfigLimitsFollowTheCodec(t *testing.T) {
	self := wire.Hello{Role: "hub", Node: "h"}
	for _, c := range []struct {
		name string
		edit func(*syncproto.Config)
		ok   bool
	}{
		{"defaults", func(*syncproto.Config) {}, true},
		{"entries within the codec's", func(c *syncproto.Config) { c.Limits.MaxEntries = 500; c.MaxBatchEntries = 500 }, true},
		{"entries above the codec's", func(c *syncproto.Config) { c.Limits.MaxEntries = 500; c.MaxBatchEntries = 501 }, false},
		{"default entries above a small codec's", func(c *syncproto.Config) { c.Limits.MaxEntries = 100 }, false},
		{"bytes above the codec's body", func(c *syncproto.Config) { c.Limits.MaxBodyBytes = 256 << 10; c.MaxBatchBytes = 300 << 10 }, false},
		{"a body below the codec's floor", func(c *syncproto.Config) { c.Limits.MaxBodyBytes = 1 << 10 }, false},
		{"a negative refusal limit", func(c *syncproto.Config) { c.Limits.MaxRefusals = -1 }, false},
	} {
		cfg := syncproto.Config{Self: self}
		c.edit(&cfg)
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate: %v", c.name, err)
		}
	}
}

// TestForkRefusalsSplitByTheCodecsLimit: a summary naming more forked
// heads than one ack may refuse is answered with several acks, each within
// the codec's MaxRefusals (one ack would not encode).
func TestForkRefusalsSplitByTheCodecsLimit(t *testing.T) {
	a, b := newReplica("a", replication.RoleHub, 45), newReplica("b", replication.RoleHub, 46)
	var heads []replication.OriginHead
	for i := range 5 { // five origins a holds, each forked at seq 1 in b's summary
		o := newReplica("o", replication.RoleNode, uint64(200+i))
		if _, err := a.log.Ingest(scanAll(t, o), nil); err != nil {
			t.Fatal(err)
		}
		heads = append(heads, replication.OriginHead{Origin: o.signer.Origin(), Head: replication.Head{Seq: 1, Hash: replication.Hash{1}}})
	}
	slices.SortFunc(heads, func(x, y replication.OriginHead) int { return bytes.Compare(x.Origin[:], y.Origin[:]) })
	cfg := syncproto.DefaultConfig(wire.Hello{Role: "hub", Node: "a", Origin: a.signer.Origin()})
	cfg.Limits.MaxRefusals = 2
	s, err := syncproto.NewSession(cfg, a.log)
	if err != nil {
		t.Fatal(err)
	}
	mustStep(t, s, &wire.Hello{Version: 1, Role: "hub", Node: "b", Origin: b.signer.Origin()})
	mustStep(t, s, &wire.Summary{Heads: heads})
	rd, err := s.Ready()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := wire.NewCodec(wire.Limits{MaxRefusals: 2})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, m := range rd.Messages {
		if ack, ok := m.(*wire.Ack); ok && ack.BatchID == 0 {
			if _, err := codec.AppendFrame(nil, ack); err != nil {
				t.Fatalf("a fork ack does not encode: %v", err)
			}
			refused += len(ack.Refused)
		}
	}
	if refused != 5 {
		t.Fatalf("%d forks refused, want 5", refused)
	}
}
