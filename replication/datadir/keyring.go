package datadir

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"fieldsync/replication/blob"
	"fieldsync/replication/blob/s3"
	"fieldsync/replication/blob/sealed"
	"fieldsync/storage"
)

// maxDeviceKeyFile bounds what is read of keys/device.key.
const maxDeviceKeyFile = 4 << 10

// Keyring is an unlocked data directory's secrets: the master key, which
// encrypts the log and seals the directory's other files, and the device
// key. Unlock gives one without opening the log (for a command that runs
// beside a daemon holding it); Dir.Keyring gives the open directory's.
type Keyring struct {
	dir    string
	master []byte
	device ed25519.PrivateKey
}

// Unlock finds and checks the master key of the data directory at path —
// from opts, or from the source config.json records — and opens the
// device key with it. It reads only; a wrong key returns ErrWrongKey.
func Unlock(path string, opts OpenOptions) (*Keyring, error) {
	k, _, err := unlock(path, opts)
	return k, err
}

func unlock(path string, opts OpenOptions) (*Keyring, Config, error) {
	cfg, err := ReadConfig(path)
	if err != nil {
		return nil, cfg, err
	}
	if cfg.KeyNext != nil {
		return nil, cfg, fmt.Errorf("%w (%s)", ErrRekeyPending, path)
	}
	master, err := resolveKey(path, cfg.Key, opts)
	if err != nil {
		return nil, cfg, err
	}
	b, err := readDeviceKeyFile(filepath.Join(path, KeyFile))
	if err != nil {
		return nil, cfg, err
	}
	priv, err := openDeviceKey(master, b)
	if errors.Is(err, errOpen) {
		return nil, cfg, wrongKey(path, keyDescription(path, cfg.Key, opts), master)
	}
	if err != nil {
		return nil, cfg, fmt.Errorf("datadir: %s: %w", filepath.Join(path, KeyFile), err)
	}
	return &Keyring{dir: path, master: master, device: priv}, cfg, nil
}

// wrongKey builds the error for a key that did not open the device key.
// It also asks Badger's key registry (read-only), so that the error wraps
// Badger's own verdict, and tells a wrong key from a damaged device key.
func wrongKey(path, desc string, master []byte) error {
	cerr := storage.CheckKey(filepath.Join(path, LogDir), master)
	if cerr == nil {
		return fmt.Errorf("datadir: %s: the %s opens the log but not %s: the device key file is damaged or was replaced", path, desc, KeyFile)
	}
	return fmt.Errorf("%w %s (%s): %w", ErrWrongKey, path, desc, cerr)
}

func keyDescription(path string, src *KeySource, opts OpenOptions) string {
	switch {
	case opts.EncryptionKey != nil:
		return "supplied key"
	case opts.KeyFile != "":
		return "key file " + opts.KeyFile
	case opts.Passphrase != nil:
		return "passphrase"
	}
	return src.describe(path)
}

// readDeviceKeyFile reads keys/device.key, refusing one readable by others.
func readDeviceKeyFile(path string) ([]byte, error) {
	return readSecretFile(path, "device key", maxDeviceKeyFile)
}

// writeDeviceKey seals priv under master into path (atomically, 0600).
func writeDeviceKey(path string, master []byte, priv ed25519.PrivateKey) error {
	b, err := sealDeviceKey(master, priv)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b, 0o600)
}

// Keyring returns the open directory's secrets.
func (d *Dir) Keyring() *Keyring { return d.keys }

// purposeBlobStore derives the blob store's key from the device key: the
// device key is sealed under the master key and a rekey keeps it, so the
// blobs need no re-encryption when the master key changes (and a copy of
// DIR/blobs alone opens with nothing).
const purposeBlobStore = "fieldsync/datadir/blob-store/v1"

// BlobKey returns the key of the directory's sealed blob store.
func (k *Keyring) BlobKey() ([]byte, error) {
	return hkdf.Key(sha256.New, k.device.Seed(), nil, purposeBlobStore, sealed.KeySize)
}

// OpenBlobStore opens the blob store cfg names: the object store of
// cfg.BlobStore (its local stage in DIR/blobs), or the sealed store in
// DIR/blobs. An object store that does not answer is not an error here (a
// hub starts, its blobs wait, Health says why); one that refuses (a wrong
// bucket or credentials, another hub's prefix) is.
func (k *Keyring) OpenBlobStore(cfg Config, minFree int64, logger *slog.Logger) (blob.Store, error) {
	if cfg.BlobStore == "" {
		return k.OpenBlobs(minFree)
	}
	loc, err := s3.ParseLocation(cfg.BlobStore)
	if err != nil {
		return nil, fmt.Errorf("datadir: %s: blob store: %w", k.dir, err)
	}
	c, err := loc.Dial()
	if err != nil {
		return nil, fmt.Errorf("datadir: %s: blob store: %w", k.dir, err)
	}
	key, err := k.BlobKey()
	if err != nil {
		return nil, err
	}
	pub := k.device.Public().(ed25519.PublicKey)
	st, err := s3.Open(s3.Options{Client: c, Prefix: loc.Prefix, Owner: cfg.Name + " " + hex.EncodeToString(pub),
		Dir: filepath.Join(k.dir, BlobDir), Key: key, MinFreeBytes: minFree, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("datadir: %s: blob store %s: %w", k.dir, loc.Endpoint+"/"+loc.Bucket+"/"+loc.Prefix, err)
	}
	return st, nil
}

// OpenBlobs opens the directory's sealed blob store (DIR/blobs, made if
// missing), with the free-space floor minFree (see BlobFloor; 0:
// sealed.DefaultMinFree, negative: off).
func (k *Keyring) OpenBlobs(minFree int64) (*sealed.Store, error) {
	key, err := k.BlobKey()
	if err != nil {
		return nil, err
	}
	s, err := sealed.Open(sealed.Options{Dir: filepath.Join(k.dir, BlobDir), Key: key, MinFreeBytes: minFree})
	if err != nil {
		return nil, fmt.Errorf("datadir: %s: %w", k.dir, err)
	}
	return s, nil
}
