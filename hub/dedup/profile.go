package dedup

import (
	"strings"

	"fieldsync/enrollment"
)

// profile is what the Index keeps of a citizen: everything the
// comparisons, the rules and the blocking keys read, packed into a fixed
// size with no pointer (a []profile costs the garbage collector nothing to
// scan). Name parts are token numbers (tokenTable); places and relatives'
// names are 32-bit hashes, compared for equality only; 0 means unknown.
type profile struct {
	id       uint64 // the 12-digit ID number, 0 when none
	nameFold uint32 // hash32 of the folded full name
	dob      uint32 // packDOB
	surname  uint32 // tokens
	middle   uint32
	given    uint32

	father, mother parentRef
	head           relRef
	spouseID       uint32 // idHash32 of the spouse's ID number

	// Places are compared for equality only, among a province's few
	// hundred communes: 16-bit hashes are enough (u, learnt from the same
	// hashes, counts their rare collisions).
	home     uint16 // hometown: hash of its key
	homeProv uint16 // ... of its province (a hometown given as a province only still agrees)
	resid    uint16 // permanent residence: hash of its key

	region      uint16 // Index.regions number
	birthProv   uint8  // pre-2025 province code of the birth registration, 0 unknown
	birthProv25 uint8  // 2025 province code
	sex         uint8  // 0 unknown, 1 Nam, 2 Nữ
	flags       uint8
}

// profile flags.
const (
	flagKeyIsID    = 1 << iota // the citizen key is the ID number itself
	flagBare                   // the name was typed without any diacritic
	flagHeadSelf               // the household head is the citizen: not evidence about another record
	flagHomeCoarse             // the hometown is a province only
	flagLive                   // the slot holds a citizen
)

// relRef is a relative compared for equality: by ID number when both
// records give one, else by folded name.
type relRef struct {
	idHash uint32
	fold   uint32
}

// parentRef is a parent, with the token of their given name (a parent
// whose name differs only in its surname or middle name, or a typo, still
// shares it).
type parentRef struct {
	relRef
	given uint32
}

// packDOB packs a date as year<<9 | month<<5 | day (0 for none).
func packDOB(d enrollment.Date) uint32 {
	if d.Year <= 0 || d.Year > 4000 || d.Month < 0 || d.Month > 12 || d.Day < 0 || d.Day > 31 {
		return 0
	}
	return uint32(d.Year)<<9 | uint32(d.Month)<<5 | uint32(d.Day)
}

type date struct{ y, m, d int }

func unpackDOB(v uint32) date { return date{int(v >> 9), int(v >> 5 & 15), int(v & 31)} }

