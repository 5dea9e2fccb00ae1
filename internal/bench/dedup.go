package bench

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/hub/dedup"
)

// DedupResult is the quality and cost of the probable-duplicate detector
// (hub/dedup) on generated records with ground truth, next to the exact
// name + date of birth + sex match that MOSIP's demographic dedup does.
type DedupResult struct {
	N     int     `json:"n"`
	Noise float64 `json:"noise"`
	Seed  uint64  `json:"seed"`
	// Rejected records never enter the system (enrollment.Validate);
	// RejectedByNoise counts them by noise kind ("original" for none).
	Rejected        int            `json:"rejected"`
	RejectedByNoise map[string]int `json:"rejected_by_noise"`
	// Citizens are the hub's keys: ID numbers, and one provisional key per
	// record without one.
	Citizens    int `json:"citizens"`
	Provisional int `json:"provisional"`

	Detector Quality `json:"detector"`
	// WithoutFamily is the detector on the same citizens with their
	// parents, spouse, household head and hometown blanked: how much the
	// score leans on them (synth keeps them exact across re-enrollments;
	// real data will not always).
	WithoutFamily Quality `json:"detector_without_family"`
	// Baseline is the exact match of NameKey(full name) + date of birth +
	// sex; BaselineRaw the same on the name exactly as typed.
	Baseline    Quality `json:"baseline_name_dob_sex"`
	BaselineRaw Quality `json:"baseline_raw_name_dob_sex"`

	// FalsePositives by kind: namesake, twin, junior (the hard negatives
	// synth builds), same-household, other.
	FalsePositives map[string]int `json:"false_positives_by_kind"`
	// FalseNegatives by the noise kinds of the two records shown ("none"
	// when neither carries any).
	FalseNegatives map[string]int `json:"false_negatives_by_noise"`
	// Examples of each kind of error, with Compare's verdict.
	FPExamples []string `json:"fp_examples,omitempty"`
	FNExamples []string `json:"fn_examples,omitempty"`

	Index        dedup.Stats `json:"index"`
	GenSeconds   float64     `json:"generate_seconds"`
	IndexSeconds float64     `json:"index_seconds"` // every Put, then Pairs
	NsPerRecord  float64     `json:"ns_per_record"` // IndexSeconds per citizen
	PairsSeconds float64     `json:"pairs_seconds"` // the final Pairs() alone
	BaselineSecs float64     `json:"baseline_seconds"`
	EvalSeconds  float64     `json:"eval_seconds"`
	WallSeconds  float64     `json:"wall_seconds"` // the whole run
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

// maxExamples bounds the error examples kept in a DedupResult.
const maxExamples = 12

// evalRecord is a generated record that passed validation.
type evalRecord struct {
	rec  synth.Record
	keys enrollment.MatchKeys
}

// citizen is a hub key: its records' persons and the record it shows.
type citizen struct {
	key     string
	shown   int // index in records: the first record by line
	persons []string
}

// dedupEval is the state of one evaluation.
type dedupEval struct {
	cfg      dedup.Config
	res      DedupResult
	records  []evalRecord
	citizens []*citizen
	byKey    map[string]*citizen
	similar  map[string]similarity // person → the look-alike it was built after
	person   map[int]string        // line → person
	truth    map[[2]string]bool
}

type similarity struct{ person, kind string }

// Dedup generates n records (noise: the share of noisy re-enrollments),
// drops those enrollment.Validate rejects, groups the rest into citizens
// by ID number (a provisional citizen per record without one), indexes the
// citizens' first records and compares the detector's pairs, and the
// baselines', with the truth: two citizen keys holding records of the same
// synth Person.
func Dedup(n int, noise float64, seed uint64) (DedupResult, error) {
	return runDedup(n, noise, seed, dedup.DefaultConfig())
}

// runDedup is Dedup with a detector configuration.
func runDedup(n int, noise float64, seed uint64, cfg dedup.Config) (DedupResult, error) {
	ev := &dedupEval{cfg: cfg, res: DedupResult{N: n, Noise: noise, Seed: seed, RejectedByNoise: map[string]int{},
		FalsePositives: map[string]int{}, FalseNegatives: map[string]int{}},
		byKey: map[string]*citizen{}, similar: map[string]similarity{}, person: map[int]string{}}
	t0 := time.Now()
	if err := ev.generate(n, noise, seed); err != nil {
		return ev.res, err
	}
	ev.res.GenSeconds = time.Since(t0).Seconds()
	ev.buildTruth()
	pairs := ev.runDetector()
	t1 := time.Now()
	ev.res.Detector = ev.score(pairs, true)
	ev.res.EvalSeconds = time.Since(t1).Seconds()
	ev.res.WithoutFamily = ev.score(ev.withoutFamily(), false)
	t2 := time.Now()
	ev.res.Baseline = ev.score(ev.baseline(func(r *evalRecord) string { return r.keys.Name }), false)
	ev.res.BaselineRaw = ev.score(ev.baseline(func(r *evalRecord) string { return r.rec.Enrollment.FullName }), false)
	ev.res.BaselineSecs = time.Since(t2).Seconds()
	ev.res.WallSeconds = time.Since(t0).Seconds()
	return ev.res, nil
}

// generate draws the records, validates them and forms the citizens.
func (ev *dedupEval) generate(n int, noise float64, seed uint64) error {
	g, err := synth.New(synth.Config{Count: n, Seed: seed, Noise: noise})
	if err != nil {
		return err
	}
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		ev.person[rec.Line] = rec.Person
		e := &rec.Enrollment
		if enrollment.Validate(e, enrollment.Context{Now: e.Capture.CapturedAt}).Rejected() {
			ev.reject(&rec)
			continue
		}
		ev.records = append(ev.records, evalRecord{rec: rec, keys: enrollment.Keys(e)})
		ev.join(len(ev.records) - 1)
	}
	return g.Err()
}

