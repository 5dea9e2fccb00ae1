package dedup

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Model is a Fellegi–Sunter duplicate model: for each comparison level the
// probability m of seeing it when two records are one person and u when
// they are two, and the weight log2(m/u) derived from them, in sixteenths
// of a bit (integers, so that every hub adds them up the same); term
// frequencies of common name parts; the prior odds and the threshold. A
// model is data: it is learnt by Train from a hub's records, published as
// a signed entry and used as it came (see the package doc).
type Model struct {
	Format int `json:"format"`
	// PriorW16 is log2 of the prior odds that two records are one person,
	// in sixteenths of a bit: a pair's points start there.
	PriorW16 int32 `json:"prior_w16"`
	// ThresholdW16: a pair is proposed when its points reach it (0: more
	// likely than not).
	ThresholdW16 int32               `json:"threshold_w16"`
	Comparisons  []ComparisonWeights `json:"comparisons"`
	TF           []TFTable           `json:"tf,omitempty"`
	Trained      *TrainInfo          `json:"trained,omitempty"`

	// compiled, derived by compile
	id       string
	weights  [numCmp][maxLevels]int32
	tfFields [numTFFields]tfCompiled
}

// ComparisonWeights are the levels of one comparison.
type ComparisonWeights struct {
	Name   string        `json:"name"`
	Levels []LevelWeight `json:"levels"`
}

// LevelWeight is one level: its code, m, u and weight.
type LevelWeight struct {
	Code string  `json:"code"`
	M    float64 `json:"m"`
	U    float64 `json:"u"`
	W16  int32   `json:"w16"`
}

// TFTable adjusts the weight of agreeing name parts by how common the
// part is (Nguyễn, Văn, Thị, Hùng agree by chance far more often than
// Khổng or Lãm): AdjW16 is added to the agreeing levels' weight for a
// listed value, RareW16 for any other.
type TFTable struct {
	Field   string    `json:"field"` // "given", "surname", "middle"
	RareW16 int32     `json:"rare_w16"`
	Values  []TFValue `json:"values"`
}

// TFValue is a folded name part, its share of the records and its
// adjustment.
type TFValue struct {
	Fold   string  `json:"fold"`
	Freq   float64 `json:"freq"`
	AdjW16 int32   `json:"adj_w16"`
}

// TrainInfo says what a model was learnt from.
type TrainInfo struct {
	Records         int     `json:"records"`
	RandomPairs     int     `json:"random_pairs"`
	CandidatePairs  int     `json:"candidate_pairs"`
	EMIterations    int     `json:"em_iterations"`
	ExpectedMatches float64 `json:"expected_matches"`
}

// The fields with term-frequency tables.
const (
	tfGiven = iota
	tfSurname
	tfMiddle
	numTFFields
)

var tfFieldNames = [numTFFields]string{"given", "surname", "middle"}
var tfFieldCmp = [numTFFields]int{cmpGiven, cmpSurname, cmpMiddle}

type tfCompiled struct {
	rare   int32
	values map[string]int32
}

// Limits on a model's encoding (a model arrives in an entry from another
// hub: a limit on everything).
const (
	MaxModelBytes = 1 << 20
	maxTFValues   = 4096
	maxAbsW16     = 64 * 16 // ±64 bits
	modelFormat   = 1
)

// ErrBadModel is returned (wrapped) when a model does not decode or does
// not fit the comparisons this version knows.
var ErrBadModel = errors.New("dedup: bad model")

// DecodeModel decodes and checks a model's JSON encoding.
func DecodeModel(b []byte) (*Model, error) {
	if len(b) > MaxModelBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBadModel, len(b), MaxModelBytes)
	}
	var m Model
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModel, err)
	}
	if err := m.compile(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Encode returns the model's canonical JSON encoding (what its ID hashes).
func (m *Model) Encode() []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return b
}

// ID names the model: the first 16 hex digits of the SHA-256 of its
// encoding. A pair shows the ID of the model that judged it.
func (m *Model) ID() string { return m.id }

