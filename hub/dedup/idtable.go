package dedup

// idTable finds records by ID number and by the ID numbers one typo away.
// A 12-digit number is split into its head (province, century/sex, year:
// PPPGYY) and its random tail. Tails live in one small map per head, so
// the 59 neighbours that differ only in the tail (most typos) are looked
// up in one cache-resident map; the 59 that differ only in the head are
// first checked in a bitset of the heads in use (125 kB), which most miss.
type idTable struct {
	heads map[uint32]map[uint32][]int32
	inUse []uint64 // bit per head
}

// The split of an ID number (DOMAIN.md §1.1: PPP G YY RRRRRR).
const (
	idTailDigits = 6
	idTailMod    = 1_000_000 // 10^idTailDigits
	idHeadMod    = 1_000_000 // heads are below 10^6
)

func newIDTable() idTable {
	return idTable{heads: map[uint32]map[uint32][]int32{}, inUse: make([]uint64, idHeadMod/64+1)}
}

func splitID(v uint64) (head, tail uint32) { return uint32(v / idTailMod), uint32(v % idTailMod) }

func (t idTable) used(h uint32) bool { return t.inUse[h/64]&(1<<(h%64)) != 0 }

func (t idTable) add(v uint64, s int32) {
	h, tl := splitID(v)
	m := t.heads[h]
	if m == nil {
		m = map[uint32][]int32{}
		t.heads[h] = m
		t.inUse[h/64] |= 1 << (h % 64)
	}
	m[tl] = append(m[tl], s)
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
		t.inUse[h/64] &^= 1 << (h % 64)
	}
}

// neighbours calls visit with the slots holding the 12-digit number v
// itself and every number one substitution or one adjacent transposition
// away from it (108 + 11).
func (t idTable) neighbours(v uint64, visit func(int32)) {
	head, tail := splitID(v)
	var buf [maxVariants]uint32
	if inner := t.heads[head]; inner != nil {
		for _, u := range variants(tail, idTailDigits, &buf) {
			for _, s := range inner[u] {
				visit(s)
			}
		}
		for _, s := range inner[tail] {
			visit(s)
		}
	}
	for _, h := range variants(head, 12-idTailDigits, &buf) {
		if h < idHeadMod && t.used(h) {
			for _, s := range t.heads[h][tail] {
				visit(s)
			}
		}
	}
	// the swap of the head's last digit with the tail's first
	hd, td := head%10, tail/(idTailMod/10)
	if hd != td {
		h := head - hd + td
		if t.used(h) {
			for _, s := range t.heads[h][tail-td*(idTailMod/10)+hd*(idTailMod/10)] {
				visit(s)
			}
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
