// Package datadir lays out a fieldsync data directory and opens it:
//
//	DIR/config.json          role, tier, unit, member name, epoch, peers, and
//	                         where the master key comes from (Config.Key)
//	DIR/keys/device.key      the ed25519 device key, sealed under the master
//	                         key (AES-256-GCM), mode 0600
//	DIR/data/                the Badger log (package oplog), encrypted at rest
//	DIR/reports/*.sealed     reports that quote citizens' data (rejected
//	                         import rows), sealed under the master key
//	DIR/run/                 files of a running daemon (its API address)
//	DIR.key                  the default master key file: beside DIR, never in it
//
// Init makes the key, the config and the log, and appends the origin's
// genesis entry; Open reads them back. Both a field node and a hub use it.
//
// # Encryption at rest
//
// Every directory is encrypted: Badger encrypts each file it writes under
// data keys it rotates every storage.DataKeyRotation, and keeps them in its
// key registry encrypted under the directory's 32-byte master key. The
// master key also seals the device key and the reports, each through its
// own HKDF-derived AES-256-GCM key. Nothing personal is written in the
// clear, and the device's signing key does not sit in plaintext beside the
// data it signs.
//
// The master key comes from one of three sources, recorded in config.json
// (the source, never the key):
//
//   - a key file (KeySourceFile): 32 random bytes in hex, mode 0600, made
//     at init (or made before with `fieldsync keygen`), kept outside DIR.
//     Init refuses a key file inside DIR, so that a copy of the data
//     directory never carries its key.
//   - a passphrase (KeySourcePassphrase): stretched with argon2id (salt and
//     parameters in config.json; default 3 passes over 64 MiB, 2 lanes);
//     normalized to NFC first, since Vietnamese input methods type the same
//     words in two Unicode forms. The key exists only in memory.
//   - supplied (KeySourceSupplied): an embedding program passes the key.
//
// The default, when Init is given no source, is a key file DIR.key beside
// DIR, recorded as "../DIR.key" (relative to DIR, so a directory copied
// with its key file still opens). Why this default: the many library
// callers (tests, the demo, benchmarks) keep working unchanged with
// encryption on, and nothing needs typing; a key file beside the
// directory already protects every copy of DIR made alone (a backup, a
// hub's data disk, a synced folder). It does not protect a stolen laptop
// whose whole disk is taken: for that a laptop uses a passphrase, or keeps
// its key file on sealed storage (a TPM-bound systemd credential, full-disk
// encryption). docs/keys.md is the operator's page.
//
// Open finds the key (OpenOptions first, else the recorded source), opens
// the device key with it — the AES-GCM tag is the key check — and only
// then opens Badger, which checks its own registry again. A wrong key
// returns ErrWrongKey naming the directory and wrapping Badger's
// ErrEncryptionKeyMismatch, and changes nothing on disk. A directory whose
// log is missing is refused; Open never starts an empty log in its place.
//
// Rekey replaces the master key: it re-encrypts Badger's key registry and
// the device key, in steps that a second run finishes after a crash (see
// Rekey). The data files are not rewritten: they are under the data keys.
package datadir
