package datadir

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/s3"
	"fieldsync/replication/oplog"
	"fieldsync/storage"
)

// ConfigVersion is the version of config.json this build writes and reads.
const ConfigVersion = 1

// File names inside a data directory.
const (
	ConfigFile = "config.json"
	KeyFile    = "keys/device.key" // ed25519 private key, PEM, mode 0600
	LogDir     = "data"            // the Badger log
	BlobDir    = "blobs"           // the sealed blob store (package blob/sealed)
	ViewDir    = "view"            // a hub's citizen view, derived from the log (storage.Open)
	RunDir     = "run"             // files of a running daemon (api address, token)
)

// ErrNotInitialized is returned by Open when dir holds no fieldsync config.
var ErrNotInitialized = errors.New("datadir: not a fieldsync data directory (run `fieldsync init --dir DIR ...` first)")

// ErrAlreadyInitialized is returned by Init when dir already holds one.
var ErrAlreadyInitialized = errors.New("datadir: directory is already initialized")

// Config is the persisted configuration of a node or hub (config.json).
// Flags given to a command override it for that run.
type Config struct {
	Version int              `json:"version"`
	Role    replication.Role `json:"role"`
	// Tier names a hub's level ("district", "province"); empty for nodes.
	Tier string `json:"tier,omitempty"`
	// Unit is the administrative unit the writer serves (commune code for
	// a laptop; any unit code or name for a hub's area).
	Unit string `json:"unit"`
	// Name is the stable member name in gossip pools.
	Name string `json:"name"`
	// Epoch of the current origin; a new epoch is a new origin log for the
	// same device key (after a restore, a clone or a fork).
	Epoch uint64 `json:"epoch"`
	// Parent is the address (host:port of its sync listener) of a hub's
	// parent hub, or of a node's hub.
	Parent string `json:"parent,omitempty"`
	// Peers are further addresses to sync with (other laptops, hubs).
	Peers []string `json:"peers,omitempty"`
	// SyncAddr is where the daemon accepts sync sessions (empty: it only
	// dials, like a laptop behind carrier NAT); SyncAdvertise what others
	// are told to dial (default SyncAddr).
	SyncAddr      string `json:"sync_addr,omitempty"`
	SyncAdvertise string `json:"sync_advertise,omitempty"`
	// APIAddr is where the local API and dashboard listen.
	APIAddr string `json:"api_addr,omitempty"`
	// Pools are the gossip pools this replica is a member of (a district
	// hub is in two: its district's and the province's).
	Pools []PoolConfig `json:"pools,omitempty"`
	// ProvinceKey is the trust anchor: the provincial hub's ed25519 public
	// key (hex) that signs the roster (package roster). A daemon refuses
	// to run without it unless Open is set.
	ProvinceKey string `json:"province_key,omitempty"`
	// Open runs without a roster: every correctly signed entry is taken and
	// sync streams are not authenticated. Only for tests and a lab; never
	// the default.
	Open bool `json:"open,omitempty"`
	// Encrypted says the Badger directory is encrypted at rest (always,
	// since every directory has a Key).
	Encrypted bool `json:"encrypted,omitempty"`
	// Key says where the master key comes from (never the key): see
	// KeySource and docs/keys.md. KeyNext is set only while a rekey runs.
	Key     *KeySource `json:"key,omitempty"`
	KeyNext *KeySource `json:"key_next,omitempty"`
	// MinFreeMB overrides the free-space floor below which writes are
	// refused before anything is acknowledged (0: storage.DefaultMinFree of
	// the profile, 80 MiB on a laptop; -1: off). A floor under twice the
	// memtable size risks Badger dying of SIGBUS on a full disk.
	MinFreeMB int `json:"min_free_mb,omitempty"`
	// BlobStore, on a hub, keeps its blobs in an S3-compatible object
	// store instead of DIR/blobs: "s3://HOST/BUCKET/PREFIX?credentials=FILE"
	// (package blob/s3, ParseLocation). Empty: the local sealed store.
	BlobStore string `json:"blob_store,omitempty"`
	// Freeze limits for a field laptop (0 = default, see node.FreezePolicy).
	MaxUnsyncedEntries int `json:"max_unsynced_entries,omitempty"`
	MaxUnsyncedDays    int `json:"max_unsynced_days,omitempty"`
	// Dossiers the province has not receipted: their blobs' bytes and the
	// age of the oldest (0 = default, -1 = off; node.FreezePolicy).
	MaxUnreceiptedBlobMB int `json:"max_unreceipted_blob_mb,omitempty"`
	MaxUnreceiptedDays   int `json:"max_unreceipted_days,omitempty"`
	// BlobRetentionDays is how long a laptop keeps the blobs of dossiers
	// the province receipted (0 = node.DefaultRetention, -1 = keep them).
	BlobRetentionDays int `json:"blob_retention_days,omitempty"`
}