// compile checks m and derives its lookup tables and ID.
func (m *Model) compile() error {
	if m.Format != modelFormat {
		return fmt.Errorf("%w: format %d, this version reads %d", ErrBadModel, m.Format, modelFormat)
	}
	if abs32(m.PriorW16) > maxAbsW16 || abs32(m.ThresholdW16) > maxAbsW16 {
		return fmt.Errorf("%w: prior or threshold out of ±%d", ErrBadModel, maxAbsW16)
	}
	m.weights = [numCmp][maxLevels]int32{}
	seen := map[string]bool{}
	for _, cw := range m.Comparisons {
		c := slices.Index(comparisonNames[:], cw.Name)
		if c < 0 || seen[cw.Name] {
			return fmt.Errorf("%w: comparison %q unknown or repeated", ErrBadModel, cw.Name)
		}
		seen[cw.Name] = true
		for _, lw := range cw.Levels {
			l := levelOf(c, lw.Code)
			if l <= 0 {
				return fmt.Errorf("%w: comparison %s has no level %q", ErrBadModel, cw.Name, lw.Code)
			}
			if abs32(lw.W16) > maxAbsW16 {
				return fmt.Errorf("%w: %s weight %d out of ±%d", ErrBadModel, lw.Code, lw.W16, maxAbsW16)
			}
			m.weights[c][l] = lw.W16
		}
	}
	m.tfFields = [numTFFields]tfCompiled{}
	for _, t := range m.TF {
		f := slices.Index(tfFieldNames[:], t.Field)
		if f < 0 || m.tfFields[f].values != nil {
			return fmt.Errorf("%w: term-frequency field %q unknown or repeated", ErrBadModel, t.Field)
		}
		if len(t.Values) > maxTFValues || abs32(t.RareW16) > maxAbsW16 {
			return fmt.Errorf("%w: term-frequency table %s too big or out of range", ErrBadModel, t.Field)
		}
		tc := tfCompiled{rare: t.RareW16, values: make(map[string]int32, len(t.Values))}
		for _, v := range t.Values {
			if abs32(v.AdjW16) > maxAbsW16 {
				return fmt.Errorf("%w: term-frequency %s %q out of range", ErrBadModel, t.Field, v.Fold)
			}
			tc.values[v.Fold] = v.AdjW16
		}
		m.tfFields[f] = tc
	}
	sum := sha256.Sum256(m.Encode())
	m.id = hex.EncodeToString(sum[:8])
	return nil
}

// levelOf finds the level of comparison c with code.
func levelOf(c int, code string) int {
	for l, t := range levelTexts[c] {
		if t.code == code && code != "" {
			return l
		}
	}
	return -1
}

// tfOf returns the term-frequency adjustments of a folded part.
func (m *Model) tfOf(fold string) tfSlot {
	var s tfSlot
	for f := range numTFFields {
		tc := &m.tfFields[f]
		w, ok := tc.values[fold]
		if !ok {
			w = tc.rare
		}
		switch f {
		case tfGiven:
			s.given = w
		case tfSurname:
			s.surname = w
		case tfMiddle:
			s.middle = w
		}
	}
	return s
}

// tfLevels are the levels of a name part at which the two parts fold
// alike: the term-frequency adjustment applies.
func tfLevel(l int) bool { return l >= nameEqual && l <= nameMarks }

// Evidence groups. The comparisons of a group measure one thing — that
// two records belong to one family (parents, household head) or one place
// (residence, hometown, birth province) — which relatives and neighbours
// share as much as a person does with their own second record: summing
// them would count one fact three times (siblings would outscore their
// different given names and birth years). Within a group only the
// strongest agreement and the strongest disagreement count; the identity
// comparisons (ID number, names, date of birth, sex) are summed.
const (
	groupNone = iota
	groupFamily
	groupPlace
	numGroups
)

var groupOf = [numCmp]int{cmpFather: groupFamily, cmpMother: groupFamily, cmpHead: groupFamily,
	cmpResidence: groupPlace, cmpHometown: groupPlace, cmpBirthProv: groupPlace}

// contributions returns each comparison's weight for pattern p (term
// frequency included; a's name parts, which agree with b's where the
// adjustment applies).
func (m *Model) contributions(p pattern, a *profile, toks *tokenTable) [numCmp]int32 {
	var w [numCmp]int32
	for c := 0; c < numCmp; c++ {
		w[c] = m.weights[c][p.level(c)]
	}
	if tfLevel(p.level(cmpGiven)) {
		w[cmpGiven] += toks.get(a.given).tf.given
	}
	if tfLevel(p.level(cmpSurname)) {
		w[cmpSurname] += toks.get(a.surname).tf.surname
	}
	if tfLevel(p.level(cmpMiddle)) {
		w[cmpMiddle] += toks.get(a.middle).tf.middle
	}
	return w
}

// counted says which comparisons count in the sum: every identity one,
// and in each group the strongest agreement and disagreement (the first in
// comparison order on a tie).
func counted(w *[numCmp]int32) [numCmp]bool {
	var out [numCmp]bool
	var best, worst [numGroups]int
	for g := range best {
		best[g], worst[g] = -1, -1
	}
	for c := 0; c < numCmp; c++ {
		g := groupOf[c]
		switch {
		case g == groupNone:
			out[c] = w[c] != 0
		case w[c] > 0 && (best[g] < 0 || w[c] > w[best[g]]):
			best[g] = c
		case w[c] < 0 && (worst[g] < 0 || w[c] < w[worst[g]]):
			worst[g] = c
		}
	}
	for g := groupFamily; g < numGroups; g++ {
		if best[g] >= 0 {
			out[best[g]] = true
		}
		if worst[g] >= 0 {
			out[worst[g]] = true
		}
	}
	return out
}

