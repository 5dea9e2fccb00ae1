package bench

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/hub/dedup"
	"fieldsync/internal/bench/altgen"
	"fieldsync/internal/bench/legacydedup"
)

// DedupConfig says what `bench dedup` evaluates: records per data set,
// the seeds, the generators.
type DedupConfig struct {
	N          int
	Noise      float64  // synth's share of re-enrollments (altgen draws its own 6%)
	Seeds      []uint64 // default 1, 2, 3
	Generators []string // "synth", "altgen" (default both)
	// Train bounds the learning step (zero: the defaults).
	Train dedup.TrainConfig
}

// Generators the bench knows.
const (
	GenSynth  = "synth"
	GenAltgen = "altgen"
)

// Detectors compared, in the order printed.
const (
	DetModel    = "learnt model"
	DetDefault  = "default model"
	DetCurrent  = "current detector"
	DetExact    = "exact name+DOB+sex"
	DetTextbook = "F-S textbook weights"
)

// Targets of issue #12.
const (
	TargetPrecision = 0.995
	TargetRecall    = 0.99
)

// DedupResult is every data set's evaluation.
type DedupResult struct {
	Config DedupConfig `json:"config"`
	Runs   []DedupRun  `json:"runs"`
	// Splink is the reference the issue quotes (Splink cannot run here:
	// no PyPI): its figures on an independently generated province.
	Splink string `json:"splink_reference"`
}

// DedupRun is one data set (a generator and a seed) and every detector's
// result on it.
type DedupRun struct {
	Generator string `json:"generator"`
	Seed      uint64 `json:"seed"`
	Records   int    `json:"records"`
	// Rejected records never enter the system (enrollment.Validate).
	Rejected    int `json:"rejected"`
	Citizens    int `json:"citizens"`
	Provisional int `json:"provisional"`
	TruePairs   int `json:"true_pairs"`
	// HardNegatives counts the pairs of citizens of each look-alike kind
	// present (what a false positive could be).
	HardNegatives map[string]int   `json:"hard_negatives"`
	Detectors     []DetectorResult `json:"detectors"`
	// Model is the learnt model's ID and what it was learnt from.
	Model     string           `json:"model"`
	ModelInfo *dedup.TrainInfo `json:"model_info"`
	// Seconds: generating and validating, putting every citizen, learning,
	// re-deciding every candidate pair with the learnt model, Pairs().
	GenSeconds   float64     `json:"generate_seconds"`
	PutSeconds   float64     `json:"put_seconds"`
	TrainSeconds float64     `json:"train_seconds"`
	SetSeconds   float64     `json:"set_model_seconds"`
	PairsSeconds float64     `json:"pairs_seconds"`
	Index        dedup.Stats `json:"index"`
}

// DetectorResult is one detector on one data set.
type DetectorResult struct {
	Name string `json:"name"`
	Quality
	// RecallByNoise: per noise kind on either record of a true pair, the
	// pairs and how many were found ("none": neither record has noise).
	RecallByNoise map[string]Recall `json:"recall_by_noise,omitempty"`
	// FalsePositives by the look-alike kind of the two people (twin,
	// sibling, parent-child, namesake-same-day, namesake-same-year, other).
	FalsePositives map[string]int `json:"false_positives_by_kind"`
	FPExamples     []string       `json:"fp_examples,omitempty"`
	FNExamples     []string       `json:"fn_examples,omitempty"`
}

// Recall is how many of a kind's true pairs were found.
type Recall struct {
	Pairs int `json:"pairs"`
	Found int `json:"found"`
}

