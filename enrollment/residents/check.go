package residents

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fieldsync/enrollment"
)

// ErrInvalid is wrapped by the errors of DecodeList and DecodeStatus: the
// payload is not a valid list or status (the entry counts for nothing).
var ErrInvalid = errors.New("residents: invalid payload")

// residentFields are the enrollment fields a resident row shares.
var residentFields = map[string]bool{"personal_id": true, "full_name": true, "date_of_birth": true, "sex": true, "relation_to_head": true}

// CheckResident validates one row with the enrollment rules that apply to
// it (ID number, name, date of birth, sex, relation, text safety), the ID
// number being mandatory here: it is the person's key. now is "today" for
// the date rules (zero skips them). It returns the findings, Rejects
// first, and the row with its ID number normalized.
func CheckResident(r Resident, now time.Time) (Resident, enrollment.Findings) {
	var fs enrollment.Findings
	if strings.TrimSpace(r.PersonalID) == "" {
		fs = append(fs, enrollment.MissingField("personal_id"))
	}
	e := enrollment.Enrollment{PersonalID: r.PersonalID, FullName: r.FullName, DateOfBirth: r.DateOfBirth, Sex: r.Sex, RelationToHead: r.RelationToHead}
	for _, f := range enrollment.Validate(&e, enrollment.Context{Now: now}) {
		if residentFields[fieldRoot(f.Field)] {
			fs = append(fs, f)
		}
	}
	fs = append(fs, enrollment.CheckCode("household", r.Household)...)
	fs = append(fs, enrollment.CheckText("address", r.Address)...)
	if pid, pfs := enrollment.NormalizePersonalID(r.PersonalID); !pfs.Rejected() {
		r.PersonalID = pid
	}
	return r, sortFindings(fs)
}

func fieldRoot(f string) string {
	root, _, _ := strings.Cut(f, ".")
	return root
}

func sortFindings(fs enrollment.Findings) enrollment.Findings {
	out := make(enrollment.Findings, 0, len(fs))
	for _, sev := range []enrollment.Severity{enrollment.Reject, enrollment.Warn, enrollment.Info} {
		out = append(out, fs.Filter(sev)...)
	}
	return out
}

// CheckStatus validates a status as an officer sets it: a well-formed ID
// number, a commune, a known status, the officer, bounded text.
func CheckStatus(s Status) enrollment.Findings {
	var fs enrollment.Findings
	if _, pfs := enrollment.NormalizePersonalID(s.PersonalID); s.PersonalID == "" {
		fs = append(fs, enrollment.MissingField("personal_id"))
	} else {
		fs = append(fs, pfs...)
	}
	fs = append(fs, enrollment.CheckCommune("commune_code", s.Commune, "")...)
	if !s.Status.Known() {
		fs = append(fs, enrollment.MissingField("status"))
	}
	if strings.TrimSpace(s.Officer) == "" {
		fs = append(fs, enrollment.MissingField("officer"))
	}
	fs = append(fs, enrollment.CheckName("officer", s.Officer)...)
	fs = append(fs, enrollment.CheckText("note", s.Note)...)
	// A code list is not part of a status: the warning that it is missing
	// says nothing to the officer.
	out := fs[:0]
	for _, f := range fs {
		if f.Code != "unit.code_list_missing" {
			out = append(out, f)
		}
	}
	return sortFindings(out)
}

