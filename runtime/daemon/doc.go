// Package daemon is what every running fieldsync replica shares, field node
// or hub (`fieldsync run`): the base a node.Daemon or hub.Daemon builds on.
// It is shipped runtime, linked only by node/, hub/ and cmd/ (the layout
// lint checks it).
//
// A Base (New) holds:
//
//   - the sync runtime: a replicator (package replicator) over the data
//     directory's log, with the trust it needs (trust.go): the roster's
//     live copy as the session Verifier and the TLS peer check, or an
//     explicit open mode; a directory with neither is refused
//     (ErrNoAnchor). Roster entries that arrive are folded in as they are
//     ingested (Observe), never by re-reading the log;
//   - the local API (package localapi) with ping, status and the bundle
//     routes (bundles.go: export and import on a USB stick, through
//     package bundleops), and the public handler the shell adds;
//   - the alarms an operator must see: forks, refused entries (with their
//     evidence, bounded), a rolled-back log (a new epoch: Run returns
//     ErrRestart), a disk below its floor, a blob store that does not
//     answer;
//   - the replica's Prometheus metrics (metrics.go), in a registry of its
//     own: ingest counts, sync errors by kind, sessions by outcome, per
//     peer backlog and traffic, the blob store; a shell adds its gauges
//     and collectors (Gauge, Collector). No label carries personal data.
//
// Run serves the API and the public handler and runs the replicator until
// its context ends.
package daemon
