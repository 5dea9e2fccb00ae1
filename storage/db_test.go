package storage_test

import (
	"testing"

	"fieldsync/storage"
	"fieldsync/storage/kv"
	"fieldsync/storage/kv/kvtest"
)

func TestDBConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB {
		db, err := storage.Open(storage.Options{Dir: t.TempDir(), EncryptionKey: newKey(t), NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