// points adds up the evidence of pattern p between a and b, in
// sixteenths of a bit: the prior and the counted contributions.
func (m *Model) points(p pattern, a *profile, toks *tokenTable) int32 {
	w := m.contributions(p, a, toks)
	use := counted(&w)
	pts := m.PriorW16
	for c := 0; c < numCmp; c++ {
		if use[c] {
			pts += w[c]
		}
	}
	return pts
}

// likelihoodRatio is points in floating point for learning, without
// logarithms: the product of m/u over the identity comparisons and, per
// group, of the largest ratio above 1 and the smallest below 1 (the
// strongest agreement and disagreement). Comparisons in mask are left
// out. Each product is converted explicitly, so that no compiler fuses
// it into a multiply-add (the Go spec allows that otherwise, and results
// would differ by machine).
func likelihoodRatio(p pattern, mu *muTables, mask uint16) float64 {
	var best, worst [numGroups]float64
	for g := range best {
		best[g], worst[g] = 1, 1
	}
	r := 1.0
	for c := 0; c < numCmp; c++ {
		l := p.level(c)
		if l == 0 || mask&(1<<c) != 0 {
			continue
		}
		x := mu.m[c][l] / mu.u[c][l]
		switch g := groupOf[c]; {
		case g == groupNone:
			r = float64(r * x)
		case x > best[g]:
			best[g] = x
		case x < worst[g]:
			worst[g] = x
		}
	}
	for g := groupFamily; g < numGroups; g++ {
		r = float64(float64(r*best[g]) * worst[g])
	}
	return r
}

// scoreOf maps points (sixteenths of a bit) to a probability,
// 1/(1+2^(-points/16)): 2^(-r/16) comes from a table of constants and
// Ldexp scales exactly, so every hub computes the same float64.
func scoreOf(points int32) float64 {
	q, r := floorDiv(-points, 16)
	return 1 / (1 + math.Ldexp(pow2Sixteenths[r], int(q)))
}

func floorDiv(a, b int32) (int32, int32) {
	q, r := a/b, a%b
	if r < 0 {
		q, r = q-1, r+b
	}
	return q, r
}

// pow2Sixteenths[r] is 2^(r/16).
var pow2Sixteenths = [16]float64{
	1, 1.0442737824274138, 1.0905077326652577, 1.1387886347566916, 1.189207115002721, 1.2418578120734840,
	1.2968395546510096, 1.3542555469368927, 1.4142135623730951, 1.4768261459394993, 1.5422108254079407,
	1.6104903319492543, 1.6817928305074290, 1.7562521603732995, 1.8340080864093424, 1.9152065613971474,
}

// w16 is round(16·log2(x)), computed without math.Log: x^16 by four
// correctly rounded squarings of x·2^(1/32), whose binary exponent is the
// answer. The same on every machine, whatever its math library.
func w16(x float64) int32 {
	if !(x > 0) {
		return -maxAbsW16
	}
	y := x * 1.0218971486541166 // 2^(1/32): floor becomes round
	for range 4 {
		y = float64(y * y)
	}
	if math.IsInf(y, 1) {
		return maxAbsW16
	}
	if y == 0 {
		return -maxAbsW16
	}
	_, e := math.Frexp(y) // y = f·2^e, f in [0.5, 1)
	w := int32(e - 1)
	return max(-maxAbsW16, min(maxAbsW16, w))
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// newModel builds a model from m and u per level, a prior and TF tables;
// weights are derived (w16(m/u)).
func newModel(mu *muTables, priorW16 int32, tf []TFTable, info *TrainInfo) *Model {
	m := &Model{Format: modelFormat, PriorW16: priorW16, TF: tf, Trained: info}
	for c := 0; c < numCmp; c++ {
		cw := ComparisonWeights{Name: comparisonNames[c]}
		for l := 1; l < numLevelsOf[c]; l++ {
			t := levelTexts[c][l]
			if t.code == "" {
				continue
			}
			mm, uu := mu.m[c][l], mu.u[c][l]
			cw.Levels = append(cw.Levels, LevelWeight{Code: t.code, M: round6(mm), U: round6(uu), W16: w16(mm / uu)})
		}
		m.Comparisons = append(m.Comparisons, cw)
	}
	if err := m.compile(); err != nil {
		panic(err) // built from this package's own tables
	}
	return m
}

// round6 keeps six significant digits of a probability for display (the
// weights are computed from the unrounded values).
func round6(x float64) float64 {
	y, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	return y
}

// muTables are m and u per comparison level.
type muTables struct {
	m, u [numCmp][maxLevels]float64
}

//go:embed default_model.json
var defaultModelJSON []byte

// DefaultModel returns the model a hub uses until one is published: learnt
// by Train on 100,000 records of enrollment/synth (seed 1, 5% noise),
// regenerated by `go test ./hub/dedup -run TestDefaultModel -update`.
func DefaultModel() *Model {
	m, err := DecodeModel(defaultModelJSON)
	if err != nil {
		panic(fmt.Sprintf("dedup: the embedded default model does not decode: %v", err))
	}
	return m
}
