package datadir

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"fieldsync/storage"
)

// nextKeyFile holds the device key sealed under the new master key while a
// rekey runs.
const nextKeyFile = KeyFile + ".next"

// rekeyHook, when set by a test, runs before each step of Rekey and may
// fail it, to simulate a crash there.
var rekeyHook func(step string) error

func rekeyStep(step string) error {
	if rekeyHook != nil {
		return rekeyHook(step)
	}
	return nil
}

// Rekey replaces the master key of the data directory at path: the key
// that old finds (as for Open) by the one next makes (a key file, used or
// created, or a passphrase). Afterwards only the new key opens it. The
// directory must not be open (a running daemon holds its lock).
//
// What is re-encrypted is small: Badger's key registry (the data keys,
// which encrypt the data files and keep rotating every
// storage.DataKeyRotation), the sealed reports and the sealed device key.
// Steps, each atomic:
//
//  1. config.json records the new source as key_next (Open now refuses,
//     ErrRekeyPending, so nothing runs on a half-rotated directory);
//  2. keys/device.key.next: the device key sealed under the new key;
//  3. Badger's key registry rewritten under the new key (storage.Rekey);
//  4. each sealed report rewritten under the new key (file by file);
//  5. keys/device.key.next renamed over keys/device.key;
//  6. config.json: key = key_next, key_next removed.
//
// A crash anywhere leaves a directory that Rekey, run again with the same
// old and new secrets, finishes; each step checks what is already done.
func Rekey(path string, old OpenOptions, next NewKey, profile storage.Profile) error {
	cfg, err := ReadConfig(path)
	if err != nil {
		return err
	}
	if cfg.Key == nil {
		return fmt.Errorf("datadir: %s has no key source; it was made by an older build", path)
	}
	oldKey, err := resolveKey(path, cfg.Key, old)
	if err != nil {
		return err
	}
	var newKey []byte
	if cfg.KeyNext == nil {
		if _, err := openWith(path, KeyFile, oldKey); err != nil {
			return rekeyWrongKey(path, keyDescription(path, cfg.Key, old), oldKey, err)
		}
		var src KeySource
		if newKey, src, err = next.make(path); err != nil {
			return err
		}
		if bytes.Equal(newKey, oldKey) {
			return fmt.Errorf("datadir: rekey %s: the new key is the old one", path)
		}
		if err := rekeyStep("config"); err != nil {
			return err
		}
		cfg.KeyNext = &src
		if err := WriteConfig(path, cfg); err != nil {
			return err
		}
	} else if newKey, err = resumeKey(path, cfg.KeyNext, next); err != nil {
		return err
	}
	priv, err := rekeyDeviceKey(path, oldKey, newKey)
	if err != nil {
		return err
	}
	if err := rekeyStep("device-next"); err != nil {
		return err
	}
	if err := writeDeviceKey(filepath.Join(path, nextKeyFile), newKey, priv); err != nil {
		return err
	}
	if err := rekeyStep("registry"); err != nil {
		return err
	}
	if err := rekeyView(path, oldKey, newKey, profile); err != nil {
		return err
	}
	if err := storage.Rekey(filepath.Join(path, LogDir), oldKey, newKey, profile); err != nil {
		if errors.Is(err, storage.ErrWrongKey) {
			return fmt.Errorf("%w %s: neither the old nor the new key opens its log: %w", ErrWrongKey, path, err)
		}
		return err
	}
	if err := rekeyStep("reports"); err != nil {
		return err
	}
	if err := resealReports(path, oldKey, newKey); err != nil {
		return err
	}
	if err := rekeyStep("device"); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(path, nextKeyFile), filepath.Join(path, KeyFile)); err != nil {
		return fmt.Errorf("datadir: rekey: %w", err)
	}
	if err := syncDir(filepath.Join(path, "keys")); err != nil {
		return err
	}
	if err := rekeyStep("done"); err != nil {
		return err
	}
	cfg.Key, cfg.KeyNext = cfg.KeyNext, nil
	return WriteConfig(path, cfg)
}

// resumeKey finds the new key of an interrupted rekey: from next if given,
// else from the recorded source (a key file).
func resumeKey(path string, src *KeySource, next NewKey) ([]byte, error) {
	switch {
	case next.Passphrase != nil:
		return resolveKey(path, src, OpenOptions{Passphrase: next.Passphrase})
	case next.KeyFile != "":
		return resolveKey(path, src, OpenOptions{KeyFile: next.KeyFile})
	case next.EncryptionKey != nil:
		return resolveKey(path, src, OpenOptions{EncryptionKey: next.EncryptionKey})
	}
	return resolveKey(path, src, OpenOptions{})
}

// rekeyDeviceKey returns the device key, from wherever an earlier run of
// Rekey left it: sealed under the new key (device.key.next, or already
// renamed over device.key) or still under the old one.
func rekeyDeviceKey(path string, oldKey, newKey []byte) (ed25519.PrivateKey, error) {
	for _, c := range []struct {
		file string
		key  []byte
	}{{nextKeyFile, newKey}, {KeyFile, newKey}, {KeyFile, oldKey}} {
		if priv, err := openWith(path, c.file, c.key); err == nil {
			return priv, nil
		}
	}
	return nil, fmt.Errorf("%w %s: neither the old nor the new key opens %s", ErrWrongKey, path, KeyFile)
}

func openWith(path, file string, key []byte) (ed25519.PrivateKey, error) {
	b, err := readDeviceKeyFile(filepath.Join(path, file))
	if err != nil {
		return nil, err
	}
	return openDeviceKey(key, b)
}

func rekeyWrongKey(path, desc string, key []byte, err error) error {
	if errors.Is(err, errOpen) {
		return wrongKey(path, desc, key)
	}
	return err
}

// rekeyView re-encrypts a hub's view store (DIR/view) with the log: the
// view is derived, so one that cannot be re-encrypted is removed (the hub
// builds it again from the log at its next start).
func rekeyView(path string, oldKey, newKey []byte, profile storage.Profile) error {
	dir := filepath.Join(path, ViewDir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := storage.RekeyStore(dir, oldKey, newKey, profile); err != nil {
		if rerr := os.RemoveAll(dir); rerr != nil {
			return fmt.Errorf("datadir: rekey the view: %w (and removing it: %v)", err, rerr)
		}
	}
	return nil
}
