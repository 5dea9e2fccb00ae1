package dedup

import (
	"cmp"
	"slices"
)

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

// bucketOf spreads keys over the buckets by a multiplicative hash of the
// key (keys themselves may cluster: an ID number's key keeps its head in
// its top bits, and a province has a few hundred heads).
func (t *slotTable) bucketOf(key uint32) uint32 { return (key * 0x9E3779B1) >> t.shift }

func (t *slotTable) bucket(key uint32) *[]uint64 { return &t.buckets[t.bucketOf(key)] }

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

// addSorted adds many entries at once (a bulk load): the buckets are
// grown first, the entries sorted by bucket, and each bucket merged once.
func (t *slotTable) addSorted(es []uint64) {
	for t.n+len(es) > maxBucketLen*len(t.buckets) && t.shift > 12 {
		t.grow()
	}
	slices.SortFunc(es, func(a, b uint64) int {
		if ba, bb := t.bucketOf(uint32(a>>32)), t.bucketOf(uint32(b>>32)); ba != bb {
			return int(ba) - int(bb)
		}
		return cmp.Compare(a, b)
	})
	es = slices.Compact(es)
	for i := 0; i < len(es); {
		bi := t.bucketOf(uint32(es[i] >> 32))
		j := i
		for j < len(es) && t.bucketOf(uint32(es[j]>>32)) == bi {
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

// grow doubles the buckets, splitting each in two by the next bit of its
// keys' bucket hash (entries stay sorted within each).
func (t *slotTable) grow() {
	nb := make([][]uint64, 2*len(t.buckets))
	t.shift--
	for i, b := range t.buckets {
		lo := 0
		for _, e := range b {
			if t.bucketOf(uint32(e>>32))&1 == 0 {
				lo++
			}
		}
		even, odd := make([]uint64, 0, lo), make([]uint64, 0, len(b)-lo)
		for _, e := range b {
			if t.bucketOf(uint32(e>>32))&1 == 0 {
				even = append(even, e)
			} else {
				odd = append(odd, e)
			}
		}
		nb[2*i], nb[2*i+1] = even, odd
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

// keys calls f with every distinct key and its count (in bucket order,
// then key order: callers must not depend on it).
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