// PoolConfig is one gossip pool (memberlist) membership.
type PoolConfig struct {
	// Name labels the pool, e.g. "district/445" or "province/42"; members
	// of other pools are not heard.
	Name string `json:"name"`
	// Listen is the gossip address, "host:port" (UDP and TCP).
	Listen string `json:"listen"`
	// Advertise is what others are told to reach (default Listen).
	Advertise string `json:"advertise,omitempty"`
	// Seeds are members to join, as "name/host:port" (a laptop's: its hub).
	Seeds []string `json:"seeds,omitempty"`
	// KeyFile holds the pool's 32-byte key, in hex (fieldsync keygen).
	KeyFile string `json:"key_file"`
	// Profile is "field" (thin links, slow probes; the default) or "lan"
	// (only for a pool of hubs alone, e.g. the province's: a pool with
	// laptops in it runs the field profile on every member).
	Profile string `json:"profile,omitempty"`
}

var (
	tierPattern        = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	provinceKeyPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Validate checks the config's fields and their relations.
func (c *Config) Validate() error {
	switch {
	case c.Version != ConfigVersion:
		return fmt.Errorf("config version %d, this build reads %d", c.Version, ConfigVersion)
	case c.Role != replication.RoleNode && c.Role != replication.RoleHub:
		return fmt.Errorf("config role %q: want node or hub", c.Role)
	case c.Role == replication.RoleHub && !tierPattern.MatchString(c.Tier):
		return fmt.Errorf("config tier %q: a hub needs a tier such as district or province", c.Tier)
	case c.Role == replication.RoleNode && c.Tier != "":
		return fmt.Errorf("config tier %q: only hubs have a tier", c.Tier)
	case c.Unit == "" || len(c.Unit) > 64:
		return fmt.Errorf("config unit %q: want a unit code", c.Unit)
	case c.Name == "" || len(c.Name) > 64:
		return fmt.Errorf("config name %q: want 1-64 characters", c.Name)
	case c.MaxUnreceiptedBlobMB < -1 || c.MaxUnreceiptedDays < -1 || c.BlobRetentionDays < -1:
		return fmt.Errorf("config max_unreceipted_blob_mb, max_unreceipted_days, blob_retention_days: want -1 (off), 0 (default) or a positive number")
	case c.MinFreeMB < -1 || c.MinFreeMB > 1<<20:
		return fmt.Errorf("config min_free_mb %d: want -1 (off), 0 (default) or up to %d", c.MinFreeMB, 1<<20)
	case c.ProvinceKey != "" && !provinceKeyPattern.MatchString(c.ProvinceKey):
		return fmt.Errorf("config province_key: want the province hub's public key, 64 lowercase hex digits")
	case c.ProvinceKey != "" && c.Open:
		return fmt.Errorf("config: open and province_key exclude each other")
	}
	if c.BlobStore != "" {
		if c.Role != replication.RoleHub {
			return fmt.Errorf("config blob_store: only a hub keeps its blobs in an object store (a laptop keeps them in DIR/blobs)")
		}
		if _, err := s3.ParseLocation(c.BlobStore); err != nil {
			return fmt.Errorf("config blob_store: %w", err)
		}
	}
	for _, k := range []*KeySource{c.Key, c.KeyNext} {
		if k != nil {
			if err := k.Validate(); err != nil {
				return fmt.Errorf("config key: %w", err)
			}
		}
	}
	for i, p := range c.Pools {
		switch {
		case p.Name == "" || p.Listen == "":
			return fmt.Errorf("config pool %d: name and listen are required", i)
		case p.KeyFile == "":
			return fmt.Errorf("config pool %s: key_file is required (make one with fieldsync keygen)", p.Name)
		case p.Profile != "" && p.Profile != "field" && p.Profile != "lan":
			return fmt.Errorf("config pool %s: profile %q, want field or lan", p.Name, p.Profile)
		}
	}
	return nil
}

// Dir is an open data directory: its config, its signer, its log and its
// blob store.
type Dir struct {
	Path   string
	Config Config
	Signer *replication.KeySigner
	Log    oplog.Log
	// Blobs holds the biometric blobs, sealed: DIR/blobs (package
	// blob/sealed), or a hub's object store (package blob/s3) when
	// Config.BlobStore names one.
	Blobs blob.Store
	keys  *Keyring
	// profile, minFree and logger are the log's, for the stores opened
	// beside it.
	profile storage.Profile
	minFree int64
	logger  *slog.Logger
}

// InitOptions are the choices made at init.
type InitOptions struct {
	Config Config
	// The master key that encrypts the directory at rest: at most one of
	// EncryptionKey (a raw key the caller keeps), KeyFile and Passphrase
	// (see NewKey). None makes a key file DIR.key beside the directory.
	EncryptionKey []byte
	KeyFile       string
	Passphrase    []byte
	KDF           *KDF
	Logger        *slog.Logger
	Profile       storage.Profile
}

// Init creates a data directory: the master key (or its source), the
// device key sealed under it (mode 0600), the config, the encrypted log,
// and the origin's genesis entry (seq 1, synced).
func Init(path string, opts InitOptions) (*Dir, error) {
	if _, err := os.Stat(filepath.Join(path, ConfigFile)); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrAlreadyInitialized, path)
	}
	if _, err := os.Stat(filepath.Join(path, LogDir)); err == nil {
		return nil, fmt.Errorf("datadir: %s holds a log but no %s: an earlier init did not finish (a full disk?); remove %s and init again", path, ConfigFile, path)
	}
	if err := os.MkdirAll(filepath.Join(path, "keys"), 0o700); err != nil {
		return nil, fmt.Errorf("datadir: %w", err)
	}
	master, src, err := NewKey{KeyFile: opts.KeyFile, Passphrase: opts.Passphrase, KDF: opts.KDF, EncryptionKey: opts.EncryptionKey}.make(path)
	if err != nil {
		return nil, err
	}
	signer, err := replication.GenerateKeySigner(rand.Reader, randomEpoch())
	if err != nil {
		return nil, err
	}
	cfg := opts.Config
	cfg.Version = ConfigVersion
	cfg.Epoch = signer.Epoch()
	cfg.Encrypted, cfg.Key, cfg.KeyNext = true, &src, nil
	if cfg.Name == "" {
		cfg.Name = fmt.Sprintf("%s-%s-%s", cfg.Role, cfg.Unit, replication.DeviceIDOf(signer.PublicKey())[:8])
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := writeDeviceKey(filepath.Join(path, KeyFile), master, signer.PrivateKey()); err != nil {
		return nil, err
	}
	l, err := storage.OpenLog(storage.Options{Dir: filepath.Join(path, LogDir), EncryptionKey: master, Logger: opts.Logger, Profile: opts.Profile,
		MinFreeBytes: int64(cfg.MinFreeMB) << 20})
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: path, Config: cfg, Signer: signer, Log: l, keys: &Keyring{dir: path, master: master, device: signer.PrivateKey()},
		profile: opts.Profile, minFree: int64(cfg.MinFreeMB) << 20, logger: opts.Logger}
	if d.Blobs, err = d.keys.OpenBlobStore(cfg, BlobFloor(int64(cfg.MinFreeMB)<<20, opts.Profile), opts.Logger); err != nil {
		l.Close()
		return nil, err
	}
	if err := d.appendGenesis(); err != nil {
		l.Close()
		return nil, fmt.Errorf("datadir: init %s: %w", path, err)
	}
	// config.json last: its presence says the directory is complete.
	if err := WriteConfig(path, cfg); err != nil {
		l.Close()
		return nil, err
	}
	return d, nil
}

