package enrollment

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Severity grades a finding: Info < Warn < Reject.
type Severity uint8

const (
	// Info is worth knowing and changes nothing (NFD text, tone style).
	Info Severity = iota
	// Warn is probably wrong but can be legitimate, e.g. an ID number that
	// disagrees with the date of birth (Decree 70/2024 Art. 11); the
	// record is kept and flagged for review.
	Warn
	// Reject means the record cannot be accepted as it is.
	Reject
)

// String returns "info", "warn" or "reject".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warn:
		return "warn"
	case Reject:
		return "reject"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// MarshalText writes the String form, so findings read well in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the String form.
func (s *Severity) UnmarshalText(b []byte) error {
	for _, v := range []Severity{Info, Warn, Reject} {
		if string(b) == v.String() {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("enrollment: unknown severity %q", b)
}

// Finding is one problem (or remark) about one field of an enrollment.
type Finding struct {
	// Field is the JSON path of the field: "personal_id",
	// "father.personal_id", "other_names[1]", "capture.commune_code".
	Field    string   `json:"field"`
	Severity Severity `json:"severity"`
	// Code is a stable identifier of the rule, e.g. "pid.prefix_unknown";
	// Rules lists them all.
	Code string `json:"code"`
	// Message and MessageVI say what is wrong in the officer's words,
	// starting with the field's name on the form.
	Message   string `json:"message"`
	MessageVI string `json:"message_vi"`
}

// String renders "reject: <message>".
func (f Finding) String() string { return f.Severity.String() + ": " + f.Message }

// Findings are the results of Validate, most severe first.
type Findings []Finding

// ErrRejected matches (with errors.Is) a Findings used as an error that
// holds at least one Reject.
var ErrRejected = errors.New("enrollment: record rejected")

// Rejected reports whether any finding is a Reject.
func (fs Findings) Rejected() bool { return fs.Worst() == Reject && len(fs) > 0 }

// Worst returns the highest severity, or Info when there are no findings.
func (fs Findings) Worst() Severity {
	w := Info
	for _, f := range fs {
		if f.Severity > w {
			w = f.Severity
		}
	}
	return w
}

// Filter returns the findings of exactly severity sev, in order.
func (fs Findings) Filter(sev Severity) Findings {
	var out Findings
	for _, f := range fs {
		if f.Severity == sev {
			out = append(out, f)
		}
	}
	return out
}

// Error lists every finding, one reason per line after a count.
func (fs Findings) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "enrollment: %d finding(s)", len(fs))
	for _, f := range fs {
		b.WriteString("\n  ")
		b.WriteString(f.String())
	}
	return b.String()
}

// Is makes errors.Is(fs, ErrRejected) true when fs holds a Reject.
func (fs Findings) Is(target error) bool { return target == ErrRejected && fs.Rejected() }

// Err returns the findings as an error when they hold a Reject, else nil
// (a nil Findings stored in an error interface would not be nil).
func (fs Findings) Err() error {
	if fs.Rejected() {
		return fs
	}
	return nil
}

// Context is what Validate needs from outside the record.
type Context struct {
	// Now is "today" for the future-date and age checks. When zero those
	// checks are skipped (the package never reads the clock).
	Now time.Time
	// AllowForeignPrefix accepts, with a warning, ID numbers whose prefix is
	// not one of the 63 province codes: births registered abroad carry a
	// country code whose table was not found (DOMAIN.md §1.3).
	AllowForeignPrefix bool
}

// Limits on what one record may hold ("a limit on everything"): generous
// for real data, small enough that a hostile record cannot cost much.
const (
	MaxNameRunes     = 100 // a full name or other name; real ones are under 50
	MaxTextRunes     = 500 // free text: an address, an occupation
	MaxCodeRunes     = 64  // codes and identifiers
	MaxOtherNames    = 10  // other_names entries
	MaxNationality   = 5   // nationality entries
	MaxBiometrics    = 32  // 13 finger slots + face + 2 iris, with room
	maxAgeYears      = 120
	minBirthYear     = 1900 // the ID number cannot encode earlier years
	defaultJan1Until = 1960 // "unknown day → 1 January" is common before this
)

