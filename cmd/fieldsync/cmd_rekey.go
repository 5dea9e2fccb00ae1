package main

import (
	"fmt"
	"os"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/storage"
)

func init() {
	register(&command{
		name:     "rekey",
		synopsis: "replace a data directory's master key (re-encrypts the key registry and the device key)",
		usage: `Usage: fieldsync rekey --dir DIR [--key-file OLD | --passphrase-file OLD]
                       (--new-key-file NEW | --new-passphrase | --new-passphrase-file FILE)

Replaces DIR's master key: Badger's key registry (the data keys that
encrypt the data files) and the sealed device key are re-encrypted under
the new key, and config.json records the new source. Afterwards the old key
opens nothing. The data files are not rewritten; Badger rotates their data
keys on its own every 10 days. Stop 'fieldsync run' first.

The old key is found as for every command (--key-file, --passphrase-file,
$FIELDSYNC_PASSPHRASE, or where config.json says). The new one is a key
file (used if it exists, as 'fieldsync keygen' makes it, else created) or a
passphrase from $FIELDSYNC_NEW_PASSPHRASE or --new-passphrase-file.

If rekey is interrupted, DIR refuses to open until rekey is run again with
the same old and new keys; it then finishes. Escrow the new key before
removing the old one (docs/keys.md).

Examples:
  fieldsync keygen --out /media/escrow/laptop-18586-2026.key
  fieldsync rekey --dir /var/lib/fieldsync --new-key-file /media/escrow/laptop-18586-2026.key
  FIELDSYNC_PASSPHRASE=old FIELDSYNC_NEW_PASSPHRASE=new fieldsync rekey --dir /var/lib/fieldsync --new-passphrase
`,
		run: runRekey,
	})
}

func runRekey(e *env, args []string) error {
	fs := newFlags(e, commands["rekey"])
	dir := fs.String("dir", "", "data directory")
	keys := addKeyFlags(fs)
	newKeyFile := fs.String("new-key-file", "", "the new master key file (outside DIR): used if it exists, else created")
	newPass := fs.Bool("new-passphrase", false, "derive the new key from $"+envNewPassphrase)
	newPassFile := fs.String("new-passphrase-file", "", "file whose first line is the new passphrase")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	var next datadir.NewKey
	switch {
	case btoi(*newKeyFile != "")+btoi(*newPass)+btoi(*newPassFile != "") != 1:
		return usagef("give one of --new-key-file, --new-passphrase, --new-passphrase-file")
	case *newKeyFile != "":
		next.KeyFile = *newKeyFile
	case *newPassFile != "":
		p, err := readPassphraseFile(*newPassFile)
		if err != nil {
			return err
		}
		next.Passphrase = p
	default:
		if os.Getenv(envNewPassphrase) == "" {
			return usagef("--new-passphrase: set $%s", envNewPassphrase)
		}
		next.Passphrase = []byte(os.Getenv(envNewPassphrase))
	}
	old, err := keys.openOptions(datadir.OpenOptions{})
	if err != nil {
		return err
	}
	cfg, err := datadir.ReadConfig(*dir)
	if err != nil {
		return err
	}
	profile := storage.ProfileField
	if cfg.Role == replication.RoleHub {
		profile = storage.ProfileHub
	}
	if err := datadir.Rekey(*dir, old, next, profile); err != nil {
		return err
	}
	cfg, err = datadir.ReadConfig(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rekeyed %s\n  key:    %s\nthe old key no longer opens it\n", *dir, describeKey(*dir, cfg.Key))
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
