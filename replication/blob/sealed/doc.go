// Package sealed is the blob store of every replica: a content-addressed
// directory of sealed files (DIR/blobs of a data directory), one file per
// blob, encrypted and authenticated at rest.
//
//	DIR/blobs/ab/abcdef…   a committed blob: the name is HMAC-SHA256 of its
//	                       hash under a key of the store, in hex
//	DIR/blobs/partial/…    partial writes (a blob arriving chunk by chunk)
//
// A file is a header — a random salt and the blob's hash and size, sealed —
// and records of at most RecordSize plain bytes, each sealed with
// AES-256-GCM under the file's own key (HKDF of the store's key and the
// salt) with the blob's hash, size and the record's offset as additional
// data (format.go has the layout). Nothing of a blob, not even which image
// it is, is readable without the key. The key comes from the data
// directory (datadir.Keyring.BlobKey): derived from the sealed device key,
// so it is under the master key and survives a rekey unchanged.
//
// Writes follow blob.Store: a Writer appends records to the partial file;
// Sync fsyncs it (and, the first time, its directory); Commit checks the
// SHA-256 and size of the whole, fsyncs, renames the file to its committed
// name and fsyncs that directory — only then does Has see it, and a capture
// is acknowledged only after. A blob is stored once however many records
// reference it (its name is its hash). Begin resumes a partial write after
// opening each of its records again (a torn last record is cut), so a
// resumed blob is checked from its first byte. Reads open every record
// before returning a byte of it, and a sequential read checks the whole
// SHA-256 before io.EOF: a flipped bit, a truncated file, records swapped
// or a file renamed to another blob's name are blob.ErrCorrupt, never bytes.
// A write is refused with blob.ErrDiskFull below a free-space floor, and
// ENOSPC is reported as the same; nothing of such a write is acknowledged.
//
// # Why files and not Badger's value log
//
// Measured (BENCHMARKS.md, "Blob store: sealed files or Badger's value
// log"), against the same blobs in Badger's value log (values > 1 KiB
// there, chunked at RecordSize, encrypted, synced): Badger writes a whole
// dossier in one transaction several times faster (16 against 42 ms with
// the blobs put concurrently: one fsync against 34 for 17 files), but
//
//   - retention gets the disk back at once with files: deleting half of
//     200 dossiers (203 MB) freed 101.7 MB; Badger freed nothing, and its
//     value-log GC found nothing to rewrite either (a laptop that drops
//     receipted blobs must really drop them: a stolen laptop holds only
//     what the freeze rule allows, and deleted biometrics must not linger
//     in a value log);
//   - receiving a blob in 16 KiB chunks, each durable before it is
//     acknowledged (a hub on 2G links), files were faster in 4 runs of 5
//     (median 33 against 53 ms for 300 KB);
//   - Badger used 339 MB of disk for 203 MB of blobs;
//   - blob I/O stays apart from the log's LSM tree and its compactions, and
//     RELIABILITY.md §8 asks to keep large values out of the value log's
//     sync path.
//
// The capture cost of files — tens of milliseconds a dossier, against
// minutes to capture one — does not matter; the hub's chunk path and the
// laptop's retention do.
package sealed