// Validate checks an enrollment against the rules of DOMAIN.md §1.4 and §7
// item 2 and returns its findings, Rejects first, in a deterministic order
// (by severity, then in the order the rules run, field by field). It never
// modifies e.
func Validate(e *Enrollment, ctx Context) Findings {
	if e == nil {
		return Findings{newFinding("", "field.missing")}
	}
	v := &validator{e: e, ctx: ctx}
	v.text()
	v.mandatory()
	v.personalID()
	v.dateOfBirth()
	v.enumerations()
	v.places()
	v.capture()
	v.relatives()
	v.household()
	v.biometrics()
	sort.SliceStable(v.fs, func(i, j int) bool { return v.fs[i].Severity > v.fs[j].Severity })
	return v.fs
}

type validator struct {
	e      *Enrollment
	ctx    Context
	fs     Findings
	pid    string  // cleaned ID number when accepted
	pidOK  bool    // pid decodes (possibly with a foreign prefix)
	info   PIDInfo // decoded pid
	dobOK  bool    // date of birth is present and a real date
	textOK map[string]bool
}

func (v *validator) add(f ...Finding) { v.fs = append(v.fs, f...) }

// mandatory checks the fields without which a record cannot be accepted.
// The list follows the minimum to create an ID number at birth
// registration (Decree 137/2015 Art. 14, DOMAIN.md §2.1: name, date of
// birth, sex, birth-registration place, ethnicity, nationality), what the
// card prints (Law 2023 Art. 18, §2.3: adds the residence) and what the
// capture must say about itself (who, where, with what, when: §2.5 and the
// sync design). Hometown and the parents, also in Art. 14, are not
// required here: under the current law the card is issued from the
// database record (§2.4), hometown is no longer printed, and older
// citizens often have no parents on record.
func (v *validator) mandatory() {
	e := v.e
	required := []struct {
		field string
		empty bool
	}{
		{"full_name", blank(e.FullName)},
		{"date_of_birth", e.DateOfBirth.IsZero()},
		{"sex", blank(string(e.Sex))},
		{"ethnicity_code", blank(e.EthnicityCode)},
		{"nationality", allBlank(e.Nationality)},
		{"birth_registration", blankPlace(e.BirthRegistration)},
		{"permanent_residence", blankPlace(e.PermanentResidence)},
		{"capture.commune_code", blank(e.Capture.CommuneCode)},
		{"capture.officer", blank(e.Capture.Officer)},
		{"capture.device", blank(e.Capture.Device)},
		{"capture.captured_at", e.Capture.CapturedAt.IsZero()},
	}
	for _, r := range required {
		if r.empty {
			v.add(newFinding(r.field, "field.missing"))
		}
	}
	if !blank(e.FullName) && v.textOK["full_name"] && !hasLetter(e.FullName) {
		v.add(newFinding("full_name", "name.no_letters", clip(e.FullName)))
	}
	for i, n := range e.OtherNames {
		f := fmt.Sprintf("other_names[%d]", i)
		if i < MaxOtherNames && v.textOK[f] && !hasLetter(n) {
			v.add(newFinding(f, "name.no_letters", clip(n)))
		}
	}
}

// personalID checks the citizen's ID number and, when it decodes, its
// agreement with the date of birth, sex and birth-registration place
// (warnings only: DOMAIN.md §0.3).
func (v *validator) personalID() {
	if v.e.PersonalID == "" {
		return
	}
	id, fs := checkPID("personal_id", v.e.PersonalID, v.ctx.AllowForeignPrefix)
	v.add(fs...)
	if id == "" {
		return
	}
	info, err := DecodePersonalID(id)
	if err != nil && !errors.Is(err, ErrPIDPrefixUnknown) {
		return
	}
	v.pid, v.pidOK, v.info = id, true, info
}

// pidCrossChecks runs after the date of birth is known to be valid.
func (v *validator) pidCrossChecks() {
	if !v.pidOK {
		return
	}
	e, info := v.e, v.info
	switch {
	case !v.ctx.Now.IsZero() && info.BirthYear > v.ctx.Now.Year():
		v.add(newFinding("personal_id", "pid.year_implausible", v.pid, info.BirthYear))
	case v.dobOK && e.DateOfBirth.Year != info.BirthYear:
		v.add(newFinding("personal_id", "pid.year_mismatch", v.pid, info.BirthYear, e.DateOfBirth.Year))
	}
	if (e.Sex == Male || e.Sex == Female) && e.Sex != info.Sex {
		v.add(newFinding("personal_id", "pid.sex_mismatch", v.pid, sexWords(info.Sex), sexWords(e.Sex)))
	}
	if info.Province.Code == "" {
		return // foreign prefix: nothing to compare
	}
	provs := birthProvinces(v.e.BirthRegistration)
	if len(provs) > 0 && !contains(provs, info.Province.Code) {
		v.add(newFinding("personal_id", "pid.province_mismatch", v.pid,
			info.Province.Name, info.ProvincePrefix, provinceNames(provs)))
	}
}

