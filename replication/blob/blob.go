package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"fieldsync/replication"
)

// MaxSize bounds one blob. A portrait is at most about 0.5 MB and a slap
// image 200 KB (DOMAIN.md §6.4); 16 MiB leaves room for a raw image or a
// scanned form and still bounds what one reference can make a store hold.
const MaxSize = 16 << 20

// MaxHasBatch bounds the hashes one Has call answers (a want/have round).
const MaxHasBatch = 4096

// HashSize is the size of a blob's hash (SHA-256).
const HashSize = sha256.Size

// Hash is the SHA-256 of a blob's plain bytes: its name everywhere.
type Hash [HashSize]byte

// HashOf returns the SHA-256 of b.
func HashOf(b []byte) Hash { return sha256.Sum256(b) }

// String returns the hash in lowercase hex (64 digits).
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the first 12 hex digits, for logs and messages.
func (h Hash) Short() string { return h.String()[:12] }

// IsZero reports whether h is the zero hash (no blob).
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes the hash in hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText parses 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash parses a hash written as 64 hex digits (either case).
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("%w: blob hash %q: want %d hex digits", replication.ErrMalformed, clip(s), 2*HashSize)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: blob hash %q: not hex", replication.ErrMalformed, clip(s))
	}
	return h, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// ID is what a store knows of a blob: its hash and size. Both are computed
// from the bytes (IDOf) where they are captured, never taken from input.
type ID struct {
	Hash Hash  `json:"sha256"`
	Size int64 `json:"size"`
}

// IDOf returns the ID of b.
func IDOf(b []byte) ID { return ID{Hash: HashOf(b), Size: int64(len(b))} }

// String renders "hash-prefix/size".
func (id ID) String() string { return fmt.Sprintf("%s/%d", id.Hash.Short(), id.Size) }

// Check reports whether id can name a stored blob: a non-zero hash and a
// size in 1..MaxSize (an empty slot has no blob; it has an exception code).
func (id ID) Check() error {
	switch {
	case id.Hash.IsZero():
		return fmt.Errorf("%w: blob %s: zero hash", replication.ErrMalformed, id)
	case id.Size <= 0:
		return fmt.Errorf("%w: blob %s: size %d, want at least 1 byte", replication.ErrMalformed, id, id.Size)
	case id.Size > MaxSize:
		return fmt.Errorf("%w: blob %s: %d bytes, limit %d", replication.ErrTooLarge, id, id.Size, MaxSize)
	}
	return nil
}

// Ref is a blob as a record references it: which slot of the dossier
// ("face", "finger_r2", "slap_l4", "iris_r", ...), its ID, and its Rank
// in transfer order (lower first: the portrait, then the index fingers,
// then the rest).
type Ref struct {
	ID
	Slot string `json:"slot"`
	Rank uint8  `json:"rank"`
}

// RefsFunc returns the blobs an entry references, in transfer order
// (Rank, then slot order in the record). An entry that references none
// returns nil; an entry whose payload cannot be read returns an error
// (the sync layer then moves the entry and no blob of it). It must be a
// pure function of the entry: every replica derives the same refs.
type RefsFunc func(e *replication.Entry) ([]Ref, error)

// Errors of every Store. Implementations wrap them with the blob's ID and
// what happened.
var (
	// ErrNotFound: no committed blob (or no partial write) of that hash.
	ErrNotFound = errors.New("blob: not found")
	// ErrMismatch: the bytes do not match the ID they were written for
	// (longer than its size, or a different SHA-256 or length at Commit).
	// Nothing of them is visible; a mismatching partial write is discarded.
	ErrMismatch = errors.New("blob: bytes do not match their reference")
	// ErrIncomplete: Commit before every byte of the blob was written.
	ErrIncomplete = errors.New("blob: not all bytes written")
	// ErrExists: Begin of a blob the store already holds committed.
	ErrExists = errors.New("blob: already held")
	// ErrBusy: Begin or Delete of a blob another Writer has open.
	ErrBusy = errors.New("blob: being written by another writer")
	// ErrCorrupt: stored bytes fail verification on read (a flipped bit
	// on disk, a file replaced): they are never returned as the blob.
	ErrCorrupt = errors.New("blob: stored bytes are corrupt")
	// ErrDiskFull: the write would take the store below its free-space
	// floor, or the disk ran out of space. Nothing of that write was
	// acknowledged; what was acknowledged before stays.
	ErrDiskFull = errors.New("blob: disk full")
	// ErrClosed: the store or writer is closed.
	ErrClosed = errors.New("blob: closed")
)

// Info describes a committed blob.
type Info struct {
	ID
}

// Partial describes a partial write: Durable bytes of ID survive a crash.
type Partial struct {
	ID
	Durable int64
}

// Usage is what a store holds.
type Usage struct {
	Blobs        int   `json:"blobs"`
	Bytes        int64 `json:"bytes"` // plain bytes of committed blobs
	Partials     int   `json:"partials"`
	PartialBytes int64 `json:"partial_bytes"` // durable bytes of partial writes
}

