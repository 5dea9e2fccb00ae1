// Package enrollment is the shared domain of fieldsync: the shape of a
// citizen enrollment (DOMAIN.md §2, §7), the rules that say whether it is
// right, the Vietnamese-aware normalization that derives matching keys, and
// the reference tables (ID-number province prefixes, the 54 ethnic groups,
// religions, Hà Tĩnh's units in the 2023 and 2025 code lists) compiled into
// the binary.
//
// It is pure: no I/O, no clock (the validator takes "now" as an argument).
// Captured text is never altered; keys are derived from it.
package enrollment
