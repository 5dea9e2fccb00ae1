package gossip

import (
	"fmt"
	"unicode/utf8"

	"fieldsync/replication"
)

// checkStr validates a string field before encoding it.
func checkStr(what, field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("gossip: %s: %s is %d bytes, limit %d: %w", what, field, len(s), max, replication.ErrTooLarge)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("gossip: %s: %s is not UTF-8: %w", what, field, replication.ErrMalformed)
	}
	return nil
}
