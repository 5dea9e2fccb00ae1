// Package pii is the policy for personal data shown to an operator.
//
// Commands that show citizens' records (log, conflicts, duplicates,
// rejected, enroll's findings) print them to an operator, on purpose. On a
// terminal they show everything. Written anywhere else — a file, a pipe,
// a log collector — names, ID numbers, dates and free text are masked,
// unless the operator says (--show-pii) they mean to export them. So
// nothing personal lands in a file by accident (a redirect, a scrollback
// log, a cron job), and an export is a deliberate, visible act.
// docs/keys.md records this policy.
//
// A Masker applies it: free text word by word (each word keeps its first
// letter; an ID number its province prefix and last two digits), a
// validation finding by its rule's summary (the message quotes the value),
// a decoding error by its field, and JSON by an allowlist of keys whose
// values are never personal — a field added later is masked
// until someone decides it is not personal. The command decides Show (a
// terminal, or the flag); anything else that prints records for export
// (an API, the dashboard's downloads) should mask through the same Masker.
package pii
