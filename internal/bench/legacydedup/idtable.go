package legacydedup

// idTable finds records by ID number and by the ID numbers one typo away
// (108 substitutions, 11 adjacent swaps) without trying all 119: a
// 12-digit number is split into its head (province, century/sex, year:
// PPPGYY) and its random tail (DOMAIN.md §1.1).
//
//   - A typo in the tail keeps the head: the 59 tail variants are looked
//     up in the head's own map of tails, small and warm.
//   - A typo in the head keeps the tail: the records with the same tail
//     (about one per tail, whatever the population) are checked for a
//     head one typo away.
//   - The swap of the head's last digit with the tail's first changes
//     both: one lookup.
type idTable struct {
	heads map[uint32]map[uint32][]int32 // head → tail → slots
	tails map[uint32][]headSlot         // tail → (head, slot)
}

type headSlot struct {
	head uint32
	slot int32
}

// The split of an ID number.
const (
	idTailDigits = 6
	idHeadDigits = 6
	idTailMod    = 1_000_000 // 10^idTailDigits
)

func newIDTable() idTable {
	return idTable{heads: map[uint32]map[uint32][]int32{}, tails: map[uint32][]headSlot{}}
}

func splitID(v uint64) (head, tail uint32) { return uint32(v / idTailMod), uint32(v % idTailMod) }

func (t idTable) add(v uint64, s int32) {
	h, tl := splitID(v)
	m := t.heads[h]
	if m == nil {
		m = map[uint32][]int32{}
		t.heads[h] = m
	}
	m[tl] = append(m[tl], s)
	t.tails[tl] = append(t.tails[tl], headSlot{h, s})
}

func (t idTable) remove(v uint64, s int32) {
	h, tl := splitID(v)
	m := t.heads[h]
	b := removeSlot(m[tl], s)
	switch {
	case len(b) > 0:
		m[tl] = b
	case len(m) > 1:
		delete(m, tl)
	default:
		delete(t.heads, h)
	}
	hs := t.tails[tl]
	for i := range hs {
		if hs[i] == (headSlot{h, s}) {
			hs[i] = hs[len(hs)-1]
			hs = hs[:len(hs)-1]
			break
		}
	}
	if len(hs) == 0 {
		delete(t.tails, tl)
	} else {
		t.tails[tl] = hs
	}
}

// neighbours calls visit with the slots holding the 12-digit number v
// itself and every number one substitution or one adjacent transposition
// away from it.
func (t idTable) neighbours(v uint64, visit func(int32)) {
	head, tail := splitID(v)
	if inner := t.heads[head]; inner != nil {
		var buf [maxVariants]uint32
		for _, u := range variants(tail, idTailDigits, &buf) {
			for _, s := range inner[u] {
				visit(s)
			}
		}
		for _, s := range inner[tail] {
			visit(s)
		}
	}
	for _, hs := range t.tails[tail] {
		if hs.head != head && oneTypo(hs.head, head, idHeadDigits) {
			visit(hs.slot)
		}
	}
	// the swap of the head's last digit with the tail's first
	hd, td := head%10, tail/(idTailMod/10)
	if hd != td {
		for _, s := range t.heads[head-hd+td][tail-td*(idTailMod/10)+hd*(idTailMod/10)] {
			visit(s)
		}
	}
}

// maxVariants bounds variants' output: 9n + n-1 for n = 6 digits.
const maxVariants = 10 * idTailDigits

// variants returns the numbers of n ≤ 6 digits one substitution or one
// adjacent transposition away from x (9n + up to n-1 of them), in buf.
func variants(x uint32, n int, buf *[maxVariants]uint32) []uint32 {
	out := buf[:0]
	for i, w := 0, uint32(1); i < n; i, w = i+1, w*10 { // digit i from the right, of weight w
		d := x / w % 10
		for nd := range uint32(10) {
			if nd != d {
				out = append(out, x-d*w+nd*w)
			}
		}
		if i+1 < n {
			if e := x / (w * 10) % 10; e != d { // swap with the digit on its left
				out = append(out, x-d*w-e*w*10+e*w+d*w*10)
			}
		}
	}
	return out
}

// oneTypo reports whether two different numbers of n digits are one
// substitution or one adjacent transposition apart.
func oneTypo(x, y uint32, n int) bool {
	var dx, dy [idHeadDigits]uint32
	diff, first := 0, -1
	for i := 0; i < n; i++ {
		dx[i], dy[i] = x%10, y%10
		x, y = x/10, y/10
		if dx[i] != dy[i] {
			if first < 0 {
				first = i
			}
			diff++
		}
	}
	switch diff {
	case 1:
		return true
	case 2:
		return first+1 < n && dx[first] == dy[first+1] && dx[first+1] == dy[first]
	}
	return false
}
