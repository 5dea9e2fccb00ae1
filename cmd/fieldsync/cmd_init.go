package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/storage"
)

func init() {
	register(&command{
		name:     "init",
		synopsis: "create a data directory for a field node or a hub",
		usage: `Usage: fieldsync init --dir DIR --role node|hub --unit CODE [flags]

Creates DIR with a new ed25519 device key (DIR/keys/device.key, mode 0600),
a config file (DIR/config.json), the log, and the log's first entry (the
genesis, which carries the public key). Hubs need a tier.

Everything in DIR is encrypted at rest under a master key (docs/keys.md):
  --key-file FILE         a key file outside DIR, used if it exists (made by
                          'fieldsync keygen'), created otherwise
  --passphrase            a passphrase from $FIELDSYNC_PASSPHRASE, stretched
                          with argon2id (or --passphrase-file FILE)
  (neither)               a new key file DIR.key beside DIR
config.json records which (never the key). Escrow a copy of the key at the
district office: without it the data cannot be read.

Every replica needs a trust anchor: the province hub's key, which signs the
roster of devices allowed to sync (see 'fieldsync roster'). The province hub
is its own anchor (--tier province, or --anchor-self for a hub at the top of
a smaller deployment); others get the key with --province-key, or better
with --roster FILE, a roster the province exported, which also tells a new
laptop its hubs' keys before its first sync. --open runs without a roster,
for tests and labs only. init prints the device key the province adds.

A laptop freezes (refuses new captures, warning from 80%) when 5,000
captures are not yet at a hub or the oldest of them is 21 days old:
--max-unsynced and --max-unsynced-days change the limits (MOSIP's rule;
a stolen or broken laptop then holds a bounded backlog). It also freezes
when the dossiers the province has not yet receipted hold 3 GB of blobs,
or the oldest is 30 days old (--max-unreceipted-mb, --max-unreceipted-days;
--max-unsynced -1 lifts these too, for a bulk load). Once receipted, a
dossier's blobs are dropped after 7 days (--blob-retention-days); its
record stays.

Gossip pools (memberlist) let members find each other and learn who holds
what; give each pool a key made with 'fieldsync keygen'. A district hub is a
member of two pools: its district's and the province's.

Examples:
  fieldsync init --dir /var/lib/fieldsync --role node --unit 18586 --parent 10.77.0.5:7947 --roster roster.bin \
      --pool name=district/445,listen=10.77.1.23:7946,key=/etc/fieldsync/d445.key,seed=hub-445/10.77.0.5:7946
  fieldsync init --dir /srv/fs-district --role hub --tier district --unit 445 --name hub-445 --roster roster.bin \
      --sync-listen 10.77.0.5:7947 --parent 10.77.0.1:7947 \
      --pool name=district/445,listen=10.77.0.5:7946,key=/etc/fieldsync/d445.key \
      --pool name=province/42,listen=10.77.0.5:7956,key=/etc/fieldsync/p42.key,profile=lan,seed=hub-42/10.77.0.1:7956
  fieldsync init --dir /srv/fs-province --role hub --tier province --unit 42 --name hub-42 \
      --sync-listen 10.77.0.1:7947 --pool name=province/42,listen=10.77.0.1:7956,key=/etc/fieldsync/p42.key,profile=lan
`,
		run: runInit,
	})
}

