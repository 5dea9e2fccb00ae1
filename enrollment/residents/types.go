package residents

import (
	"fmt"
	"time"

	"fieldsync/enrollment"
)

// Schema is the schema version of List and Status payloads.
const Schema = 1

// Limits ("a limit on everything"). A list entry stays well inside an
// entry's 64 KiB payload; a status inside what a new epoch can re-issue.
const (
	MaxRowsPerList  = 200
	MaxListBytes    = 60 << 10
	MaxRemoved      = 1000
	MaxStatusBytes  = 8 << 10
	MaxSupersedes   = 16
	DefaultMinAge   = 14 // the age from which a citizen must hold a card
	maxMinAge       = 120
	maxSourceRunes  = 200
	maxNoteRunes    = 500
	maxOfficerRunes = 100
)

// Resident is one person on a commune's list, as the population register
// has them.
type Resident struct {
	PersonalID  string          `json:"personal_id"` // 12 digits, normalized
	FullName    string          `json:"full_name"`
	DateOfBirth enrollment.Date `json:"date_of_birth"`
	Sex         enrollment.Sex  `json:"sex"`
	// Household is the household's number in the register (số hộ);
	// RelationToHead is the person's relation to its head (enrollment.Relations).
	Household      string `json:"household,omitempty"`
	RelationToHead string `json:"relation_to_head,omitempty"`
	// Address is where the household lives within the commune: thôn, xóm,
	// tổ dân phố, house number; as written in the register.
	Address string `json:"address,omitempty"`
}

// List is the payload of a KindResidents entry: part of one commune's
// resident list.
type List struct {
	Commune  string `json:"commune"`   // 5-digit unit code
	CodeList string `json:"code_list"` // enrollment.CodeList2023 or CodeList2025
	// AsOf is the register's date: ages for eligibility are counted there.
	AsOf string `json:"as_of"` // YYYY-MM-DD
	// MinAge is the age from which a person on the list is eligible.
	MinAge int `json:"min_age"`
	// Source names the import (file, register extract) for the operator.
	Source    string     `json:"source,omitempty"`
	Residents []Resident `json:"residents,omitempty"`
	// Removed are ID numbers no longer on the list (moved away in the
	// register, died): they count nowhere.
	Removed []string `json:"removed,omitempty"`
}

// Code is a resident's status.
type Code string

// The statuses an officer sets.
const (
	Enrolled    Code = "enrolled"     // captured (the capture is named)
	NotYet      Code = "not-yet"      // to visit
	Away        Code = "away"         // working or studying elsewhere
	Deceased    Code = "deceased"     // died
	MovedOut    Code = "moved"        // moved out of the commune
	Refused     Code = "refused"      // declined to enroll
	NotEligible Code = "not-eligible" // by age, or not a citizen
)

// Codes lists every status in the order a form offers them.
var Codes = []Code{Enrolled, NotYet, Away, Deceased, MovedOut, Refused, NotEligible}

// Known reports whether c is one of Codes.
func (c Code) Known() bool {
	for _, k := range Codes {
		if c == k {
			return true
		}
	}
	return false
}

// Status is the payload of a KindStatus entry: an officer's status of one
// person on the list.
type Status struct {
	PersonalID string `json:"personal_id"`
	Commune    string `json:"commune"`
	Status     Code   `json:"status"`
	// Capture is the entry ("origin:seq") of the person's capture when
	// Status is Enrolled: the link between the list and the dossier.
	Capture string `json:"capture,omitempty"`
	Officer string `json:"officer"`
	Note    string `json:"note,omitempty"`
	// SetAt is the laptop's clock when the officer set it: shown, never
	// used to order (Rule R2).
	SetAt time.Time `json:"set_at"`
	// Supersedes are the status entries ("origin:seq") of this person the
	// officer saw and replaces.
	Supersedes []string `json:"supersedes,omitempty"`
}

// Category is where a person counts (Rule R3).
type Category uint8

// The categories, in the order of Counts.
const (
	CatNone        Category = iota // not on any list (removed, or only a status)
	CatNotEligible                 // on a list, not eligible
	CatEnrolled                    // eligible, captured or said enrolled
	CatAccounted                   // eligible, away, deceased or moved
	CatMissing                     // eligible, none of those
)

var categoryNames = [...]string{"none", "not-eligible", "enrolled", "accounted", "missing"}

// String names the category.
func (c Category) String() string {
	if int(c) < len(categoryNames) {
		return categoryNames[c]
	}
	return "category?"
}

// MarshalText names the category in JSON.
func (c Category) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a category's name.
func (c *Category) UnmarshalText(b []byte) error {
	for i, n := range categoryNames {
		if n == string(b) {
			*c = Category(i)
			return nil
		}
	}
	return fmt.Errorf("residents: unknown category %q", b)
}
