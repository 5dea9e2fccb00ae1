package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// MasterKeySize is the size of a log's master key: AES-256.
const MasterKeySize = 32

// DataKeyRotation is how long Badger uses one data key before it makes the
// next (Badger's own default, set explicitly so that it is a documented
// choice): a data key encrypts the files written while it is current, and
// the master key only encrypts the registry of data keys.
const DataKeyRotation = 10 * 24 * time.Hour

func checkKeySize(key []byte) error {
	if len(key) != 0 && len(key) != MasterKeySize {
		return fmt.Errorf("%w, got %d", ErrBadKey, len(key))
	}
	return nil
}

// checkExisting runs before Badger touches dir. With MustExist it refuses a
// directory without a log; with a key it checks the key against the key
// registry (read-only), so that a wrong key changes nothing on disk —
// Badger itself would create its lock and memtable files first.
func checkExisting(opts Options) error {
	_, err := os.Stat(filepath.Join(opts.Dir, badger.ManifestFilename))
	exists := err == nil
	if !exists && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: open %s: %w", opts.Dir, err)
	}
	if !exists {
		if opts.MustExist {
			return fmt.Errorf("%w: %s has no %s", ErrNoLog, opts.Dir, badger.ManifestFilename)
		}
		return nil
	}
	return CheckKey(opts.Dir, opts.EncryptionKey)
}

// CheckKey reports whether key (nil for an unencrypted log) opens the log
// in dir, reading only its key registry: nil if it does, ErrWrongKey if
// not, ErrNoLog if dir has no key registry. It writes nothing.
func CheckKey(dir string, key []byte) error {
	if err := checkKeySize(key); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, badger.KeyRegistryFileName)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s has no %s (without it the data cannot be decrypted)", ErrNoLog, dir, badger.KeyRegistryFileName)
		}
		return fmt.Errorf("storage: %w", err)
	}
	kr, err := badger.OpenKeyRegistry(registryOptions(dir, key, true))
	if err != nil {
		return translateOpenError(dir, err)
	}
	return kr.Close()
}

func registryOptions(dir string, key []byte, readOnly bool) badger.KeyRegistryOptions {
	return badger.KeyRegistryOptions{Dir: dir, ReadOnly: readOnly, EncryptionKey: key, EncryptionKeyRotationDuration: DataKeyRotation}
}

// Rekey re-encrypts the key registry of the log in dir, which oldKey opens,
// under newKey; afterwards only newKey opens it. The data files are not
// rewritten: they are encrypted under data keys, which the registry holds
// and which Badger keeps rotating on its own schedule (DataKeyRotation).
// Badger's own `badger rotate` command does the same two calls.
//
// The log must not be open elsewhere: Rekey first opens it (which replays
// what a crash left and checks every head), closes it, then holds Badger's
// directory lock through a read-only open while it swaps the registry, so
// that no writer can append a data key to the registry being replaced. The
// swap itself is Badger's write-then-rename, so a crash leaves the old
// registry or the new one. Rekey is idempotent: if newKey already opens
// the log and oldKey does not, it returns nil.
func Rekey(dir string, oldKey, newKey []byte, profile Profile) error {
	return rekey(dir, oldKey, newKey, profile, func(opts Options) (func() error, error) {
		l, err := OpenLog(opts)
		if err != nil {
			return nil, err
		}
		return l.Close, nil
	})
}

// RekeyStore is Rekey for a store opened with Open (no log in it).
func RekeyStore(dir string, oldKey, newKey []byte, profile Profile) error {
	return rekey(dir, oldKey, newKey, profile, func(opts Options) (func() error, error) {
		db, err := Open(opts)
		if err != nil {
			return nil, err
		}
		return db.Close, nil
	})
}

func rekey(dir string, oldKey, newKey []byte, profile Profile, open func(Options) (func() error, error)) error {
	if len(oldKey) == 0 || len(newKey) == 0 {
		return fmt.Errorf("%w: rekey needs the old and the new key", ErrBadKey)
	}
	if err := checkKeySize(newKey); err != nil {
		return err
	}
	if err := CheckKey(dir, oldKey); err != nil {
		if errors.Is(err, ErrWrongKey) && CheckKey(dir, newKey) == nil {
			return nil // done before (an interrupted rekey run again)
		}
		return err
	}
	closeIt, err := open(Options{Dir: dir, EncryptionKey: oldKey, Profile: profile, MustExist: true, MinFreeBytes: -1})
	if err != nil {
		return err
	}
	if err := closeIt(); err != nil {
		return err
	}
	ro, err := badger.Open(badgerOptions(Options{Dir: dir, EncryptionKey: oldKey, Profile: profile}).WithReadOnly(true))
	if err != nil {
		return translateOpenError(dir, err)
	}
	err = swapRegistry(dir, oldKey, newKey)
	if cerr := ro.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: rekey %s: %w", dir, cerr)
	}
	if err != nil {
		return err
	}
	return CheckKey(dir, newKey)
}

func swapRegistry(dir string, oldKey, newKey []byte) error {
	kr, err := badger.OpenKeyRegistry(registryOptions(dir, oldKey, true))
	if err != nil {
		return translateOpenError(dir, err)
	}
	if err := badger.WriteKeyRegistry(kr, registryOptions(dir, newKey, false)); err != nil {
		return fmt.Errorf("storage: rekey %s: write key registry: %w", dir, err)
	}
	return nil
}
