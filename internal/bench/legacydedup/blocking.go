package legacydedup

import "fieldsync/enrollment"

// Blocking families. Each record gets one key chain per family that
// applies to it, coarse to fine; a finer key extends the coarser one, so a
// block at level l+1 is a part of a block at level l. doc.go says why each
// family exists.
const (
	famNameHome   = iota // surname class + folded given name + birth year + hometown
	famNameMiddle        // surname class + folded given and middle names + birth year
	famGivenDOB          // folded given name + full date of birth (day/month sorted)
	famNameDay           // folded full name + day/month sorted, no year
	famParents           // folded father and mother names + birth year
	numFamilies
)

// familyNames name the families in Stats.
var familyNames = [numFamilies]string{"name-year-hometown", "name-middle-year", "given-dob", "name-daymonth", "parents-year"}

// maxLevels bounds a key chain.
const maxLevels = 3

// chain is a record's keys in one family: keys[0] coarsest.
type chain struct {
	keys [maxLevels]uint64
	n    uint8 // 0: the family does not apply
}

// keyChains derives every family's chain from a profile, hashing the
// parts in place (no key string is built).
func keyChains(p *profile) [numFamilies]chain {
	var c [numFamilies]chain
	year, dm, sex := uint64(p.dob.Year), dayMonth(p.dob), sexNumber(p.sex)
	if p.givenFold != "" {
		name := family(famNameMiddle).str(p.surnameClass).str(p.givenFold).num(year)
		for _, w := range p.middleFold {
			name = name.str(w)
		}
		c[famNameMiddle] = name.chain(dm, sex)
		if p.hometown != "" {
			c[famNameHome] = family(famNameHome).str(p.surnameClass).str(p.givenFold).num(year).str(p.hometown).chain(dm, sex)
		}
	}
	if dm != 0 && p.givenFold != "" {
		c[famGivenDOB] = family(famGivenDOB).str(p.givenFold).num(year).num(dm).chain(sex)
		c[famNameDay] = family(famNameDay).str(p.fold).num(dm).chain(sex)
	}
	if f, m := p.father.foldName(), p.mother.foldName(); f != "" || m != "" {
		c[famParents] = family(famParents).str(f).str(m).num(year).chain(sex)
	}
	return c
}

// dayMonth is the day and month in sorted order (so that a swapped date
// shares it) as a number lo*100+hi, 0 unless the date is a full one other
// than the 01/01 default (which says nothing about the day).
func dayMonth(d enrollment.Date) uint64 {
	if d.Day == 0 || d.Month == 0 || isJan1(d) {
		return 0
	}
	lo, hi := d.Day, d.Month
	if lo > hi {
		lo, hi = hi, lo
	}
	return uint64(lo*100 + hi)
}

// keyHash hashes the parts of a block key: FNV-1a, 64-bit, fixed and
// portable (block keys must not depend on a per-process seed, though
// nothing the Index outputs depends on them). Each part ends with a byte
// that UTF-8 text never holds, so parts cannot run into each other.
type keyHash uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	partEnd   = 0xff
)

func family(f int) keyHash { return keyHash(fnvOffset).num(uint64(f)) }

func (h keyHash) byte(b byte) keyHash { return (h ^ keyHash(b)) * fnvPrime }

func (h keyHash) str(s string) keyHash {
	for i := 0; i < len(s); i++ {
		h = h.byte(s[i])
	}
	return h.byte(partEnd)
}

func (h keyHash) num(n uint64) keyHash {
	for i := 0; i < 8; i++ {
		h = h.byte(byte(n >> (8 * i)))
	}
	return h.byte(partEnd)
}

// chain makes h the coarsest key and each refinement a finer one: level l
// hashes every part up to l.
func (h keyHash) chain(refine ...uint64) chain {
	c := chain{n: 1}
	c.keys[0] = uint64(h)
	for _, r := range refine {
		if int(c.n) == maxLevels {
			break
		}
		h = h.num(r)
		c.keys[c.n] = uint64(h)
		c.n++
	}
	return c
}

// sexNumber is the sex as a refinement: 0 unknown, 1 Nam, 2 Nữ.
func sexNumber(s enrollment.Sex) uint64 {
	switch s {
	case enrollment.Male:
		return 1
	case enrollment.Female:
		return 2
	}
	return 0
}
