package syncproto_test

// Golden-file protocol scenarios, etcd raft interaction-test style: each
// file in testdata/ is a script of commands over a small environment of
// replicas and session pairs, and the expected output is the exact
// exchange, printed by the deterministic Describe* functions below.
// Regenerate after an intended change with
//
//	go test ./replication/syncproto -run TestInteraction -rewrite
//
// and read the diff: it is the protocol's behaviour that changed.
//
// Commands (positional names, then key=value options):
//
//	replica name=l1 role=node|hub seed=1 [batch=N] [window=N] [checkpoint=N] [retransmit=N] [ordered=1]
//	capture l1 n=5                   append n enrollments
//	session l1 h1                    start a session pair (each side queues hello+summary)
//	deliver l1 h1 [count=N] [drop=1] [dup=1] [reverse=1]
//	                                 move queued messages l1→h1 (all, or the first N): lose
//	                                 them, deliver each twice, or deliver them in reverse
//	persist h1 [peer=l1]             write the batch h1's session handed out, report it
//	tick l1 [n=1]                    tick every session of l1 n times
//	cut l1 h1                        end the pair; what is in flight is lost
//	sync l1 h1                       deliver and persist both ways until nothing moves
//	tamper l1 h1 seq=N               alter entry N's payload in the first queued l1→h1 batch
//	print-vector h1 | print-events h1 | print-stats l1 h1 | print-queue l1 h1 | print-state l1 h1
//
// Messages print as "from->to <description>"; what a replica does in
// reaction to a command is indented under it.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := newIAEnv()
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			h, ok := iaHandlers[td.Cmd]
			if !ok {
				h, ok = iaBlobHandlers[td.Cmd]
			}
			if !ok {
				td.Fatalf(t, "unknown command %q", td.Cmd)
			}
			var b strings.Builder
			h(env, t, td, &b)
			if b.Len() == 0 {
				return "ok\n"
			}
			return b.String()
		})
	})
}

// iaMaxSyncRounds bounds the sync command's loop.
const iaMaxSyncRounds = 1000

// iaTime is the wall time of every capture: the scenarios are about the
// protocol, not clocks.
var iaTime = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

var iaCodec = func() *wire.Codec {
	c, err := wire.NewCodec(wire.DefaultLimits())
	if err != nil {
		panic(err)
	}
	return c
}()

// iaReplica is a log with an identity and the session config it uses.
type iaReplica struct {
	name   string
	role   replication.Role
	log    *oplog.Mem
	signer *replication.KeySigner
	hlc    replication.HLCState
	cfg    syncproto.Config
	events []string // described, not yet printed
	// The blob lane (interaction_blob_test.go), when blobs is set.
	blobs   *blob.Mem
	needs   *needs.Index
	writers map[*syncproto.Session]*syncproto.BlobWriters
}

// iaPair is a session pair between two replicas and what is in flight.
type iaPair struct {
	sess    map[string]*syncproto.Session // by owner
	persist map[string]*syncproto.Persist // handed out by Ready, by owner
	queue   map[string][][]byte           // frames in flight, by recipient
	write   map[string]*syncproto.BlobWrite
}

type iaEnv struct {
	reps  map[string]*iaReplica
	pairs map[[2]string]*iaPair // by names in ascending order
	names map[replication.OriginID]string
}

func newIAEnv() *iaEnv {
	return &iaEnv{reps: map[string]*iaReplica{}, pairs: map[[2]string]*iaPair{}, names: map[replication.OriginID]string{}}
}

type iaHandler func(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder)

var iaHandlers map[string]iaHandler

func init() {
	iaHandlers = map[string]iaHandler{
		"replica":      handleReplica,
		"capture":      handleCapture,
		"session":      handleSession,
		"deliver":      handleDeliver,
		"persist":      handlePersist,
		"tick":         handleTick,
		"cut":          handleCut,
		"sync":         handleSync,
		"tamper":       handleTamper,
		"print-vector": handlePrintVector,
		"print-events": handlePrintEvents,
		"print-stats":  handlePrintStats,
		"print-queue":  handlePrintQueue,
		"print-state":  handlePrintState,
	}
}