// hash32 is FNV-1a over s, never 0 (0 means unknown).
func hash32(s string) uint32 {
	if s == "" {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	if h == 0 {
		h = 1
	}
	return h
}

// hash16 folds two 32-bit hashes to 16 bits each, 0 kept for unknown.
func hash16(a, b uint32) (uint16, uint16) { return fold16(a), fold16(b) }

func fold16(h uint32) uint16 {
	if h == 0 {
		return 0
	}
	if f := uint16(h ^ h>>16); f != 0 {
		return f
	}
	return 1
}

// idHash32 hashes a 12-digit number (a citizen's or a relative's).
func idHash32(v uint64) uint32 {
	if v == 0 {
		return 0
	}
	v ^= v >> 33
	v *= 0xff51afd7ed558ccd
	v ^= v >> 33
	h := uint32(v)
	if h == 0 {
		h = 1
	}
	return h
}

// compoundSurnames are two-word surnames (DOMAIN.md §5.2): the given name
// and middle name start after them.
var compoundSurnames = map[string]bool{"tôn thất": true, "tôn nữ": true, "nguyễn phước": true,
	"nguyễn phúc": true, "âu dương": true, "tư mã": true, "hoàng phủ": true}

// splitName splits a NameKey into surname, middle phrase and given name:
// the first word (two for a compound surname), the words between, the last
// word. A one-word name has only a given name.
func splitName(key string) (surname, middle, given string) {
	w := strings.Fields(key)
	switch n := len(w); {
	case n == 0:
		return "", "", ""
	case n == 1:
		return "", "", w[0]
	case n >= 3 && compoundSurnames[w[0]+" "+w[1]]:
		return w[0] + " " + w[1], strings.Join(w[2:n-1], " "), w[n-1]
	default:
		return w[0], strings.Join(w[1:n-1], " "), w[n-1]
	}
}

// stored is a citizen's profile as it can live outside an Index (the
// hub's view persists it: EncodeProfile, PutProfile, Load): name parts as
// NameKey strings, everything else derived and packed. An Index interns
// the strings into its profile.
type stored struct {
	id                       uint64
	nameFold, dob            uint32
	surname, middle, given   string
	fatherGiven, motherGiven string
	father, mother, head     relRef
	spouseID                 uint32
	home, homeProv, resid    uint16
	birthProv, birthProv25   uint8
	sex                      uint8
	flags                    uint8 // flagBare, flagHeadSelf, flagHomeCoarse
}

// derive computes r's stored profile; c memoizes text derivations (nil:
// none).
func derive(r *Record, c *derived) stored {
	k := &r.Keys
	var p stored
	if k.PersonalID != "" && isIDDigits(k.PersonalID) {
		p.id = idNumber(k.PersonalID)
	}
	name, fold := k.Name, k.NameFold
	p.nameFold = hash32(fold)
	if name != "" && name == fold {
		p.flags |= flagBare
	}
	p.surname, p.middle, p.given = splitName(name)
	p.sex = sexCode(k.Sex)
	p.birthProv, p.birthProv25 = provCode(k.BirthProvince), provCode(k.BirthProvince2025)
	e := r.Enrollment
	if e == nil {
		return p
	}
	p.dob = packDOB(e.DateOfBirth)
	p.home, p.homeProv = hash16(c.placeHashes(e.Hometown))
	if isProvinceOnly(e.Hometown) {
		p.flags |= flagHomeCoarse
	}
	p.resid, _ = hash16(c.placeHashes(e.PermanentResidence))
	p.father, p.fatherGiven = c.parent(e.Father, k.FatherName)
	p.mother, p.motherGiven = c.parent(e.Mother, k.MotherName)
	p.head = c.relative(e.HouseholdHead, "")
	p.spouseID = c.relative(e.Spouse, "").idHash
	if c.isHeadSelf(e, &p) {
		p.flags |= flagHeadSelf
	}
	return p
}

// makeProfile derives r's in-memory profile.
func (ix *Index) makeProfile(r *Record) profile {
	return ix.internProfile(derive(r, &ix.cache), r.Key, r.Region)
}

// internProfile turns a stored profile into the Index's, under key.
func (ix *Index) internProfile(st stored, key, region string) profile {
	p := profile{id: st.id, nameFold: st.nameFold, dob: st.dob, head: st.head, spouseID: st.spouseID,
		home: st.home, homeProv: st.homeProv, resid: st.resid, birthProv: st.birthProv, birthProv25: st.birthProv25,
		sex: st.sex, flags: st.flags&(flagBare|flagHeadSelf|flagHomeCoarse) | flagLive}
	if p.id != 0 && len(key) == enrollment.PersonalIDLen && isIDDigits(key) && idNumber(key) == p.id {
		p.flags |= flagKeyIsID
	}
	t := ix.toks
	p.surname, p.middle, p.given = t.intern(st.surname, ix.model), t.intern(st.middle, ix.model), t.intern(st.given, ix.model)
	p.father = parentRef{relRef: st.father, given: t.intern(st.fatherGiven, ix.model)}
	p.mother = parentRef{relRef: st.mother, given: t.intern(st.motherGiven, ix.model)}
	p.region = ix.regionNumber(region)
	return p
}

// derived memoizes derivations from raw text (place keys, relatives'
// folded names): places and household heads repeat from record to record.
// It is a pure cache (the value is a function of the text), bounded: it
// is emptied when full.
type derived map[string]uint64

const maxDerived = 1 << 14

func (d *derived) get(text string, f func() uint64) uint64 {
	if d == nil {
		return f()
	}
	if v, ok := (*d)[text]; ok {
		return v
	}
	v := f()
	if len(*d) >= maxDerived {
		clear(*d)
	}
	(*d)[text] = v
	return v
}

// isHeadSelf: the household head named is the citizen (by relation, ID
// number, or name when no number says otherwise).
func (d *derived) isHeadSelf(e *enrollment.Enrollment, p *stored) bool {
	self := d.get("\x01rel\x00"+e.RelationToHead, func() uint64 {
		if enrollment.NameKey(e.RelationToHead) == "chủ hộ" {
			return 1
		}
		return 0
	})
	if self == 1 {
		return true
	}
	h := p.head
	switch {
	case h.idHash != 0 && p.id != 0:
		return h.idHash == idHash32(p.id)
	case h.fold != 0:
		return h.fold == p.nameFold
	}
	return false
}

func (d *derived) parent(r *enrollment.Relative, nameKey string) (relRef, string) {
	if r == nil {
		return relRef{}, ""
	}
	if nameKey == "" {
		nameKey = enrollment.NameKey(r.FullName)
	}
	_, _, g := splitName(nameKey)
	return d.relative(r, nameKey), g
}

func (d *derived) relative(r *enrollment.Relative, nameKey string) relRef {
	if r == nil {
		return relRef{}
	}
	var ref relRef
	if nameKey != "" {
		ref.fold = hash32(enrollment.FoldNameKey(nameKey))
	} else {
		ref.fold = uint32(d.get("\x02name\x00"+r.FullName, func() uint64 {
			return uint64(hash32(enrollment.FoldNameKey(enrollment.NameKey(r.FullName))))
		}))
	}
	id := r.PersonalID
	if !isIDDigits(id) {
		id, _ = enrollment.NormalizePersonalID(id)
	}
	if id != "" && isIDDigits(id) {
		ref.idHash = idHash32(idNumber(id))
	}
	return ref
}

// placeHashes identifies a place (its unit code in its code list, else
// the key of its text) and its province (a name key, so that a code and
// a text can agree).
func (d *derived) placeHashes(pl enrollment.Place) (place, province uint32) {
	if pl.IsZero() {
		return 0, 0
	}
	v := d.get("\x03place\x00"+pl.UnitCode+"\x00"+pl.CodeList+"\x00"+pl.Text, func() uint64 {
		a, b := placeHashes(pl)
		return uint64(a)<<32 | uint64(b)
	})
	return uint32(v >> 32), uint32(v)
}

func placeHashes(pl enrollment.Place) (place, province uint32) {
	if pl.UnitCode != "" {
		place = hash32(pl.UnitCode + "@" + pl.CodeList)
		if ps := enrollment.ProvincesOf(pl); len(ps) == 1 {
			if pr, ok := enrollment.ProvinceByCode(ps[0]); ok {
				return place, hash32(provinceKey(pr.Name))
			}
		}
		if pl.Text == "" {
			return place, 0
		}
	}
	key := enrollment.NameKey(pl.Text)
	if key == "" {
		return place, 0
	}
	if place == 0 {
		place = hash32(key)
	}
	parts := strings.Split(key, ",")
	return place, hash32(provinceKey(parts[len(parts)-1]))
}

// provinceKey is a province's name without its kind: "tỉnh hà tĩnh" and
// "Hà Tĩnh" are both "ha tinh".
func provinceKey(s string) string {
	k := enrollment.FoldNameKey(enrollment.NameKey(s))
	for _, pre := range []string{"tinh ", "thanh pho ", "tp. ", "tp "} {
		k = strings.TrimPrefix(k, pre)
	}
	return strings.TrimSpace(k)
}

// isProvinceOnly: a place given as a province alone (a 2-digit code, or a
// text without a comma naming a province).
func isProvinceOnly(pl enrollment.Place) bool {
	if pl.UnitCode != "" {
		return len(pl.UnitCode) == 2
	}
	return pl.Text != "" && !strings.Contains(pl.Text, ",")
}

func sexCode(s enrollment.Sex) uint8 {
	switch s {
	case enrollment.Male:
		return 1
	case enrollment.Female:
		return 2
	}
	return 0
}

// provCode reads a 2-digit province code ("" → 0).
func provCode(s string) uint8 {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0
	}
	return (s[0]-'0')*10 + s[1] - '0'
}

// idNumber reads a string of decimal digits (a cleaned ID number).
func idNumber(id string) uint64 {
	var v uint64
	for i := 0; i < len(id); i++ {
		v = v*10 + uint64(id[i]-'0')
	}
	return v
}

// isIDDigits reports whether s is 12 ASCII digits.
func isIDDigits(s string) bool {
	if len(s) != enrollment.PersonalIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// idDigits are the 12 digits of an ID number.
type idDigits [enrollment.PersonalIDLen]byte

func digitsOf(v uint64) idDigits {
	var d idDigits
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return d
}

// formatID writes an ID number as its 12 digits.
func formatID(v uint64) string {
	d := digitsOf(v)
	return string(d[:])
}
