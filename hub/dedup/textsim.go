package dedup

import "strings"

// String similarity on folded (ASCII, lower-case) name parts: the
// Damerau (optimal string alignment) distance, Jaro–Winkler, and a
// Vietnamese regional-spelling key.

// maxSimLen bounds the strings the similarity functions look at: a name
// part is a syllable or a few, so anything longer is cut (a limit on
// everything: the cost of a comparison stays bounded whatever the input).
const maxSimLen = 32

// editDistance is the optimal-string-alignment distance of a and b
// (substitutions, insertions, deletions, adjacent transpositions), capped
// at limit+1: the answer is exact up to limit.
func editDistance(a, b string, limit int) int {
	a, b = clip(a), clip(b)
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	var prev2, prev, cur [maxSimLen + 1]int
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev = prev, cur
	}
	return min(prev[len(b)], limit+1)
}

func clip(s string) string {
	if len(s) > maxSimLen {
		return s[:maxSimLen]
	}
	return s
}

// jaroWinkler is the Jaro–Winkler similarity of a and b in [0, 1], with
// the usual prefix scale 0.1 over at most 4 characters. It is computed in
// integers up to the last division, so it is the same on every machine.
func jaroWinkler(a, b string) float64 {
	a, b = clip(a), clip(b)
	if a == b {
		return 1
	}
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	window := max(len(a), len(b))/2 - 1
	var ma, mb [maxSimLen]bool
	m := 0
	for i := 0; i < len(a); i++ {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for j := lo; j < hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, k := 0, 0
	for i := 0; i < len(a); i++ {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			t++
		}
		k++
	}
	mf := float64(m)
	jaro := (mf/float64(len(a)) + mf/float64(len(b)) + (mf-float64(t/2))/mf) / 3
	prefix := 0
	for prefix < 4 && prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// regionalKey spells a folded syllable the way the regions that merge
// its sounds hear it (DOMAIN.md §5.5 item 9): initials tr/ch, s/x, and
// d/gi/r/v become one, finals -ng/-n and -c/-t, and a final y is i (Lý/Lí,
// Vy/Vi: matched fuzzily, never rewritten). Two syllables with the same key
// can be one name written by two clerks.
func regionalKey(w string) string {
	if w == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(w))
	for i, syl := range strings.Fields(w) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(regionalSyllable(syl))
	}
	return b.String()
}

func regionalSyllable(s string) string {
	initial, rest := s, ""
	for _, in := range regionalInitials {
		if strings.HasPrefix(s, in.from) {
			initial, rest = in.to, s[len(in.from):]
			break
		}
	}
	if rest == "" && initial == s {
		initial, rest = "", s
	}
	for _, f := range regionalFinals {
		if strings.HasSuffix(rest, f.from) && !(f.from == "c" && strings.HasSuffix(rest, "ch")) {
			rest = rest[:len(rest)-len(f.from)] + f.to
			break
		}
	}
	return initial + rest
}

var regionalInitials = []struct{ from, to string }{
	{"tr", "ch"}, {"gi", "d"}, {"s", "x"}, {"r", "d"}, {"v", "d"},
}

var regionalFinals = []struct{ from, to string }{
	{"ng", "n"}, {"c", "t"}, {"y", "i"},
}
