package oplog

import (
	"fmt"

	"fieldsync/replication"
)

// MaxMetaKeyBytes bounds a metadata key.
const MaxMetaKeyBytes = 512

// CheckMeta checks metadata keys and values against the limits.
func CheckMeta(kvs []KV) error {
	for _, kv := range kvs {
		if kv.Key == "" || len(kv.Key) > MaxMetaKeyBytes {
			return fmt.Errorf("%w: metadata key of %d bytes (1..%d)", replication.ErrMalformed, len(kv.Key), MaxMetaKeyBytes)
		}
		if len(kv.Value) > MaxMetaValueBytes {
			return fmt.Errorf("%w: metadata %q is %d bytes, limit %d", replication.ErrTooLarge, kv.Key, len(kv.Value), MaxMetaValueBytes)
		}
	}
	return nil
}
