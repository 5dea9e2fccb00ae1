// Package blob is the vocabulary and the store of biometric blobs: the
// portrait, fingerprint, iris and signature images of a dossier, named by
// the SHA-256 of their bytes and kept apart from the records that
// reference them.
//
//	id := blob.IDOf(jpegBytes)                 // hash and size from the bytes, never from input
//	err := store.Put(id, bytes.NewReader(jpegBytes))  // verified, durable, visible
//	held, _ := store.Has([]blob.Hash{a, b, c}) // want/have by hash, one call per batch
//	r, _ := store.Open(id.Hash)                // every byte verified before it is returned
//
// # Chunked, resumable writes
//
// A blob that arrives over a thin link is written chunk by chunk through a
// Writer: Begin(id) opens a new partial write or resumes the one a cut or a
// crash left, at Durable(); Write appends; Sync makes the written bytes
// durable and records the resume point (acknowledge a chunk only after
// Sync); Commit checks the whole blob against id — size and SHA-256 — and
// only then makes it visible to Has, Stat and Open. A blob whose bytes do not
// match id never becomes visible: Commit discards it and returns
// ErrMismatch. A Write past id.Size is refused the same way, before a byte
// of it is kept, so a peer cannot make a store hold more than the reference
// it checked.
//
// Resuming checks what is kept: the sealed store opens every record of the
// durable prefix again (and so recomputes the prefix's SHA-256), cutting a
// record a crash tore, so a resumed blob is verified from its first byte.
//
// # Implementations
//
// Mem (this package) keeps everything in memory, for tests and the
// deterministic simulation; its Crash models a kill -9 (partial bytes not
// synced are lost). The local sealed store of every replica is package
// blob/sealed (files, chosen over Badger's value log by measurement); a
// hub may keep its blobs on an S3-compatible object store (package
// blob/s3, sealed by the hub before upload, multipart and resumable).
// blobtest.Run is the conformance suite every Store passes.
//
// # What the sync layer knows of records
//
// The store does not know records. The sync layer learns which blobs an
// entry references through a RefsFunc it is given (package dossier has the
// one for enrollment entries), so that syncproto imports neither the
// enrollment domain nor a store. A Ref carries the slot and a Rank that
// orders transfer (what the card needs first goes first).
package blob
