package datadir

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"fieldsync/replication"
	"fieldsync/storage"
)

// MasterKeySize is the size of a data directory's master key (AES-256).
const MasterKeySize = storage.MasterKeySize

// Key sources, as config.json records them (never the key itself).
const (
	// KeySourceFile: the master key is in a key file outside the data
	// directory (32 bytes in hex, mode 0600), made at init.
	KeySourceFile = "file"
	// KeySourcePassphrase: the master key is derived from a passphrase
	// with argon2id; the salt and parameters are in config.json.
	KeySourcePassphrase = "passphrase"
	// KeySourceSupplied: the program that made the directory keeps the
	// key and passes it to Open (OpenOptions.EncryptionKey).
	KeySourceSupplied = "supplied"
)

// KDFArgon2id names the only key-derivation function used.
const KDFArgon2id = "argon2id"

// Limits on argon2id parameters read from config.json, so that a corrupt
// or hostile config cannot make Open allocate gigabytes or spin for hours,
// nor weaken a new key below the floor.
const (
	minSaltBytes   = 16
	maxSaltBytes   = 64
	minKDFTime     = 1
	maxKDFTime     = 16
	minKDFMemory   = 8 << 10 // KiB: 8 MiB
	maxKDFMemory   = 1 << 20 // KiB: 1 GiB
	maxKDFThreads  = 16
	MinPassphrase  = 12   // bytes, checked when a passphrase is set
	MaxPassphrase  = 1024 // bytes
	maxKeyFilePath = 4096
)

// ErrWrongKey is returned by Open (and Rekey) when the key given, or found
// where config.json says, does not open the data directory. It names the
// directory, wraps storage.ErrWrongKey and Badger's ErrEncryptionKeyMismatch
// when Badger's key registry was checked, and nothing on disk is changed.
var ErrWrongKey = errors.New("datadir: wrong key for this data directory")

// ErrNeedKey is returned by Open when the directory's key must come from
// the caller (a passphrase, or a supplied key) and none was given.
var ErrNeedKey = errors.New("datadir: the data directory's key is needed")

// ErrRekeyPending is returned by Open when a rekey was interrupted: run it
// again with the same old and new keys to finish it.
var ErrRekeyPending = errors.New("datadir: a rekey of this data directory was interrupted; run `fieldsync rekey` again with the same old and new keys to finish it")

// KeySource says where a data directory's master key comes from; it is
// recorded in config.json and holds no secret.
type KeySource struct {
	Source string `json:"source"`
	// File is the key file (KeySourceFile); a relative path is relative
	// to the data directory (the default "../DIR.key" sits beside it).
	File string `json:"file,omitempty"`
	// KDF is how the passphrase is stretched (KeySourcePassphrase).
	KDF *KDF `json:"kdf,omitempty"`
}

