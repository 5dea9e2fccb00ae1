// Package diskfree tells how much a process may still write on a disk, for
// the free-space floors of the log (package oplog) and the blob store
// (package blob/sealed): a write is refused before anything is
// acknowledged when the disk is nearly full.
package diskfree