func (ev *dedupEval) reject(rec *synth.Record) {
	ev.res.Rejected++
	if len(rec.Noise) == 0 {
		ev.res.RejectedByNoise["original"]++
	}
	for _, k := range rec.Noise {
		ev.res.RejectedByNoise[k]++
	}
}

// join adds record i to its citizen (by ID number, else a new
// provisional one) and notes its look-alike.
func (ev *dedupEval) join(i int) {
	r := &ev.records[i]
	key := r.keys.PersonalID
	if key == "" {
		key = fmt.Sprintf("prov:%08d", r.rec.Line)
		ev.res.Provisional++
	}
	c := ev.byKey[key]
	if c == nil {
		c = &citizen{key: key, shown: i}
		ev.byKey[key] = c
		ev.citizens = append(ev.citizens, c)
	}
	if !slices.Contains(c.persons, r.rec.Person) {
		c.persons = append(c.persons, r.rec.Person)
	}
	if r.rec.SimilarTo != 0 {
		ev.similar[r.rec.Person] = similarity{ev.person[r.rec.SimilarTo], similarKind(r.rec.Quirks)}
	}
}

// similarKind names the hard negative a record was built as.
func similarKind(quirks []string) string {
	for _, q := range quirks {
		switch q {
		case synth.QuirkNamesake, synth.QuirkTwin, synth.QuirkJunior:
			return q
		}
	}
	return "similar"
}

// buildTruth lists the true pairs: distinct citizen keys sharing a person.
func (ev *dedupEval) buildTruth() {
	ev.res.Citizens = len(ev.citizens)
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
}

func orderedPair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// runDetector indexes every citizen's shown record and returns the pairs.
func (ev *dedupEval) runDetector() []dedup.Pair {
	ix := dedup.NewIndex(ev.cfg)
	recs := make([]dedup.Record, len(ev.citizens))
	for i, c := range ev.citizens {
		recs[i] = ev.dedupRecord(c)
	}
	t0 := time.Now()
	for _, r := range recs {
		ix.Put(r)
	}
	t1 := time.Now()
	pairs := ix.Pairs()
	t2 := time.Now()
	ev.res.IndexSeconds = t2.Sub(t0).Seconds()
	ev.res.PairsSeconds = t2.Sub(t1).Seconds()
	ev.res.NsPerRecord = float64(t2.Sub(t0).Nanoseconds()) / float64(max(1, len(recs)))
	ev.res.Index = ix.Stats()
	return pairs
}

// withoutFamily runs the detector on the citizens' shown records with
// the family and hometown fields blanked.
func (ev *dedupEval) withoutFamily() []dedup.Pair {
	ix := dedup.NewIndex(ev.cfg)
	for _, c := range ev.citizens {
		e := ev.records[c.shown].rec.Enrollment
		e.Father, e.Mother, e.Spouse, e.HouseholdHead, e.Hometown = nil, nil, nil, nil, enrollment.Place{}
		ix.Put(dedup.Record{Key: c.key, Enrollment: &e, Keys: enrollment.Keys(&e)})
	}
	return ix.Pairs()
}