// KDF holds argon2id's salt and parameters (RFC 9106).
type KDF struct {
	Alg       string `json:"alg"`
	Salt      string `json:"salt"` // hex
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// DefaultKDF returns parameters with a fresh random salt: 3 passes over
// 64 MiB with 2 lanes (RFC 9106's second recommended setting, with lanes
// cut to the 2 cores of a field laptop): about 0.45 s on this project's
// 2-core machine, and 64 MiB of memory per guess for an attacker.
func DefaultKDF() KDF {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return KDF{Alg: KDFArgon2id, Salt: hex.EncodeToString(salt), Time: 3, MemoryKiB: 64 << 10, Threads: 2}
}

// Validate checks the parameters against the limits.
func (k *KDF) Validate() error {
	salt, err := hex.DecodeString(k.Salt)
	switch {
	case k.Alg != KDFArgon2id:
		return fmt.Errorf("%w: kdf alg %q, want %s", replication.ErrMalformed, k.Alg, KDFArgon2id)
	case err != nil || len(salt) < minSaltBytes || len(salt) > maxSaltBytes || hex.EncodeToString(salt) != k.Salt:
		return fmt.Errorf("%w: kdf salt: want %d-%d bytes in lowercase hex", replication.ErrMalformed, minSaltBytes, maxSaltBytes)
	case k.Time < minKDFTime || k.Time > maxKDFTime:
		return fmt.Errorf("%w: kdf time %d, want %d-%d", replication.ErrMalformed, k.Time, minKDFTime, maxKDFTime)
	case k.MemoryKiB < minKDFMemory || k.MemoryKiB > maxKDFMemory:
		return fmt.Errorf("%w: kdf memory_kib %d, want %d-%d", replication.ErrMalformed, k.MemoryKiB, minKDFMemory, maxKDFMemory)
	case k.Threads < 1 || k.Threads > maxKDFThreads:
		return fmt.Errorf("%w: kdf threads %d, want 1-%d", replication.ErrMalformed, k.Threads, maxKDFThreads)
	}
	return nil
}

// Derive stretches a passphrase into a master key. The passphrase is
// normalized to Unicode NFC first: Vietnamese input methods type the same
// words precomposed or with combining marks, and both must give one key.
func (k *KDF) Derive(passphrase []byte) ([]byte, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if len(passphrase) == 0 || len(passphrase) > MaxPassphrase {
		return nil, fmt.Errorf("%w: passphrase of %d bytes, want 1-%d", ErrNeedKey, len(passphrase), MaxPassphrase)
	}
	salt, _ := hex.DecodeString(k.Salt) // checked by Validate
	return argon2.IDKey(norm.NFC.Bytes(passphrase), salt, k.Time, k.MemoryKiB, k.Threads, MasterKeySize), nil
}

// Validate checks a key source read from config.json.
func (s *KeySource) Validate() error {
	switch s.Source {
	case KeySourceFile:
		if s.File == "" || len(s.File) > maxKeyFilePath || s.KDF != nil {
			return fmt.Errorf("%w: key source file: want a file path (1-%d bytes) and no kdf", replication.ErrMalformed, maxKeyFilePath)
		}
		return nil
	case KeySourcePassphrase:
		if s.KDF == nil || s.File != "" {
			return fmt.Errorf("%w: key source passphrase: want kdf parameters and no file", replication.ErrMalformed)
		}
		return s.KDF.Validate()
	case KeySourceSupplied:
		if s.File != "" || s.KDF != nil {
			return fmt.Errorf("%w: key source supplied: want neither file nor kdf", replication.ErrMalformed)
		}
		return nil
	}
	return fmt.Errorf("%w: key source %q, want file, passphrase or supplied", replication.ErrMalformed, s.Source)
}

// describe names a source for messages (a path, never a secret).
func (s *KeySource) describe(dir string) string {
	switch s.Source {
	case KeySourceFile:
		return "key file " + s.path(dir)
	case KeySourcePassphrase:
		return "passphrase (argon2id)"
	}
	return "supplied key"
}

func (s *KeySource) path(dir string) string {
	if filepath.IsAbs(s.File) {
		return s.File
	}
	return filepath.Join(dir, s.File)
}

// NewKey says where a new master key comes from, at Init or Rekey. At most
// one field may be set; none means a new key file beside the directory
// (Init only).
type NewKey struct {
	// KeyFile is used if it exists (32 bytes in hex, mode 0600, as
	// `fieldsync keygen` writes), else created. It must not be inside the
	// data directory.
	KeyFile string
	// Passphrase derives the key with argon2id (at least MinPassphrase
	// bytes); KDF overrides DefaultKDF (tests use cheaper parameters).
	Passphrase []byte
	KDF        *KDF
	// EncryptionKey is a raw key the caller keeps and passes to Open.
	EncryptionKey []byte
}

// make returns the key and the source to record for it.
func (n NewKey) make(dir string) ([]byte, KeySource, error) {
	set := 0
	for _, b := range []bool{n.KeyFile != "", n.Passphrase != nil, n.EncryptionKey != nil} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, KeySource{}, fmt.Errorf("datadir: give one key source: a key file, a passphrase or a key")
	}
	switch {
	case n.EncryptionKey != nil:
		if len(n.EncryptionKey) != MasterKeySize {
			return nil, KeySource{}, fmt.Errorf("%w: key of %d bytes, want %d", replication.ErrMalformed, len(n.EncryptionKey), MasterKeySize)
		}
		return bytes.Clone(n.EncryptionKey), KeySource{Source: KeySourceSupplied}, nil
	case n.Passphrase != nil:
		if len(n.Passphrase) < MinPassphrase {
			return nil, KeySource{}, fmt.Errorf("datadir: passphrase of %d bytes: want at least %d", len(n.Passphrase), MinPassphrase)
		}
		kdf := DefaultKDF()
		if n.KDF != nil {
			kdf = *n.KDF
		}
		key, err := kdf.Derive(n.Passphrase)
		if err != nil {
			return nil, KeySource{}, err
		}
		return key, KeySource{Source: KeySourcePassphrase, KDF: &kdf}, nil
	}
	if n.KeyFile == "" {
		return siblingKey(dir)
	}
	path, err := filepath.Abs(n.KeyFile)
	if err != nil {
		return nil, KeySource{}, fmt.Errorf("datadir: key file: %w", err)
	}
	key, err := readOrMakeKey(dir, path)
	return key, KeySource{Source: KeySourceFile, File: path}, err
}

