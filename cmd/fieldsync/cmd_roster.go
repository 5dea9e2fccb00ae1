package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"fieldsync/hub"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/replication/roster"
	"fieldsync/runtime/daemon"
)

// envOpen lets a test harness or a lab create open directories without
// saying so on every init (trust.EnvOpen); the field never sets it.
const envOpen = trust.EnvOpen

func init() {
	register(&command{
		name:     "roster",
		synopsis: "the province's roster of authorized devices: add, revoke, show, export, import",
		usage: `Usage: fieldsync roster add    --dir PROVINCE (--device KEY | --from-dir DIR) --unit CODE[,CODE] [--role node|hub] [--tier T] [--name N]
       fieldsync roster revoke --dir PROVINCE (--device KEY | --from-dir DIR) [--from-seq N] [--origin O] [--note TEXT]
       fieldsync roster show   --dir DIR [--json]
       fieldsync roster export --dir DIR --out FILE
       fieldsync roster import --dir DIR FILE

The roster lists the device keys allowed to sync, each with its role and its
scope (the units whose captures it may write). The province hub — the trust
anchor — signs it: its entries live in the province's log and replicate to
every hub and laptop. A hub refuses sync sessions and entries from devices
not on it, and quarantines captures outside a device's scope.

add      puts a device on the roster (KEY is the hex public key that
         'fieldsync init' and 'fieldsync status' print; --from-dir reads it,
         with its role, tier, unit and name, from a directory on this
         machine whose daemon is stopped). Run at the province.
revoke   withdraws a lost or stolen device. Revocation is by sequence, not
         time: of each origin of the device, the entries this hub holds
         stand; everything after them (N+1, ...) is quarantined at every hub.
         --from-seq N sets the last seq that stands of its current origin.
show     lists the roster a replica holds.
export   writes the roster as a signed bundle (no personal data), for a new
         laptop or hub to import before its first sync: it learns its
         hubs' keys from it.
import   verifies a bundle against the directory's anchor (or, for a
         directory without one, takes the bundle's signer as anchor and
         prints it to confirm with the province) and ingests it.

add, revoke and import go through the running daemon when there is one.

Examples:
  fieldsync roster add --dir /srv/fs-province --device 5c1f…e2 --unit 18586 --name "Thạch Kênh 1"
  fieldsync roster add --dir /srv/fs-province --device 9a0b…31 --role hub --tier district --unit 445
  fieldsync roster revoke --dir /srv/fs-province --device 5c1f…e2 --note "stolen 2026-03-02"
  fieldsync roster export --dir /srv/fs-province --out roster.bin
  fieldsync roster import --dir /var/lib/fieldsync roster.bin
`,
		run: runRoster,
	})
}

func runRoster(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("roster: say add, revoke, show, export or import")
	}
	switch args[0] {
	case "add", "revoke":
		return runRosterChange(e, args[0], args[1:])
	case "show":
		return runRosterShow(e, args[1:])
	case "export":
		return runRosterExport(e, args[1:])
	case "import":
		return runRosterImport(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, commands["roster"].usage)
		return nil
	}
	return usagef("roster %q: say add, revoke, show, export or import", args[0])
}