// Quality compares proposed pairs with the true ones.
type Quality struct {
	Proposed  int     `json:"proposed"`
	True      int     `json:"true_pairs"`
	Correct   int     `json:"correct"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Look-alike kinds of a false positive.
const (
	KindTwin         = "twin"
	KindSibling      = "sibling"
	KindParentChild  = "parent-child"
	KindNamesakeDay  = "namesake-same-day"
	KindNamesakeYear = "namesake-same-year"
	KindOther        = "other"
)

// maxExamples bounds the false negatives kept per detector, and
// maxExamplesPerKind the false positives of each kind.
const (
	maxExamples        = 12
	maxExamplesPerKind = 4
)

// splinkReference is what issue #12 measured with Splink.
const splinkReference = "Splink (issue #12, independent province, 32k records, 6% re-enrollments, hard negatives): precision 0.90, recall 1.000"

// Dedup evaluates the detectors on every generator and seed of cfg.
func Dedup(cfg DedupConfig) (DedupResult, error) {
	if cfg.N <= 0 {
		return DedupResult{}, errors.New("bench: dedup needs a positive record count")
	}
	if len(cfg.Seeds) == 0 {
		cfg.Seeds = []uint64{1, 2, 3}
	}
	if len(cfg.Generators) == 0 {
		cfg.Generators = []string{GenSynth, GenAltgen}
	}
	res := DedupResult{Config: cfg, Splink: splinkReference}
	for _, g := range cfg.Generators {
		for _, seed := range cfg.Seeds {
			run, err := dedupRun(cfg, g, seed)
			if err != nil {
				return res, err
			}
			res.Runs = append(res.Runs, run)
		}
	}
	return res, nil
}

// evalRecord is a generated record that passed validation.
type evalRecord struct {
	e      enrollment.Enrollment
	keys   enrollment.MatchKeys
	person string
	noise  []string
	line   int
}

// personInfo is the truth about a person, for classifying errors.
type personInfo struct {
	self, father, mother string // identities (synth: ID numbers; altgen: persons)
	name                 string // folded true name
	dob                  enrollment.Date
}

// citizen is a hub key: its records' persons and the record it shows.
type citizen struct {
	key     string
	shown   int // index in records: the first record by line
	persons []string
}

// dedupEval is the state of one data set's evaluation.
type dedupEval struct {
	run      DedupRun
	records  []evalRecord
	citizens []*citizen
	byKey    map[string]*citizen
	people   map[string]*personInfo
	truth    map[[2]string]bool
	learnt   *dedup.Index // for the examples' explanations
}

func dedupRun(cfg DedupConfig, gen string, seed uint64) (DedupRun, error) {
	ev := &dedupEval{run: DedupRun{Generator: gen, Seed: seed, Records: cfg.N, HardNegatives: map[string]int{}},
		byKey: map[string]*citizen{}, people: map[string]*personInfo{}}
	t0 := time.Now()
	var err error
	switch gen {
	case GenSynth:
		err = ev.fromSynth(cfg.N, cfg.Noise, seed)
	case GenAltgen:
		err = ev.fromAltgen(cfg.N, seed)
	default:
		err = fmt.Errorf("bench: unknown generator %q (want %s or %s)", gen, GenSynth, GenAltgen)
	}
	if err != nil {
		return ev.run, err
	}
	ev.run.GenSeconds = time.Since(t0).Seconds()
	ev.buildTruth()
	ev.countHardNegatives()
	learnt, dflt, textbook := ev.runModels(cfg.Train)
	ev.add(DetModel, learnt, true)
	ev.add(DetDefault, dflt, true)
	ev.add(DetCurrent, ev.runLegacy(), true)
	ev.add(DetExact, ev.exact(), true)
	ev.add(DetTextbook, textbook, true)
	return ev.run, nil
}

func (ev *dedupEval) fromSynth(n int, noise float64, seed uint64) error {
	g, err := synth.New(synth.Config{Count: n, Seed: seed, Noise: noise})
	if err != nil {
		return err
	}
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		e := rec.Enrollment
		if rec.DuplicateOf == 0 {
			info := &personInfo{name: enrollment.FoldKey(e.FullName), dob: e.DateOfBirth, self: e.PersonalID}
			if e.Father != nil {
				info.father = e.Father.PersonalID
			}
			if e.Mother != nil {
				info.mother = e.Mother.PersonalID
			}
			ev.people[rec.Person] = info
		}
		ev.accept(e, rec.Person, rec.Noise, rec.Line)
	}
	return g.Err()
}

func (ev *dedupEval) fromAltgen(n int, seed uint64) error {
	recs, err := altgen.Generate(altgen.Config{Records: n, Seed: seed})
	if err != nil {
		return err
	}
	for i, r := range recs {
		if _, ok := ev.people[r.Person]; !ok {
			ev.people[r.Person] = &personInfo{self: r.Person, father: r.Father, mother: r.Mother,
				name: enrollment.FoldKey(r.Name), dob: r.DOB}
		}
		ev.accept(r.Enrollment, r.Person, r.Noise, i+1)
	}
	return nil
}

// accept validates a record and adds it to its citizen (by ID number,
// else a new provisional one), as a hub does.
func (ev *dedupEval) accept(e enrollment.Enrollment, person string, noise []string, line int) {
	if enrollment.Validate(&e, enrollment.Context{Now: e.Capture.CapturedAt}).Rejected() {
		ev.run.Rejected++
		return
	}
	ev.records = append(ev.records, evalRecord{e: e, keys: enrollment.Keys(&e), person: person, noise: noise, line: line})
	i := len(ev.records) - 1
	key := ev.records[i].keys.PersonalID
	if key == "" {
		key = fmt.Sprintf("prov:%08d", line)
		ev.run.Provisional++
	}
	c := ev.byKey[key]
	if c == nil {
		c = &citizen{key: key, shown: i}
		ev.byKey[key] = c
		ev.citizens = append(ev.citizens, c)
	}
	if !slices.Contains(c.persons, person) {
		c.persons = append(c.persons, person)
	}
}

// buildTruth lists the true pairs: distinct citizen keys sharing a person.
func (ev *dedupEval) buildTruth() {
	ev.run.Citizens = len(ev.citizens)
	keysOf := map[string][]string{}
	for _, c := range ev.citizens {
		for _, p := range c.persons {
			keysOf[p] = append(keysOf[p], c.key)
		}
	}
	ev.truth = map[[2]string]bool{}
	for _, keys := range keysOf {
		for i, a := range keys {
			for _, b := range keys[i+1:] {
				ev.truth[orderedPair(a, b)] = true
			}
		}
	}
	ev.run.TruePairs = len(ev.truth)
}

// countHardNegatives counts the pairs of citizens (shown persons) of each
// look-alike kind: same-name pairs by name, relatives by parents.
func (ev *dedupEval) countHardNegatives() {
	byName, byParents, byParent := map[string][]string{}, map[string][]string{}, map[string][]string{}
	for _, c := range ev.citizens {
		p := ev.people[ev.records[c.shown].person]
		if p == nil {
			continue
		}
		byName[p.name] = append(byName[p.name], c.key)
		if p.father != "" && p.mother != "" {
			byParents[p.father+"|"+p.mother] = append(byParents[p.father+"|"+p.mother], c.key)
		}
		if p.self != "" {
			byParent[p.self] = append(byParent[p.self], c.key)
		}
	}
	count := func(groups map[string][]string) {
		for _, keys := range groups {
			for i, a := range keys {
				for _, b := range keys[i+1:] {
					if !ev.truth[orderedPair(a, b)] {
						if k := ev.kindOf(a, b); k != KindOther {
							ev.run.HardNegatives[k]++
						}
					}
				}
			}
		}
	}
	count(byName)
	count(byParents)
	for _, c := range ev.citizens { // parent-child: a child's citizen against its parent's
		p := ev.people[ev.records[c.shown].person]
		if p == nil {
			continue
		}
		for _, parent := range []string{p.father, p.mother} {
			for _, k := range byParent[parent] {
				if k != c.key && ev.kindOf(k, c.key) == KindParentChild && !ev.truth[orderedPair(k, c.key)] {
					ev.run.HardNegatives[KindParentChild]++
				}
			}
		}
	}
}

func orderedPair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

func (ev *dedupEval) dedupRecord(c *citizen) dedup.Record {
	r := &ev.records[c.shown]
	return dedup.Record{Key: c.key, Enrollment: &r.e, Keys: r.keys, Region: r.e.Capture.CommuneCode}
}

// runModels puts every citizen in an Index, learns a model from them
// (timed), and returns the pairs under the learnt model, the default model
// and the textbook baseline (rules off).
func (ev *dedupEval) runModels(tc dedup.TrainConfig) (learnt, dflt, textbook []pairAB) {
	recs := make([]dedup.Record, len(ev.citizens))
	for i, c := range ev.citizens {
		recs[i] = ev.dedupRecord(c)
	}
	ix := dedup.NewIndex(dedup.DefaultConfig())
	t0 := time.Now()
	for _, r := range recs {
		ix.Put(r)
	}
	t1 := time.Now()
	m, err := ix.Train(tc)
	t2 := time.Now()
	if err == nil {
		ix.SetModel(m)
		ev.run.Model, ev.run.ModelInfo = m.ID(), m.Trained
	}
	t3 := time.Now()
	learnt = toAB(ix.Pairs())
	t4 := time.Now()
	ev.learnt = ix
	ev.run.PutSeconds, ev.run.TrainSeconds = t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds()
	ev.run.SetSeconds, ev.run.PairsSeconds = t3.Sub(t2).Seconds(), t4.Sub(t3).Seconds()
	ev.run.Index = ix.Stats()
	dx := dedup.NewIndex(dedup.DefaultConfig())
	for _, r := range recs {
		dx.Put(r)
	}
	dflt = toAB(dx.Pairs())
	tb := dedup.NewIndex(dedup.Config{Model: dedup.TextbookModel(), NoRules: true})
	for _, r := range recs {
		tb.Put(r)
	}
	textbook = toAB(tb.Pairs())
	return learnt, dflt, textbook
}

// runLegacy runs the detector as it was before #12.
func (ev *dedupEval) runLegacy() []pairAB {
	ix := legacydedup.NewIndex(legacydedup.DefaultConfig())
	for _, c := range ev.citizens {
		r := &ev.records[c.shown]
		ix.Put(legacydedup.Record{Key: c.key, Enrollment: &r.e, Keys: r.keys, Region: r.e.Capture.CommuneCode})
	}
	var out []pairAB
	for _, p := range ix.Pairs() {
		out = append(out, pairAB{p.A, p.B})
	}
	return out
}

type pairAB struct{ a, b string }

func toAB(ps []dedup.Pair) []pairAB {
	out := make([]pairAB, len(ps))
	for i, p := range ps {
		out[i] = pairAB{p.A, p.B}
	}
	return out
}

// exact proposes every two citizens whose shown records have the same
// NameKey, date of birth and sex (MOSIP's demographic dedup).
func (ev *dedupEval) exact() []pairAB {
	groups := map[string][]string{}
	for _, c := range ev.citizens {
		r := &ev.records[c.shown]
		k := r.keys.Name + "|" + r.keys.DateOfBirth + "|" + string(r.e.Sex)
		groups[k] = append(groups[k], c.key)
	}
	var out []pairAB
	for _, keys := range groups {
		for i, a := range keys {
			for _, b := range keys[i+1:] {
				p := orderedPair(a, b)
				out = append(out, pairAB{p[0], p[1]})
			}
		}
	}
	return out
}

// add scores one detector's pairs against the truth.
func (ev *dedupEval) add(name string, pairs []pairAB, detail bool) {
	d := DetectorResult{Name: name, FalsePositives: map[string]int{}, RecallByNoise: map[string]Recall{}}
	q := Quality{Proposed: len(pairs), True: len(ev.truth)}
	found := map[[2]string]bool{}
	slices.SortFunc(pairs, func(x, y pairAB) int { return strings.Compare(x.a+"|"+x.b, y.a+"|"+y.b) })
	for _, p := range pairs {
		k := orderedPair(p.a, p.b)
		found[k] = true
		if ev.truth[k] {
			q.Correct++
			continue
		}
		kind := ev.kindOf(p.a, p.b)
		d.FalsePositives[kind]++
		if detail && d.FalsePositives[kind] <= maxExamplesPerKind {
			d.FPExamples = append(d.FPExamples, kind+": "+ev.describe(k))
		}
	}
	missed := make([][2]string, 0)
	for k := range ev.truth {
		kinds := ev.noiseOf(k)
		for _, kd := range kinds {
			r := d.RecallByNoise[kd]
			r.Pairs++
			if found[k] {
				r.Found++
			}
			d.RecallByNoise[kd] = r
		}
		if !found[k] {
			missed = append(missed, k)
		}
	}
	sort.Slice(missed, func(i, j int) bool { return missed[i][0]+missed[i][1] < missed[j][0]+missed[j][1] })
	for _, k := range missed {
		if detail && len(d.FNExamples) < maxExamples {
			d.FNExamples = append(d.FNExamples, strings.Join(ev.noiseOf(k), ",")+": "+ev.describe(k))
		}
	}
	q.Precision = ratio(q.Correct, q.Proposed)
	q.Recall = ratio(q.Correct, q.True)
	if q.Precision+q.Recall > 0 {
		q.F1 = 2 * q.Precision * q.Recall / (q.Precision + q.Recall)
	}
	d.Quality = q
	ev.run.Detectors = append(ev.run.Detectors, d)
}

// noiseOf lists the noise kinds of the two shown records of a pair.
func (ev *dedupEval) noiseOf(k [2]string) []string {
	a, b := ev.byKey[k[0]], ev.byKey[k[1]]
	kinds := append(slices.Clone(ev.records[a.shown].noise), ev.records[b.shown].noise...)
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	if len(kinds) == 0 {
		kinds = []string{"none"}
	}
	return kinds
}

// kindOf classifies two citizens that are different people by how they
// look alike (the persons of their shown records).
func (ev *dedupEval) kindOf(ka, kb string) string {
	a, b := ev.people[ev.records[ev.byKey[ka].shown].person], ev.people[ev.records[ev.byKey[kb].shown].person]
	if a == nil || b == nil {
		return KindOther
	}
	sameParents := a.father != "" && a.father == b.father && a.mother != "" && a.mother == b.mother
	switch {
	case sameParents && a.dob == b.dob && a.dob.Day != 0:
		return KindTwin
	case a.father != "" && a.father == b.father || a.mother != "" && a.mother == b.mother:
		return KindSibling
	case a.self != "" && (b.father == a.self || b.mother == a.self) || b.self != "" && (a.father == b.self || a.mother == b.self):
		return KindParentChild
	case a.name == b.name && a.dob == b.dob && a.dob.Day != 0:
		return KindNamesakeDay
	case a.name == b.name && a.dob.Year == b.dob.Year:
		return KindNamesakeYear
	}
	return KindOther
}

// describe renders two citizens' shown records and the learnt model's
// evidence on them.
func (ev *dedupEval) describe(k [2]string) string {
	a, b := ev.byKey[k[0]], ev.byKey[k[1]]
	ra, rb := &ev.records[a.shown], &ev.records[b.shown]
	s := fmt.Sprintf("%s %q %s | %s %q %s", a.key, ra.e.FullName, ra.keys.DateOfBirth, b.key, rb.e.FullName, rb.keys.DateOfBirth)
	if ev.learnt != nil {
		if p, _, ok := ev.learnt.Compare(a.key, b.key); ok {
			var ws []string
			for _, e := range p.Evidence {
				ws = append(ws, fmt.Sprintf("%s%+.1f", e.Code, e.Weight))
			}
			s += fmt.Sprintf(" | %+.1f bits: %s", float64(p.Points16)/16, strings.Join(ws, " "))
		}
	}
	return s
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Meets reports whether a detector reaches the targets on a run:
// precision ≥ 0.995, recall ≥ 0.99, no twin flagged.
func (d *DetectorResult) Meets() bool {
	return d.Precision >= TargetPrecision && d.Recall >= TargetRecall && d.FalsePositives[KindTwin] == 0
}