// positional returns the arguments without values: the replica names.
func positional(t *testing.T, td *datadriven.TestData, n int) []string {
	t.Helper()
	var out []string
	for _, a := range td.CmdArgs {
		if len(a.Vals) == 0 {
			out = append(out, a.Key)
		}
	}
	if len(out) != n {
		td.Fatalf(t, "%s wants %d replica names, got %v", td.Cmd, n, out)
	}
	return out
}

func intArg(t *testing.T, td *datadriven.TestData, key string, def int) int {
	t.Helper()
	v := def
	td.MaybeScanArgs(t, key, &v)
	return v
}

func (env *iaEnv) replica(t *testing.T, td *datadriven.TestData, name string) *iaReplica {
	t.Helper()
	r, ok := env.reps[name]
	if !ok {
		td.Fatalf(t, "no replica %q", name)
	}
	return r
}

func (env *iaEnv) pair(a, b string) *iaPair {
	if b < a {
		a, b = b, a
	}
	return env.pairs[[2]string{a, b}]
}

// handleReplica: replica name=l1 role=node seed=1 [batch=N] [window=N]
// [checkpoint=N] [retransmit=N]. Two replicas with the same seed share a
// key and so an origin: a cloned laptop.
func handleReplica(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	var name, role string
	var seed uint64
	td.ScanArgs(t, "name", &name)
	td.ScanArgs(t, "role", &role)
	td.ScanArgs(t, "seed", &seed)
	r := &iaReplica{name: name, role: replication.Role(role), log: oplog.NewMem(), signer: oplogtest.NewSigner(seed)}
	r.cfg = syncproto.DefaultConfig(wire.Hello{Role: role, Node: name, Origin: r.signer.Origin()})
	r.cfg.MaxBatchEntries = intArg(t, td, "batch", r.cfg.MaxBatchEntries)
	r.cfg.Window = intArg(t, td, "window", r.cfg.Window)
	r.cfg.CheckpointEvery = uint64(intArg(t, td, "checkpoint", int(r.cfg.CheckpointEvery)))
	r.cfg.RetransmitTicks = intArg(t, td, "retransmit", r.cfg.RetransmitTicks)
	// The harness's link loses, duplicates and reorders on request
	// (deliver drop=1 dup=1 reverse=1); ordered=1 makes a replica hold
	// its peer to an ordered transport's rules (StateType).
	r.cfg.Lossy = intArg(t, td, "ordered", 0) == 0
	g, err := json.Marshal(replication.NewGenesis(r.signer, r.role, "", "18586"))
	if err != nil {
		t.Fatal(err)
	}
	es, err := r.log.Append(r.signer, []replication.Draft{{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: g, HLC: r.hlc.Next(iaTime)}})
	if err != nil {
		t.Fatal(err)
	}
	env.reps[name] = r
	if _, ok := env.names[r.signer.Origin()]; !ok {
		env.names[r.signer.Origin()] = name
	}
	fmt.Fprintf(b, "%s: %s, origin %s (%s), genesis @%s\n", name, role, env.names[r.signer.Origin()], r.signer.Origin().Short(), shortHash(es[0].Hash()))
}

// handleCapture: capture l1 n=5.
func handleCapture(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	r := env.replica(t, td, positional(t, td, 1)[0])
	n := intArg(t, td, "n", 1)
	h, _ := r.log.Head(r.signer.Origin())
	ds := make([]replication.Draft, n)
	for i := range ds {
		ds[i] = replication.Draft{Kind: replication.KindEnroll, Schema: 1, HLC: r.hlc.Next(iaTime), Payload: iaPayload(r.name, int(h.Seq)+1+i)}
	}
	es, err := r.log.Append(r.signer, ds)
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	fmt.Fprintf(b, "%s: captured %s:%d-%d, head @%s\n", r.name, env.names[last.Origin], es[0].Seq, last.Seq, shortHash(last.Hash()))
}

