// Package hub is the hub shell: a district or provincial hub ingests the
// entries that arrive from below (laptops, lower hubs), keeps them, and
// forwards everything upward unchanged, so the province verifies each
// laptop's own signatures end to end. Tiers are configuration: a hub has
// zero or one parent.
//
// A sync session acknowledges a batch once the log has it on disk; it
// never waits for the citizen view. The view (View, view.go) follows the
// log from a goroutine of its own, behind a watermark (the seq applied
// through, per origin) written with each round of rows in its own store,
// DIR/view (package reconcile keeps the rules, storage the bytes). A
// restart resumes from the watermark; a view found damaged is built again
// from the log. Readers — the API, the dashboard, /metrics — read the
// view's last committed snapshot: nothing they do waits for a round, and
// nothing walks every citizen (counts, the digest, the queues and the
// citizens per commune are kept as entries apply). What the hub writes
// itself (a decision, a roster change) is shown before the request
// returns (View.WaitFor).
package hub
