package dedup

import (
	"strconv"
	"strings"

	"fieldsync/enrollment"
)

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

// keyChains derives every family's chain from a profile.
func keyChains(p *profile) [numFamilies]chain {
	var c [numFamilies]chain
	year := strconv.Itoa(p.dob.Year)
	sex := string(p.sex)
	dm := dayMonth(p.dob)
	if p.givenFold != "" {
		name := p.surnameClass + "|" + p.givenFold + "|" + year
		if p.hometown != "" {
			c[famNameHome] = newChain(famNameHome, name+"|"+p.hometown, dm, sex)
		}
		c[famNameMiddle] = newChain(famNameMiddle, name+"|"+strings.Join(p.middleFold, " "), dm, sex)
	}
	if dm != "" && p.givenFold != "" {
		c[famGivenDOB] = newChain(famGivenDOB, p.givenFold+"|"+year+"|"+dm, sex)
		c[famNameDay] = newChain(famNameDay, p.fold+"|"+dm, sex)
	}
	if f, m := p.father.name(), p.mother.name(); f != "" || m != "" {
		c[famParents] = newChain(famParents, f+"|"+m+"|"+year, sex)
	}
	return c
}

// dayMonth is the day and month in sorted order (so that a swapped date
// shares it), "" unless the date is a full one other than the 01/01
// default (which says nothing about the day).
func dayMonth(d enrollment.Date) string {
	if d.Day == 0 || d.Month == 0 || isJan1(d) {
		return ""
	}
	lo, hi := d.Day, d.Month
	if lo > hi {
		lo, hi = hi, lo
	}
	return strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
}

// newChain hashes the base key and its refinements: level l is the hash of
// family, level and every part up to l.
func newChain(fam int, base string, refine ...string) chain {
	var c chain
	h := hashString(fnvOffset, strconv.Itoa(fam)+"|"+base)
	c.keys[0] = h
	c.n = 1
	for _, r := range refine {
		if int(c.n) == maxLevels {
			break
		}
		h = hashString(h, "|"+r)
		c.keys[c.n] = h
		c.n++
	}
	return c
}

// FNV-1a, 64-bit: a fixed, portable hash (block keys must not depend on a
// per-process seed, though nothing the Index outputs depends on them).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}