// iaPayload is a small enrollment record; the replica name in it makes a
// clone's captures differ from the original's.
func iaPayload(device string, seq int) []byte {
	return fmt.Appendf(nil, `{"personal_id":"04209%07d","full_name":"Nguyễn Văn An %d","date_of_birth":"1980-01-%02d","sex":"Nam","capture":{"commune_code":"18586","device":%q}}`,
		seq, seq, 1+seq%28, device)
}

// handleSession: session l1 h1 starts a pair; each side queues its hello
// and summary.
func handleSession(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	key := [2]string{min(names[0], names[1]), max(names[0], names[1])}
	p := &iaPair{sess: map[string]*syncproto.Session{}, persist: map[string]*syncproto.Persist{}, queue: map[string][][]byte{},
		write: map[string]*syncproto.BlobWrite{}}
	for _, n := range names {
		s, err := syncproto.NewSession(env.replica(t, td, n).cfg, env.reps[n].log)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		p.sess[n] = s
	}
	env.pairs[key] = p
	for i, n := range names {
		env.ready(t, b, p, n, names[1-i], "")
	}
}

// ready takes what a session wants done: frames its messages through the
// codec onto the queue, keeps a handed-out persist, records events. Every
// line is printed with the indent.
func (env *iaEnv) ready(t *testing.T, b *strings.Builder, p *iaPair, owner, peer, indent string) {
	t.Helper()
	rd, err := p.sess[owner].Ready()
	if err != nil {
		fmt.Fprintf(b, "%s%s: ready error: %v\n", indent, owner, err)
		return
	}
	for _, m := range rd.Messages {
		frame, err := iaCodec.AppendFrame(nil, m)
		if err != nil {
			t.Fatalf("%s encode %s: %v", owner, m.Type(), err)
		}
		p.queue[peer] = append(p.queue[peer], frame)
		fmt.Fprintf(b, "%s%s->%s %s\n", indent, owner, peer, env.describeMessage(m))
	}
	if rd.Persist != nil {
		p.persist[owner] = rd.Persist
		fmt.Fprintf(b, "%s%s: persist batch id=%d entries=%s\n", indent, owner, rd.Persist.BatchID, env.describeEntries(rd.Persist.Entries))
	}
	env.readyBlobs(t, b, p, owner, rd, indent)
	r := env.reps[owner]
	for _, ev := range rd.Events {
		r.events = append(r.events, fmt.Sprintf("%s (session with %s): %s", owner, peer, env.describeEvent(ev)))
	}
}

// handleDeliver: deliver l1 h1 [count=N] [drop=1] [dup=1] [reverse=1].
func handleDeliver(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	from, to := names[0], names[1]
	p := env.mustPair(t, td, from, to)
	q := p.queue[to]
	n := min(intArg(t, td, "count", len(q)), len(q))
	batch := slices.Clone(q[:n])
	p.queue[to] = q[n:]
	if td.HasArg("reverse") {
		slices.Reverse(batch)
	}
	for _, frame := range batch {
		m := decodeFrame(t, frame)
		switch {
		case td.HasArg("drop"):
			fmt.Fprintf(b, "%s->%s %s (dropped)\n", from, to, env.describeMessage(m))
			continue
		case td.HasArg("dup"):
			env.step(t, b, p, from, to, m)
			m = decodeFrame(t, frame)
		}
		env.step(t, b, p, from, to, m)
	}
}

func (env *iaEnv) mustPair(t *testing.T, td *datadriven.TestData, a, b string) *iaPair {
	t.Helper()
	p := env.pair(a, b)
	if p == nil {
		td.Fatalf(t, "no session between %s and %s", a, b)
	}
	return p
}

