package trust

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
)

// EnvOpen lets a test harness or a lab create open directories without
// saying so on every init (Choice.OpenByDefault reads it); the field never
// sets it.
const EnvOpen = "FIELDSYNC_OPEN"

// ChoiceError is a choice of anchor that cannot be made; its message says
// what to give instead (a command shows it as a usage error).
type ChoiceError struct{ Msg string }

func (e *ChoiceError) Error() string { return e.Msg }

func choiceErrorf(format string, args ...any) error {
	return &ChoiceError{Msg: fmt.Sprintf(format, args...)}
}

// Choice is init's choice of a directory's trust anchor: at most one of
// ProvinceKey or RosterFile, AnchorSelf, Open.
type Choice struct {
	// ProvinceKey is the province hub's public key (hex).
	ProvinceKey string
	// RosterFile is a roster bundle exported by the province: imported,
	// its signer is the anchor.
	RosterFile string
	// AnchorSelf: this hub is the anchor (the default for a province hub).
	AnchorSelf bool
	// Open: no roster and unauthenticated sync (tests and labs only).
	Open bool
	// OpenByDefault makes a choice of nothing open mode (the harness's
	// EnvOpen=1) instead of an error.
	OpenByDefault bool
}

// FromEnv sets OpenByDefault from EnvOpen.
func (c Choice) FromEnv() Choice {
	c.OpenByDefault = os.Getenv(EnvOpen) == "1"
	return c
}

// Check applies the choice to cfg before the directory exists; anchorSelf
// says the directory's own key becomes the anchor (Finish does it).
func (c Choice) Check(cfg *datadir.Config) (anchorSelf bool, err error) {
	n := 0
	for _, set := range []bool{c.ProvinceKey != "" || c.RosterFile != "", c.AnchorSelf, c.Open} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return false, choiceErrorf("give one of --province-key/--roster, --anchor-self, --open")
	case c.AnchorSelf && cfg.Role != replication.RoleHub:
		return false, choiceErrorf("--anchor-self: only a hub signs the roster")
	case c.ProvinceKey != "":
		k, err := roster.ParseKey(strings.ToLower(c.ProvinceKey))
		if err != nil {
			return false, choiceErrorf("--province-key: %v", err)
		}
		cfg.ProvinceKey = hex.EncodeToString(k)
	case c.Open:
		cfg.Open = true
	case c.RosterFile != "":
	case c.AnchorSelf || cfg.Role == replication.RoleHub && cfg.Tier == "province":
		return true, nil
	case c.OpenByDefault:
		cfg.Open = true
	default:
		return false, choiceErrorf("say who signs the roster: --province-key KEY or --roster FILE (from the province), --anchor-self (this hub), or --open (tests and labs only)")
	}
	return false, nil
}

// Finish completes the choice once the directory exists: the hub becomes
// its own anchor, or the roster file is imported. It returns what a roster
// bundle imported (nil without RosterFile).
func (c Choice) Finish(d *datadir.Dir, anchorSelf bool) (*Import, error) {
	switch {
	case anchorSelf:
		return nil, MakeAnchor(d)
	case c.RosterFile != "":
		bundle, err := ReadBundle(c.RosterFile)
		if err != nil {
			return nil, err
		}
		res, err := ImportBundle(d, bundle)
		return &res, err
	}
	return nil, nil
}

// ErrNotHub: only a hub signs the roster.
var ErrNotHub = errors.New("trust: only a hub signs the roster")

// MakeAnchor makes the hub in d the trust anchor of its deployment: the
// roster key derived from its device key (roster.SignerFor) signs the
// roster, whose first entry puts the hub itself on it, so that it can be
// exported at once; config.json takes that key as ProvinceKey (leaving
// open mode). d must not be running.
func MakeAnchor(d *datadir.Dir) error {
	c := d.Config
	if c.Role != replication.RoleHub {
		return ErrNotHub
	}
	self, err := roster.AddDraft(roster.Add{Key: d.Signer.PublicKey(), Role: c.Role, Tier: c.Tier, Units: []string{c.Unit}, Name: c.Name}, 0)
	if err != nil {
		return err
	}
	if _, err := roster.Write(d.Log, d.Signer, c.Tier, c.Unit, self); err != nil {
		return err
	}
	return setAnchor(d, roster.SignerFor(d.Signer).PublicKey())
}

// setAnchor writes key as d's anchor in config.json, leaving open mode.
func setAnchor(d *datadir.Dir, key ed25519.PublicKey) error {
	d.Config.ProvinceKey, d.Config.Open = hex.EncodeToString(key), false
	return datadir.WriteConfig(d.Path, d.Config)
}

// Import is what importing a roster bundle did.
type Import struct {
	// AnchorSet is the anchor the bundle gave a directory that had none.
	AnchorSet ed25519.PublicKey `json:"anchor_set,omitempty"`
	Applied   int               `json:"roster_entries"`
}

// ReadBundle reads a roster bundle file (at most roster.MaxBundleBytes;
// the import refuses a longer one).
func ReadBundle(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, roster.MaxBundleBytes+1))
}

// ImportBundle verifies a bundle against d's anchor and ingests it; a
// directory without an anchor takes the bundle's signer as its anchor
// (leaving open mode, if it was in it) and says so in AnchorSet, for the
// operator to confirm with the province.
func ImportBundle(d *datadir.Dir, bundle []byte) (Import, error) {
	var anchor ed25519.PublicKey
	if d.Config.ProvinceKey != "" {
		k, err := roster.ParseKey(d.Config.ProvinceKey)
		if err != nil {
			return Import{}, err
		}
		anchor = ed25519.PublicKey(k)
	}
	return importBundle(d, bundle, anchor, anchor == nil)
}

// Join makes a directory part of anchor's deployment (in one step, in
// process: the demo and tests): it ingests anchor's roster bundle,
// verified against anchor, and takes anchor as its own in config.json.
func Join(d *datadir.Dir, bundle []byte, anchor ed25519.PublicKey) (Import, error) {
	return importBundle(d, bundle, anchor, true)
}

func importBundle(d *datadir.Dir, bundle []byte, anchor ed25519.PublicKey, set bool) (Import, error) {
	key, res, err := live.Import(d.Log, bundle, anchor)
	if err != nil {
		return Import{}, err
	}
	out := Import{Applied: len(res.Applied)}
	if set {
		if err := setAnchor(d, key); err != nil {
			return out, err
		}
		out.AnchorSet = key
	}
	return out, nil
}

// Line describes a directory's trust anchor for an operator.
func Line(c datadir.Config) string {
	switch {
	case c.Open:
		return "OPEN (no roster, unauthenticated sync: tests and labs only)"
	case c.ProvinceKey == "":
		return "none"
	}
	k, _ := roster.ParseKey(c.ProvinceKey)
	return fmt.Sprintf("device %s (key %s)", replication.DeviceIDOf(k), c.ProvinceKey)
}
