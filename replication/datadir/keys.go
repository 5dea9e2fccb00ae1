package datadir

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"fieldsync/replication"
)

// PoolKeySize is the size of a gossip pool key (AES-256-GCM).
const PoolKeySize = 32

// WriteNewKey writes a fresh random key of n bytes to path, in hex, with
// mode 0600. It refuses to overwrite a file: losing a key locks members
// out (or, for data at rest, loses the data).
func WriteNewKey(path string, n int) error {
	key := make([]byte, n)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("datadir: key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxKeyFileBytes bounds what ReadKey reads: a 32-byte key in hex is 65.
const maxKeyFileBytes = 4 << 10

// ReadKey reads a hex key file of exactly n bytes. A file readable by
// others is refused: the key is the secret.
func ReadKey(path string, n int) ([]byte, error) {
	b, err := readSecretFile(path, "key file", maxKeyFileBytes)
	if err != nil {
		return nil, err
	}
	key, err := DecodeHexKey(b, n)
	if err != nil {
		return nil, fmt.Errorf("%w (key file %s)", err, path)
	}
	return key, nil
}

// readSecretFile reads a file holding a secret: refused if readable by
// others (group or world), or larger than max.
func readSecretFile(path, what string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("datadir: %s: %w", what, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("datadir: %s %s is readable by others (mode %v); run chmod 600", what, path, fi.Mode().Perm())
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%w: %s %s is %d bytes, limit %d", replication.ErrTooLarge, what, path, fi.Size(), max)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datadir: %s: %w", what, err)
	}
	return b, nil
}

// DecodeHexKey decodes a key file's contents: exactly n bytes in hex
// (either case), with surrounding white space allowed.
func DecodeHexKey(b []byte, n int) ([]byte, error) {
	t := bytes.TrimSpace(b)
	key, err := hex.DecodeString(string(t))
	if err != nil || len(key) != n {
		return nil, fmt.Errorf("%w: key file: want %d bytes in hex", replication.ErrMalformed, n)
	}
	return key, nil
}