// randomEpoch draws a random epoch, so that two clones that both start a new
// epoch do not collide.
func randomEpoch() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return binary.BigEndian.Uint64(b[:]) >> 1
}

// GenesisDraft returns the genesis draft for the directory's signer.
func (d *Dir) GenesisDraft(hlc replication.HLC) replication.Draft {
	g := replication.NewGenesis(d.Signer, d.Config.Role, d.Config.Tier, d.Config.Unit)
	p, _ := json.Marshal(g) // a struct of plain fields cannot fail to marshal
	return replication.Draft{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: p, HLC: hlc}
}

func (d *Dir) appendGenesis() error {
	var hlc replication.HLCState
	_, err := d.Log.Append(d.Signer, []replication.Draft{d.GenesisDraft(hlc.Next(replication.RealClock{}.Now()))})
	return err
}

// OpenOptions are the choices made when opening. The master key comes
// from EncryptionKey, KeyFile or Passphrase if one is set, else from the
// source config.json records (a key file; a passphrase must be given).
type OpenOptions struct {
	EncryptionKey []byte
	KeyFile       string
	Passphrase    []byte
	Logger        *slog.Logger
	Profile       storage.Profile
	// MinFreeBytes overrides the log's free-space floor (storage.Options).
	MinFreeBytes int64
	// BlobStore overrides Config.BlobStore for this open (run
	// --blob-store); "local" forces DIR/blobs.
	BlobStore string
}

