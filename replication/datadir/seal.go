package datadir

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"

	"fieldsync/replication"
)

// Purposes of keys derived from the master key. Each file kind gets its
// own AES-256-GCM key (HKDF-SHA256, RFC 5869), so that a ciphertext of one
// kind can never be passed off as another.
const (
	purposeDeviceKey = "fieldsync/datadir/device-key/v1"
	purposeReport    = "fieldsync/datadir/report/v1"
)

// aeadFor derives the AES-256-GCM cipher for one purpose.
func aeadFor(master []byte, purpose string) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, master, nil, purpose, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// errOpen is what a failed GCM open means: the wrong key (or tampering,
// which the key cannot be told apart from).
var errOpen = errors.New("the key does not open it")

// sealedKeyPEMType marks a device key sealed under the master key.
const sealedKeyPEMType = "FIELDSYNC SEALED DEVICE KEY"

// sealedKeyVersion is the first byte of a sealed device key.
const sealedKeyVersion = 1

// sealedKeySize: version, GCM nonce, the 32-byte ed25519 seed, GCM tag.
const sealedKeySize = 1 + 12 + ed25519.SeedSize + 16

// sealDeviceKey encrypts the device key's seed under the master key: the
// signing key never sits in the clear beside the data it signs.
func sealDeviceKey(master []byte, priv ed25519.PrivateKey) ([]byte, error) {
	aead, err := aeadFor(master, purposeDeviceKey)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), sealedKeySize)
	out[0] = sealedKeyVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	out = aead.Seal(out, out[1:], priv.Seed(), []byte(sealedKeyPEMType))
	return pem.EncodeToMemory(&pem.Block{Type: sealedKeyPEMType, Bytes: out}), nil
}

// openDeviceKey decrypts a sealed device key file. A malformed file wraps
// replication.ErrMalformed; a key that does not open it returns errOpen.
func openDeviceKey(master, file []byte) (ed25519.PrivateKey, error) {
	blk, rest := pem.Decode(file)
	if blk == nil || blk.Type != sealedKeyPEMType || len(blk.Headers) != 0 || len(blk.Bytes) != sealedKeySize || len(rest) != 0 {
		return nil, fmt.Errorf("%w: device key file: want one %q PEM block of %d bytes", replication.ErrMalformed, sealedKeyPEMType, sealedKeySize)
	}
	if blk.Bytes[0] != sealedKeyVersion {
		return nil, fmt.Errorf("%w: device key file version %d, this build reads %d", replication.ErrMalformed, blk.Bytes[0], sealedKeyVersion)
	}
	aead, err := aeadFor(master, purposeDeviceKey)
	if err != nil {
		return nil, err
	}
	nonce := blk.Bytes[1 : 1+aead.NonceSize()]
	seed, err := aead.Open(nil, nonce, blk.Bytes[1+aead.NonceSize():], []byte(sealedKeyPEMType))
	if err != nil {
		return nil, errOpen
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
