// Package bundleops is the shell of sneakernet bundles (package
// replication/bundle) over a data directory: which hub a laptop means,
// the session configs and the roster, the files of a bundle's parts, and
// what a replica remembers of bundles in flight. `fieldsync bundle` calls
// it directly when no daemon runs, and the daemon's API
// (/api/bundle/export, /api/bundle/import, /api/bundles) calls it when one
// does, with its running replicator, so the two never differ.
package bundleops