func runInit(e *env, args []string) error {
	c := commands["init"]
	fs := newFlags(e, c)
	dir := fs.String("dir", "", "data directory to create")
	role := fs.String("role", "node", "node (field laptop) or hub")
	tier := fs.String("tier", "", "hub tier: district, province, ...")
	unit := fs.String("unit", "", "unit code served (commune code for a node)")
	name := fs.String("name", "", "member name in gossip pools (default derived from role, unit and key)")
	parent := fs.String("parent", "", "sync address of the hub above (host:port)")
	peers := fs.String("peers", "", "comma-separated sync addresses of further peers")
	syncListen := fs.String("sync-listen", "", "address to accept sync sessions on (hubs; laptops may only dial)")
	syncAdvertise := fs.String("sync-advertise", "", "sync address others dial (default --sync-listen)")
	var pools poolSpecs
	fs.Var(&pools, "pool", "gossip pool: name=POOL,listen=HOST:PORT,key=FILE[,seed=NAME/HOST:PORT]... (repeatable)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	keyFile := fs.String("key-file", "", "master key file, outside DIR: used if it exists, else created (default DIR.key)")
	usePass := fs.Bool("passphrase", false, "derive the master key from a passphrase ($"+envPassphrase+" or --passphrase-file)")
	passFile := fs.String("passphrase-file", "", "file whose first line is the passphrase (implies --passphrase)")
	anchor := addTrustFlags(fs)
	maxUnsynced := fs.Int("max-unsynced", 0, "laptops: refuse captures past this many not yet at a hub (0: 5000; -1: no limit)")
	blobStore := fs.String("blob-store", "", "hubs: keep blobs in an S3-compatible object store, s3://HOST/BUCKET/PREFIX?credentials=FILE (default: DIR/blobs)")
	maxDays := fs.Int("max-unsynced-days", 0, "laptops: refuse captures once the oldest not yet at a hub is this many days old (0: 21; -1: no limit)")
	maxBlobMB := fs.Int("max-unreceipted-mb", 0, "laptops: refuse captures once the dossiers the province has not receipted hold this many MB of blobs (0: 3072; -1: no limit)")
	maxDossierDays := fs.Int("max-unreceipted-days", 0, "laptops: refuse captures once the oldest dossier the province has not receipted is this many days old (0: 30; -1: no limit)")
	retention := fs.Int("blob-retention-days", 0, "laptops: keep the blobs of receipted dossiers this many days (0: 7; -1: keep them)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	keys, err := initKey(*keyFile, *usePass, *passFile)
	if err != nil {
		return err
	}
	if *dir == "" || *unit == "" {
		return usagef("--dir and --unit are required")
	}
	cfg := datadir.Config{Role: replication.Role(*role), Tier: *tier, Unit: *unit, Name: *name, Parent: *parent,
		SyncAddr: *syncListen, SyncAdvertise: *syncAdvertise, Pools: pools, MaxUnsyncedEntries: *maxUnsynced, MaxUnsyncedDays: *maxDays,
		MaxUnreceiptedBlobMB: *maxBlobMB, MaxUnreceiptedDays: *maxDossierDays, BlobRetentionDays: *retention, BlobStore: *blobStore}
	if *maxUnsynced < 0 && *maxBlobMB == 0 {
		cfg.MaxUnreceiptedBlobMB, cfg.MaxUnreceiptedDays = -1, -1 // a bulk load: no freeze at all
	}
	if *peers != "" {
		cfg.Peers = strings.Split(*peers, ",")
	}
	anchorSelf, err := checkTrust(anchor, &cfg)
	if err != nil {
		return err
	}
	profile := storage.ProfileField
	if cfg.Role == replication.RoleHub {
		profile = storage.ProfileHub
	}
	d, err := datadir.Init(*dir, datadir.InitOptions{Config: cfg, Logger: quietLogger(), Profile: profile,
		KeyFile: keys.KeyFile, Passphrase: keys.Passphrase})
	if err != nil {
		return err
	}
	defer d.Close()
	imported, err := anchor.Finish(d, anchorSelf)
	if err != nil {
		return err
	}
	out := struct {
		Dir    string               `json:"dir"`
		Name   string               `json:"name"`
		Role   replication.Role     `json:"role"`
		Device replication.DeviceID `json:"device"`
		Origin replication.OriginID `json:"origin"`
		Key    *datadir.KeySource   `json:"key"`
		// DeviceKey is what the province puts on the roster.
		DeviceKey   string `json:"device_key"`
		ProvinceKey string `json:"province_key,omitempty"`
		Open        bool   `json:"open,omitempty"`
		// Roster is what --roster imported.
		Roster *trust.Import `json:"roster,omitempty"`
	}{*dir, d.Config.Name, d.Config.Role, replication.DeviceIDOf(d.Signer.PublicKey()), d.Signer.Origin(), d.Config.Key,
		hex.EncodeToString(d.Signer.PublicKey()), d.Config.ProvinceKey, d.Config.Open, imported}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	if imported != nil {
		printRosterImport(e.stdout, *imported)
	}
	fmt.Fprintf(e.stdout, "initialized %s\n  name:   %s\n  role:   %s\n  device: %s (key %s)\n  origin: %s\n  key:    %s\n  anchor: %s\n",
		out.Dir, out.Name, out.Role, out.Device, out.DeviceKey, out.Origin, describeKey(*dir, out.Key), trust.Line(d.Config))
	return nil
}

// initKey turns init's key flags into the new key's source.
func initKey(keyFile string, usePass bool, passFile string) (datadir.NewKey, error) {
	var k datadir.NewKey
	usePass = usePass || passFile != ""
	switch {
	case keyFile != "" && usePass:
		return k, usagef("give --key-file or --passphrase, not both")
	case keyFile != "":
		k.KeyFile = keyFile
	case passFile != "":
		p, err := readPassphraseFile(passFile)
		if err != nil {
			return k, err
		}
		k.Passphrase = p
	case usePass:
		if os.Getenv(envPassphrase) == "" {
			return k, usagef("--passphrase: set $%s or give --passphrase-file", envPassphrase)
		}
		k.Passphrase = []byte(os.Getenv(envPassphrase))
	}
	return k, nil
}

// describeKey says where a directory's master key is (never the key).
func describeKey(dir string, k *datadir.KeySource) string {
	switch {
	case k == nil:
		return "none (unencrypted)"
	case k.Source == datadir.KeySourceFile && !filepath.IsAbs(k.File):
		return fmt.Sprintf("key file %s — escrow a copy at the district office (docs/keys.md)", filepath.Join(dir, k.File))
	case k.Source == datadir.KeySourceFile:
		return fmt.Sprintf("key file %s — escrow a copy at the district office (docs/keys.md)", k.File)
	case k.Source == datadir.KeySourcePassphrase:
		return fmt.Sprintf("passphrase, argon2id t=%d m=%d MiB p=%d — escrow the passphrase at the district office", k.KDF.Time, k.KDF.MemoryKiB>>10, k.KDF.Threads)
	}
	return k.Source
}
