package legacydedup

import (
	"fmt"

	"fieldsync/enrollment"
)

// Record is one citizen as the hub's view shows it: the input of the
// detector. The detector never modifies it.
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
	// Score is the probability-like strength of the evidence, in (0, 1):
	// 1/(1+2^-points), see doc.go.
	Score float64
	// Points is the integer sum of evidence weights behind Score (log2
	// odds); shown so that a reviewer can see how far above the threshold
	// a pair is.
	Points int
	// Reasons are stable evidence codes (the Reason* constants), in the
	// fixed order of ReasonOrder: what agrees and what disagrees.
	Reasons          []string
	RegionA, RegionB string
}

// String renders the pair on one line, for logs and test failures.
func (p Pair) String() string {
	return fmt.Sprintf("%s %s %.4f (%+d) %v", p.A, p.B, p.Score, p.Points, p.Reasons)
}

// Limits and defaults.
const (
	// DefaultThreshold is the score from which a pair is proposed: 0.5,
	// more likely than not, i.e. at least 0 points (see doc.go).
	DefaultThreshold = 0.5
	// DefaultMaxBlock bounds the members of a block compared with one
	// another. A bigger block is split by a finer key (see blocking.go);
	// records whose finest block is still too big are not compared in
	// that family and are counted in Stats.
	DefaultMaxBlock = 64
	// MinMaxBlock and MaxMaxBlock bound Config.MaxBlock: an oversized block
	// costs up to MaxBlock² comparisons when it crosses the limit.
	MinMaxBlock = 2
	MaxMaxBlock = 4096
)

// Config tunes an Index.
type Config struct {
	// Threshold is the minimum Score of a proposed pair, in (0, 1).
	// Default DefaultThreshold.
	Threshold float64
	// MaxBlock is "a limit on everything": the largest block whose members
	// are compared with one another. Default DefaultMaxBlock; within
	// [MinMaxBlock, MaxMaxBlock].
	MaxBlock int
}

// DefaultConfig returns the configuration measured in doc.go.
func DefaultConfig() Config {
	return Config{Threshold: DefaultThreshold, MaxBlock: DefaultMaxBlock}
}

// Validate fills zero fields with their defaults and checks the ranges.
func (c *Config) Validate() error {
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.MaxBlock == 0 {
		c.MaxBlock = DefaultMaxBlock
	}
	switch {
	case !(c.Threshold > 0 && c.Threshold < 1):
		return fmt.Errorf("dedup: threshold %v not in (0, 1)", c.Threshold)
	case c.MaxBlock < MinMaxBlock || c.MaxBlock > MaxMaxBlock:
		return fmt.Errorf("dedup: max block %d not in [%d, %d]", c.MaxBlock, MinMaxBlock, MaxMaxBlock)
	}
	return nil
}
