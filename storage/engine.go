package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// ErrLocked is returned by Open and OpenLog when another process holds the directory.
var ErrLocked = errors.New("storage: data directory is in use by another process (is `fieldsync run` running? use its API, or stop it)")

// ErrWrongKey is returned by Open and OpenLog when the encryption key does not match
// the one the directory was created with. Nothing is changed.
var ErrWrongKey = errors.New("storage: wrong encryption key for this data directory")

// ErrNoLog is returned by Open and OpenLog with MustExist, and by Rekey and CheckKey,
// when the directory holds no log (or its key registry is gone, without
// which an encrypted log cannot be read).
var ErrNoLog = errors.New("storage: no log in this directory")

// ErrDiskFull is returned by a write when the disk holding the log has
// less free space than the floor (Options.MinFreeBytes), or when the disk
// ran out of space during it. Nothing of that write was acknowledged; what
// was acknowledged before stays; writes succeed again once space is freed.
var ErrDiskFull = errors.New("storage: disk full")

// ErrClosed is returned by a store's methods after Close.
var ErrClosed = errors.New("storage: store is closed")

// ErrBadKey is returned when an encryption key is not MasterKeySize bytes.
var ErrBadKey = errors.New("storage: encryption key must be 32 bytes (AES-256)")

// Profile sizes Badger's memory for the machine it runs on.
type Profile int

const (
	// ProfileField suits a commune laptop: small memtables and caches.
	ProfileField Profile = iota
	// ProfileHub suits a hub server ingesting a province.
	ProfileHub
	// ProfileSmall keeps memory low where many replicas share a machine:
	// the demo runs a whole province in one process.
	ProfileSmall
)

// Options configures a Badger log.
type Options struct {
	// Dir is the data directory. Required unless InMemory.
	Dir string
	// InMemory keeps everything in memory (tests only).
	InMemory bool
	// EncryptionKey, when set, is the AES-256 master key (MasterKeySize
	// bytes): Badger encrypts every file it writes (AES-CTR) under data keys
	// that it rotates every DataKeyRotation and keeps in its key registry,
	// encrypted under this key; see docs/keys.md.
	EncryptionKey []byte
	// MustExist makes Open fail with ErrNoLog, rather than create an empty
	// log, when Dir holds none: a data directory whose log vanished must
	// not silently start again from nothing.
	MustExist bool
	// MinFreeBytes is the free-space floor: a write is refused with
	// ErrDiskFull, before anything is written or acknowledged, when the
	// disk holding Dir has less free. Zero takes DefaultMinFree of the
	// profile; negative turns the check off (benchmarks, tests).
	MinFreeBytes int64
	// Profile sizes memory; the zero value is ProfileField.
	Profile Profile
	// Logger receives Badger's own warnings and errors; nil discards them.
	Logger *slog.Logger
	// NoSync turns off synced writes. Only benchmarks use it, to measure
	// what durability costs; nothing that acknowledges data may.
	NoSync bool
	// Snappy compresses tables with Snappy instead of zstd: less CPU per
	// write, more disk. For a store of small rows rewritten often (a
	// hub's view) rather than a log of records kept for years.
	Snappy bool
}

// openBadger opens (creating if needed) the Badger database in opts.Dir,
// after checking the key against the key registry (a wrong key changes
// nothing on disk) and removing what a kill left that Badger cannot open.
// It returns the free-space floor to keep (0: unchecked).
func openBadger(opts Options) (*badger.DB, int64, error) {
	if err := checkKeySize(opts.EncryptionKey); err != nil {
		return nil, 0, err
	}
	bo := badgerOptions(opts)
	if !opts.InMemory {
		if err := checkExisting(opts); err != nil {
			return nil, 0, err
		}
		// Empty logs first: they hold nothing, so they explain no table
		// the manifest no longer lists (checkManifest).
		if err := removeEmptyValueLogs(opts.Dir); err != nil {
			return nil, 0, err
		}
		if err := checkManifest(opts.Dir, bo); err != nil {
			return nil, 0, err
		}
	}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, 0, translateOpenError(opts.Dir, err)
	}
	var minFree int64
	if !opts.InMemory {
		minFree = minFreeFor(opts.MinFreeBytes, bo)
	}
	return db, minFree, nil
}