func (ev *dedupEval) dedupRecord(c *citizen) dedup.Record {
	r := &ev.records[c.shown]
	return dedup.Record{Key: c.key, Enrollment: &r.rec.Enrollment, Keys: r.keys, Region: r.rec.Enrollment.Capture.CommuneCode}
}

// baseline proposes every two citizens whose shown records have the same
// name (as nameOf gives it), date of birth and sex.
func (ev *dedupEval) baseline(nameOf func(*evalRecord) string) []dedup.Pair {
	groups := map[string][]string{}
	for _, c := range ev.citizens {
		r := &ev.records[c.shown]
		k := nameOf(r) + "|" + r.keys.DateOfBirth + "|" + string(r.rec.Enrollment.Sex)
		groups[k] = append(groups[k], c.key)
	}
	var out []dedup.Pair
	for _, keys := range groups {
		for i, a := range keys {
			for _, b := range keys[i+1:] {
				p := orderedPair(a, b)
				out = append(out, dedup.Pair{A: p[0], B: p[1]})
			}
		}
	}
	return out
}

// score compares proposed pairs with the truth; detail also classifies
// the errors.
func (ev *dedupEval) score(pairs []dedup.Pair, detail bool) Quality {
	q := Quality{Proposed: len(pairs), True: len(ev.truth)}
	found := map[[2]string]bool{}
	for _, p := range pairs {
		k := [2]string{p.A, p.B}
		found[k] = true
		switch {
		case ev.truth[k]:
			q.Correct++
		case detail:
			ev.falsePositive(p)
		}
	}
	if detail {
		ev.falseNegatives(found)
	}
	q.Precision = ratio(q.Correct, q.Proposed)
	q.Recall = ratio(q.Correct, q.True)
	if q.Precision+q.Recall > 0 {
		q.F1 = 2 * q.Precision * q.Recall / (q.Precision + q.Recall)
	}
	return q
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// falsePositive classifies a wrong pair by the hard negative it is.
func (ev *dedupEval) falsePositive(p dedup.Pair) {
	a, b := ev.byKey[p.A], ev.byKey[p.B]
	kind := "other"
	for _, pa := range a.persons {
		for _, pb := range b.persons {
			if s, ok := ev.similar[pa]; ok && s.person == pb {
				kind = s.kind
			} else if s, ok := ev.similar[pb]; ok && s.person == pa {
				kind = s.kind
			}
		}
	}
	if kind == "other" && ev.records[a.shown].rec.Household == ev.records[b.shown].rec.Household {
		kind = "same-household"
	}
	ev.res.FalsePositives[kind]++
	if len(ev.res.FPExamples) < maxExamples {
		ev.res.FPExamples = append(ev.res.FPExamples, kind+": "+ev.describe(a, b))
	}
}

// falseNegatives counts the true pairs not found, by noise kind.
func (ev *dedupEval) falseNegatives(found map[[2]string]bool) {
	missed := make([][2]string, 0)
	for k := range ev.truth {
		if !found[k] {
			missed = append(missed, k)
		}
	}
	sort.Slice(missed, func(i, j int) bool {
		return missed[i][0] < missed[j][0] || missed[i][0] == missed[j][0] && missed[i][1] < missed[j][1]
	})
	for _, k := range missed {
		a, b := ev.byKey[k[0]], ev.byKey[k[1]]
		kinds := append(slices.Clone(ev.records[a.shown].rec.Noise), ev.records[b.shown].rec.Noise...)
		slices.Sort(kinds)
		kinds = slices.Compact(kinds)
		if len(kinds) == 0 {
			kinds = []string{"none"}
		}
		for _, kd := range kinds {
			ev.res.FalseNegatives[kd]++
		}
		if len(ev.res.FNExamples) < maxExamples {
			ev.res.FNExamples = append(ev.res.FNExamples, strings.Join(kinds, ",")+": "+ev.describe(a, b))
		}
	}
}

// describe renders two citizens' shown records and Compare's verdict.
func (ev *dedupEval) describe(a, b *citizen) string {
	ra, rb := ev.dedupRecord(a), ev.dedupRecord(b)
	p, _ := dedup.Compare(&ra, &rb)
	return fmt.Sprintf("%s %q %s | %s %q %s | %s", a.key, ra.Enrollment.FullName, ra.Keys.DateOfBirth,
		b.key, rb.Enrollment.FullName, rb.Keys.DateOfBirth, p)
}
