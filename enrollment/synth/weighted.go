package synth

import (
	"math/rand/v2"
	"sort"
)

// weighted is a table of choices with relative weights, sampled by binary
// search over the cumulative weights. Order is the table's order, so a draw
// depends only on the RNG state (never on map iteration).
type weighted[T any] struct {
	items []T
	cum   []float64
}

// entry is one row of a weight table.
type entry[T any] struct {
	V T
	W float64
}

// newWeighted builds a sampler; weights must be non-negative with a
// positive sum (tables are compile-time data, so a bad one panics).
func newWeighted[T any](rows []entry[T]) weighted[T] {
	w := weighted[T]{items: make([]T, 0, len(rows)), cum: make([]float64, 0, len(rows))}
	total := 0.0
	for _, r := range rows {
		if r.W < 0 {
			panic("synth: negative weight")
		}
		if r.W == 0 {
			continue
		}
		total += r.W
		w.items = append(w.items, r.V)
		w.cum = append(w.cum, total)
	}
	if total <= 0 {
		panic("synth: weight table sums to zero")
	}
	return w
}

// pick draws one item.
func (w weighted[T]) pick(r *rand.Rand) T {
	x := r.Float64() * w.cum[len(w.cum)-1]
	i := sort.SearchFloat64s(w.cum, x)
	if i < len(w.cum) && w.cum[i] == x {
		i++ // SearchFloat64s finds the first cum >= x; x == cum[i] belongs to i+1
	}
	if i >= len(w.items) {
		i = len(w.items) - 1
	}
	return w.items[i]
}

// share returns the probability of the item at index i (for tests/docs).
func (w weighted[T]) share(i int) float64 {
	prev := 0.0
	if i > 0 {
		prev = w.cum[i-1]
	}
	return (w.cum[i] - prev) / w.cum[len(w.cum)-1]
}

// zipf returns entries for names with weights proportional to 1/(rank+s):
// a plausible decreasing weight for lists that come without frequencies.
func zipf(names []string, s float64) []entry[string] {
	out := make([]entry[string], len(names))
	for i, n := range names {
		out[i] = entry[string]{n, 1 / (float64(i) + s)}
	}
	return out
}

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// between draws an int uniformly in [lo, hi].
func between(r *rand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}