func sexWords(s Sex) bi {
	if s == Female {
		return bi{"Nữ (female)", "Nữ"}
	}
	return bi{"Nam (male)", "Nam"}
}

// dateOfBirth checks the citizen's date of birth: a real date, not in the
// future, not before 1900, an age of at most 120.
func (v *validator) dateOfBirth() {
	d := v.e.DateOfBirth
	if d.IsZero() {
		v.pidCrossChecks()
		return
	}
	if fs := checkDateShape("date_of_birth", d); len(fs) > 0 {
		v.add(fs...)
		v.pidCrossChecks()
		return
	}
	v.dobOK = true
	switch {
	case d.Year < minBirthYear:
		v.add(newFinding("date_of_birth", "dob.before_1900", d.String()))
		v.dobOK = false
	case v.ctx.Now.IsZero():
	case dateAfter(d, v.ctx.Now):
		v.add(newFinding("date_of_birth", "dob.future", d.String(), v.ctx.Now.Format("2006-01-02")))
		v.dobOK = false
	case minAge(d, v.ctx.Now) > maxAgeYears:
		v.add(newFinding("date_of_birth", "dob.too_old", d.String(), minAge(d, v.ctx.Now)))
		v.dobOK = false
	}
	if v.dobOK && d.Month == 1 && d.Day == 1 && d.Year < defaultJan1Until {
		v.add(newFinding("date_of_birth", "dob.default_jan1", d.Year))
	}
	v.pidCrossChecks()
}

