// Package reconcile builds a hub's citizen view from the set of entries it
// holds. It is pure and order-independent: the view, and its Digest, are a
// function of the set, so every hub holding the same entries shows the same
// view, byte for byte, whatever the order they arrived in and however often.
//
//	r := reconcile.New(reconcile.Config{Matcher: m})  // in memory; Open(cfg, db) over a kv store
//	r.Apply(entries...)                   // one transaction; any order, duplicates fine
//	c, err := r.Citizen("042085000123")   // versions, shown record, conflict, history
//	r.ConflictQueue(q); r.PairQueue(q)    // the review queues, a page at a time
//	r.Stats(); r.Digest()                 // kept as entries apply: O(1)
//
// The rules, numbered as in the code:
//
// Rule 0 — authorization (gate.go; with Config.Anchor, the province's
// roster key). An entry counts only if the roster allows it: its device on
// the roster with the role and tier its genesis declares, its seq kept by
// any revocation of the device, a decision from a hub, a capture inside
// the device's scope (its commune, or a district or province holding it).
// Roster entries come from the anchor alone. Anything else is quarantined:
// listed with its reason (Quarantine, Stats.Quarantined, the digest),
// applied to nothing. A verdict that a late roster entry or genesis
// changes is given again inside the reconciler: the origins it concerns
// are taken out and applied anew (judge.go, Rejudged), nothing else is
// recomputed and nothing is read from the log.
//
// Rule 1 — citizen key. A capture is keyed by its normalized 12-digit
// personal ID number when present and well-formed; otherwise by a
// provisional key "prov:<first capture of its lineage>", until an officer
// links it. A hub never invents an ID number.
//
// Rule 2 — supersede and withdraw. An amend supersedes the entry it names; a
// void withdraws the entry it names and every amend of it. A citizen's
// current versions are the enroll and amend entries that nothing supersedes
// or withdraws. An amend or void may arrive before what it names.
//
// Rule 3 — conflict. Current versions that disagree on an identity field
// (full name, date of birth, sex, birth-registration place, father, mother)
// form a conflict. Fields compare by their normalized keys (NFC, legacy
// repair, tone placement, case), so spelling variants of one value are no
// conflict. Every version is kept. A conflict between captures of one
// district is reviewed at that district; across districts, at the province.
//
// Rule 4 — the version shown. The version a settling decision chose; else
// the one with the fewest validation warnings; else the lowest entry hash.
//
// Rule 5 — changeable fields. Current residence, marital status and
// occupation take the latest value, with history. "Latest" is causal: a
// version follows another when the same device wrote it later (higher seq)
// or when it amends it (directly or along a chain). Laptop clocks are
// wrong, so no clock and no wall time decides anything; unordered versions
// are concurrent, ordered by hash, and the current value is marked
// concurrent.
//
// Rule 6 — decisions. A resolve entry settles a subject: a conflict (it
// chooses a version among those it saw — a version arriving later reopens
// it) or a duplicate pair (same person: the citizens are linked; distinct:
// the pair is closed). Among decisions on one subject, the higher tier wins;
// among equal tiers, one that supersedes the other (its officer saw it), or
// the same hub's later one (higher seq); then the lowest entry hash. A
// decision may arrive before the entries it decides; it applies when they
// come.
//
// Rule 7 — derived, not accumulated. Everything shown is recomputed from
// the current sets when they change, never patched in arrival order; that
// is what makes the view a function of the set (checked by the golden
// files' same-in-every-order and by the 1,000-order property test).
//
// The census (census.go, package enrollment/residents) folds the
// communes' resident lists and the statuses officers set into
// completeness per person, after Rules 0, 8 and 9: a list counts only from
// a hub's channel for its commune, inside the hub's scope; a status only
// from a device serving its commune. Its digest is CensusDigest.
//
// Rule 0 (authorization by the province's roster) is in gate.go; Rules 8
// (a forked origin is set aside from the seq a hub's fork notice names)
// and 9 (a capture re-issued under a new epoch counts once: as its
// original when the view holds it, else on its own) are in epochs.go.
// Entries are judged as they arrive; when a later entry changes a
// judgement, the origins it concerns are judged again (judge.go): their
// entries taken out and applied anew, nothing else recomputed. The result
// is Replay's — every entry applied in ReplayOrder, in which no judgement
// ever changes — whatever the order (the property tests check it).
//
// Probable duplicates (different keys, same person) come from a Matcher —
// package dedup — fed with each citizen's shown record; they appear in the
// view with the decisions that settle them. Validation warnings and what
// cleaning derived (NFC, legacy repair, lost leading zero) are part of each
// citizen; the captured text is never altered.
//
// # Where the view lives
//
// The reconciler keeps the view in an ordered key-value store (package
// storage/kv; store.go has the layout): a record per entry applied, a row
// per citizen, per decision, per pair, per held entry, the review queues
// as index keys, counts per commune, and the digest's buckets. A hub's is
// a Badger store of its own beside its log (storage.Open, DIR/view); tests
// and tools use kv.Mem. In memory stay only what is small or what the
// rules need at every entry: one row per origin (its genesis, the tallies
// of Rules 0 and 8), the roster, the counters, the digest's sum — and the
// Matcher's index, which the view feeds and restores (Matcher.Load) but
// does not hold. An entry's record keeps what applying it needs (its
// kind, hash, target, the citizen it is current under, the payload of
// decisions and notices), so that judging it again reads nothing else;
// the details of a capture (identity keys, changeable fields, warnings,
// the matcher's profile) are kept once its citizen has a second version
// to compare it with, and read from the log (Config.Entries) when needed
// before that. What is shown in full (records, merged fields, history,
// findings, cleaning) is made on demand from the rows and the log.
//
// Entries apply in rounds: each ApplyDecoded is one transaction, the
// round's reads going through its own writes (kv.Batch) over a snapshot,
// with the caller's metadata (a hub's watermark) in the same transaction.
// Readers (Citizen, the queues, Stats, Digest) read the last committed
// snapshot and never wait for a round.
//
// The digest (digest.go) is a multiset hash: every item — citizen, pair,
// quarantined entry, forked origin, decision — rendered as one line,
// hashed, and added as a 256-bit number to a sum, in one of 4,096 buckets
// by its subject; an item that changes is subtracted and added again.
// The sum does not depend on the order items came in, so it is kept as
// entries apply, and two hubs that differ can compare buckets
// (DigestBuckets) to find which subjects do.
package reconcile
