package bench

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/delta"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
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
	hellos   map[replication.OriginID]*delta.Hello
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
	hello delta.Hello

	// worker owns the laptop: one worker per laptop keeps its captures
	// in order.
	worker   int
	pending  []enrollment.Enrollment // captures not yet saved
	rejected int                     // written by the owning worker only
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
func buildIngestInput(dir string, cfg IngestConfig) (*ingestInput, error) {
	laps, err := captureFleet(cfg)
	if err != nil {
		return nil, err
	}
	in := &ingestInput{dir: dir, key: make([]byte, 32), hellos: map[replication.OriginID]*delta.Hello{}}
	if _, err := crand.Read(in.key); err != nil {
		return nil, err
	}
	for _, l := range laps {
		in.rejected += l.rejected
		hello := l.hello // a copy: the laptops and their logs are dropped
		in.hellos[l.dir.Signer.Origin()] = &hello
	}
	if err := in.deliver(laps); err != nil {
		return nil, err
	}
	return in, nil
}

// fleet routes generated records to laptops and saves them on workers.
type fleet struct {
	cfg      IngestConfig
	keys     *rand.ChaCha8
	laps     []*laptop
	byDevice map[string]*laptop
	jobs     []chan saveJob

	mu  sync.Mutex
	err error
}

type saveJob struct {
	l    *laptop
	recs []enrollment.Enrollment
}

// captureFleet runs the generator and saves every record on its laptop.
func captureFleet(cfg IngestConfig) ([]*laptop, error) {
	devices := min(50, max(synth.DefaultDevices, (cfg.Origins+haTinhCommunes-1)/haTinhCommunes))
	g, err := synth.New(synth.Config{Count: cfg.N, Seed: cfg.Seed, Noise: cfg.Noise, Devices: devices})
	if err != nil {
		return nil, err
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], cfg.Seed)
	f := &fleet{cfg: cfg, keys: rand.NewChaCha8(seed), byDevice: map[string]*laptop{}}
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		ch := make(chan saveJob, 4)
		f.jobs = append(f.jobs, ch)
		wg.Go(func() { f.work(ch) })
	}
	genErr := f.route(g)
	for _, ch := range f.jobs {
		close(ch)
	}
	wg.Wait()
	return f.laps, errors.Join(genErr, f.err)
}

// route hands each generated record to its laptop, and full groups to the
// laptop's worker.
func (f *fleet) route(g *synth.Generator) error {
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		l, err := f.laptopFor(&rec.Enrollment)
		if err != nil {
			return err
		}
		l.pending = append(l.pending, rec.Enrollment)
		if len(l.pending) == captureGroup {
			f.save(l)
		}
	}
	for _, l := range f.laps {
		f.save(l)
	}
	return g.Err()
}

func (f *fleet) save(l *laptop) {
	if len(l.pending) == 0 {
		return
	}
	f.jobs[l.worker] <- saveJob{l: l, recs: l.pending}
	l.pending = nil
}

func (f *fleet) work(ch <-chan saveJob) {
	for j := range ch {
		if err := j.l.save(j.recs); err != nil {
			f.mu.Lock()
			f.err = errors.Join(f.err, err)
			f.mu.Unlock()
		}
	}
}

// laptopFor returns the laptop of a capture device: devices take origins
// in order of first appearance, wrapping around when there are more
// devices than origins (such a laptop serves two stations).
func (f *fleet) laptopFor(e *enrollment.Enrollment) (*laptop, error) {
	if l, ok := f.byDevice[e.Capture.Device]; ok {
		return l, nil
	}
	n := len(f.byDevice)
	f.byDevice[e.Capture.Device] = nil
	if n < f.cfg.Origins {
		l, err := newLaptop(f.keys, len(f.laps), e)
		if err != nil {
			return nil, err
		}
		l.worker = len(f.laps) % len(f.jobs)
		f.laps = append(f.laps, l)
	}
	l := f.laps[n%f.cfg.Origins]
	f.byDevice[e.Capture.Device] = l
	return l, nil
}

// newLaptop initializes a field origin the way `fieldsync init` does (key,
// config, genesis) but over an in-memory log.
func newLaptop(keys *rand.ChaCha8, i int, first *enrollment.Enrollment) (*laptop, error) {
	signer, err := replication.GenerateKeySigner(keys, uint64(i+1))
	if err != nil {
		return nil, err
	}
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
	hello := delta.Hello{Version: syncproto.ProtocolVersion, Origin: signer.Origin(), Role: string(replication.RoleNode), Unit: cfg.Unit, Node: cfg.Name}
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

// deliver cuts every laptop's log into the batches its sync session sends,
// taking one batch from each laptop in turn, and spools them.
func (in *ingestInput) deliver(laps []*laptop) error {
	w, err := createSpool(in.dir)
	if err != nil {
		return err
	}
	if err := in.send(laps, w); err != nil {
		w.close()
		return err
	}
	return w.finish()
}

func (in *ingestInput) send(laps []*laptop, w *spoolWriter) error {
	senders := make([]*sender, 0, len(laps))
	for _, l := range laps {
		s, err := newSender(l)
		if err != nil {
			return err
		}
		senders = append(senders, s)
	}
	for round := 0; len(senders) > 0; round++ {
		if round == maxSendRounds {
			return fmt.Errorf("bench: delivery did not finish in %d rounds", maxSendRounds)
		}
		active := senders[:0]
		for _, s := range senders {
			b, err := s.next()
			if err != nil {
				return err
			}
			if b != nil {
				if err := in.add(w, b); err != nil {
					return err
				}
				active = append(active, s)
			}
		}
		senders = active
	}
	return nil
}

func (in *ingestInput) add(w *spoolWriter, b *delta.Batch) error {
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
	queue []*delta.Batch
}

// hubHello is what the hub says in the sessions the laptops open.
var hubHello = delta.Hello{Version: syncproto.ProtocolVersion, Role: string(replication.RoleHub), Tier: "province", Unit: "42", Node: "bench-hub"}

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
	if err := sess.Step(&delta.Summary{}); err != nil {
		return nil, err
	}
	return &sender{sess: sess}, nil
}

// next returns the next batch the session sends, or nil when it is done.
func (s *sender) next() (*delta.Batch, error) {
	for len(s.queue) == 0 {
		rd, err := s.sess.Ready()
		if err != nil {
			return nil, err
		}
		sent := false
		for _, m := range rd.Messages {
			b, ok := m.(*delta.Batch)
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
func ackOf(b *delta.Batch) *delta.Ack {
	a := &delta.Ack{BatchID: b.ID}
	for _, rg := range b.Ranges {
		last := &rg.Entries[len(rg.Entries)-1]
		a.Heads = append(a.Heads, replication.OriginHead{Origin: rg.Origin, Head: replication.Head{Seq: last.Seq, Hash: last.Hash()}})
	}
	return a
}