// Open opens an initialized data directory. A wrong key returns
// ErrWrongKey naming the directory, before anything on disk is touched; a
// directory whose log is missing is refused, never started afresh.
func Open(path string, opts OpenOptions) (*Dir, error) {
	kr, cfg, err := unlock(path, opts)
	if err != nil {
		return nil, err
	}
	minFree := opts.MinFreeBytes
	if minFree == 0 {
		minFree = int64(cfg.MinFreeMB) << 20
	}
	l, err := storage.OpenLog(storage.Options{Dir: filepath.Join(path, LogDir), EncryptionKey: kr.master, Logger: opts.Logger, Profile: opts.Profile,
		MustExist: true, MinFreeBytes: minFree})
	switch {
	case errors.Is(err, storage.ErrWrongKey):
		return nil, fmt.Errorf("%w %s (%s): %w", ErrWrongKey, path, keyDescription(path, cfg.Key, opts), err)
	case errors.Is(err, storage.ErrNoLog):
		return nil, fmt.Errorf("datadir: %s: its log is missing or incomplete; fieldsync will not start an empty one in its place (restore %s from a copy, or re-sync into a new directory): %w",
			path, LogDir, err)
	case err != nil:
		return nil, err
	}
	d := &Dir{Path: path, Config: cfg, Signer: replication.NewKeySigner(kr.device, cfg.Epoch), Log: l, keys: kr,
		profile: opts.Profile, minFree: minFree, logger: opts.Logger}
	switch opts.BlobStore {
	case "":
	case "local":
		d.Config.BlobStore = ""
	default:
		d.Config.BlobStore = opts.BlobStore
		if err := d.Config.Validate(); err != nil {
			l.Close()
			return nil, err
		}
	}
	if d.Blobs, err = kr.OpenBlobStore(d.Config, BlobFloor(minFree, opts.Profile), opts.Logger); err != nil {
		l.Close()
		return nil, err
	}
	if err := d.finishRollover(); err != nil {
		l.Close()
		return nil, err
	}
	return d, nil
}

// BlobHeadroom is what the blob store keeps free above the log's floor:
// blobs (a hub receiving a province's, a laptop's captures) never take the
// last space the records need, so records still save when blobs have
// filled the disk.
const BlobHeadroom = 64 << 20

// BlobFloor is the blob store's free-space floor for the log's floor
// logFloor (0: the profile's default; negative: off).
func BlobFloor(logFloor int64, p storage.Profile) int64 {
	switch {
	case logFloor < 0:
		return -1
	case logFloor == 0:
		logFloor = storage.DefaultMinFree(p)
	}
	return logFloor + BlobHeadroom
}

