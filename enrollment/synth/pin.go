package synth

import (
	"fmt"

	"fieldsync/enrollment"
)

// pinAllocator mints personal ID numbers that are unique within the
// generated universe by construction, with memory bounded by the number of
// (prefix, century/sex, year) buckets rather than by Count.
//
// DOMAIN.md §1.1-§1.2, §1.5: PPP G YY RRRRRR. Inside a bucket the n-th
// number's random part is a keyed permutation of n over [0, 10^6) (a
// four-round Feistel network on two base-1000 halves), so numbers look
// random yet never repeat.
type pinAllocator struct {
	key  uint64
	next map[pinBucket]uint32 // lookup only; never iterated
}

type pinBucket struct {
	prefix string
	g, yy  int
}

// bucketCapacity is how many numbers one bucket holds.
const bucketCapacity = 1_000_000

func newPINAllocator(seed uint64) *pinAllocator {
	return &pinAllocator{key: mix64(seed ^ 0x9e3779b97f4a7c15), next: map[pinBucket]uint32{}}
}

// centurySex returns the fourth digit for a sex and birth year (§1.2).
func centurySex(sex enrollment.Sex, year int) int {
	g := 2 * ((year - 1900) / 100)
	if sex == enrollment.Female {
		g++
	}
	return g
}

// mint returns a fresh ID for the given prefix, encoded sex and year.
func (a *pinAllocator) mint(prefix string, sex enrollment.Sex, year int) (string, error) {
	b := pinBucket{prefix: prefix, g: centurySex(sex, year), yy: year % 100}
	n := a.next[b]
	if n >= bucketCapacity {
		return "", fmt.Errorf("synth: ID bucket %s%d%02d exhausted", prefix, b.g, b.yy)
	}
	a.next[b] = n + 1
	h := mix64(a.key ^ mix64(uint64(b.g)<<40|uint64(b.yy)<<32|uint64(prefixNum(prefix))))
	return fmt.Sprintf("%s%d%02d%06d", prefix, b.g, b.yy, feistel(n, h)), nil
}

// prefixNum reads a 3-digit prefix.
func prefixNum(p string) int {
	n := 0
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return n
}

// feistel permutes [0, 10^6) with key k: four rounds on (L, R) in
// [0,1000)²; each round maps (L, R) to (R, (L + F(R)) mod 1000), a bijection.
func feistel(n uint32, k uint64) uint32 {
	l, r := n/1000, n%1000
	for round := uint64(0); round < 4; round++ {
		f := uint32(mix64(k+round*0x632be59bd9b4e019+uint64(r)) % 1000)
		l, r = r, (l+f)%1000
	}
	return l*1000 + r
}

// mix64 is the splitmix64 finalizer: a fast, well-mixed 64-bit hash.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hashString hashes a string with FNV-1a then mix64 (stable per-code
// jitter that does not depend on the seed).
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}
