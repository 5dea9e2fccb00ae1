// Package dossier joins the enrollment domain to the blob store: which
// blobs a record references (RefsOf, the blob.RefsFunc given to the sync
// layer so that it never imports the domain), and what a dossier's files
// must be (format, size and slot checks at capture).
//
// It is pure: no I/O and no clock.
package dossier
