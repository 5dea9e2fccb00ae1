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
// Key layout of a log: e|origin|seq → entry, h|origin → head, m|key → meta.
// Fixed-length origins and big-endian seqs make "origin X above seq N" one
// prefix scan.
package storage
