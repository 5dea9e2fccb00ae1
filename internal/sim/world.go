package sim

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"math/rand/v2"

	"fieldsync/internal/simnet"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
	"fieldsync/replication/wire"
)

// linkKind says which schedule a link follows.
type linkKind int

const (
	hubLink       linkKind = iota // district hub – province: mostly up
	fieldLink                     // laptop – district hub: short, rare windows
	colleagueLink                 // laptop – laptop of the same commune
)

var linkKindNames = [...]string{hubLink: "hub", fieldLink: "field", colleagueLink: "colleague"}

// link is an undirected link of the topology. A session pair (conn) runs
// over it while it is up and both ends are alive.
type link struct {
	idx         int
	kind        linkKind
	a, b        *replica
	scheduledUp bool // the contact schedule says the link exists now
	partitioned int  // nemesis cuts holding it down
	wasUp       bool // last state applied to the network
	downSince   uint64
	conn        *conn
}

func (l *link) up() bool { return l.scheduledUp && l.partitioned == 0 }

func (l *link) String() string { return l.a.name + "–" + l.b.name }

// Sim is one seeded run of the whole system: laptops, two district hubs
// and a provincial hub, their logs, the sessions between them and the
// network, all driven by one goroutine from one seed.
type Sim struct {
	opt Options
	rng *rand.Rand // workload and nemesis decisions
	// drng draws the restore and clone nemeses and new epochs: a stream
	// of its own, so a seed with both off replays as it did before them.
	drng *rand.Rand
	// brng draws blob counts and contents (blobs.go).
	brng *rand.Rand
	// destroyedBlobs are blobs a restore took away with the only store
	// that held them.
	destroyedBlobs map[blob.Hash]bool
	net            *simnet.Network
	codec          *wire.Codec
	rawCodec       *wire.Codec // frames blob chunks: no zstd tried on random bytes
	now            uint64
	end            uint64 // first tick of the heal phase
	steps          uint64 // ticks processed (quiet stretches are skipped)

	reps    []*replica
	prov    *replica
	hubs    []*replica // the district hubs
	hubless *replica   // the laptop with no hub link
	links   []*link
	byPair  map[[2]string]*link
	events  eventQueue
	nextID  uint64 // connection ids

	healing   bool
	healTotal uint64 // entries held everywhere at the last redial
	stopped   bool   // a failure ended the run early

	created    map[entryKey]bool // every entry any replica wrote
	capturedAt map[replication.EntryID]uint64
	acked      []entryKey
	// originNames names each origin after its device and epoch ("l3",
	// "l3#2"), for failure messages and the trace.
	originNames map[replication.OriginID]string
	deviceOf    map[replication.OriginID]string // the device whose key writes each origin
	epochsOf    map[string]int                  // origins written per device
	writerOf    map[entryKey]*replica           // who wrote each acked entry
	forks       forkBook                        // restores, clones, what diverged, what was detected
	trace       hash.Hash
	logf        func(format string, args ...any)
	res         Result
}

// New builds the topology for opt: the province, two district hubs, and
// opt.Laptops laptops in communes of two. The first commune's second
// laptop has no hub link: it reaches the province only through its
// colleague (store-carry-forward). logf, if not nil, receives a verbose
// trace.
func New(opt Options, logf func(format string, args ...any)) (*Sim, error) {
	codec, err := wire.NewCodec(wire.DefaultLimits())
	if err != nil {
		return nil, err
	}
	rawCodec, err := wire.NewStreamCodec(wire.DefaultLimits())
	if err != nil {
		return nil, err
	}
	s := &Sim{
		opt:        opt,
		rng:        rand.New(rand.NewPCG(opt.Seed, 0x5eed)),
		net:        simnet.New(opt.Seed),
		codec:      codec,
		rawCodec:   rawCodec,
		end:        uint64(opt.Days) * TicksPerDay,
		byPair:     map[[2]string]*link{},
		drng:       rand.New(rand.NewPCG(opt.Seed, 0xc10e5)),
		brng:       newBlobRand(opt.Seed),
		created:    map[entryKey]bool{},
		capturedAt: map[replication.EntryID]uint64{},
		trace:      sha256.New(),
		logf:       logf,

		originNames: map[replication.OriginID]string{},
		deviceOf:    map[replication.OriginID]string{},
		epochsOf:    map[string]int{},
		writerOf:    map[entryKey]*replica{},
		forks:       newForkBook(),

		destroyedBlobs: map[blob.Hash]bool{},
	}
	s.res.Seed, s.res.Options = opt.Seed, opt
	s.buildTopology()
	for _, r := range s.reps {
		if err := s.writeGenesis(r); err != nil {
			return nil, err
		}
	}
	s.net.ConfigureAll(s.linkConfig())
	s.scheduleAll()
	return s, nil
}

// linkConfig is every link's message faults during the field days.
func (s *Sim) linkConfig() simnet.LinkConfig {
	return simnet.LinkConfig{Drop: s.opt.Loss, Duplicate: s.opt.Dup, MinDelay: minDelay, MaxDelay: minDelay + s.opt.MaxDelay,
		Reorder: s.opt.Reorder, ReorderTicks: reorderTicks}
}

