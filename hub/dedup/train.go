package dedup

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// TrainConfig bounds the learning step.
type TrainConfig struct {
	// RandomPairs is how many pairs of records u is estimated from
	// (default DefaultRandomPairs; at most n·(n-1)/2).
	RandomPairs int
	// Iterations of expectation maximisation per blocking family (default
	// DefaultIterations).
	Iterations int
	// TFValues is how many of the commonest name parts per field get
	// their own term-frequency weight (default DefaultTFValues).
	TFValues int
}

// Defaults and limits of TrainConfig.
const (
	DefaultRandomPairs = 2_000_000
	DefaultIterations  = 40
	DefaultTFValues    = 400
	// MinTrainRecords: fewer records teach nothing (the default model is
	// better).
	MinTrainRecords = 500
)

// ErrTooFewRecords is returned by Train below MinTrainRecords.
var ErrTooFewRecords = errors.New("dedup: too few records to learn from")

func (tc *TrainConfig) defaults() {
	if tc.RandomPairs <= 0 {
		tc.RandomPairs = DefaultRandomPairs
	}
	if tc.Iterations <= 0 {
		tc.Iterations = DefaultIterations
	}
	if tc.TFValues <= 0 {
		tc.TFValues = DefaultTFValues
	}
	tc.TFValues = min(tc.TFValues, maxTFValues)
}

// A learning session is EM over one blocking family's candidate pairs
// (index numFamilies: the ID neighbours). Its pairs agree on what the
// family's key holds, non-matches too: agreement there is an effect of
// blocking, not of the pair being one person. So each session leaves out
// (masks) the comparisons its key fixes, and for the date of birth, when
// its key holds only the year (or only the day and month), takes u among
// random pairs that agree on the year (or day and month) as well.
var sessionMask = [numFamilies + 1]uint16{
	famGivenDOB:     1<<cmpGiven | 1<<cmpDOB,
	famNameYear:     1<<cmpSurname | 1<<cmpGiven,
	famNameDayMonth: 1<<cmpSurname | 1<<cmpGiven,
	famSurnameDOB:   1<<cmpSurname | 1<<cmpDOB,
	famParentsYear:  1<<cmpFather | 1<<cmpMother,
	famRegionalYear: 1<<cmpSurname | 1<<cmpGiven | 1<<cmpSex,
	numFamilies:     1<<cmpID | 1<<cmpSex, // an ID number's head holds the birth year and sex
}

// What a session's key holds of the date of birth.
const (
	keyNoDate = iota
	keyYear
	keyDayMonth
)

var sessionDOB = [numFamilies + 1]int{
	famNameYear: keyYear, famNameDayMonth: keyDayMonth, famParentsYear: keyYear,
	famRegionalYear: keyYear, numFamilies: keyYear,
}

// minCleanMatches: the ID neighbours' session is the cleanest (a mistyped
// number says nothing of the rest of a record, and a non-match there is a
// random person of the same birth year and sex, not a clan cousin or a
// namesake): its estimates are used alone for every comparison it
// estimates from at least this many expected matches.
const minCleanMatches = 100

