package wire

import (
	"errors"
	"fmt"

	"fieldsync/replication"
)

// ErrInvalidMessage is returned (wrapped) by AppendFrame and WriteFrame when
// the message breaks an invariant of its type: unsorted or duplicate heads,
// a range whose entries are not contiguous or do not link (then it also
// wraps replication.ErrBrokenChain), a string that is not UTF-8. It is the
// caller's bug, not the peer's; nothing was written. A message over a limit
// wraps replication.ErrTooLarge instead.
//
// Decoders never return it: bad input from the wire wraps
// replication.ErrMalformed, input over a limit replication.ErrTooLarge, and
// the message names the field.
var ErrInvalidMessage = errors.New("invalid message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{replication.ErrMalformed}, args...)...)
}

func tooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{replication.ErrTooLarge}, args...)...)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidMessage}, args...)...)
}