// DecodeList parses and checks a KindResidents payload: every ID number
// 12 digits, the commune 5 digits, a known code list, a real as_of date,
// the bounds. A hub writes only lists that pass; anything else is refused
// whole (the entry counts for nothing, on every replica alike).
func DecodeList(payload []byte) (List, error) {
	var l List
	if len(payload) > MaxListBytes+4<<10 {
		return l, fmt.Errorf("%w: list of %d bytes, limit %d", ErrInvalid, len(payload), MaxListBytes)
	}
	if err := json.Unmarshal(payload, &l); err != nil {
		return l, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch {
	case !isDigits(l.Commune, 5):
		return l, fmt.Errorf("%w: commune %q is not a 5-digit code", ErrInvalid, clip(l.Commune))
	case l.CodeList != enrollment.CodeList2023 && l.CodeList != enrollment.CodeList2025:
		return l, fmt.Errorf("%w: code list %q", ErrInvalid, clip(l.CodeList))
	case l.MinAge < 0 || l.MinAge > maxMinAge:
		return l, fmt.Errorf("%w: min_age %d", ErrInvalid, l.MinAge)
	case len(l.Residents) > MaxRowsPerList:
		return l, fmt.Errorf("%w: %d rows, limit %d", ErrInvalid, len(l.Residents), MaxRowsPerList)
	case len(l.Removed) > MaxRemoved:
		return l, fmt.Errorf("%w: %d removals, limit %d", ErrInvalid, len(l.Removed), MaxRemoved)
	case utf8.RuneCountInString(l.Source) > maxSourceRunes:
		return l, fmt.Errorf("%w: source longer than %d characters", ErrInvalid, maxSourceRunes)
	}
	if _, err := parseDay(l.AsOf); err != nil {
		return l, fmt.Errorf("%w: as_of: %v", ErrInvalid, err)
	}
	for i := range l.Residents {
		if !isDigits(l.Residents[i].PersonalID, 12) {
			return l, fmt.Errorf("%w: row %d: personal_id %q is not 12 digits", ErrInvalid, i, clip(l.Residents[i].PersonalID))
		}
	}
	for _, pid := range l.Removed {
		if !isDigits(pid, 12) {
			return l, fmt.Errorf("%w: removed %q is not 12 digits", ErrInvalid, clip(pid))
		}
	}
	return l, nil
}

// DecodeStatus parses and checks a KindStatus payload.
func DecodeStatus(payload []byte) (Status, error) {
	var s Status
	if len(payload) > MaxStatusBytes {
		return s, fmt.Errorf("%w: status of %d bytes, limit %d", ErrInvalid, len(payload), MaxStatusBytes)
	}
	if err := json.Unmarshal(payload, &s); err != nil {
		return s, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch {
	case !isDigits(s.PersonalID, 12):
		return s, fmt.Errorf("%w: personal_id %q is not 12 digits", ErrInvalid, clip(s.PersonalID))
	case !isDigits(s.Commune, 5):
		return s, fmt.Errorf("%w: commune %q is not a 5-digit code", ErrInvalid, clip(s.Commune))
	case !s.Status.Known():
		return s, fmt.Errorf("%w: status %q", ErrInvalid, clip(string(s.Status)))
	case len(s.Supersedes) > MaxSupersedes:
		return s, fmt.Errorf("%w: supersedes %d statuses, limit %d", ErrInvalid, len(s.Supersedes), MaxSupersedes)
	case utf8.RuneCountInString(s.Officer) > maxOfficerRunes || utf8.RuneCountInString(s.Note) > maxNoteRunes:
		return s, fmt.Errorf("%w: officer or note too long", ErrInvalid)
	}
	for _, ref := range s.Supersedes {
		if _, err := ParseRef(ref); err != nil {
			return s, fmt.Errorf("%w: supersedes: %v", ErrInvalid, err)
		}
	}
	if s.Capture != "" {
		if _, err := ParseRef(s.Capture); err != nil {
			return s, fmt.Errorf("%w: capture: %v", ErrInvalid, err)
		}
	}
	return s, nil
}

// EncodeLists splits one commune's rows and removals into List payloads
// that each fit MaxRowsPerList and MaxListBytes. head carries the
// commune, code list, as_of, min_age and source of every part.
func EncodeLists(head List, rows []Resident, removed []string) ([][]byte, error) {
	var out [][]byte
	cur := head
	cur.Residents, cur.Removed = nil, nil
	size := 0
	flush := func() error {
		if len(cur.Residents) == 0 && len(cur.Removed) == 0 {
			return nil
		}
		b, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		if _, err := DecodeList(b); err != nil {
			return err
		}
		out = append(out, b)
		cur.Residents, cur.Removed, size = nil, nil, 0
		return nil
	}
	base, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		if len(cur.Residents) >= MaxRowsPerList || len(base)+size+len(b)+1 > MaxListBytes {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		cur.Residents = append(cur.Residents, r)
		size += len(b) + 1
	}
	for _, pid := range removed {
		if len(cur.Removed) >= MaxRemoved || len(base)+size+16 > MaxListBytes {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		cur.Removed = append(cur.Removed, pid)
		size += 15
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// Ref names an entry: its origin (hex) and seq.
type Ref struct {
	Origin string `json:"origin"`
	Seq    uint64 `json:"seq"`
}

// String renders "origin:seq", like replication.EntryID.
func (r Ref) String() string { return r.Origin + ":" + strconv.FormatUint(r.Seq, 10) }

// MarshalText renders the ref as "origin:seq".
func (r Ref) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads "origin:seq".
func (r *Ref) UnmarshalText(b []byte) error {
	v, err := ParseRef(string(b))
	*r = v
	return err
}

// ParseRef reads "origin:seq" (32 lowercase hex digits, a seq above 0).
func ParseRef(s string) (Ref, error) {
	o, seq, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || len(o) != 32 || !isHex(o) || err != nil || n == 0 {
		return Ref{}, fmt.Errorf("entry %q is not origin:seq", clip(s))
	}
	return Ref{Origin: o, Seq: n}, nil
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'f') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// parseDay reads YYYY-MM-DD.
func parseDay(s string) (time.Time, error) {
	return time.Parse(time.DateOnly, s)
}
