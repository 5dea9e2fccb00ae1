// Package legacydedup is the probable-duplicate detector of hub/dedup as
// it was before issue #12 (hand-set integer points, five blocking
// families), frozen here as a baseline for `fieldsync bench dedup`: the
// bench compares the learnt model with it on the same records. Nothing
// ships with it; it is not maintained beyond keeping it building. Its
// design is described in the history of hub/dedup/doc.go (commit
// 83c6f4c).
package legacydedup