func decodeFrame(t *testing.T, frame []byte) wire.Message {
	t.Helper()
	m, _, err := iaCodec.DecodeFrame(frame)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

// step delivers one message and prints it and the receiver's reaction.
func (env *iaEnv) step(t *testing.T, b *strings.Builder, p *iaPair, from, to string, m wire.Message) {
	fmt.Fprintf(b, "%s->%s %s\n", from, to, env.describeMessage(m))
	if err := p.sess[to].Step(m); err != nil {
		fmt.Fprintf(b, "  %s: step error: %v\n", to, err)
		return
	}
	env.ready(t, b, p, to, from, "  ")
}

// handlePersist: persist h1 [peer=l1] writes the batch h1's session with
// peer handed out, then reports it to the session (which queues the ack).
func handlePersist(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	owner := positional(t, td, 1)[0]
	var peer string
	td.MaybeScanArgs(t, "peer", &peer)
	for _, other := range env.peersOf(owner) {
		if peer != "" && other != peer {
			continue
		}
		p := env.pair(owner, other)
		if p.persist[owner] != nil {
			env.doPersist(t, b, p, owner, other)
			return
		}
	}
	fmt.Fprintf(b, "%s: nothing to persist\n", owner)
}

// peersOf returns the names owner has a session with, ascending.
func (env *iaEnv) peersOf(owner string) []string {
	var out []string
	for k := range env.pairs {
		switch owner {
		case k[0]:
			out = append(out, k[1])
		case k[1]:
			out = append(out, k[0])
		}
	}
	slices.Sort(out)
	return out
}

func (env *iaEnv) doPersist(t *testing.T, b *strings.Builder, p *iaPair, owner, peer string) {
	job := p.persist[owner]
	delete(p.persist, owner)
	res, err := env.reps[owner].log.Ingest(job.Entries, nil)
	fmt.Fprintf(b, "%s: ingest batch id=%d: applied %d, duplicates %d, forks %d\n", owner, job.BatchID, len(res.Applied), res.Duplicates, len(res.Forks))
	if err := p.sess[owner].Persisted(res, err); err != nil {
		fmt.Fprintf(b, "  %s: persisted error: %v\n", owner, err)
		return
	}
	env.ready(t, b, p, owner, peer, "  ")
}

// handleTick: tick l1 [n=1] ticks every session of l1.
func handleTick(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	owner := positional(t, td, 1)[0]
	for range intArg(t, td, "n", 1) {
		for _, peer := range env.peersOf(owner) {
			p := env.pair(owner, peer)
			p.sess[owner].Tick()
			env.ready(t, b, p, owner, peer, "")
		}
	}
}

// handleCut: cut l1 h1 ends the pair; what was in flight is lost.
func handleCut(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	p := env.mustPair(t, td, names[0], names[1])
	for i, to := range names {
		for _, frame := range p.queue[to] {
			fmt.Fprintf(b, "%s->%s %s (lost in the cut)\n", names[1-i], to, env.describeMessage(decodeFrame(t, frame)))
		}
	}
	for _, n := range names {
		if job := p.persist[n]; job != nil {
			fmt.Fprintf(b, "%s: batch id=%d never persisted\n", n, job.BatchID)
		}
		if w := p.write[n]; w != nil {
			fmt.Fprintf(b, "%s: blob %s chunk @%d never written\n", n, w.ID.Hash.Short(), w.Offset)
		}
		env.reps[n].endSession(p.sess[n])
	}
	delete(env.pairs, [2]string{min(names[0], names[1]), max(names[0], names[1])})
	fmt.Fprintf(b, "cut %s %s\n", names[0], names[1])
}

// handleSync: sync l1 h1 delivers and persists both ways until nothing is
// queued or handed out.
func handleSync(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	p := env.mustPair(t, td, names[0], names[1])
	for range iaMaxSyncRounds {
		moved := false
		for i, to := range names {
			from := names[1-i]
			for len(p.queue[to]) > 0 {
				frame := p.queue[to][0]
				p.queue[to] = p.queue[to][1:]
				env.step(t, b, p, from, to, decodeFrame(t, frame))
				moved = true
			}
			if p.persist[to] != nil {
				env.doPersist(t, b, p, to, from)
				moved = true
			}
			if p.write[to] != nil {
				env.doWrite(t, b, p, to, from)
				moved = true
			}
		}
		if !moved {
			return
		}
	}
	td.Fatalf(t, "sync %s %s did not settle in %d rounds", names[0], names[1], iaMaxSyncRounds)
}

// handleTamper: tamper l1 h1 seq=N changes entry N's payload in the first
// queued l1→h1 batch that carries it, and re-links the entries after it so
// that the frame still encodes: what an attacker on the link would send.
func handleTamper(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	var seq uint64
	td.ScanArgs(t, "seq", &seq)
	p := env.mustPair(t, td, names[0], names[1])
	for i, frame := range p.queue[names[1]] {
		bt, ok := decodeFrame(t, frame).(*wire.Batch)
		if !ok || !tamperBatch(bt, seq) {
			continue
		}
		out, err := iaCodec.AppendFrame(nil, bt)
		if err != nil {
			t.Fatal(err)
		}
		p.queue[names[1]][i] = out
		fmt.Fprintf(b, "%s->%s batch id=%d: payload of seq %d altered\n", names[0], names[1], bt.ID, seq)
		return
	}
	td.Fatalf(t, "no queued batch carries seq %d", seq)
}

func tamperBatch(bt *wire.Batch, seq uint64) bool {
	for ri := range bt.Ranges {
		es := bt.Ranges[ri].Entries
		for i := range es {
			if es[i].Seq != seq {
				continue
			}
			es[i].Payload = []byte(`{"full_name":"forged"}`)
			for j := i + 1; j < len(es); j++ {
				es[j].Prev = es[j-1].Hash()
			}
			return true
		}
	}
	return false
}

// handlePrintVector: print-vector h1.
func handlePrintVector(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	r := env.replica(t, td, positional(t, td, 1)[0])
	v, err := r.log.Vector()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(b, "%s holds %d entries of %d origins\n", r.name, v.Total(), len(v))
	for _, oh := range v.Heads() {
		fmt.Fprintf(b, "  %s: seq %d @%s\n", env.originName(oh.Origin), oh.Seq, shortHash(oh.Hash))
	}
}

// handlePrintEvents: print-events h1 prints the events since the last time.
func handlePrintEvents(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	r := env.replica(t, td, positional(t, td, 1)[0])
	if len(r.events) == 0 {
		fmt.Fprintf(b, "%s: no events\n", r.name)
	}
	for _, e := range r.events {
		fmt.Fprintln(b, e)
	}
	r.events = nil
}

// handlePrintStats: print-stats l1 h1 prints both sides' session counters.
func handlePrintStats(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	p := env.mustPair(t, td, names[0], names[1])
	for i, n := range names {
		st := p.sess[n].Stats()
		fmt.Fprintf(b, "%s (with %s): sent %d batches/%d entries, received %d batches, applied %d, duplicate %d, refused %d, forks %d, retransmits %d, idle %t\n",
			n, names[1-i], st.BatchesSent, st.EntriesSent, st.BatchesReceived, st.EntriesApplied, st.EntriesDuplicate, st.EntriesRefused, st.Forks, st.Retransmits, p.sess[n].Idle())
	}
}

// handlePrintState: print-state l1 h1 prints both sides' session states
// (StateType) and the messages each dropped before its peer's Hello.
func handlePrintState(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	p := env.mustPair(t, td, names[0], names[1])
	for i, n := range names {
		fmt.Fprintf(b, "%s (with %s): %s, dropped %d\n", n, names[1-i], p.sess[n].State(), p.sess[n].Stats().MessagesDropped)
	}
}

// handlePrintQueue: print-queue l1 h1 lists what is in flight l1→h1.
func handlePrintQueue(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	p := env.mustPair(t, td, names[0], names[1])
	if len(p.queue[names[1]]) == 0 {
		fmt.Fprintf(b, "%s->%s: nothing in flight\n", names[0], names[1])
	}
	for _, frame := range p.queue[names[1]] {
		fmt.Fprintf(b, "%s->%s %s\n", names[0], names[1], env.describeMessage(decodeFrame(t, frame)))
	}
}

// describeMessage renders a message on one line, deterministically.
func (env *iaEnv) describeMessage(m wire.Message) string {
	switch m := m.(type) {
	case *wire.Hello:
		return fmt.Sprintf("hello role=%s node=%s origin=%s", m.Role, m.Node, env.originName(m.Origin))
	case *wire.Summary:
		return "summary heads=" + env.describeHeads(m.Heads)
	case *wire.Batch:
		return fmt.Sprintf("batch id=%d ranges=%s", m.ID, env.describeRanges(m.Ranges))
	case *wire.Ack:
		return fmt.Sprintf("ack id=%d heads=%s refused=%s", m.BatchID, env.describeHeads(m.Heads), env.describeRefusals(m.Refused))
	case *wire.BlobStatus, *wire.BlobOffer, *wire.BlobChunk, *wire.BlobAck:
		return env.describeBlobMessage(m)
	}
	return fmt.Sprintf("%T", m)
}

func (env *iaEnv) describeHeads(hs []replication.OriginHead) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%s:%d@%s", env.originName(h.Origin), h.Seq, shortHash(h.Hash)[:4])
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// describeRanges renders "l1:1-6(sigs 1,6)": origin, seqs, and the seqs
// whose signatures travel.
func (env *iaEnv) describeRanges(rs []wire.Range) string {
	parts := make([]string, len(rs))
	for i, rg := range rs {
		var sigs []string
		for _, e := range rg.Entries {
			if e.Sig != nil {
				sigs = append(sigs, fmt.Sprint(e.Seq))
			}
		}
		parts[i] = fmt.Sprintf("%s:%d-%d(sigs %s)", env.originName(rg.Origin), rg.Entries[0].Seq, rg.Entries[len(rg.Entries)-1].Seq, strings.Join(sigs, ","))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (env *iaEnv) describeRefusals(rs []wire.Refusal) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s:%d %s %q", env.originName(r.Origin), r.Seq, r.Reason, r.Detail)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// describeEntries renders entries as runs per origin: "[l1:1-6 h1:1-1]".
func (env *iaEnv) describeEntries(es []replication.Entry) string {
	var parts []string
	for i := 0; i < len(es); {
		j := i
		for j+1 < len(es) && es[j+1].Origin == es[i].Origin && es[j+1].Seq == es[j].Seq+1 {
			j++
		}
		parts = append(parts, fmt.Sprintf("%s:%d-%d", env.originName(es[i].Origin), es[i].Seq, es[j].Seq))
		i = j + 1
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (env *iaEnv) describeEvent(ev syncproto.Event) string {
	s := fmt.Sprintf("%s %s:%d reason=%s", ev.Kind, env.originName(ev.Origin), ev.Seq, ev.Reason)
	if !ev.Blob.Hash.IsZero() {
		s += " blob " + shortBlob(ev.Blob)
	}
	if ev.Detail != "" {
		s += fmt.Sprintf(" %q", ev.Detail)
	}
	if f := ev.Fork; f != nil {
		s += fmt.Sprintf(" evidence: held %s:%d@%s, offered %s:%d@%s (prev @%s)", env.originName(f.Origin), f.Held.Seq, shortHash(f.Held.Hash()),
			env.originName(f.Origin), f.Offered.Seq, shortHash(f.Offered.Hash()), shortHash(f.Offered.Prev))
	}
	if len(ev.Refused) > 0 {
		s += " refused entries " + env.describeEntries(ev.Refused)
	}
	return s
}

func (env *iaEnv) originName(o replication.OriginID) string {
	if o.IsZero() {
		return "-"
	}
	if n, ok := env.names[o]; ok {
		return n
	}
	return o.Short()
}

func shortHash(h replication.Hash) string { return h.String()[:8] }
