// Package residents is the commune's list of residents from the
// population register and the status of each person on it: what "đủ"
// (every eligible person enrolled or accounted for) is measured against.
// It is pure domain, like package enrollment: types, validation with the
// enrollment rules, the CSV import format, and Census, the fold that
// turns lists, statuses and captures into completeness per person.
//
// # The entries
//
// A province (or district) hub publishes each commune's list as
// replication.KindResidents entries in that commune's downward channel
// (package replication/channel), so that it reaches the commune's laptops
// and no other. Each entry is a List: the commune, the register's date
// (as_of), the age from which a person is eligible (min_age, 14 by
// default), and up to MaxRowsPerList rows keyed by personal ID number,
// plus ID numbers no longer on the list (removed). A re-import writes only
// the rows that changed.
//
// A commune officer sets a person's status on the laptop — enrolled
// (with the capture), not yet, away (working or studying elsewhere),
// deceased, moved out, refused, not eligible — as a
// replication.KindStatus entry in the laptop's own log, naming the officer
// and the status entries it replaces; it goes up like a capture.
//
// # The rules (Census)
//
// Rule R1 — the row of a person. Of every row and removal naming an ID
// number, the latest by (HLC, origin, seq, position) stands: one hub's
// later import replaces its earlier one; two hubs' concurrent imports are
// ordered by their clocks, deterministically. The person belongs to the
// commune of that row; a removal takes them off every list.
//
// Rule R2 — the status of a person. Statuses form a partial order: one
// follows another when the same device wrote it later (higher seq) or
// when it names it in Supersedes (the officer saw it). The status shown
// is the latest of those nothing follows, by (HLC, origin, seq); laptop
// clocks are wrong, so the choice among concurrent statuses is marked
// Concurrent for an officer to check.
//
// Rule R3 — the category. A person on a list is not eligible when a
// status says so or when they are younger than min_age on the list's
// as_of date (a year-only date of birth counts from 31 December, a
// month-only one from the month's last day: nobody is counted eligible
// before they are). An eligible person is enrolled when a capture of
// their ID number is held or a status says enrolled; else accounted for
// when the status is away, deceased or moved; else missing (not yet,
// refused, or no status). A commune is complete when it has eligible
// people and none missing.
//
// Everything Census shows is a function of the set of entries and
// captures given, in any order (the tests apply them in many); Retract
// is Apply's exact inverse.
//
// # Where a census lives
//
// NewCensus keeps it in memory (a laptop's one commune, with its rows, for
// look-ups while capturing). NewStoredCensus keeps it in a key-value
// transaction (a hub's view: a reconcile.Component in the view's store, a
// record of about 100 bytes per person and nothing on the heap), read back
// from a snapshot with StoredCommunes, StoredCommune, StoredPeople,
// StoredPerson and StoredDigest. Both run the same fold (census.go); the
// tests check that they show the same.
package residents
