package dedup

// Blocking families: two records are compared only when their ID numbers
// are one typo apart or they share a block of some family. Each family
// catches what the others miss (doc.go). A record's keys in a family form
// a chain, coarse to fine; a block over Config.MaxBlock members is split by
// the next finer key.
const (
	famGivenDOB     = iota // folded given name + date of birth (day/month sorted, none for 01/01) → sex → surname class
	famNameYear            // surname class + folded given name + birth year → day/month → sex
	famNameDayMonth        // surname class + regional given name + day/month, no year → sex
	famSurnameDOB          // surname class + date of birth → sex → given initial → folded middle name
	famParentsYear         // folded father and mother names + birth year → sex
	famRegionalYear        // regional spelling of surname and given name + birth year + sex → day/month
	numFamilies
)

// familyNames name the families in Stats.
var familyNames = [numFamilies]string{"given-dob", "name-year", "name-daymonth", "surname-dob", "parents-year", "regional-year"}

// maxChain bounds a key chain.
const maxChain = 4

// chain is a record's keys in one family: keys[0] coarsest.
type chain struct {
	keys [maxChain]uint32
	n    uint8 // 0: the family does not apply
}

// keyChains derives every family's chain from a profile.
func (ix *Index) keyChains(p *profile) [numFamilies]chain {
	var c [numFamilies]chain
	d := unpackDOB(p.dob)
	year, dm, sex := uint32(d.y), dayMonth(d), uint32(p.sex)
	given, sur := ix.toks.get(p.given), ix.toks.get(p.surname)
	if p.given == 0 || year == 0 {
		return c
	}
	class := sur.class
	init := uint32(given.fold[0])
	c[famGivenDOB] = family(famGivenDOB).str(given.fold).num(year).num(dm).chain(sex, hash32(class))
	c[famNameYear] = family(famNameYear).str(class).str(given.fold).num(year).chain(dm, sex)
	if dm != 0 {
		c[famNameDayMonth] = family(famNameDayMonth).str(class).str(given.regional).num(dm).chain(sex)
	}
	if p.surname != 0 {
		c[famSurnameDOB] = family(famSurnameDOB).str(class).num(year).num(dm).chain(sex, init)
	}
	c[famRegionalYear] = family(famRegionalYear).str(sur.classReg).str(given.regional).num(year).num(sex).chain(dm)
	if p.father.fold != 0 || p.mother.fold != 0 {
		c[famParentsYear] = family(famParentsYear).num(p.father.fold).num(p.mother.fold).num(year).chain(sex)
	}
	return c
}

// dayMonth is the day and month in sorted order (so that a swapped date
// shares it) as lo*100+hi, 0 unless the date is a full one other than the
// 01/01 default (which says nothing about the day).
func dayMonth(d date) uint32 {
	if !isFull(d) {
		return 0
	}
	lo, hi := d.d, d.m
	if lo > hi {
		lo, hi = hi, lo
	}
	return uint32(lo*100 + hi)
}

// keyHash hashes the parts of a block key: FNV-1a, 32-bit, fixed and
// portable. Each part ends with a byte UTF-8 text never holds, so parts
// cannot run into each other.
type keyHash uint32

const partEnd = 0xff

func family(f int) keyHash { return keyHash(2166136261).num(uint32(f) + 1) }

func (h keyHash) byte(b byte) keyHash { return (h ^ keyHash(b)) * 16777619 }

func (h keyHash) str(s string) keyHash {
	for i := 0; i < len(s); i++ {
		h = h.byte(s[i])
	}
	return h.byte(partEnd)
}

func (h keyHash) num(n uint32) keyHash {
	for i := 0; i < 4; i++ {
		h = h.byte(byte(n >> (8 * i)))
	}
	return h.byte(partEnd)
}

// chain makes h the coarsest key and each refinement a finer one.
func (h keyHash) chain(refine ...uint32) chain {
	c := chain{n: 1}
	c.keys[0] = uint32(h)
	for _, r := range refine {
		if int(c.n) == maxChain {
			break
		}
		h = h.num(r)
		c.keys[c.n] = uint32(h)
		c.n++
	}
	return c
}

// ID-number keys: byID holds every record under its number's key, built
// so that the numbers one typo away in the random tail (same head) have
// keys in the same part of the table (warm in cache); byTail holds it
// under its tail alone, for typos in the head.
const idTailMod = 1_000_000 // the random tail: DOMAIN.md §1.1, digits 7-12

func idKey(v uint64) uint32 {
	head, tail := v/idTailMod, v%idTailMod
	h := head * 0x9e3779b97f4a7c15
	return uint32(h>>52)<<20 | uint32(tail)
}

func tailKey(v uint64) uint32 { return uint32(v % idTailMod) }

// idVariants calls f with every 12-digit number one substitution or one
// adjacent transposition away from v whose head is v's (the typos in the
// tail, and the swap of the head's last digit with the tail's first).
func idVariants(v uint64, f func(uint64)) {
	head, tail := v/idTailMod, v%idTailMod
	for i, w := uint64(0), uint64(1); i < 6; i, w = i+1, w*10 { // digit i from the right
		d := tail / w % 10
		for nd := range uint64(10) {
			if nd != d {
				f(head*idTailMod + tail - d*w + nd*w)
			}
		}
		if i+1 < 6 {
			if e := tail / (w * 10) % 10; e != d {
				f(head*idTailMod + tail - d*w - e*w*10 + e*w + d*w*10)
			}
		}
	}
	hd, td := head%10, tail/(idTailMod/10)
	if hd != td {
		f((head-hd+td)*idTailMod + tail - td*(idTailMod/10) + hd*(idTailMod/10))
	}
}
