package bench

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"time"

	"fieldsync/enrollment"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// haTinhCommunes is the number of communes synth spreads captures over by
// default (Hà Tĩnh, code list 2025). Devices per commune are chosen so
// that there are at least as many capture devices as origins.
const haTinhCommunes = 69

// captureGroup is how many records a laptop saves per durable append while
// the input is built. The entries are the same whatever the grouping (each
// is sealed and signed alone); only the build is faster.
const captureGroup = 100

// maxSendRounds bounds the round-robin over senders; every round moves at
// least one batch, so this is far above any real input.
const maxSendRounds = 1 << 22

// ingestInput is what the hub receives: sync batches in delivery order,
// spooled in dir (see ingest_spool.go), and the Hello of the laptop each
// origin's session comes from.
type ingestInput struct {
	dir      string
	key      []byte // the master key of the hub's and the baselines' Badger
	hellos   map[replication.OriginID]*wire.Hello
	batches  int
	entries  int // entries in all batches (every origin's genesis included)
	rejected int // generated records enrollment.Validate refused on the laptop
	signed   int // entries that carry a signature on the wire
	payload  int64
	written  int64 // key and value bytes of every entry
}

// laptop is one field origin: a real node over an in-memory log.
type laptop struct {
	dir   *datadir.Dir
	node  *node.Node
	clock *stepClock
	hello wire.Hello

	rejected int // written by the owning worker only
}

// stepClock is a laptop's clock: it reads the capture time of the group
// being saved, so HLCs follow the captures as they would in the field.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// buildIngestInput generates cfg.N enrollments, saves them on cfg.Origins
// laptops through node.EnrollBatch (validation, HLC, sealing and signing
// by the real append path), then lets each laptop's sync session cut its
// log into batches as it would send them to a hub (ranges within the
// protocol's batch limits, signatures thinned to checkpoints and range
// ends), delivered round-robin across laptops as concurrent sessions
// would interleave them.
//
// A province does not fit in memory as 300 laptops' logs, so it is built
// on disk, one laptop at a time (ingest_build.go): the records routed to
// their laptops first, then each laptop's captures saved and cut into
// batches, then the batches interleaved. A laptop's batches depend only
// on its own log, so the result is what all the laptops at once would
// send.
func buildIngestInput(dir string, cfg IngestConfig) (*ingestInput, error) {
	in := &ingestInput{dir: dir, key: make([]byte, 32), hellos: map[replication.OriginID]*wire.Hello{}}
	if _, err := crand.Read(in.key); err != nil {
		return nil, err
	}
	b, err := routeRecords(dir, cfg)
	if err != nil {
		return nil, err
	}
	defer b.cleanup()
	if err := b.saveLaptops(in); err != nil {
		return nil, err
	}
	if err := b.interleave(in); err != nil {
		return nil, err
	}
	return in, nil
}

// newLaptop initializes a field origin the way `fieldsync init` does (key,
// config, genesis) but over an in-memory log.
func newLaptop(signer *replication.KeySigner, i int, first *enrollment.Enrollment) (*laptop, error) {
	cfg := datadir.Config{Version: datadir.ConfigVersion, Role: replication.RoleNode, Unit: first.Capture.CommuneCode,
		Name: fmt.Sprintf("laptop-%03d", i), Epoch: signer.Epoch()}
	dir := &datadir.Dir{Config: cfg, Signer: signer, Log: oplog.NewMem()}
	var hlc replication.HLCState
	genesis := dir.GenesisDraft(hlc.Next(first.Capture.CapturedAt.Add(-time.Hour)))
	if _, err := dir.Log.Append(signer, []replication.Draft{genesis}); err != nil {
		return nil, err
	}
	clock := &stepClock{}
	// No freeze: a laptop here holds its whole backlog before it first
	// meets the hub, which the freeze rule would stop at 5,000 captures.
	n, err := node.New(dir, node.Options{Clock: clock, Freeze: node.NoFreeze})
	if err != nil {
		return nil, err
	}
	hello := wire.Hello{Version: syncproto.ProtocolVersion, Origin: signer.Origin(), Role: string(replication.RoleNode), Unit: cfg.Unit, Node: cfg.Name}
	return &laptop{dir: dir, node: n, clock: clock, hello: hello}, nil
}

// save appends one group with the clock at its latest capture.
func (l *laptop) save(recs []enrollment.Enrollment) error {
	latest := recs[0].Capture.CapturedAt
	for i := range recs {
		if recs[i].Capture.CapturedAt.After(latest) {
			latest = recs[i].Capture.CapturedAt
		}
	}
	l.clock.now = latest.Add(time.Minute)
	res, err := l.node.EnrollBatch(recs)
	if err != nil {
		return err
	}
	for _, r := range res {
		switch {
		case errors.Is(r.Err, node.ErrRejected):
			l.rejected++
		case r.Err != nil:
			return r.Err
		}
	}
	return nil
}

func (in *ingestInput) add(w *spoolWriter, b *wire.Batch) error {
	n, err := w.add(b)
	if err != nil {
		return err
	}
	in.batches++
	in.written += n
	for _, rg := range b.Ranges {
		for i := range rg.Entries {
			e := &rg.Entries[i]
			in.entries++
			in.payload += int64(len(e.Payload))
			if e.Sig != nil {
				in.signed++
			}
		}
	}
	return nil
}

// sender is a laptop's side of a sync session with the hub: the real
// protocol code choosing what to send, acknowledged at once.
type sender struct {
	sess  *syncproto.Session
	queue []*wire.Batch
}

// hubHello is what the hub says in the sessions the laptops open.
var hubHello = wire.Hello{Version: syncproto.ProtocolVersion, Role: string(replication.RoleHub), Tier: "province", Unit: "42", Node: "bench-hub"}

func newSender(l *laptop) (*sender, error) {
	sess, err := syncproto.NewSession(syncproto.DefaultConfig(l.hello), l.dir.Log)
	if err != nil {
		return nil, err
	}
	if err := sess.Start(); err != nil {
		return nil, err
	}
	peer := hubHello
	if err := sess.Step(&peer); err != nil {
		return nil, err
	}
	if err := sess.Step(&wire.Summary{}); err != nil {
		return nil, err
	}
	return &sender{sess: sess}, nil
}

// next returns the next batch the session sends, or nil when it is done.
func (s *sender) next() (*wire.Batch, error) {
	for len(s.queue) == 0 {
		rd, err := s.sess.Ready()
		if err != nil {
			return nil, err
		}
		sent := false
		for _, m := range rd.Messages {
			b, ok := m.(*wire.Batch)
			if !ok {
				continue
			}
			sent = true
			s.queue = append(s.queue, b)
			if err := s.sess.Step(ackOf(b)); err != nil {
				return nil, err
			}
		}
		if !sent {
			return nil, nil
		}
	}
	b := s.queue[0]
	s.queue = s.queue[1:]
	return b, nil
}

// ackOf is the hub's ack of a batch it took whole.
func ackOf(b *wire.Batch) *wire.Ack {
	a := &wire.Ack{BatchID: b.ID}
	for _, rg := range b.Ranges {
		last := &rg.Entries[len(rg.Entries)-1]
		a.Heads = append(a.Heads, replication.OriginHead{Origin: rg.Origin, Head: replication.Head{Seq: last.Seq, Hash: last.Hash()}})
	}
	return a
}
