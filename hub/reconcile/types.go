package reconcile

import (
	"fieldsync/enrollment"
	"fieldsync/replication"
)

// ResolutionSchema is the schema version of a resolve entry's payload.
const ResolutionSchema = 1

// Verdicts of a duplicate decision.
const (
	VerdictSamePerson = "same-person"
	VerdictDistinct   = "distinct"
)

// Resolution is the payload of a resolve entry: an officer's decision, in
// the hub's own log, replicated like any entry. It names its subject by a
// stable ID (ConflictID or PairID), so a decision can arrive before the
// entries it decides and still apply when they come.
type Resolution struct {
	// Subject is ConflictID(key) or PairID(a, b).
	Subject string `json:"subject"`
	// Choose is the version ("origin:seq") shown for a conflict.
	Choose string `json:"choose,omitempty"`
	// Versions are the versions the officer saw: a version that arrives
	// later reopens the conflict.
	Versions []string `json:"versions,omitempty"`
	// Verdict decides a duplicate pair: VerdictSamePerson or VerdictDistinct.
	Verdict string `json:"verdict,omitempty"`
	// Supersedes are the decisions on the same subject the officer saw
	// and overrides: a causal link that needs no clock.
	Supersedes []string `json:"supersedes,omitempty"`
	Officer    string   `json:"officer"`
	Note       string   `json:"note,omitempty"`
}

// ConflictID names the conflict on a citizen.
func ConflictID(citizen string) string { return "conflict:" + citizen }

// PairID names a probable-duplicate pair (order of a, b does not matter).
func PairID(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return "pair:" + a + "|" + b
}

// Version is one current capture of a citizen (an enroll or amend entry
// that nothing supersedes or withdraws).
type Version struct {
	ID       replication.EntryID    `json:"id"`
	Hash     replication.Hash       `json:"hash"`
	HLC      replication.HLC        `json:"hlc"`
	Kind     replication.Kind       `json:"kind"`
	Record   *enrollment.Enrollment `json:"record"`
	Warnings int                    `json:"warnings"`
	// notes are the validator's warnings and notes on Record: what the
	// citizen shows when this version is shown unmerged, so that each
	// record is validated once (validation is most of a hub's ingest CPU).
	notes enrollment.Findings
}

// FieldChange is one value a changeable field took, in causal order.
type FieldChange struct {
	Value string              `json:"value"`
	Entry replication.EntryID `json:"entry"`
	HLC   replication.HLC     `json:"hlc"`
	// Concurrent is set on the current value when its capture is not
	// provably later than every other: which value is current is then a
	// deterministic choice (by hash), shown so that an officer can check.
	Concurrent bool `json:"concurrent,omitempty"`
}

// Cleaning is what cleaning derived from a captured value (the captured
// text itself is never altered).
type Cleaning struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
	Rule  string `json:"rule"`
}

// Citizen is one person in the view.
type Citizen struct {
	Key string `json:"key"` // 12-digit ID, or "prov:origin:seq"
	// Versions are every current capture, sorted by entry ID.
	Versions []Version `json:"versions"`
	// Shown is the version displayed (rules 4-5 of the package doc),
	// with changeable fields taken from the causally latest version.
	Shown    replication.EntryID    `json:"shown"`
	Record   *enrollment.Enrollment `json:"record"`
	Conflict *Conflict              `json:"conflict,omitempty"`
	// History of the changeable fields, when more than one value was seen.
	History map[string][]FieldChange `json:"history,omitempty"`
	// Findings are the validator's warnings and notes on the shown record.
	Findings enrollment.Findings `json:"findings,omitempty"`
	Cleaning []Cleaning          `json:"cleaning,omitempty"`
	// Linked are citizens an officer decided are the same person.
	Linked []string `json:"linked,omitempty"`
	Region string   `json:"region"` // old district of the capture, for routing
}

// Conflict is a disagreement on identity fields between current versions.
type Conflict struct {
	ID     string   `json:"id"`
	Fields []string `json:"fields"`
	// Level is who reviews it: "district:<code>" or "province" when the
	// versions come from different districts.
	Level string `json:"level"`
	// Resolved is the decision that settles it (nil while open).
	Resolved *Decision `json:"resolved,omitempty"`
}

// Pair is a probable duplicate in the view.
type Pair struct {
	ID      string   `json:"id"`
	A, B    string   `json:"-"`
	Keys    []string `json:"keys"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
	Level   string   `json:"level"`
	// Extra is what the matcher keeps with the pair (its model, its
	// evidence), as it wrote it.
	Extra []byte `json:"-"`
	// Model and Evidence are Extra as an officer reads it, when the
	// matcher explains its pairs (Explainer): the model that judged the
	// pair, and each line of evidence with its weight.
	Model    string     `json:"model,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// Resolved is the decision that settles it (nil while open).
	Resolved *Decision `json:"resolved,omitempty"`
}

// Decision is a resolve entry as applied.
type Decision struct {
	Entry replication.EntryID `json:"entry"`
	Tier  string              `json:"tier"`
	Resolution
	hash replication.Hash
}