// removeEmptyValueLogs deletes zero-length value-log files before Badger
// opens the directory. A kill -9 between Badger creating a .vlog file and
// writing its header leaves one behind, and Badger v4.9.6 then refuses to
// open ("Open existing file: …vlog err: Create a new file": logFile.open
// returns z.NewFile for it and valueLog.open treats that as an error). A
// zero-length file holds no data — not even the 20-byte header every value
// log starts with — so removing it loses nothing. Found by the kill -9 test.
//
// The same holds for a memtable log (.mem): a kill -9 between Badger
// creating it and sizing it leaves it empty, and Badger then refuses to
// open ("while opening memtables … Create a new file"); nothing was
// written to it (TestImportSurvivesKill9, cycle 8, in a landing gate).
func removeEmptyValueLogs(dir string) error {
	vlogs, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		return err
	}
	mems, err := filepath.Glob(filepath.Join(dir, "*.mem"))
	if err != nil {
		return err
	}
	matches := append(vlogs, mems...)
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Size() == 0 {
			if err := os.Remove(m); err != nil {
				return fmt.Errorf("storage: remove empty log %s: %w", m, err)
			}
		}
	}
	return nil
}

func badgerOptions(opts Options) badger.Options {
	o := badger.DefaultOptions(opts.Dir).
		WithSyncWrites(!opts.NoSync).
		WithDetectConflicts(false). // one writer: nothing to conflict with
		WithLogger(badgerLogger{opts.Logger}).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(1).
		WithBlockCacheSize(16 << 20). // > 0: required with compression or encryption
		WithIndexCacheSize(16 << 20). // > 0: required with encryption (LIBRARIES.md pitfall 3)
		WithEncryptionKeyRotationDuration(DataKeyRotation).
		// Damage on disk is found, never read past (integrity.go): every
		// block's checksum when it is read, every value's; off by default
		// in Badger. (Not the whole table's at open: Badger v4.9.6 panics
		// on a damaged block there, and a hub's start would grow with its
		// log; `verify` reads every table, VerifyStore.)
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true)
	switch opts.Profile {
	case ProfileSmall:
		o = o.WithMemTableSize(16 << 20).WithNumMemtables(2).WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(8).
			WithBaseTableSize(2 << 20).WithValueLogFileSize(16 << 20).WithBlockCacheSize(4 << 20).WithIndexCacheSize(4 << 20)
	case ProfileHub:
		o = o.WithMemTableSize(64 << 20).WithNumMemtables(3).WithBaseTableSize(8 << 20).
			WithValueLogFileSize(256 << 20).WithBlockCacheSize(128 << 20).WithIndexCacheSize(64 << 20)
	default:
		o = o.WithMemTableSize(32 << 20).WithNumMemtables(2).WithNumLevelZeroTables(2).
			WithNumLevelZeroTablesStall(8).WithBaseTableSize(4 << 20).WithValueLogFileSize(64 << 20)
	}
	if opts.Snappy {
		o = o.WithCompression(options.Snappy)
	}
	if opts.InMemory {
		o = o.WithInMemory(true).WithDir("").WithValueDir("")
	}
	if len(opts.EncryptionKey) > 0 {
		o = o.WithEncryptionKey(opts.EncryptionKey)
	}
	return o
}

func translateOpenError(dir string, err error) error {
	switch {
	case errors.Is(err, badger.ErrEncryptionKeyMismatch):
		// The registry's check value does not decrypt: a wrong key, or a
		// damaged registry; the message names the file for the second.
		return fmt.Errorf("%w (%s; or its key registry %s is damaged): %w", ErrWrongKey, dir, filepath.Join(dir, badger.KeyRegistryFileName), err)
	case strings.Contains(err.Error(), "Cannot acquire directory lock"):
		return fmt.Errorf("%w: %s", ErrLocked, dir)
	}
	if d := damage(dir, nil, err); d != nil {
		return d
	}
	return fmt.Errorf("storage: open %s: %w", dir, err)
}

// badgerLogger forwards Badger's log lines to slog: errors and warnings as
// such, its chatty info and debug lines at debug level.
type badgerLogger struct{ l *slog.Logger }

func (a badgerLogger) log(level slog.Level, format string, args []any) {
	if a.l == nil {
		return
	}
	a.l.Log(context.Background(), level, strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "badger")
}

func (a badgerLogger) Errorf(f string, v ...any)   { a.log(slog.LevelError, f, v) }
func (a badgerLogger) Warningf(f string, v ...any) { a.log(slog.LevelWarn, f, v) }
func (a badgerLogger) Infof(f string, v ...any)    { a.log(slog.LevelDebug, f, v) }
func (a badgerLogger) Debugf(f string, v ...any)   { a.log(slog.LevelDebug, f, v) }