// Train learns a model from the records in the Index, without labels:
//
//   - u, the chance of each comparison level between two different
//     people, from RandomPairs pairs of records drawn in a fixed
//     pseudo-random order (records sorted by a hash of their key, each
//     paired with the next ones); for the ID number, among pairs of the
//     same birth year and sex (its head is made of them);
//   - term frequencies of the commonest folded name parts, from every
//     record;
//   - m, the chance of each level between two records of one person, by
//     expectation maximisation over the candidate pairs of each blocking
//     family in turn (sessionMask, sessionDOB), then, per comparison, the
//     ID neighbours' estimate when it rests on enough matches, else the
//     sessions' estimates averaged by the matches they expect;
//   - the prior, from the matches expected among all candidate pairs.
//
// The result is a function of the set of records: records and patterns
// are visited in sorted orders, sums are taken in that order, and the
// weights are rounded with w16 (no math library call). It is pure
// computation over the Index (no I/O); its cost is in doc.go.
func (ix *Index) Train(tc TrainConfig) (*Model, error) {
	tc.defaults()
	if ix.live < MinTrainRecords {
		return nil, fmt.Errorf("%w: %d records, at least %d", ErrTooFewRecords, ix.live, MinTrainRecords)
	}
	var mu muTables
	var uDOB [3][maxLevels]float64
	nRandom := ix.estimateU(&mu, &uDOB, tc.RandomPairs)
	tf := ix.termFrequencies(&mu, tc.TFValues)
	sessions, unique := ix.candidatePatterns()
	init := textbookM()
	var acc [numCmp][maxLevels]float64
	var weight [numCmp]float64
	var idM [numCmp][maxLevels]float64
	var idExpected [numCmp]float64
	for s, counts := range sessions {
		if len(counts) == 0 {
			continue
		}
		u := mu.u
		u[cmpDOB] = uDOB[sessionDOB[s]]
		ms, expected := em(counts, sessionMask[s], init, &u, tc.Iterations)
		if s == numFamilies {
			idM, idExpected = ms, expected
		}
		for c := 0; c < numCmp; c++ {
			if sessionMask[s]&(1<<c) != 0 || expected[c] <= 0 {
				continue
			}
			for l := 1; l < numLevelsOf[c]; l++ {
				acc[c][l] += float64(expected[c] * ms[c][l])
			}
			weight[c] += expected[c]
		}
	}
	for c := 0; c < numCmp; c++ {
		for l := 1; l < numLevelsOf[c]; l++ {
			switch {
			case sessionMask[numFamilies]&(1<<c) == 0 && idExpected[c] >= minCleanMatches:
				mu.m[c][l] = idM[c][l]
			case weight[c] > 0:
				mu.m[c][l] = acc[c][l] / weight[c]
			default:
				mu.m[c][l] = init[c][l]
			}
		}
	}
	floorM(&mu)
	n := float64(ix.live)
	allPairs := n * (n - 1) / 2
	matches := expectedMatches(unique, &mu, allPairs, tc.Iterations)
	prior := matches / allPairs
	info := &TrainInfo{Records: ix.live, RandomPairs: nRandom, CandidatePairs: countPairs(unique),
		EMIterations: tc.Iterations, ExpectedMatches: round6(matches)}
	model := newModel(&mu, w16(prior/(1-prior)), tf, info)
	return model, nil
}

// mFloor is the least m of any level: a field a register never got wrong
// in the data learnt from (generated data keeps a hometown exactly) still
// gets wrong sometimes, and one such disagreement must not outweigh
// everything else (log2(1/512 / u) is at most about -9 bits for a level u
// makes common).
const mFloor = 1.0 / 512

// floorM raises every level's m to at least mFloor, taking the mass from
// the commonest level.
func floorM(mu *muTables) {
	for c := 0; c < numCmp; c++ {
		top, added := 1, 0.0
		for l := 1; l < numLevelsOf[c]; l++ {
			if levelTexts[c][l].code == "" {
				continue
			}
			if mu.m[c][l] > mu.m[c][top] {
				top = l
			}
			if mu.m[c][l] < mFloor {
				added += mFloor - mu.m[c][l]
				mu.m[c][l] = mFloor
			}
		}
		mu.m[c][top] -= added
	}
}