// Store is a content-addressed store of blobs. Every write is verified
// against the blob's ID before it becomes visible, and is durable when
// Sync or Commit returns; every read is verified before bytes are
// returned. A blob is stored once however many records reference it.
// Methods are safe for concurrent use.
type Store interface {
	// Has reports, for each hash, whether that blob is held committed (a
	// partial write is not held). At most MaxHasBatch hashes per call.
	Has(hs []Hash) ([]bool, error)
	// Stat returns a committed blob's Info, or ErrNotFound.
	Stat(h Hash) (Info, error)
	// Open returns a reader of a committed blob, or ErrNotFound. Reads
	// return ErrCorrupt, never the stored bytes, where they fail
	// verification.
	Open(h Hash) (Reader, error)
	// Begin opens a writer for id: a new partial write, or the one a
	// closed writer, a cut or a crash left (its Durable bytes kept, unless
	// it was begun for another size: then it starts again). A committed id
	// returns ErrExists; one open in another writer ErrBusy.
	Begin(id ID) (Writer, error)
	// Partial returns the partial write of h, or ErrNotFound.
	Partial(h Hash) (Partial, error)
	// Delete removes the committed blob h and any partial write of it
	// (ErrNotFound if neither; ErrBusy if a writer has it open).
	Delete(h Hash) error
	// List calls fn for each committed blob once, in no set order (a
	// store on disk walks its files), until fn returns false.
	List(fn func(Info) bool) error
	// ListPartial calls fn for each partial write once, in no set order.
	ListPartial(fn func(Partial) bool) error
	// Usage counts what is held.
	Usage() (Usage, error)
	// Close releases the store; open writers keep their durable bytes.
	Close() error
}

// Writer writes one blob, chunk by chunk. It is not safe for concurrent
// use. After Commit, Abort or Close every method returns ErrClosed.
type Writer interface {
	// ID is the blob being written.
	ID() ID
	// Offset is how many bytes are written (the next Write's offset).
	Offset() int64
	// Durable is how many bytes survive a crash: the resume point.
	Durable() int64
	// Write appends p. Past ID().Size it returns ErrMismatch and writes
	// nothing of p. On ErrDiskFull nothing of p counts as written.
	Write(p []byte) (int, error)
	// Sync makes every byte written durable and records the resume point.
	Sync() error
	// Commit checks the whole blob against ID — size and SHA-256 — and
	// makes it visible, durably. ErrIncomplete if bytes are missing (the
	// writer stays open); ErrMismatch if they differ (the partial write is
	// discarded, and the writer closed).
	Commit() error
	// Abort discards the partial write.
	Abort() error
	// Close keeps the durable bytes for a later Begin; bytes written and
	// not synced may be lost.
	Close() error
}

// Reader reads one committed blob. ReadAt lets a sender read a chunk at
// any offset; both verify what they return.
type Reader interface {
	io.Reader
	io.ReaderAt
	// Size is the blob's size in bytes.
	Size() int64
	Close() error
}

// Put writes a whole blob from r, verified against id: at most id.Size+1
// bytes are read, so a longer input fails with ErrMismatch rather than
// being read to its end. A partial write left of id is started again. A
// blob already held is a no-op, and r is not read.
func Put(s Store, id ID, r io.Reader) error {
	if err := id.Check(); err != nil {
		return err
	}
	w, err := s.Begin(id)
	if errors.Is(err, ErrExists) {
		return nil
	}
	if err != nil {
		return err
	}
	if w.Durable() > 0 {
		if err := w.Abort(); err != nil {
			return err
		}
		if w, err = s.Begin(id); err != nil {
			return err
		}
	}
	buf := make([]byte, min(id.Size+1, 256<<10))
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				w.Abort()
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			w.Close()
			return fmt.Errorf("blob %s: read: %w", id, rerr)
		}
	}
	if err := w.Commit(); err != nil {
		if errors.Is(err, ErrIncomplete) {
			w.Abort()
			return fmt.Errorf("%w: blob %s: input ended after %d of %d bytes", ErrMismatch, id, w.Offset(), id.Size)
		}
		return err
	}
	return nil
}

// PutBytes writes b under its own ID and returns the ID.
func PutBytes(s Store, b []byte) (ID, error) {
	id := IDOf(b)
	return id, Put(s, id, &byteReader{b: b})
}

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// Check reads the committed blob h through and verifies it: nil, or
// ErrNotFound, or ErrCorrupt naming the blob.
func Check(s Store, h Hash) error {
	r, err := s.Open(h)
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]byte, 64<<10)
	for {
		_, err := r.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ReadAll reads a committed blob whole, verified.
func ReadAll(s Store, h Hash) ([]byte, error) {
	r, err := s.Open(h)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := make([]byte, r.Size())
	if _, err := r.ReadAt(out, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return out, nil
}
