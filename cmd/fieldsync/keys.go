package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"fieldsync/replication/datadir"
)

// Environment variables that say where a data directory's key is, for
// every command (a daemon started by systemd gets them from its unit).
const (
	envKeyFile        = "FIELDSYNC_KEY_FILE"
	envPassphrase     = "FIELDSYNC_PASSPHRASE"
	envPassphraseFile = "FIELDSYNC_PASSPHRASE_FILE"
	envNewPassphrase  = "FIELDSYNC_NEW_PASSPHRASE" // rekey only
)

// maxPassphraseFile bounds what is read of a passphrase file.
const maxPassphraseFile = 4 << 10

// keyFlags are the flags of a command that opens a data directory and may
// need its key: --key-file, --passphrase-file. Without them the key comes
// from the environment (FIELDSYNC_KEY_FILE, FIELDSYNC_PASSPHRASE,
// FIELDSYNC_PASSPHRASE_FILE) or, for a key file, from where config.json
// says it is.
type keyFlags struct{ keyFile, passFile string }

func addKeyFlags(fs *flag.FlagSet) *keyFlags {
	k := &keyFlags{}
	fs.StringVar(&k.keyFile, "key-file", "", "the directory's master key file (default: the one config.json names, or $"+envKeyFile+")")
	fs.StringVar(&k.passFile, "passphrase-file", "", "file whose first line is the directory's passphrase (default: $"+envPassphrase+" or $"+envPassphraseFile+")")
	return k
}

// openOptions fills o with the key the flags or the environment give.
// k may be nil (a command without key flags: the environment only).
func (k *keyFlags) openOptions(o datadir.OpenOptions) (datadir.OpenOptions, error) {
	var kf, pf string
	if k != nil {
		kf, pf = k.keyFile, k.passFile
	}
	if kf == "" {
		kf = os.Getenv(envKeyFile)
	}
	if pf == "" {
		pf = os.Getenv(envPassphraseFile)
	}
	switch {
	case kf != "" && pf != "":
		return o, usagef("give a key file or a passphrase, not both")
	case kf != "":
		o.KeyFile = kf
	case pf != "":
		p, err := readPassphraseFile(pf)
		if err != nil {
			return o, err
		}
		o.Passphrase = p
	case os.Getenv(envPassphrase) != "":
		o.Passphrase = []byte(os.Getenv(envPassphrase))
	}
	return o, nil
}

// readPassphraseFile returns the first line of path, without its line end.
// Like a key file, it must not be readable by others.
func readPassphraseFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("passphrase file %s is readable by others (mode %v); run chmod 600", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPassphraseFile+1))
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	if len(b) > maxPassphraseFile {
		return nil, fmt.Errorf("passphrase file %s is longer than %d bytes", path, maxPassphraseFile)
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("passphrase file %s: the first line is empty", path)
	}
	return b, nil
}

// openDirKeys opens a data directory for direct access by a command, with
// the key the flags or the environment give.
func openDirKeys(dir string, k *keyFlags) (*datadir.Dir, error) {
	if dir == "" {
		return nil, usagef("--dir is required")
	}
	o, err := k.openOptions(datadir.OpenOptions{Logger: quietLogger()})
	if err != nil {
		return nil, err
	}
	return datadir.Open(dir, o)
}
