package dedup

import "slices"

// slotTable is a multimap from 32-bit keys to slots, stored as sorted
// uint64s (key<<32 | slot) in buckets by the key's top bits: 8 bytes per
// entry plus the buckets' slack, no per-entry allocation, nothing for the
// garbage collector to scan. Lookups and inserts binary-search one small
// bucket; the table doubles its buckets when they grow past
// maxBucketLen on average. Keys are hashes: two keys that collide merely
// share a block (more comparisons, never a lost pair), and what a key
// holds depends only on the entries present.
type slotTable struct {
	shift   uint // bucket = key >> shift
	buckets [][]uint64
	n       int
}

const (
	minBucketBits = 8
	maxBucketLen  = 128 // average entries per bucket before doubling
)

func newSlotTable() *slotTable {
	return &slotTable{shift: 32 - minBucketBits, buckets: make([][]uint64, 1<<minBucketBits)}
}

func entryOf(key uint32, slot int32) uint64 { return uint64(key)<<32 | uint64(uint32(slot)) }

func (t *slotTable) bucket(key uint32) *[]uint64 { return &t.buckets[key>>t.shift] }

// add inserts (key, slot); adding a present pair again is a no-op.
func (t *slotTable) add(key uint32, slot int32) {
	b := t.bucket(key)
	e := entryOf(key, slot)
	i, found := slices.BinarySearch(*b, e)
	if found {
		return
	}
	*b = insertAt(*b, i, e)
	t.n++
	if t.n > maxBucketLen*len(t.buckets) && t.shift > 12 {
		t.grow()
	}
}

// addSorted adds many entries at once (a bulk load): they are sorted,
// the buckets grown first, and each bucket merged once.
func (t *slotTable) addSorted(es []uint64) {
	slices.Sort(es)
	es = slices.Compact(es)
	for t.n+len(es) > maxBucketLen*len(t.buckets) && t.shift > 12 {
		t.grow()
	}
	for i := 0; i < len(es); {
		bi := uint32(es[i]>>32) >> t.shift
		j := i
		for j < len(es) && uint32(es[j]>>32)>>t.shift == bi {
			j++
		}
		old := t.buckets[bi]
		merged := make([]uint64, 0, len(old)+j-i)
		a, b := old, es[i:j]
		for len(a) > 0 && len(b) > 0 {
			switch {
			case a[0] < b[0]:
				merged, a = append(merged, a[0]), a[1:]
			case b[0] < a[0]:
				merged, b = append(merged, b[0]), b[1:]
			default: // present already
				merged, a, b = append(merged, a[0]), a[1:], b[1:]
				t.n--
			}
		}
		merged = append(append(merged, a...), b...)
		t.buckets[bi] = merged
		t.n += j - i
		i = j
	}
}

// insertAt inserts e at i, growing a full bucket by an eighth (not the
// doubling of append: the buckets hold most of the Index's memory).
func insertAt(b []uint64, i int, e uint64) []uint64 {
	if len(b) == cap(b) {
		nb := make([]uint64, len(b), len(b)+len(b)/8+4)
		copy(nb, b)
		b = nb
	}
	b = b[:len(b)+1]
	copy(b[i+1:], b[i:])
	b[i] = e
	return b
}

// remove deletes (key, slot) if present.
func (t *slotTable) remove(key uint32, slot int32) {
	b := t.bucket(key)
	i, found := slices.BinarySearch(*b, entryOf(key, slot))
	if !found {
		return
	}
	*b = slices.Delete(*b, i, i+1)
	t.n--
	if cap(*b) > 64 && len(*b) < cap(*b)/4 {
		*b = slices.Clip(slices.Clone(*b))
	}
}

// count returns how many slots key holds.
func (t *slotTable) count(key uint32) int {
	lo, hi := t.span(key)
	return hi - lo
}

// span returns the index range of key's entries in its bucket.
func (t *slotTable) span(key uint32) (int, int) {
	b := *t.bucket(key)
	lo, _ := slices.BinarySearch(b, uint64(key)<<32)
	hi := lo
	for hi < len(b) && uint32(b[hi]>>32) == key {
		hi++
	}
	return lo, hi
}

// has reports whether key holds slot.
func (t *slotTable) has(key uint32, slot int32) bool {
	_, found := slices.BinarySearch(*t.bucket(key), entryOf(key, slot))
	return found
}

// each calls f with every slot key holds, in slot order.
func (t *slotTable) each(key uint32, f func(int32)) {
	lo, hi := t.span(key)
	b := *t.bucket(key)
	for i := lo; i < hi; i++ {
		f(int32(uint32(b[i])))
	}
}

// appendSlots appends the slots key holds to dst.
func (t *slotTable) appendSlots(dst []int32, key uint32) []int32 {
	lo, hi := t.span(key)
	b := *t.bucket(key)
	for i := lo; i < hi; i++ {
		dst = append(dst, int32(uint32(b[i])))
	}
	return dst
}

// grow doubles the buckets, splitting each in two (entries stay sorted).
func (t *slotTable) grow() {
	nb := make([][]uint64, 2*len(t.buckets))
	t.shift--
	for _, b := range t.buckets {
		// b's first part goes to bucket 2k, the rest to 2k+1: split it
		// into two exactly sized slices
		mid := len(b)
		for j, e := range b {
			if uint32(e>>32)>>t.shift&1 == 1 {
				mid = j
				break
			}
		}
		if len(b) > 0 {
			k := uint32(b[0]>>32) >> (t.shift + 1) << 1
			nb[k] = slices.Clone(b[:mid])
			nb[k+1] = slices.Clone(b[mid:])
		}
	}
	t.buckets = nb
}

// bytes is the table's memory: slice headers and backing arrays.
func (t *slotTable) bytes() int {
	n := 24 * len(t.buckets)
	for _, b := range t.buckets {
		n += 8 * cap(b)
	}
	return n
}

// keys calls f with every distinct key and its count, in key order.
func (t *slotTable) keys(f func(key uint32, n int)) {
	for _, b := range t.buckets {
		for i := 0; i < len(b); {
			k := uint32(b[i] >> 32)
			j := i
			for j < len(b) && uint32(b[j]>>32) == k {
				j++
			}
			f(k, j-i)
			i = j
		}
	}
}
