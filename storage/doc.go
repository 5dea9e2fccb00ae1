// Package storage is fieldsync's storage engine, Badger, and the only
// package that imports it (internal/lint checks that no pure package links
// it, even indirectly). It holds:
//
//   - OpenLog: the oplog.Log on disk, the store of every origin log a
//     replica holds (the contract and its rules are package oplog);
//   - Open: a kv.DB of its own (package kv), encrypted like the log — the
//     hub keeps its citizen view in one, beside the log;
//   - the engine's options for each kind of machine (Profile), encryption
//     at rest (MasterKeySize, CheckKey, Rekey; docs/keys.md), the
//     free-space floor below which writes are refused (Badger cannot report
//     a full disk cleanly: DefaultMinFree), and raw writers that benchmarks
//     measure the log against.
//
// Damage on disk (integrity.go, appended.go) is found and named, never
// read past: Badger checks every block's checksum when it reads it and
// every value's; before Badger opens a directory, its manifest is read
// (one whose tail no longer reads while tables it no longer lists are on
// disk would make Badger delete them) and every table's footer and index
// opened (a damaged footer makes Badger v4.9.6 panic in a goroutine of its
// own); a scan that ends below its origin's head is damage, not a shorter
// log; every Append records the head it acknowledged in APPENDED, outside
// Badger, so that a memtable log replayed short after a crash (Badger
// drops what follows a damaged entry, in silence) is refused at open;
// Log.VerifyStore reads every table whole (`fieldsync verify`). Each is a
// *DamageError naming the file and what it holds.
//
// Key layout of a log: e|origin|seq → entry, h|origin → head, m|key → meta.
// Fixed-length origins and big-endian seqs make "origin X above seq N" one
// prefix scan.
package storage