// reorderTicks is how far a reordered message can be held back.
const reorderTicks = 4

func (s *Sim) buildTopology() {
	prov := s.addReplica("P", replication.RoleHub, "province", "42")
	s.prov = prov
	s.hubs = []*replica{
		s.addReplica("D1", replication.RoleHub, "district", "436"),
		s.addReplica("D2", replication.RoleHub, "district", "437"),
	}
	for _, d := range s.hubs {
		s.addLink(hubLink, d, prov)
	}
	for i := range s.opt.Laptops {
		commune, district := i/2, (i/2)%2
		l := s.addReplica(fmt.Sprintf("l%d", i+1), replication.RoleNode, "", fmt.Sprintf("18%03d", 586+commune))
		l.district = district
		if i == 1 {
			s.hubless = l
		} else {
			s.addLink(fieldLink, l, s.hubs[district])
		}
		if i%2 == 1 {
			s.addLink(colleagueLink, s.reps[len(s.reps)-2], l)
		}
	}
}

func (s *Sim) addReplica(name string, role replication.Role, tier, unit string) *replica {
	key := newSigner(s.rng)
	r := &replica{name: name, role: role, tier: tier, unit: unit, log: oplog.NewMem(), key: key, signer: key, device: name,
		alive: true, applied: map[replication.EntryID]int{}}
	r.clock = &simClock{s: s}
	if err := r.openBlobs(); err != nil {
		panic(err) // an empty Mem log and store: cannot fail
	}
	if role == replication.RoleHub {
		r.watch = epoch.NewWatch(maxClaims)
	}
	s.reps = append(s.reps, r)
	s.net.AddNode(name)
	return r
}

func (s *Sim) addLink(kind linkKind, a, b *replica) *link {
	l := &link{idx: len(s.links), kind: kind, a: a, b: b, scheduledUp: kind == hubLink, wasUp: true}
	s.links = append(s.links, l)
	s.byPair[[2]string{a.name, b.name}] = l
	s.byPair[[2]string{b.name, a.name}] = l
	return l
}

// writeGenesis appends the replica's seq 1; it is acknowledged like any
// capture and must reach the province.
func (s *Sim) writeGenesis(r *replica) error {
	es, err := r.log.Append(r.signer, []replication.Draft{r.genesisDraft()})
	if err != nil {
		return fmt.Errorf("sim: genesis of %s: %w", r.name, err)
	}
	s.nameOrigin(r)
	s.recordAppend(r, es, true)
	return nil
}

// nameOrigin names r's current origin after its device and epoch count.
func (s *Sim) nameOrigin(r *replica) {
	o := r.signer.Origin()
	if _, ok := s.originNames[o]; ok {
		return
	}
	s.epochsOf[r.device]++
	name := r.device
	if n := s.epochsOf[r.device]; n > 1 {
		name = fmt.Sprintf("%s#%d", r.device, n)
	}
	s.originNames[o] = name
	s.deviceOf[o] = r.device
}

// entryKey is one entry: two copies of a restored or cloned log write
// different entries under one (origin, seq).
type entryKey struct {
	id   replication.EntryID
	hash replication.Hash
}

// recordAppend notes entries a replica wrote; acked says whether the
// operator saw them saved (a crash can fall between the two).
func (s *Sim) recordAppend(r *replica, es []replication.Entry, acked bool) {
	for i := range es {
		id, h := es[i].ID(), es[i].Hash()
		s.created[entryKey{id, h}] = true
		if _, ok := s.capturedAt[id]; !ok {
			s.capturedAt[id] = s.now
		}
		if acked {
			s.acked = append(s.acked, entryKey{id, h})
			s.writerOf[entryKey{id, h}] = r
		}
		s.countApplied(r, id)
		fmt.Fprintf(s.trace, "capture %d %s %s %d %x\n", s.now, r.name, id.Origin.Short(), id.Seq, h[:8])
	}
	if len(es) > 0 {
		s.checkDiverged(r, &es[0])
	}
	r.dirty = true
}

// countApplied counts one write of id at r; a second is the duplicate the
// exactly-once guarantee forbids.
func (s *Sim) countApplied(r *replica, id replication.EntryID) {
	r.applied[id]++
	if r.applied[id] == 2 {
		s.res.Dup++
		s.failf("duplicated: %s applied %s twice", r.name, s.entryName(id))
	}
}

// failf records a failed assertion; the run stops at the next step.
func (s *Sim) failf(format string, args ...any) {
	s.stopped = true
	if len(s.res.Failures) < maxFailures {
		s.res.Failures = append(s.res.Failures, fmt.Sprintf("tick %d: ", s.now)+fmt.Sprintf(format, args...))
	}
}

// maxFailures bounds the failure messages kept per run.
const maxFailures = 20

func (s *Sim) log(format string, args ...any) {
	if s.logf != nil {
		s.logf("[%6d %s] "+format, append([]any{s.now, dayClock(s.now)}, args...)...)
	}
}

// dayClock renders a tick as "d2 14:05" for the verbose trace.
func dayClock(t uint64) string {
	return fmt.Sprintf("d%d %02d:%02d", t/TicksPerDay, t%TicksPerDay/TicksPerHour, t%TicksPerHour*uint64(TickDuration.Seconds())/60)
}