func runRosterChange(e *env, op string, args []string) error {
	fs := newFlags(e, commands["roster"])
	dir := fs.String("dir", "", "the province hub's data directory")
	device := fs.String("device", "", "the device's public key (hex)")
	fromDir := fs.String("from-dir", "", "read the device's key, role, tier, unit and name from this directory (its daemon stopped)")
	units := fs.String("unit", "", "add: the device's scope, comma-separated unit codes (default: --from-dir's unit)")
	role := fs.String("role", "", "add: node or hub (default node, or --from-dir's)")
	tier := fs.String("tier", "", "add: a hub's tier (default --from-dir's)")
	name := fs.String("name", "", "add: a name for operators (default --from-dir's)")
	fromSeq := fs.Uint64("from-seq", 0, "revoke: the last seq of the device's current origin that stands (default: the last this hub holds)")
	origin := fs.String("origin", "", "revoke: the device's current origin, when it has several")
	note := fs.String("note", "", "revoke: why")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req := hub.RosterRequest{Op: op, Device: *device, Role: replication.Role(*role), Tier: *tier, Name: *name, FromSeq: *fromSeq, Origin: *origin, Note: *note}
	if *units != "" {
		req.Units = strings.Split(*units, ",")
	}
	if *fromDir != "" {
		if err := fillFromDir(&req, *fromDir); err != nil {
			return err
		}
	}
	if req.Device == "" {
		return usagef("give --device KEY or --from-dir DIR")
	}
	if op == "add" && req.Role == "" {
		req.Role = replication.RoleNode
	}
	if op == "add" && len(req.Units) == 0 {
		return usagef("add: --unit is required (the device's scope)")
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	c, err := openClient(*dir, keys, datadir.OpenOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	ids, err := c.ChangeRoster(req)
	if errors.Is(err, hub.ErrBadRosterRequest) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	key, _ := roster.ParseKey(req.Device)
	verb := map[string]string{"add": "added", "revoke": "revoked"}[op]
	fmt.Fprintf(e.stdout, "%s device %s (entry %s); it reaches every hub and laptop with the next syncs\n",
		verb, replication.DeviceIDOf(key), ids[len(ids)-1])
	return nil
}

// fillFromDir takes a device's key and, where the flags left them empty,
// its role, tier, unit and name from its data directory.
func fillFromDir(req *hub.RosterRequest, dir string) error {
	d, err := openDir(dir)
	if err != nil {
		return fmt.Errorf("--from-dir: %w", err)
	}
	defer d.Close()
	c := d.Config
	req.Device = hex.EncodeToString(d.Signer.PublicKey())
	if req.Role == "" {
		req.Role = c.Role
	}
	if req.Tier == "" {
		req.Tier = c.Tier
	}
	if len(req.Units) == 0 {
		req.Units = []string{c.Unit}
	}
	if req.Name == "" {
		req.Name = c.Name
	}
	return nil
}

func runRosterShow(e *env, args []string) error {
	fs := newFlags(e, commands["roster"])
	dir := fs.String("dir", "", "data directory")
	asJSON := fs.Bool("json", false, "print JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := openClient(*dir, keys, datadir.OpenOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := c.Roster()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, v)
	}
	printRoster(e.stdout, v)
	return nil
}

func printRoster(w io.Writer, v daemon.RosterView) {
	if v.Open {
		fmt.Fprintln(w, "open mode: no roster, sync streams unauthenticated (tests and labs only)")
		return
	}
	fmt.Fprintf(w, "anchor %s (key %x)\n", replication.DeviceIDOf(v.Anchor), []byte(v.Anchor))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tROLE\tSCOPE\tNAME\tSTATE")
	revoked := 0
	for _, d := range v.Devices {
		state := "authorized"
		if d.Revoked {
			revoked++
			var keep []string
			for _, l := range d.Keep {
				keep = append(keep, fmt.Sprintf("%s≤%d", l.Origin.Short(), l.Seq))
			}
			state = "REVOKED, stands: " + strings.Join(keep, " ")
			if len(keep) == 0 {
				state = "REVOKED, nothing stands"
			}
		}
		role := string(d.Role)
		if d.Tier != "" {
			role += " " + d.Tier
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, role, strings.Join(d.Units, ","), d.Name, state)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d device(s), %d revoked\n", len(v.Devices), revoked)
}

func runRosterExport(e *env, args []string) error {
	fs := newFlags(e, commands["roster"])
	dir := fs.String("dir", "", "data directory holding the roster (the province, or any hub or laptop)")
	out := fs.String("out", "", "file to write (- for stdout)")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	c, err := openClient(*dir, keys, datadir.OpenOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	bundle, err := c.ExportRoster()
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err := e.stdout.Write(bundle)
		return err
	}
	if err := os.WriteFile(*out, bundle, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote the roster (%d bytes) to %s\n", len(bundle), *out)
	return nil
}

func runRosterImport(e *env, args []string) error {
	fs := newFlags(e, commands["roster"])
	dir := fs.String("dir", "", "data directory")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give one bundle file")
	}
	bundle, err := trust.ReadBundle(fs.Arg(0))
	if err != nil {
		return err
	}
	c, err := openClient(*dir, keys, datadir.OpenOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := c.ImportRoster(bundle)
	if err != nil {
		return err
	}
	printRosterImport(e.stdout, res)
	return nil
}

// printRosterImport says what importing a roster bundle did.
func printRosterImport(w io.Writer, b trust.Import) {
	if b.AnchorSet != nil {
		fmt.Fprintf(w, "trust anchor set to device %s (key %x): check it with the province\n", replication.DeviceIDOf(b.AnchorSet), []byte(b.AnchorSet))
	}
	fmt.Fprintf(w, "imported the roster: %d new entries\n", b.Applied)
}

// addTrustFlags registers init's choices of trust anchor (trust.Choice).
func addTrustFlags(fs *flag.FlagSet) *trust.Choice {
	t := &trust.Choice{}
	fs.StringVar(&t.ProvinceKey, "province-key", "", "the province hub's public key (hex): the trust anchor that signs the roster")
	fs.StringVar(&t.RosterFile, "roster", "", "a roster exported by the province ('fieldsync roster export'): imported, and its signer is the anchor")
	fs.BoolVar(&t.AnchorSelf, "anchor-self", false, "this hub is the trust anchor and signs the roster (the default for --tier province)")
	fs.BoolVar(&t.Open, "open", false, "no roster and unauthenticated sync: tests and labs only, never in the field")
	return t
}

// checkTrust applies init's choice of anchor to cfg (trust.Choice.Check,
// with the harness's FIELDSYNC_OPEN); a choice that cannot be made is a
// usage error.
func checkTrust(t *trust.Choice, cfg *datadir.Config) (anchorSelf bool, err error) {
	anchorSelf, err = t.FromEnv().Check(cfg)
	var ce *trust.ChoiceError
	if errors.As(err, &ce) {
		return false, usagef("%s", ce.Msg)
	}
	return anchorSelf, err
}
