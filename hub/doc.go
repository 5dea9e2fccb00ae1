// Package hub is the hub shell: a district or provincial hub takes in the
// entries that arrive from below (laptops, lower hubs, USB bundles), keeps
// them, shows officers a citizen view built from them, writes their
// decisions as signed entries of its own, and forwards everything upward
// unchanged, so the province verifies each laptop's own signatures end to
// end. Tiers are configuration: a hub has zero or one parent; the province
// is the roster's anchor.
//
// # The pipeline
//
//	sync sessions, bundles ─► log (oplog.Ingest: one synced transaction) ─► ack
//	                            │ (the session never waits on what follows)
//	                            ├─► View (view.go): follows the log behind a watermark,
//	                            │     round by round, through package reconcile's rules
//	                            │     ─► queues, counts, digest, citizens per commune
//	                            ├─► dossier completeness (dossiers.go): which dossiers
//	                            │     lack blobs, per commune and district
//	                            └─► replicator: the same entries up to the parent hub
//	officers ─► dashboard / API / CLI ─► Author (resolve.go, roster.go): a decision or
//	            a roster change is an entry in the hub's own origin, written to
//	            the log, applied by the View like any other, replicated like any other
//
// A sync session acknowledges a batch once the log has it on disk; it
// never waits for the citizen view. The View follows the log from a
// goroutine of its own, behind a watermark (the seq applied through, per
// origin) written with each round of rows in its own store, DIR/view
// (package reconcile keeps the rules, storage the bytes). A restart
// resumes from the watermark; a view found damaged is built again from
// the log. Readers — the API, the dashboard, /metrics — read the view's
// last committed snapshot: nothing they do waits for a round, and nothing
// walks every citizen (counts, the digest, the queues and the citizens per
// commune are kept as entries apply). What the hub writes itself (a
// decision, a roster change) is shown before the request returns
// (View.WaitFor).
//
// # Files
//
//   - daemon.go: Daemon, the running hub: the replica's base (runtime
//     daemon: log, replicator, gossip, local API, /metrics), the View and
//     its loops (the view, dossier counts, receipts, the duplicate model).
//   - view.go: View, the citizen view following the log.
//   - resolve.go, roster.go: Author, the hub's own entries: decisions on
//     conflicts and probable duplicates, roster and revocation entries.
//   - forks.go: fork notices (a device's log found forked).
//   - matcher.go, model.go: the duplicate detector (package dedup) as the
//     view's matcher, and the learnt model the top tier publishes.
//   - receipts.go: the province's receipts, which let laptops release
//     blobs; residents.go: resident lists imported and sent down.
//   - dossiers.go: dossier completeness; source.go: what the dashboard
//     reads of the hub.
//
// # Packages below
//
//   - hub/reconcile: the view's rules, pure and order-independent (every
//     hub holding the same entries shows the same view, byte for byte).
//   - hub/dedup: probable duplicates, a learnt Fellegi–Sunter model.
//   - hub/dashboard: the operator's web pages, embedded in the binary.
package hub
