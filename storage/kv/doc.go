// Package kv is the ordered key-value contract that state kept on disk is
// written against — the hub's citizen view — so that the code keeping it
// stays pure: kv.Mem holds it in memory (tests, the simulation), and
// storage.DB on Badger (a hub). Keys are byte strings in lexical order; a
// prefix scan is the only query.
//
//	db := kv.NewMem()                                   // or storage.Open(...)
//	err := db.Update(func(t kv.Txn) error {             // atomic, all or nothing
//		return t.Set([]byte("c/042085000123"), row)
//	})
//	err = db.View(func(r kv.Reader) error {             // a consistent snapshot
//		return r.Scan([]byte("c/"), nil, func(k, v []byte) bool { ...; return true })
//	})
//
// Batch buffers writes over a Reader and reads through them, so that a
// caller can work out a whole step in memory and write it in one
// transaction (or throw it away).
package kv