// OpenView opens the hub's view store (DIR/view, made if missing): a
// Badger store of its own, encrypted under the master key like the log.
// It is derived from the log and names in every transaction how far
// (its watermark), so its writes are not synced one by one: a crash loses
// the last rounds, which are applied again from the log.
//
// A view store damaged on disk (a *storage.DamageError: a bit flipped in
// its manifest, key registry, a table's index or a value log; or a key
// registry that no longer opens under the key the log opened with) is logged
// at ERROR naming the file, removed, and opened empty: the hub builds it
// again from the log, which the damage did not touch.
func (d *Dir) OpenView() (*storage.DB, error) {
	db, err := d.openView()
	var de *storage.DamageError
	file := ""
	switch {
	case errors.As(err, &de):
		file = de.File
	case errors.Is(err, storage.ErrWrongKey):
		// The log opened under this key: the view's key registry is
		// what is damaged (or a rekey stopped before it reached the view).
		file = filepath.Join(d.Path, ViewDir, "KEYREGISTRY")
	}
	if file != "" {
		d.log().Error("the hub's view is damaged on disk: removing it; it is built again from the log", "cause", "view-damaged", "file", file, "err", err)
		if rerr := os.RemoveAll(filepath.Join(d.Path, ViewDir)); rerr != nil {
			return nil, fmt.Errorf("datadir: %s: remove the damaged view: %w", d.Path, rerr)
		}
		db, err = d.openView()
	}
	return db, err
}

// viewAdvice is what to do about a damaged view store.
const viewAdvice = "This is the hub's view, derived from the log (which this does not touch): stop the hub, remove the view directory and start the hub: it builds the view again from the log (damage found when the view opens is handled so by itself)"

func (d *Dir) openView() (*storage.DB, error) {
	db, err := storage.Open(storage.Options{Dir: filepath.Join(d.Path, ViewDir), EncryptionKey: d.keys.master,
		Profile: d.profile, MinFreeBytes: d.minFree, NoSync: true, Snappy: true, Logger: d.logger})
	if err != nil {
		var de *storage.DamageError
		if errors.As(err, &de) {
			de.Advice = viewAdvice
		}
		return nil, fmt.Errorf("datadir: %s: the view: %w", d.Path, err)
	}
	return db, nil
}

// VerifyView reads the hub's view store whole, as verify reads the log's
// (storage.DB.VerifyStore), without building it again: a damaged file is a
// *storage.DamageError naming it. A directory without a view store (a
// laptop, or a hub that never ran) reports nothing.
func (d *Dir) VerifyView() (storage.StoreReport, error) {
	if _, err := os.Stat(filepath.Join(d.Path, ViewDir, "MANIFEST")); errors.Is(err, fs.ErrNotExist) {
		return storage.StoreReport{}, nil
	}
	db, err := d.openView()
	if err != nil {
		return storage.StoreReport{}, err
	}
	defer db.Close()
	rep, err := db.VerifyStore()
	var de *storage.DamageError
	if errors.As(err, &de) {
		de.Advice = viewAdvice
		err = fmt.Errorf("datadir: %s: the view: %w", d.Path, err)
	}
	return rep, err
}

func (d *Dir) log() *slog.Logger {
	if d.logger != nil {
		return d.logger
	}
	return slog.Default()
}

// ResetView closes db (the view store) and removes it, and opens an empty
// one: a damaged view is built again from the log.
func (d *Dir) ResetView(db *storage.DB) (*storage.DB, error) {
	if db != nil {
		db.Close()
	}
	if err := os.RemoveAll(filepath.Join(d.Path, ViewDir)); err != nil {
		return nil, fmt.Errorf("datadir: %s: remove the view: %w", d.Path, err)
	}
	return d.OpenView()
}

// Close closes the blob store and the log.
func (d *Dir) Close() error {
	if d.Blobs != nil {
		d.Blobs.Close()
	}
	return d.Log.Close()
}

