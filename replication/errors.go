package replication

import "errors"

// ErrMalformed is returned (wrapped) by every decoder in fieldsync when the
// input is not a valid encoding: wrong length, unknown version, trailing
// bytes, a count larger than the data. The wrapping message says which field.
var ErrMalformed = errors.New("malformed input")

// ErrTooLarge is returned (wrapped) when an input or a derived allocation
// would exceed a configured limit (payload, batch, decompressed size).
var ErrTooLarge = errors.New("input exceeds limit")

// ErrBadSignature is returned (wrapped) when an entry's or chain head's
// signature does not verify under the origin's key.
var ErrBadSignature = errors.New("signature does not verify")

// ErrBrokenChain is returned (wrapped) when an entry's previous-hash does not
// match the hash of the entry before it, or seqs are not contiguous.
var ErrBrokenChain = errors.New("hash chain broken")

// ErrFork is returned (wrapped) when two different entries claim the same
// (origin, seq). The second one is evidence, never applied.
var ErrFork = errors.New("fork: two different entries for the same origin and seq")

// ErrUnknownOrigin is returned (wrapped) when an entry arrives for an origin
// whose genesis entry (and so whose key) is not held.
var ErrUnknownOrigin = errors.New("unknown origin")
