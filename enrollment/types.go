package enrollment

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the version of the Enrollment payload in the log. A
// reader refuses payloads of a higher version rather than guess.
const SchemaVersion = 1

// Enrollment is one capture of a citizen's data at a commune station: the
// citizen fields of DOMAIN.md §2 and §7, the capture metadata, and
// references to biometric blobs by content hash.
//
// Text is kept exactly as captured (UTF-8, Vietnamese intact, even NFD or a
// legacy encoding); matching keys are derived (see NameKey) and never
// written back. JSON names are snake_case.
type Enrollment struct {
	// PersonalID is the 12-digit personal ID number as captured (it may hold
	// spaces, dots or full-width digits; NormalizePersonalID cleans it). It
	// is empty when the citizen has none yet: a device never invents one.
	PersonalID  string   `json:"personal_id,omitempty"`
	FullName    string   `json:"full_name"`
	OtherNames  []string `json:"other_names,omitempty"`
	DateOfBirth Date     `json:"date_of_birth"`
	Sex         Sex      `json:"sex"`
	// EthnicityCode is the two-digit code of DOMAIN.md §3.1 ("01" Kinh).
	EthnicityCode string `json:"ethnicity_code"`
	Religion      string `json:"religion,omitempty"` // a name from Religions(); "Không" = none
	// Nationality lists nationalities by name ("Việt Nam" first).
	Nationality       []string `json:"nationality"`
	BirthPlace        *Place   `json:"birth_place,omitempty"` // nơi sinh (2023 law)
	BirthRegistration Place    `json:"birth_registration"`    // nơi đăng ký khai sinh: drives the ID prefix
	Hometown          Place    `json:"hometown"`              // quê quán
	// PermanentResidence is nơi thường trú; CurrentResidence nơi ở hiện tại.
	PermanentResidence Place  `json:"permanent_residence"`
	CurrentResidence   *Place `json:"current_residence,omitempty"`
	Occupation         string `json:"occupation,omitempty"`
	MaritalStatus      string `json:"marital_status,omitempty"` // see MaritalStatuses
	BloodType          string `json:"blood_type,omitempty"`     // A, B, AB, O, optionally + or -
	// LegacyIDNumber is the old 9-digit CMND, if any.
	LegacyIDNumber string    `json:"legacy_id_number,omitempty"`
	Father         *Relative `json:"father,omitempty"`
	Mother         *Relative `json:"mother,omitempty"`
	Spouse         *Relative `json:"spouse,omitempty"`
	HouseholdHead  *Relative `json:"household_head,omitempty"`
	// RelationToHead is the citizen's relationship to the household head
	// (see Relations); "Chủ hộ" when the citizen is the head.
	RelationToHead string    `json:"relation_to_head,omitempty"`
	Capture        Capture   `json:"capture"`
	Biometrics     []BlobRef `json:"biometrics,omitempty"`
}

// Place is an address or place as a unit code with its code-list version,
// plus the original text exactly as captured. Codes are reused with new
// meanings across versions (DOMAIN.md §0.5), so the version is part of it.
type Place struct {
	UnitCode string `json:"unit_code,omitempty"` // 2-digit province or 5-digit commune
	CodeList string `json:"code_list,omitempty"` // CodeList2023 or CodeList2025
	Text     string `json:"text,omitempty"`      // as captured
}

// IsZero reports whether nothing was captured for the place.
func (p Place) IsZero() bool { return p.UnitCode == "" && p.Text == "" }

// Relative is a parent, spouse or household head, by name and ID number.
type Relative struct {
	FullName   string `json:"full_name"`
	PersonalID string `json:"personal_id,omitempty"`
	// DateOfBirth, when known, lets the validator check e.g. that a child
	// is not older than the household head.
	DateOfBirth *Date  `json:"date_of_birth,omitempty"`
	Nationality string `json:"nationality,omitempty"`
}

// Capture is who captured the record, where, with what, and when (by the
// device's clock, which may be wrong: it is metadata, never an ordering).
type Capture struct {
	CommuneCode string    `json:"commune_code"` // unit code of the capturing commune
	CodeList    string    `json:"code_list,omitempty"`
	Officer     string    `json:"officer"` // officer's badge or account ID
	Device      string    `json:"device"`  // device ID (see replication.DeviceID)
	CapturedAt  time.Time `json:"captured_at"`
	// RequestType is cấp mới (new), cấp đổi (renewal) or cấp lại (re-issue).
	RequestType string `json:"request_type,omitempty"`
}

// BlobRef names a biometric blob by content hash; the blob itself is stored
// and moved apart from records.
type BlobRef struct {
	Kind   string `json:"kind"`   // "face", "finger_r1".."finger_l5", "slap_r4", "iris_l", ...
	SHA256 string `json:"sha256"` // hex
	Size   int64  `json:"size"`
	// Exception records why a slot is empty (amputation, injury), per
	// Circular 60/2021: then SHA256 is empty.
	Exception string `json:"exception,omitempty"`
}

