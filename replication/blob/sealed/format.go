package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/blob"
)

// The file format. A blob file is a header and sealed records:
//
//	header:  magic "FSBLOB1\n" | salt (32) | nonce (12) | sealed SHA-256 (32) and size (8, BE), GCM tag (16)
//	record:  n (4, BE) | nonce (12) | ciphertext and GCM tag (n-12 bytes)
//
// Each file is sealed under its own AES-256-GCM key, HKDF-SHA256 of the
// store's key with the file's random salt, so that nonces (random, 12
// bytes, one per record) are drawn per file. The blob's hash and size are
// sealed too (a stolen disk does not say which images it holds, even to
// someone who has them; file names are keyed hashes for the same reason).
// A record's additional data is the magic, the blob's hash and size, and
// the record's plain offset: a record moved within a file or to another
// file, a header altered, or a file renamed to another blob's name fails
// to open. Records hold at most RecordSize plain bytes; their plain
// lengths add up to the size.
const (
	magic      = "FSBLOB1\n"
	saltSize   = 32
	nonceSize  = 12
	tagSize    = 16
	headerSize = len(magic) + saltSize + nonceSize + blob.HashSize + 8 + tagSize
	// RecordSize is the most plain bytes one record holds. Reads decrypt
	// whole records: 64 KiB keeps a chunk read at any offset cheap and the
	// per-record overhead (32 bytes) at 0.05%.
	RecordSize = 64 << 10
	minRecord  = nonceSize + tagSize + 1
	maxRecord  = nonceSize + RecordSize + tagSize
)

// Key derivation purposes (HKDF info strings).
const (
	purposeFile = "fieldsync/blob/file/v1"
	purposeName = "fieldsync/blob/name/v1"
)

// KeySize is the size of the store's key.
const KeySize = 32

// header is a file's header, opened: the blob it holds and the file's
// cipher.
type header struct {
	salt [saltSize]byte
	id   blob.ID
	aead cipher.AEAD
}

// newHeader draws a salt for a new file of id.
func (k *keys) newHeader(id blob.ID) (header, error) {
	h := header{id: id}
	if _, err := rand.Read(h.salt[:]); err != nil {
		return h, err
	}
	var err error
	h.aead, err = k.aead(h.salt[:])
	return h, err
}

func (h *header) encode() ([]byte, error) {
	b := make([]byte, 0, headerSize)
	b = append(b, magic...)
	b = append(b, h.salt[:]...)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	b = append(b, nonce...)
	plain := binary.BigEndian.AppendUint64(bytes.Clone(h.id.Hash[:]), uint64(h.id.Size))
	return h.aead.Seal(b, nonce, plain, []byte(magic)), nil
}

// decodeHeader opens a header; the ID it names is checked (ID.Check).
func (k *keys) decodeHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerSize || !bytes.Equal(b[:len(magic)], []byte(magic)) {
		return h, fmt.Errorf("%w: not a sealed blob file (bad magic)", replication.ErrMalformed)
	}
	p := b[len(magic):headerSize]
	copy(h.salt[:], p)
	p = p[saltSize:]
	aead, err := k.aead(h.salt[:])
	if err != nil {
		return h, err
	}
	plain, err := aead.Open(nil, p[:nonceSize], p[nonceSize:], []byte(magic))
	if err != nil {
		return h, fmt.Errorf("%w: sealed blob header does not open (another key, or the file was altered)", replication.ErrMalformed)
	}
	copy(h.id.Hash[:], plain)
	size := binary.BigEndian.Uint64(plain[blob.HashSize:])
	if size > blob.MaxSize {
		return h, fmt.Errorf("%w: sealed blob header: size %d, limit %d", replication.ErrTooLarge, size, blob.MaxSize)
	}
	h.id.Size, h.aead = int64(size), aead
	if err := h.id.Check(); err != nil {
		return h, fmt.Errorf("sealed blob header: %w", err)
	}
	return h, nil
}

// additional returns a record's additional data.
func (h *header) additional(plainOff int64) []byte {
	b := make([]byte, 0, len(magic)+blob.HashSize+16)
	b = append(b, magic...)
	b = append(b, h.id.Hash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.id.Size))
	return binary.BigEndian.AppendUint64(b, uint64(plainOff))
}

// keys are the store's derived keys.
type keys struct {
	root []byte
	name []byte // HMAC key for file names
}

func newKeys(root []byte) (*keys, error) {
	if len(root) != KeySize {
		return nil, fmt.Errorf("sealed: key of %d bytes, want %d", len(root), KeySize)
	}
	nk, err := hkdf.Key(sha256.New, root, nil, purposeName, 32)
	if err != nil {
		return nil, err
	}
	return &keys{root: bytes.Clone(root), name: nk}, nil
}

// aead returns the cipher of the file with this salt.
func (k *keys) aead(salt []byte) (cipher.AEAD, error) {
	fk, err := hkdf.Key(sha256.New, k.root, salt, purposeFile, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(fk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// fileName is the name of a blob's file: HMAC-SHA256 of its hash under the
// name key, in hex. A copy of the directory does not say which images it
// holds, even to someone who has the images.
func (k *keys) fileName(h blob.Hash) string {
	m := hmac.New(sha256.New, k.name)
	m.Write(h[:])
	return hex.EncodeToString(m.Sum(nil))
}

// recordPos locates one record in a file.
type recordPos struct {
	fileOff  int64 // where its length field starts
	sealed   int   // n: nonce, ciphertext and tag
	plainOff int64
	plainLen int
}

// parseRecordLength checks a record's length field against what the file
// can still hold.
func parseRecordLength(b []byte, remaining int64) (int, error) {
	n := int(binary.BigEndian.Uint32(b))
	switch {
	case n < minRecord || n > maxRecord:
		return 0, fmt.Errorf("%w: record of %d sealed bytes (want %d..%d)", replication.ErrMalformed, n, minRecord, maxRecord)
	case int64(n) > remaining:
		return 0, fmt.Errorf("%w: record of %d bytes, only %d left in the file", replication.ErrMalformed, n, remaining)
	}
	return n, nil
}

// openRecord decrypts one sealed record (nonce, ciphertext, tag).
func (h *header) openRecord(plainOff int64, sealed, dst []byte) ([]byte, error) {
	if len(sealed) < minRecord {
		return nil, fmt.Errorf("%w: short record", replication.ErrMalformed)
	}
	return h.aead.Open(dst, sealed[:nonceSize], sealed[nonceSize:], h.additional(plainOff))
}