// siblingKey is the default for library callers and tests: DIR.key beside
// DIR, recorded relative to DIR, so that a directory copied along with its
// key file still finds it.
func siblingKey(dir string) ([]byte, KeySource, error) {
	clean := filepath.Clean(dir)
	base := filepath.Base(clean)
	if base == "." || base == ".." || base == string(filepath.Separator) {
		return nil, KeySource{}, fmt.Errorf("datadir: %s: give a key file (no place beside this directory for one)", dir)
	}
	path := clean + ".key"
	key, err := readOrMakeKey(dir, path)
	return key, KeySource{Source: KeySourceFile, File: filepath.Join("..", base+".key")}, err
}

func readOrMakeKey(dir, path string) ([]byte, error) {
	if err := outsideDir(dir, path); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := WriteNewKey(path, MasterKeySize); err != nil {
			return nil, err
		}
	}
	return ReadKey(path, MasterKeySize)
}

// outsideDir refuses a key file inside the data directory: a copy of the
// directory (a backup, a disk image of the data partition) must not carry
// its own key.
func outsideDir(dir, path string) error {
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("datadir: key file %s: %w", path, errors.Join(err1, err2))
	}
	ad, ap = resolveLinks(ad), resolveLinks(ap)
	if rel, err := filepath.Rel(ad, ap); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("datadir: key file %s is inside the data directory %s; keep it elsewhere (see docs/keys.md)", path, dir)
	}
	return nil
}

// resolveLinks resolves symlinks in the longest existing prefix of p.
func resolveLinks(p string) string {
	rest := ""
	for q := p; ; q = filepath.Dir(q) {
		if r, err := filepath.EvalSymlinks(q); err == nil {
			return filepath.Join(r, rest)
		}
		if filepath.Dir(q) == q {
			return p
		}
		rest = filepath.Join(filepath.Base(q), rest)
	}
}

// resolveKey finds the master key of an existing directory: a key given
// in opts first, else the source config.json records.
func resolveKey(path string, src *KeySource, opts OpenOptions) ([]byte, error) {
	if src == nil {
		return nil, fmt.Errorf("datadir: %s was made without encryption at rest by an older build; re-create it with `fieldsync init`", path)
	}
	switch {
	case opts.EncryptionKey != nil:
		if len(opts.EncryptionKey) != MasterKeySize {
			return nil, fmt.Errorf("%w: key of %d bytes, want %d", replication.ErrMalformed, len(opts.EncryptionKey), MasterKeySize)
		}
		return opts.EncryptionKey, nil
	case opts.KeyFile != "":
		if err := outsideDir(path, opts.KeyFile); err != nil {
			return nil, err
		}
		return ReadKey(opts.KeyFile, MasterKeySize)
	case opts.Passphrase != nil:
		if src.Source != KeySourcePassphrase {
			return nil, fmt.Errorf("%w: %s is keyed by its %s, not a passphrase", ErrNeedKey, path, src.describe(path))
		}
		return src.KDF.Derive(opts.Passphrase)
	}
	switch src.Source {
	case KeySourceFile:
		return ReadKey(src.path(path), MasterKeySize)
	case KeySourcePassphrase:
		return nil, fmt.Errorf("%w: %s is protected by a passphrase: set FIELDSYNC_PASSPHRASE or give --passphrase-file", ErrNeedKey, path)
	}
	return nil, fmt.Errorf("%w: %s uses a key its program supplies (OpenOptions.EncryptionKey)", ErrNeedKey, path)
}