// checkDateShape reports a date that cannot exist: no year, month 13, a
// day without a month, 30 February.
func checkDateShape(field string, d Date) Findings {
	switch {
	case d.Year == 0:
		return Findings{newFinding(field, "date.year_missing")}
	case d.Month < 0 || d.Month > 12:
		return Findings{newFinding(field, "date.month_invalid", d.Month)}
	case d.Day != 0 && d.Month == 0:
		return Findings{newFinding(field, "date.day_without_month", d.Day)}
	case d.Day != 0 && (d.Day < 0 || d.Day > daysIn(d.Year, d.Month)):
		return Findings{newFinding(field, "date.day_invalid", d.Day, d.Month, d.Year, daysIn(d.Year, d.Month))}
	}
	return nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dateAfter reports whether every day d may denote is after now's date.
func dateAfter(d Date, now time.Time) bool {
	y, m, day := now.Date()
	switch {
	case d.Year != y:
		return d.Year > y
	case d.Month == 0:
		return false
	case d.Month != int(m):
		return d.Month > int(m)
	}
	return d.Day > day
}

// minAge is the smallest age the (possibly partial) date allows on now's
// date: a year-only date is taken as 31 December of that year.
func minAge(d Date, now time.Time) int {
	y, m, day := now.Date()
	month, dd := d.Month, d.Day
	if month == 0 {
		month = 12
	}
	if dd == 0 {
		dd = daysIn(d.Year, month)
	}
	age := y - d.Year
	if int(m) < month || (int(m) == month && day < dd) {
		age--
	}
	return age
}

// compareDates orders two valid dates at the precision both know: -1 when
// a is certainly earlier, 1 when certainly later, 0 otherwise.
func compareDates(a, b Date) int {
	pairs := [][2]int{{a.Year, b.Year}, {a.Month, b.Month}, {a.Day, b.Day}}
	for _, p := range pairs {
		if p[0] == 0 || p[1] == 0 {
			return 0
		}
		if p[0] != p[1] {
			if p[0] < p[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// enumerations checks sex, ethnicity, blood type and the value lists.
func (v *validator) enumerations() {
	e := v.e
	if e.Sex != "" && e.Sex != Male && e.Sex != Female && v.textOK["sex"] {
		v.add(newFinding("sex", "sex.invalid", clip(string(e.Sex))))
	}
	if e.EthnicityCode != "" && v.textOK["ethnicity_code"] {
		if _, ok := EthnicityByCode(e.EthnicityCode); !ok {
			v.add(newFinding("ethnicity_code", "ethnicity.unknown", clip(e.EthnicityCode), ethnicityHint(e.EthnicityCode)))
		}
	}
	// Optional fields: a register's "not determined" is no value, never a
	// reason to refuse or warn (DOMAIN.md §2.6: blood group is recorded
	// only with a test result; "Chưa xác định" is written without one).
	for _, f := range []struct {
		field, value string
		valid        func(string) bool
		code         string
	}{
		{"blood_type", e.BloodType, validBloodType, "blood_type.invalid"},
		{"marital_status", e.MaritalStatus, func(s string) bool { return !v.textOK["marital_status"] || inList(s, maritalKeys) }, "marital_status.unknown"},
		{"relation_to_head", e.RelationToHead, func(s string) bool { return !v.textOK["relation_to_head"] || inList(s, relationKeys) }, "relation.unknown"},
		{"religion", e.Religion, func(s string) bool { return !v.textOK["religion"] || inList(s, religionKeys) }, "religion.unknown"},
	} {
		switch {
		case f.value == "" || f.valid(f.value):
		case Undetermined(f.value):
			v.add(newFinding(f.field, "value.undetermined", clip(f.value)))
		default:
			v.add(newFinding(f.field, f.code, clip(f.value)))
		}
	}
}

// undeterminedKeys are what registers write in a field whose value is not
// known, folded (FoldNameKey of NameKey): with or without diacritics.
var undeterminedKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range []string{"Chưa xác định", "Không xác định", "Chưa rõ", "Không rõ", "Chưa có", "Chưa có thông tin",
		"Không có thông tin", "Không biết", "Chưa biết", "-", "--", "?", "N/A", "unknown", "undetermined"} {
		m[FoldNameKey(NameKey(s))] = true
	}
	return m
}()

// Undetermined reports whether s says a value is not determined ("Chưa xác
// định", "Không rõ", "-", …), whatever its case, diacritics and spacing.
func Undetermined(s string) bool { return undeterminedKeys[FoldNameKey(NameKey(s))] }

// ethnicityHint suggests the code when a name or an unpadded code was
// written instead of the two-digit code.
func ethnicityHint(s string) bi {
	if code, ok := EthnicityCodeOf(s); ok {
		return bi{fmt.Sprintf("; %q is code %s", s, code), fmt.Sprintf("; %q là mã %s", s, code)}
	}
	if len(s) == 1 && allDigits(s) {
		if eth, ok := EthnicityByCode("0" + s); ok {
			return bi{fmt.Sprintf("; did you mean 0%s (%s)?", s, eth.Name), fmt.Sprintf("; có phải mã 0%s (%s)?", s, eth.Name)}
		}
	}
	return bi{}
}

func validBloodType(s string) bool {
	base := strings.TrimRight(s, "+-")
	if len(s)-len(base) > 1 {
		return false
	}
	return base == "A" || base == "B" || base == "AB" || base == "O"
}

// Lookup sets for the value lists, by NameKey so that NFD, case and tone
// style do not matter ("Goá" = "Góa").
var (
	maritalKeys  = keySet(MaritalStatuses)
	relationKeys = keySet(Relations)
	childKeys    = keySet([]string{"Con", "Cháu", "Con dâu", "Con rể"})
	religionKeys = keySet(religionNames())
)

func religionNames() []string {
	var out []string
	for _, r := range Religions() {
		out = append(out, r.Name)
	}
	return out
}

func keySet(vals []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range vals {
		m[NameKey(s)] = true
	}
	return m
}

func inList(s string, keys map[string]bool) bool { return keys[NameKey(s)] }

// places checks every place's unit code and code-list version.
func (v *validator) places() {
	e := v.e
	v.add(checkPlace("birth_registration", e.BirthRegistration)...)
	v.add(checkPlace("hometown", e.Hometown)...)
	v.add(checkPlace("permanent_residence", e.PermanentResidence)...)
	if e.BirthPlace != nil {
		v.add(checkPlace("birth_place", *e.BirthPlace)...)
	}
	if e.CurrentResidence != nil {
		v.add(checkPlace("current_residence", *e.CurrentResidence)...)
	}
}

// capture checks the capturing commune: 5 digits, existing in its list,
// and a list in force at the capture time.
func (v *validator) capture() {
	c := v.e.Capture
	if c.CodeList != "" && !knownCodeList(c.CodeList) {
		v.add(newFinding("capture.code_list", "unit.code_list_unknown", clip(c.CodeList)))
	}
	if c.CommuneCode != "" {
		if !allDigits(c.CommuneCode) || len(c.CommuneCode) != 5 {
			v.add(newFinding("capture.commune_code", "unit.malformed", clip(c.CommuneCode),
				bi{"the 5-digit code of the commune", "mã xã gồm 5 chữ số"}))
		} else {
			v.add(checkUnitExists("capture.commune_code", c.CommuneCode, c.CodeList)...)
		}
	}
	if c.CapturedAt.IsZero() {
		return
	}
	after := !c.CapturedAt.Before(reform2025)
	if (c.CodeList == CodeList2023 && after) || (c.CodeList == CodeList2025 && !after) {
		v.add(newFinding("capture.code_list", "capture.code_list_not_in_force", c.CodeList, c.CapturedAt.Format("2006-01-02")))
	}
}

// relatives checks the parents, spouse and household head. Their data is
// someone else's, so a malformed ID number or date is a warning: the
// citizen's record must not be refused for it.
func (v *validator) relatives() {
	for _, r := range v.relativeList() {
		v.relative(r.field, r.rel)
	}
}

type namedRelative struct {
	field string
	rel   *Relative
}

func (v *validator) relativeList() []namedRelative {
	e := v.e
	return []namedRelative{{"father", e.Father}, {"mother", e.Mother}, {"spouse", e.Spouse}, {"household_head", e.HouseholdHead}}
}

func (v *validator) relative(field string, r *Relative) {
	if r == nil {
		return
	}
	hasDOB := r.DateOfBirth != nil && !r.DateOfBirth.IsZero()
	if blank(r.FullName) && (r.PersonalID != "" || hasDOB || r.Nationality != "") {
		v.add(newFinding(field+".full_name", "relative.name_missing"))
	}
	if r.PersonalID != "" {
		id, fs := checkPID(field+".personal_id", r.PersonalID, v.ctx.AllowForeignPrefix)
		for _, f := range fs {
			if f.Severity == Reject {
				f = demote(f, "relative.pid_malformed")
			}
			v.add(f)
		}
		v.parentYear(field, id)
	}
	if hasDOB {
		for _, f := range checkDateShape(field+".date_of_birth", *r.DateOfBirth) {
			v.add(demote(f, "relative.date_invalid"))
		}
	}
}

// parentYear warns when a parent's ID number says the parent was born
// after the citizen.
func (v *validator) parentYear(field, id string) {
	if id == "" || !v.dobOK || (field != "father" && field != "mother") {
		return
	}
	info, err := DecodePersonalID(id)
	if err != nil && !errors.Is(err, ErrPIDPrefixUnknown) {
		return
	}
	if info.BirthYear > v.e.DateOfBirth.Year {
		v.add(newFinding(field+".personal_id", "parent.younger_than_child", info.BirthYear, v.e.DateOfBirth.Year))
	}
}

// household warns when a child or grandchild of the head (Con, Cháu, Con
// dâu, Con rể) was born before the head, when both dates are known; and
// when a parent's recorded date of birth is after the citizen's.
func (v *validator) household() {
	e := v.e
	if !v.dobOK {
		return
	}
	for _, field := range []string{"father", "mother"} {
		r := e.Father
		if field == "mother" {
			r = e.Mother
		}
		if d, ok := relativeDOB(r); ok && compareDates(d, e.DateOfBirth) > 0 {
			v.add(newFinding(field+".date_of_birth", "parent.younger_than_child", d.Year, e.DateOfBirth.Year))
		}
	}
	head, ok := relativeDOB(e.HouseholdHead)
	if !ok || !childKeys[NameKey(e.RelationToHead)] {
		return
	}
	if compareDates(e.DateOfBirth, head) < 0 {
		v.add(newFinding("relation_to_head", "household.child_older_than_head", clip(e.RelationToHead), e.DateOfBirth.String(), head.String()))
	}
}

// relativeDOB returns a relative's date of birth when it is given and real.
func relativeDOB(r *Relative) (Date, bool) {
	if r == nil || r.DateOfBirth == nil || r.DateOfBirth.IsZero() {
		return Date{}, false
	}
	d := *r.DateOfBirth
	if len(checkDateShape("", d)) > 0 {
		return Date{}, false
	}
	return d, true
}

// demote turns a Reject about a relative's data into a Warn, keeping its
// message and saying why it is only a warning.
func demote(f Finding, code string) Finding {
	d := rules[code]
	return Finding{
		Field:     f.Field,
		Severity:  d.sev,
		Code:      code,
		Message:   fmt.Sprintf(d.en, f.Message),
		MessageVI: fmt.Sprintf(d.vi, f.MessageVI),
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
