package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"fieldsync/enrollment"
)

// Record is one generated enrollment with its ground truth.
type Record struct {
	// Line is the record's 1-based position in the output.
	Line       int
	Enrollment enrollment.Enrollment
	// Person is the ground-truth person ID ("p0000123"): records with the
	// same Person are the same citizen.
	Person string
	// Household is the ground-truth household ID ("h0000042").
	Household string
	// DuplicateOf is the Line of this person's first record, 0 for an
	// original.
	DuplicateOf int
	// Noise lists the defects applied to a re-enrollment (Noise* kinds);
	// empty for originals.
	Noise []string
	// Quirks lists natural variation and hard-negative tags (Quirk* and
	// some Noise* names; see doc.go). Originals and re-enrollments alike.
	Quirks []string
	// SimilarTo is the Line of an earlier record of a *different* person
	// built to look alike (namesake, twin, father of a junior), or 0.
	SimilarTo int
	// Blobs is the capture's dossier: a file per slot (BlobSpec.Bytes
	// makes it) or an exception code. The Enrollment holds no biometric
	// references: a capture computes them from the files.
	Blobs []BlobSpec
}

// Generator streams records. It is not safe for concurrent use.
type Generator struct {
	cfg   Config
	start time.Time // campaign start in Vietnam time
	r     *rand.Rand
	geo   *geography
	names *nameTables
	pins  *pinAllocator

	prefixes, bornAway weighted[string]
	hhKinds            weighted[string]
	childCounts        weighted[int]
	idKinds, defects   weighted[string]
	defectCounts       [2]weighted[int]
	blood, requests    weighted[string]
	jobsYoung          weighted[string]
	jobsAdult, jobsOld weighted[string]

	queue      []*person    // enrolled members of the current household
	register   []*person    // every household member generated (Register)
	pool       []*poolEntry // recent originals that may be re-enrolled
	emitted    int
	dups       int
	targetDups int
	persons    int
	households int
	err        error
	stats      Stats
}

// poolSize bounds the re-enrollment candidates kept in memory.
const poolSize = 2048

// ringSize bounds the recent adults per commune kept for namesakes.
const ringSize = 8

// New validates cfg (after Defaults) and returns a generator.
func New(cfg Config) (*Generator, error) {
	cfg = cfg.Defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	geo, err := newGeography(cfg.CodeList, cfg.Commune, cfg.Devices, cfg.Officers)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkDuration(geo.busiestShare()); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg: cfg, start: cfg.Start.In(ict), geo: geo,
		r:     rand.New(rand.NewPCG(cfg.Seed, 0x5eed_f1e1d5_7c)),
		names: newNameTables(), pins: newPINAllocator(cfg.Seed),
		prefixes: newWeighted(prefixTable), bornAway: newWeighted(bornAwayTable),
		hhKinds: newWeighted(householdKinds), childCounts: newWeighted(childCounts),
		idKinds: newWeighted(idDefects), defects: newWeighted(fieldDefects),
		defectCounts: [2]weighted[int]{newWeighted(defectsWithID), newWeighted(defectsWithoutID)},
		blood:        newWeighted(bloodTypes), requests: newWeighted(requestTypes),
		jobsYoung: newWeighted(jobsYoung), jobsAdult: newWeighted(jobsAdult), jobsOld: newWeighted(jobsOld),
		targetDups: int(math.Round(cfg.Noise * float64(cfg.Count))),
		stats:      newStats(),
	}
	g.startStations()
	return g, nil
}

// startStations gives every device of every commune its clock.
func (g *Generator) startStations() {
	for _, c := range g.geo.communes {
		c.stations = make([]*station, len(c.Devices))
		for i := range c.Devices {
			c.stations[i] = newStation(g.cfg.Start, g.cfg.Seed, hashString(c.Devices[i]))
		}
	}
}

// Config returns the effective configuration (with defaults).
func (g *Generator) Config() Config { return g.cfg }

// Err returns the error that stopped the stream early, if any.
func (g *Generator) Err() error { return g.err }

// Stats returns counts so far (complete once Next has returned false).
func (g *Generator) Stats() Stats { return g.stats }

// Next returns the next record, or false when Count records have been
// emitted (or on error: see Err).
func (g *Generator) Next() (Record, bool) {
	if g.err != nil || g.emitted >= g.cfg.Count {
		return Record{}, false
	}
	var rec Record
	if g.dupDue() {
		rec = g.reenroll()
	} else {
		p, err := g.nextMember()
		if err != nil {
			g.err = err
			return Record{}, false
		}
		rec = g.original(p)
	}
	g.stats.add(&rec)
	return rec, true
}

// dupDue decides whether the next record is a re-enrollment, drawing
// without replacement so that exactly round(Noise*Count) are (unless no
// candidate exists yet at the very start).
func (g *Generator) dupDue() bool {
	left := g.targetDups - g.dups
	if left <= 0 || len(g.pool) == 0 {
		return false
	}
	slots := g.cfg.Count - g.emitted
	return left >= slots || g.r.Float64()*float64(slots) < float64(left)
}

// nextMember returns the next enrolled person, building households as
// needed.
func (g *Generator) nextMember() (*person, error) {
	for len(g.queue) == 0 {
		if err := g.newHousehold(); err != nil {
			return nil, err
		}
	}
	p := g.queue[0]
	g.queue[0] = nil
	g.queue = g.queue[1:]
	return p, nil
}

// newLine assigns the next output line.
func (g *Generator) newLine() int {
	g.emitted++
	return g.emitted
}

// identify gives p its ground-truth person ID at first emission.
func (g *Generator) identify(p *person, line int) {
	g.persons++
	g.stats.Persons = g.persons
	p.id = fmt.Sprintf("p%07d", g.persons)
	p.line = line
}

// similarLine is the line of p's look-alike, if it was emitted.
func similarLine(p *person) int {
	if p.similar == nil {
		return 0
	}
	return p.similar.line
}

// busiestShare is the largest commune's share of the population.
func (geo *geography) busiestShare() float64 {
	total, top := 0.0, 0.0
	for _, c := range geo.communes {
		total += c.Weight
		top = max(top, c.Weight)
	}
	return top / total
}
