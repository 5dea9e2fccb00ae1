package dedup

import (
	"fmt"

	"fieldsync/enrollment"
)

// Record is one citizen as the hub's view shows it: the input of the
// detector. The Index reads it during Put and keeps only a compact profile.
type Record struct {
	// Key is the citizen key: a 12-digit personal ID number, or
	// "prov:..." for a capture without one. Keys are unique in an Index.
	Key string
	// Enrollment is the version the view shows for this citizen.
	Enrollment *enrollment.Enrollment
	// Keys is enrollment.Keys(Enrollment), precomputed by the caller.
	Keys enrollment.MatchKeys
	// Region is the routing scope for review (e.g. an old district code);
	// informational, copied into the pairs.
	Region string
}

// Pair is a probable duplicate: two citizen keys that look like the same
// person, with the evidence an officer reviews.
type Pair struct {
	A, B string // citizen keys, A < B
	// Score is the probability that the two are one person under the
	// model, 1/(1+2^(-Points16/16)).
	Score float64
	// Points16 is the sum of the evidence weights and the prior, in
	// sixteenths of a bit (log2 odds); a pair is proposed from the model's
	// threshold (0 by default: more likely than not).
	Points16 int32
	// Reasons are the evidence codes, in comparison order (Evidence has
	// them with their weights and sentences).
	Reasons  []string
	Evidence []Evidence
	// Model is the ID of the model that judged the pair.
	Model            string
	RegionA, RegionB string
	// Extra is the pair as a view stores it (DecodeExtra reads it back):
	// the model, the points and each comparison's level and weight.
	Extra []byte
}

// String renders the pair on one line, for logs and test failures.
func (p Pair) String() string {
	return fmt.Sprintf("%s %s %.4f (%+.2f bits, model %s) %v", p.A, p.B, p.Score, float64(p.Points16)/16, p.Model, p.Reasons)
}

// Limits and defaults.
const (
	// DefaultMaxBlock bounds the members of a block compared with one
	// another. A bigger block is split by a finer key; records whose
	// finest block is still too big are not compared in that family and
	// are counted in Stats.
	DefaultMaxBlock = 64
	// MinMaxBlock and MaxMaxBlock bound Config.MaxBlock: an oversized block
	// costs up to MaxBlock² comparisons when it crosses the limit.
	MinMaxBlock = 2
	MaxMaxBlock = 4096
	// MaxRecords bounds an Index (slots are 32-bit; a province has a few
	// million citizens).
	MaxRecords = 1 << 30
)

// Config tunes an Index.
type Config struct {
	// MaxBlock is "a limit on everything": the largest block whose members
	// are compared with one another. Default DefaultMaxBlock; within
	// [MinMaxBlock, MaxMaxBlock].
	MaxBlock int
	// Model judges the pairs; nil takes DefaultModel(). SetModel changes it.
	Model *Model
	// NoRules turns the hard rules and the better-match exclusion off: the
	// plain Fellegi–Sunter decision, for comparison in the bench. A hub
	// never sets it.
	NoRules bool
}

// DefaultConfig returns the configuration measured in doc.go.
func DefaultConfig() Config { return Config{MaxBlock: DefaultMaxBlock} }

// Validate fills zero fields with their defaults and checks the ranges.
func (c *Config) Validate() error {
	if c.MaxBlock == 0 {
		c.MaxBlock = DefaultMaxBlock
	}
	if c.MaxBlock < MinMaxBlock || c.MaxBlock > MaxMaxBlock {
		return fmt.Errorf("dedup: max block %d not in [%d, %d]", c.MaxBlock, MinMaxBlock, MaxMaxBlock)
	}
	if c.Model == nil {
		c.Model = DefaultModel()
	}
	return nil
}
