package main

import (
	"fmt"
	"strings"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
)

func init() {
	register(&command{
		name:     "init",
		synopsis: "create a data directory for a field node or a hub",
		usage: `Usage: fieldsync init --dir DIR --role node|hub --unit CODE [flags]

Creates DIR with a new ed25519 device key (DIR/keys/device.key, mode 0600),
a config file (DIR/config.json), the log, and the log's first entry (the
genesis, which carries the public key). Hubs need a tier.

Examples:
  fieldsync init --dir /var/lib/fieldsync --role node --unit 18586
  fieldsync init --dir /srv/fs-district --role hub --tier district --unit 445 \
      --parent province.example:7947
  fieldsync init --dir /srv/fs-province --role hub --tier province --unit 42
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
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || *unit == "" {
		return usagef("--dir and --unit are required")
	}
	cfg := datadir.Config{Role: replication.Role(*role), Tier: *tier, Unit: *unit, Name: *name, Parent: *parent}
	if *peers != "" {
		cfg.Peers = strings.Split(*peers, ",")
	}
	profile := oplog.ProfileField
	if cfg.Role == replication.RoleHub {
		profile = oplog.ProfileHub
	}
	d, err := datadir.Init(*dir, datadir.InitOptions{Config: cfg, Logger: quietLogger(), Profile: profile})
	if err != nil {
		return err
	}
	defer d.Close()
	out := struct {
		Dir    string               `json:"dir"`
		Name   string               `json:"name"`
		Role   replication.Role     `json:"role"`
		Device replication.DeviceID `json:"device"`
		Origin replication.OriginID `json:"origin"`
	}{*dir, d.Config.Name, d.Config.Role, replication.DeviceIDOf(d.Signer.PublicKey()), d.Signer.Origin()}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "initialized %s\n  name:   %s\n  role:   %s\n  device: %s\n  origin: %s\n", out.Dir, out.Name, out.Role, out.Device, out.Origin)
	return nil
}