// liveByHash returns the live slots ordered by a hash of their key (ties
// by key): a pseudo-random order that depends only on the set of keys.
func (ix *Index) liveByHash() []int32 {
	type hk struct {
		h   uint64
		key string
		s   int32
	}
	all := make([]hk, 0, ix.live)
	for s := range ix.slots() {
		if ix.prof(s).flags != 0 {
			k := ix.keyOfSlot(int32(s))
			all = append(all, hk{hash64(k), k, int32(s)})
		}
	}
	slices.SortFunc(all, func(a, b hk) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	out := make([]int32, len(all))
	for i, x := range all {
		out[i] = x.s
	}
	return out
}

// hash64 is FNV-1a, 64-bit, with a final mix.
func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	h ^= h >> 31
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// estimateU counts each comparison level over pseudo-random pairs and
// sets mu.u (with half a pair of smoothing per level); the ID number's
// levels only over pairs of the same birth year and sex. uDOB gets the
// date of birth's levels over all pairs, over pairs of the same birth
// year, and over pairs of the same day and month (for the sessions of
// sessionDOB). It returns the number of pairs.
func (ix *Index) estimateU(mu *muTables, uDOB *[3][maxLevels]float64, want int) int {
	order := ix.liveByHash()
	n := len(order)
	maxPairs := n * (n - 1) / 2
	want = min(want, maxPairs)
	var counts [numCmp][maxLevels]int
	var dob [3][maxLevels]int
	pairs := 0
	for step := 1; pairs < want && step < n; step++ {
		for i := 0; i < n && pairs < want; i++ {
			j := i + step
			if j >= n {
				j -= n
				if j >= i { // wrapped onto a pair already counted at a smaller step
					continue
				}
			}
			x, y := ix.prof(order[i]), ix.prof(order[j])
			pat := ix.cmp.compare(x, y)
			for c := 0; c < numCmp; c++ {
				if c != cmpID {
					counts[c][pat.level(c)]++
				}
			}
			dx, dy := unpackDOB(x.dob), unpackDOB(y.dob)
			if dx.y == dy.y && x.sex == y.sex {
				counts[cmpID][pat.level(cmpID)]++
			}
			l := pat.level(cmpDOB)
			dob[keyNoDate][l]++
			if dx.y == dy.y {
				dob[keyYear][l]++
			}
			if dm := dayMonth(dx); dm != 0 && dm == dayMonth(dy) {
				dob[keyDayMonth][l]++
			}
			pairs++
		}
	}
	for c := 0; c < numCmp; c++ {
		mu.u[c] = smoothed(&counts[c], numLevelsOf[c])
	}
	for k := range dob {
		uDOB[k] = smoothed(&dob[k], numDOBLevels)
	}
	return pairs
}

// smoothed turns level counts into probabilities over the known levels,
// with half a pair of smoothing per level.
func smoothed(counts *[maxLevels]int, levels int) [maxLevels]float64 {
	known := 0
	for l := 1; l < levels; l++ {
		known += counts[l]
	}
	var out [maxLevels]float64
	for l := 1; l < levels; l++ {
		out[l] = (float64(counts[l]) + 0.5) / (float64(known) + 0.5*float64(levels-1))
	}
	return out
}

// termFrequencies lists the commonest folded name parts per field with
// their share of the records and their adjustment log2(u_avg/freq), where
// u_avg is the chance that two random records agree on the field (so
// that an agreement on a part as common as the average weighs as the
// level says, and commoner parts less).
func (ix *Index) termFrequencies(mu *muTables, keep int) []TFTable {
	var out []TFTable
	for f := range numTFFields {
		counts := map[string]int{}
		for s := range ix.slots() {
			p := ix.prof(s)
			if p.flags == 0 {
				continue
			}
			tok := [numTFFields]uint32{p.given, p.surname, p.middle}[f]
			if tok != 0 {
				counts[ix.toks.get(tok).fold]++
			}
		}
		type vc struct {
			fold string
			n    int
		}
		all := make([]vc, 0, len(counts))
		for k, n := range counts {
			all = append(all, vc{k, n})
		}
		slices.SortFunc(all, func(a, b vc) int {
			if a.n != b.n {
				return b.n - a.n
			}
			return cmp.Compare(a.fold, b.fold)
		})
		all = all[:min(len(all), keep)]
		uAvg := mu.u[tfFieldCmp[f]][nameEqual]
		t := TFTable{Field: tfFieldNames[f]}
		n := float64(ix.live)
		for _, v := range all {
			freq := float64(v.n) / n
			t.Values = append(t.Values, TFValue{Fold: v.fold, Freq: round6(freq), AdjW16: w16(uAvg / freq)})
		}
		if len(all) > 0 {
			t.RareW16 = w16(uAvg / (float64(all[len(all)-1].n) / n))
		}
		out = append(out, t)
	}
	return out
}

// patternCounts are the comparison vectors of a set of pairs, counted.
type patternCounts map[pattern]int

// candidatePatterns returns, per blocking family (and the ID neighbours at
// index numFamilies), the patterns of its candidate pairs that no rule
// holds apart, and the patterns of every distinct candidate pair.
func (ix *Index) candidatePatterns() ([numFamilies + 1]patternCounts, patternCounts) {
	var sessions [numFamilies + 1]patternCounts
	for i := range sessions {
		sessions[i] = patternCounts{}
	}
	unique := patternCounts{}
	ix.eachCandidatePair(func(lo, hi int32, fam int, first bool) {
		x, y := ix.prof(lo), ix.prof(hi)
		pat := ix.cmp.compare(x, y)
		if hardRule(x, y, pat) != ruleNone {
			return
		}
		// A typo in an ID number's head names another birth year, sex or
		// province, which the ID session's u (same year and sex) does not
		// describe: such pairs count among all pairs, not in the session.
		if fam != numFamilies || x.id/idTailMod == y.id/idTailMod {
			sessions[fam][pat.without(sessionMask[fam])]++
		}
		if first {
			unique[pat]++
		}
	})
	return sessions, unique
}

func countPairs(pc patternCounts) int {
	n := 0
	for _, c := range pc {
		n += c
	}
	return n
}

// sortedPatterns returns the patterns of pc in increasing order: every sum
// over them is taken in that order.
func sortedPatterns(pc patternCounts) []pattern {
	out := make([]pattern, 0, len(pc))
	for p := range pc {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// em runs expectation maximisation on one family's pattern counts with u
// fixed: it returns m for the comparisons not in mask, and per comparison
// the matches expected among the pairs where it is known. Products are
// converted explicitly so that no compiler fuses them (the Go spec allows
// fused multiply-add otherwise, and the result would differ by machine).
func em(counts patternCounts, mask uint16, init [numCmp][maxLevels]float64, u *[numCmp][maxLevels]float64, iters int) ([numCmp][maxLevels]float64, [numCmp]float64) {
	pats := sortedPatterns(counts)
	mu := muTables{m: init, u: *u}
	lambda := 0.1
	var expected [numCmp]float64
	for it := 0; it < iters; it++ {
		var acc [numCmp][maxLevels]float64
		sumP, total := 0.0, 0.0
		priorOdds := lambda / (1 - lambda)
		for _, pat := range pats {
			n := float64(counts[pat])
			odds := float64(priorOdds * likelihoodRatio(pat, &mu, mask))
			p := odds / (1 + odds)
			w := float64(p * n)
			for c := 0; c < numCmp; c++ {
				if mask&(1<<c) == 0 {
					if l := pat.level(c); l != 0 {
						acc[c][l] += w
					}
				}
			}
			sumP += w
			total += n
		}
		lambda = min(max(sumP/total, 1e-9), 1-1e-9)
		for c := 0; c < numCmp; c++ {
			if mask&(1<<c) != 0 {
				continue
			}
			known := 0.0
			for l := 1; l < numLevelsOf[c]; l++ {
				known += acc[c][l]
			}
			expected[c] = known
			levels := float64(numLevelsOf[c] - 1)
			for l := 1; l < numLevelsOf[c]; l++ {
				mu.m[c][l] = (acc[c][l] + 0.1) / (known + float64(0.1*levels))
			}
		}
	}
	return mu.m, expected
}

// expectedMatches finds the number of matches N among all pairs of
// records such that, with the prior N/allPairs, the candidate pairs'
// posterior probabilities add up to N (a fixed point, iterated).
func expectedMatches(unique patternCounts, mu *muTables, allPairs float64, iters int) float64 {
	pats := sortedPatterns(unique)
	n := float64(countPairs(unique)) / 10
	for it := 0; it < iters; it++ {
		lambda := n / allPairs
		priorOdds := lambda / (1 - lambda)
		sum := 0.0
		for _, pat := range pats {
			odds := float64(priorOdds * likelihoodRatio(pat, mu, 0))
			sum += float64(float64(unique[pat]) * (odds / (1 + odds)))
		}
		n = max(sum, 1)
	}
	return n
}

// textbookM is m per level as a textbook would set it before learning:
// agreement likely, each kind of disagreement a few percent. It starts
// expectation maximisation, and with textbookU makes the fixed-weight
// baseline of the bench.
func textbookM() [numCmp][maxLevels]float64 {
	var m [numCmp][maxLevels]float64
	set := func(c int, vals ...float64) {
		for l, v := range vals {
			m[c][l+1] = v
		}
	}
	set(cmpID, 0.02, 0.90, 0.03, 0.02, 0.03)
	// name levels: equal, bare, tone, marks, variant, subset, typo, one edit, similar, differs
	set(cmpGiven, 0.85, 0.03, 0.02, 0.01, 0.02, 0.001, 0.02, 0.01, 0.02, 0.019)
	set(cmpSurname, 0.90, 0.03, 0.01, 0.01, 0.02, 0.001, 0.005, 0.005, 0.001, 0.018)
	set(cmpMiddle, 0.80, 0.03, 0.01, 0.01, 0.08, 0.02, 0.01, 0.01, 0.001, 0.029)
	// dob levels: exact, exact weak, swapped, compatible, year off, same month, same year, year off weak, year off other, differs
	set(cmpDOB, 0.85, 0.04, 0.01, 0.03, 0.02, 0.01, 0.01, 0.005, 0.005, 0.01)
	set(cmpSex, 0.99, 0.001, 0.009)
	set(cmpBirthProv, 0.97, 0.001, 0.029)
	set(cmpHometown, 0.85, 0.05, 0.10)
	set(cmpResidence, 0.85, 0.001, 0.149)
	set(cmpFather, 0.90, 0.04, 0.06)
	set(cmpMother, 0.90, 0.04, 0.06)
	set(cmpHead, 0.80, 0.05, 0.15)
	return m
}

// textbookU is u per level as a textbook would set it: 1/cardinality for
// agreement, the rest mostly disagreement.
func textbookU() [numCmp][maxLevels]float64 {
	var u [numCmp][maxLevels]float64
	set := func(c int, vals ...float64) {
		for l, v := range vals {
			u[c][l+1] = v
		}
	}
	set(cmpID, 1e-9, 1e-5, 1e-6, 1e-4, 0.99989)
	set(cmpGiven, 0.02, 0.001, 0.001, 0.002, 0.005, 0.0001, 0.0005, 0.02, 0.02, 0.9304)
	set(cmpSurname, 0.10, 0.002, 0.001, 0.001, 0.01, 0.0001, 0.0005, 0.02, 0.0001, 0.8653)
	set(cmpMiddle, 0.15, 0.005, 0.001, 0.005, 0.10, 0.02, 0.0005, 0.05, 0.0001, 0.6684)
	set(cmpDOB, 0.0001, 0.001, 0.0001, 0.001, 0.0003, 0.0008, 0.011, 0.002, 0.018, 0.9667)
	set(cmpSex, 0.5, 0.001, 0.499)
	set(cmpBirthProv, 0.8, 0.001, 0.199)
	set(cmpHometown, 0.02, 0.3, 0.68)
	set(cmpResidence, 0.02, 0.001, 0.979)
	set(cmpFather, 0.001, 0.01, 0.989)
	set(cmpMother, 0.001, 0.01, 0.989)
	set(cmpHead, 0.002, 0.3, 0.698)
	return u
}

// TextbookModel is the Fellegi–Sunter model with fixed textbook m and u
// (no learning, no term frequencies) and a prior of one match in a
// hundred thousand random pairs: the bench's baseline.
func TextbookModel() *Model {
	mu := muTables{m: textbookM(), u: textbookU()}
	return newModel(&mu, w16(1e-5), nil, nil)
}
