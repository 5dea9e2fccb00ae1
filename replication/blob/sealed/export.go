package sealed

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"

	"fieldsync/replication/blob"
)

// What a store kept elsewhere (package blob/s3: objects in an
// S3-compatible store) needs to keep blobs sealed exactly as this store
// seals them, under the same key: their names, their files as stored, and
// a verified reader of sealed bytes wherever they are.

// HeaderSize is the size of a sealed file's header.
const HeaderSize = int64(headerSize)

// recordOverhead is what a record adds to its plain bytes: its length,
// nonce and tag.
const recordOverhead = 4 + nonceSize + tagSize

// Name returns the name this store gives blob h: HMAC-SHA256 of the hash
// under the store's name key, in hex. Without the key it says nothing of
// which image it names.
func (s *Store) Name(h blob.Hash) string { return s.keys.fileName(h) }

// OpenFile opens the sealed file of the committed blob h, as stored, to
// copy it elsewhere still sealed; with its size.
func (s *Store) OpenFile(h blob.Hash) (*os.File, int64, error) {
	s.mu.Lock()
	err := s.check()
	s.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(s.committedPath(h))
	if err != nil {
		return nil, 0, s.readErr(h, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, s.readErr(h, err)
	}
	return f, fi.Size(), nil
}

// NewReader returns a verified reader of blob h over sealed bytes (a file
// sealed under this store's key, kept anywhere): every record is opened
// before a byte of it is returned, and a sequential read checks the whole
// SHA-256. Bytes that fail are blob.ErrCorrupt.
func (s *Store) NewReader(ra io.ReaderAt, size int64, h blob.Hash) (blob.Reader, error) {
	r, err := s.newReaderAt(ra, size, h, nil)
	if err != nil {
		return nil, s.readErr(h, err)
	}
	return r, nil
}

// ReadHeader opens a sealed file's header (its first HeaderSize bytes)
// and returns the blob it holds.
func (s *Store) ReadHeader(b []byte) (blob.ID, error) {
	hd, err := s.keys.decodeHeader(b)
	if err != nil {
		return blob.ID{}, fmt.Errorf("%w: %w", blob.ErrCorrupt, err)
	}
	return hd.id, nil
}

// SealedSize is the size of the sealed file of a blob of n plain bytes
// written whole, without a Sync before Commit: every record full but the
// last.
func SealedSize(n int64) int64 {
	records := (n + RecordSize - 1) / RecordSize
	return HeaderSize + n + records*recordOverhead
}

// PlainSize inverts SealedSize: the plain size of a blob whose sealed file,
// written whole, is size bytes; false if no blob's file is that size.
func PlainSize(size int64) (int64, bool) {
	rest := size - HeaderSize
	if rest <= recordOverhead {
		return 0, false
	}
	full := rest / (RecordSize + recordOverhead)
	n := full * RecordSize
	if last := rest - full*(RecordSize+recordOverhead); last > 0 {
		if last <= recordOverhead {
			return 0, false
		}
		n += last - recordOverhead
	}
	if n > blob.MaxSize || SealedSize(n) != size {
		return 0, false
	}
	return n, true
}

// Seal returns the sealed file of blob plain, written whole (records full
// but the last: SealedSize bytes), in memory: what an object store
// uploads. plain must hash to id.
func (s *Store) Seal(id blob.ID, plain []byte) ([]byte, error) {
	if blob.IDOf(plain) != id {
		return nil, fmt.Errorf("%w: blob %s: the bytes to seal are not its", blob.ErrMismatch, id)
	}
	hd, err := s.keys.newHeader(id)
	if err != nil {
		return nil, err
	}
	out, err := hd.encode()
	if err != nil {
		return nil, err
	}
	out = slices.Grow(out, int(SealedSize(id.Size))-len(out))
	for off := int64(0); off < id.Size; off += RecordSize {
		rec := plain[off:min(off+RecordSize, id.Size)]
		start := len(out)
		out = append(out, make([]byte, 4+nonceSize)...)
		if _, err := rand.Read(out[start+4:]); err != nil {
			return nil, err
		}
		out = hd.aead.Seal(out, out[start+4:start+4+nonceSize], rec, hd.additional(off))
		binary.BigEndian.PutUint32(out[start:], uint32(len(out)-start-4))
	}
	return out, nil
}
