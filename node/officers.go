package node

import (
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"fieldsync/enrollment"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
)

// Officer accounts. Each commune officer has an account on the laptop,
// set up at the district office (`fieldsync officer add`); the capture
// app signs them in, and every capture and status carries the officer who
// made it. Accounts live in the data directory's metadata, under
// officerPrefix, so they are encrypted at rest with everything else (a
// stolen laptop yields none of them without the key). A password is never
// stored: only its argon2id stretch (datadir.KDF, the same as a
// passphrase's, with a salt of its own), checked in constant time.

const (
	officerPrefix = "officers/"
	// MinPasswordRunes and MaxPasswordBytes bound an officer's password.
	MinPasswordRunes = 8
	MaxPasswordBytes = 256
	// MaxOfficers bounds the accounts of one laptop.
	MaxOfficers  = 200
	maxOfficerID = 40
)

// Officer errors.
var (
	// ErrBadOfficer is returned (wrapped) for an account that cannot be
	// made: an ID or name that does not fit, a short password.
	ErrBadOfficer = errors.New("node: bad officer account")
	// ErrSignIn is returned by CheckOfficer for an unknown officer, a
	// wrong password or a disabled account (one error for all three: the
	// answer does not tell which).
	ErrSignIn = errors.New("node: wrong officer or password")
)

// Officer is one account.
type Officer struct {
	ID       string      `json:"id"`   // badge or account, e.g. CA-18586-02
	Name     string      `json:"name"` // as shown on the screen
	KDF      datadir.KDF `json:"kdf"`
	Hash     string      `json:"hash"` // hex of the password's stretch
	Created  time.Time   `json:"created"`
	Disabled bool        `json:"disabled,omitempty"`
}

// Public returns the account without its password's stretch.
func (o Officer) Public() Officer {
	o.Hash, o.KDF = "", datadir.KDF{}
	return o
}

// AddOfficer creates or replaces (a new password) an officer's account in
// l. kdf is the stretch's parameters with a fresh salt
// (datadir.DefaultKDF). now is the creation time.
func AddOfficer(l oplog.Log, id, name string, password []byte, kdf datadir.KDF, now time.Time) (Officer, error) {
	id, name = strings.TrimSpace(id), strings.TrimSpace(name)
	if err := checkOfficerID(id); err != nil {
		return Officer{}, err
	}
	if fs := enrollment.CheckName("officer", name); fs.Rejected() || name == "" {
		return Officer{}, fmt.Errorf("%w: name %q: give the officer's name (at most %d characters, no control characters)", ErrBadOfficer, name, enrollment.MaxNameRunes)
	}
	if utf8.RuneCount(password) < MinPasswordRunes || len(password) > MaxPasswordBytes {
		return Officer{}, fmt.Errorf("%w: the password needs at least %d characters (at most %d bytes)", ErrBadOfficer, MinPasswordRunes, MaxPasswordBytes)
	}
	existing, err := Officers(l)
	if err != nil {
		return Officer{}, err
	}
	if _, ok := findOfficer(existing, id); !ok && len(existing) >= MaxOfficers {
		return Officer{}, fmt.Errorf("%w: this laptop already has %d accounts; disable or remove one", ErrBadOfficer, MaxOfficers)
	}
	sum, err := kdf.Derive(password)
	if err != nil {
		return Officer{}, fmt.Errorf("%w: %w", ErrBadOfficer, err)
	}
	o := Officer{ID: id, Name: name, KDF: kdf, Hash: hex.EncodeToString(sum), Created: now.UTC()}
	b, err := json.Marshal(o)
	if err != nil {
		return Officer{}, err
	}
	return o, l.PutMeta(oplog.KV{Key: officerPrefix + id, Value: b})
}

func checkOfficerID(id string) error {
	if id == "" || len(id) > maxOfficerID {
		return fmt.Errorf("%w: officer ID %q: 1 to %d characters (letters, digits, '-', '.', '_')", ErrBadOfficer, id, maxOfficerID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return fmt.Errorf("%w: officer ID %q: letters, digits, '-', '.', '_' only", ErrBadOfficer, id)
		}
	}
	return nil
}

// Officers lists the accounts in l, by ID.
func Officers(l oplog.Log) ([]Officer, error) {
	var out []Officer
	var bad error
	err := l.ScanMeta(officerPrefix, func(_ string, v []byte) bool {
		var o Officer
		if err := json.Unmarshal(v, &o); err != nil {
			bad = fmt.Errorf("node: an officer account does not decode: %w", err)
			return false
		}
		out = append(out, o)
		return len(out) <= MaxOfficers
	})
	if err == nil {
		err = bad
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func findOfficer(os []Officer, id string) (Officer, bool) {
	for _, o := range os {
		if o.ID == id {
			return o, true
		}
	}
	return Officer{}, false
}

// SetOfficerDisabled disables (or enables again) an account.
func SetOfficerDisabled(l oplog.Log, id string, disabled bool) error {
	v, err := l.GetMeta(officerPrefix + id)
	if errors.Is(err, oplog.ErrNotFound) {
		return fmt.Errorf("%w: no officer %q on this laptop", ErrBadOfficer, id)
	}
	if err != nil {
		return err
	}
	var o Officer
	if err := json.Unmarshal(v, &o); err != nil {
		return err
	}
	o.Disabled = disabled
	b, _ := json.Marshal(o)
	return l.PutMeta(oplog.KV{Key: officerPrefix + id, Value: b})
}

// CheckOfficer checks an officer's password; it returns the account, or
// ErrSignIn. It stretches the password even for an unknown officer, so
// that the time taken does not tell which IDs exist.
func CheckOfficer(l oplog.Log, id string, password []byte) (Officer, error) {
	id = strings.TrimSpace(id)
	var o Officer
	found := false
	if checkOfficerID(id) == nil {
		v, err := l.GetMeta(officerPrefix + id)
		switch {
		case err == nil:
			found = json.Unmarshal(v, &o) == nil && o.KDF.Validate() == nil
		case !errors.Is(err, oplog.ErrNotFound):
			return Officer{}, err
		}
	}
	kdf := o.KDF
	if !found {
		kdf = datadir.DefaultKDF()
	}
	if len(password) == 0 || len(password) > MaxPasswordBytes {
		password = []byte{0}
	}
	sum, err := kdf.Derive(password)
	if err != nil {
		return Officer{}, ErrSignIn
	}
	want, _ := hex.DecodeString(o.Hash)
	if !found || o.Disabled || subtle.ConstantTimeCompare(sum, want) != 1 {
		return Officer{}, ErrSignIn
	}
	return o, nil
}