// Sex is Nam (male) or Nữ (female), the two values an ID number encodes.
type Sex string

const (
	Male   Sex = "Nam" // male
	Female Sex = "Nữ"  // female
)

// ParseSex accepts Nam/Nữ in any case, with or without diacritics, and the
// English words and M/F letters that spreadsheets use.
func ParseSex(s string) (Sex, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nam", "male", "m":
		return Male, true
	case "nữ", "nu", "nư", "female", "f":
		return Female, true
	}
	return "", false
}

// UnmarshalJSON accepts the same forms as ParseSex; anything else is kept as
// captured so that validation can name it (decoding never guesses).
func (s *Sex) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("enrollment: want the sex as text, \"Nam\" or \"Nữ\"")
	}
	if v, ok := ParseSex(str); ok {
		*s = v
		return nil
	}
	*s = Sex(str)
	return nil
}

// Precision says how much of a date of birth is known.
type Precision string

const (
	PrecisionDay   Precision = "day"   // year, month and day known
	PrecisionMonth Precision = "month" // year and month known
	PrecisionYear  Precision = "year"  // only the year known
)

// Date is a calendar date with a precision: the elderly often have only a
// year or a month (DOMAIN.md §2.6). JSON form is "YYYY-MM-DD", "YYYY-MM" or
// "YYYY"; ParseDate also reads the Vietnamese "dd/mm/yyyy" and "mm/yyyy".
// A Date is not checked for being a real day here; Validate does that.
type Date struct {
	Year  int
	Month int // 0 when unknown
	Day   int // 0 when unknown
}

// Precision returns how much of the date is known.
func (d Date) Precision() Precision {
	switch {
	case d.Day != 0:
		return PrecisionDay
	case d.Month != 0:
		return PrecisionMonth
	}
	return PrecisionYear
}

// IsZero reports whether no date was given.
func (d Date) IsZero() bool { return d == Date{} }

// String renders the canonical form: YYYY-MM-DD, YYYY-MM or YYYY.
func (d Date) String() string {
	switch d.Precision() {
	case PrecisionDay:
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	case PrecisionMonth:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	if d.Year == 0 {
		return ""
	}
	return fmt.Sprintf("%04d", d.Year)
}

// MarshalJSON writes the canonical string form.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads any form ParseDate reads.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("enrollment: want a date as text such as \"1985-03-12\", \"1985-03\" or \"1985\"")
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDate reads YYYY-MM-DD, YYYY-MM, YYYY, dd/mm/yyyy, mm/yyyy (and
// yyyy/mm/dd, recognised by its four-digit first part). It checks
// only the shape; whether the day exists is Validate's job, so that the
// officer sees a message naming the field rather than a decode error.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}, nil
	}
	var parts []string
	var order string
	switch {
	case strings.Contains(s, "-"):
		parts, order = strings.Split(s, "-"), "ymd"
	case strings.Contains(s, "/"):
		parts, order = strings.Split(s, "/"), "dmy"
		if len(parts[0]) == 4 { // yyyy/mm/dd, as some spreadsheets write
			order = "ymd"
		}
	default:
		parts, order = []string{s}, "ymd"
	}
	if len(parts) > 3 {
		return Date{}, fmt.Errorf("date %q: too many parts", s)
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 4 {
			return Date{}, fmt.Errorf("date %q: %q is not a number", s, p)
		}
		nums[i] = n
	}
	if order == "dmy" { // reverse to y, m, d
		for i, j := 0, len(nums)-1; i < j; i, j = i+1, j-1 {
			nums[i], nums[j] = nums[j], nums[i]
		}
	}
	d := Date{Year: nums[0]}
	if len(nums) > 1 {
		d.Month = nums[1]
	}
	if len(nums) > 2 {
		d.Day = nums[2]
	}
	return d, nil
}

// MaritalStatuses are the values of marital_status (DOMAIN.md §2.6).
var MaritalStatuses = []string{"Chưa kết hôn", "Đã kết hôn", "Ly hôn", "Góa"}

// Relations are the values of relation_to_head (DOMAIN.md §2.6).
var Relations = []string{"Chủ hộ", "Vợ", "Chồng", "Con", "Cha", "Mẹ", "Ông", "Bà", "Cháu", "Anh", "Chị", "Em", "Con dâu", "Con rể", "Khác"}

// Amendment is the payload of an amend entry: a full corrected record that
// supersedes the entry it names (an enroll or an earlier amend).
type Amendment struct {
	// Target is the entry corrected, as "origin:seq".
	Target string     `json:"target"`
	Reason string     `json:"reason,omitempty"`
	Record Enrollment `json:"record"`
}

// Voiding is the payload of a void entry: the capture named is withdrawn.
type Voiding struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}