// ReadConfig reads and validates config.json.
func ReadConfig(path string) (Config, error) {
	var cfg Config
	b, err := os.ReadFile(filepath.Join(path, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, fmt.Errorf("%w: %s", ErrNotInitialized, path)
	}
	if err != nil {
		return cfg, fmt.Errorf("datadir: %w", err)
	}
	return DecodeConfig(b)
}

// DecodeConfig parses and validates the bytes of config.json, and checks
// them against their check value when they carry one (WriteConfig).
func DecodeConfig(b []byte) (Config, error) {
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return Config{}, fmt.Errorf("datadir: %s: %w", ConfigFile, err)
	}
	if err := checkConfig(b); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("datadir: %s: %w", ConfigFile, err)
	}
	return cfg, nil
}

// WriteConfig writes config.json atomically (write, sync, rename), with a
// check value last: a flipped bit in a setting (a unit, a parent's
// address) is found at the next open rather than obeyed.
func WriteConfig(path string, cfg Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(path, ConfigFile), withCheck(b), 0o600)
}

// ErrConfigCheck: config.json does not match its check value.
var ErrConfigCheck = errors.New("datadir: " + ConfigFile + " does not match its check value")

// The check value is the first 16 bytes of the SHA-256 of the JSON without
// it, in hex, added as the last member: `,\n  "check": "…"\n}\n`.
const checkMember = `,` + "\n" + `  "check": "`

func withCheck(b []byte) []byte {
	sum := sha256.Sum256(b)
	out := append([]byte(nil), b[:len(b)-2]...) // without "\n}"
	out = append(out, checkMember...)
	out = append(out, hex.EncodeToString(sum[:16])...)
	return append(out, "\"\n}\n"...)
}

// checkConfig verifies config.json's check value, when it has one (a file
// written by hand, or by a build before check values, has none).
func checkConfig(b []byte) error {
	i := bytes.LastIndex(b, []byte(checkMember))
	if i < 0 {
		if bytes.Contains(b, []byte(`"check"`)) {
			return fmt.Errorf("%w: the check line is not where fieldsync writes it (the file is damaged, or was edited by hand: if you changed it on purpose, delete the \"check\" line)", ErrConfigCheck)
		}
		return nil
	}
	rest := b[i+len(checkMember):]
	want, tail, ok := bytes.Cut(rest, []byte(`"`))
	if !ok || strings.TrimSpace(string(tail)) != "}" {
		return fmt.Errorf("%w: the check line is damaged", ErrConfigCheck)
	}
	body := append(append([]byte(nil), b[:i]...), "\n}"...)
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:16]) != string(want) {
		return fmt.Errorf("%w: the file is damaged, or was edited by hand (if you changed it on purpose, delete the \"check\" line; otherwise restore it from the district office's copy)", ErrConfigCheck)
	}
	return nil
}

// keyPEMType is the plaintext device key of builds before encryption at
// rest; DecodeKey still reads it (tools, old test fixtures).
const keyPEMType = "FIELDSYNC ED25519 PRIVATE KEY"

// DecodeKey parses a device key file.
func DecodeKey(b []byte) (ed25519.PrivateKey, error) {
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != keyPEMType || len(blk.Bytes) != ed25519.SeedSize || len(rest) != 0 {
		return nil, fmt.Errorf("%w: device key file: want one %q PEM block of %d bytes", replication.ErrMalformed, keyPEMType, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(blk.Bytes), nil
}

// writeFileAtomic writes data to path through a synced temporary file and a
// rename, so a crash leaves either the old file or the new one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("datadir: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("datadir: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("datadir: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	defer d.Close()
	return d.Sync()
}

// HLCState returns a clock state that orders after every entry held: the
// greatest HLC among the heads (each origin's entries grow in HLC, so its
// head carries its greatest). A writer resumes from it after a restart, so
// its timestamps never go backwards even if the wall clock did.
func (d *Dir) HLCState() (replication.HLCState, error) {
	var s replication.HLCState
	v, err := d.Log.Vector()
	if err != nil {
		return s, err
	}
	for _, oh := range v.Heads() {
		e, err := d.Log.Get(replication.EntryID{Origin: oh.Origin, Seq: oh.Seq})
		if err != nil {
			return s, fmt.Errorf("datadir: read head of %s: %w", oh.Origin.Short(), err)
		}
		s.Observe(e.HLC)
	}
	return s, nil
}
