package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"fieldsync/hub/dashboard"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/localapi"
)

func init() {
	register(&command{
		name:     "status",
		synopsis: "show a replica's state: entries held, and per peer its contact, vectors, backlog, drain time",
		usage: `Usage: fieldsync status --dir DIR [--json]

Shows what DIR holds and, per peer: the last contact, both version vectors
(what this replica holds and what the peer holds), the backlog the peer
still lacks in entries and bytes, and the time to drain it at the rate
observed on that link. Works whether or not 'fieldsync run' is running
(without it, peer states are those saved at the end of the last sessions).

Examples:
  fieldsync status --dir /var/lib/fieldsync
  fieldsync status --dir /srv/fs-district --json | jq '.peers[] | {name, backlog_entries}'
`,
		run: runStatus,
	})
}

func runStatus(e *env, args []string) error {
	fs := newFlags(e, commands["status"])
	dir := fs.String("dir", "", "data directory")
	asJSON := fs.Bool("json", false, "print JSON")
	digest := fs.Bool("digest", false, "hubs: print only the digest of the whole view")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	st, err := loadStatus(*dir)
	if err != nil {
		return err
	}
	if *digest {
		return printDigest(e, st, *asJSON)
	}
	if *asJSON {
		return writeJSON(e.stdout, st)
	}
	printStatus(e.stdout, st, time.Now())
	return nil
}

// loadStatus asks the running daemon, or reads the directory itself
// (client.Offline.Status).
func loadStatus(dir string) (localapi.Status, error) {
	c, err := openClient(dir, nil, datadir.OpenOptions{})
	if err != nil {
		return localapi.Status{}, err
	}
	defer c.Close()
	return c.Status()
}

// printDigest prints a hub's view digest (equal on hubs with equal entries).
func printDigest(e *env, st localapi.Status, asJSON bool) error {
	digest, _ := st.Extra["digest"].(string)
	if digest == "" {
		return usagef("%s is not a hub: only hubs have a view digest", st.Name)
	}
	if asJSON {
		return writeJSON(e.stdout, map[string]any{"name": st.Name, "digest": digest, "view": st.Extra["view"]})
	}
	fmt.Fprintln(e.stdout, digest)
	return nil
}

func printStatus(w io.Writer, st localapi.Status, now time.Time) {
	state := "not running"
	if st.Running {
		state = "running, sync " + orNone(st.SyncAddr)
	}
	fmt.Fprintf(w, "%s  (%s%s, unit %s)  %s\n", st.Name, st.Role, tierSuffix(st.Tier), st.Unit, state)
	fmt.Fprintf(w, "device %s  origin %s\n", st.Device, st.Origin.Short())
	fmt.Fprintf(w, "holds %d entries of %d origins\n", st.Entries, len(st.Vector))
	printTrust(w, st)
	if vs, ok := viewStats(st); ok {
		fmt.Fprintf(w, "view: %d citizens (%d versions); conflicts %d open of %d; probable duplicates %d open of %d; %d decisions\n",
			vs.Citizens, vs.Versions, vs.OpenConflicts, vs.Conflicts, vs.OpenPairs, vs.Pairs, vs.Decisions)
		fmt.Fprintf(w, "digest %v  (review queue: %v)\n", st.Extra["digest"], st.Extra["queue"])
		if len(vs.Quarantined) > 0 {
			fmt.Fprintf(w, "quarantined in the view (kept, applied to nothing): %s\n", countsText(vs.Quarantined))
		}
	}
	if dos, ok := dossierSummary(st); ok {
		printDossiers(w, dos)
	}
	if st.Blobs != nil {
		fmt.Fprintf(w, "blob store: %d blobs, %s", st.Blobs.Blobs, bytesText(st.Blobs.Bytes))
		if st.Blobs.Partials > 0 {
			fmt.Fprintf(w, "; %d arriving (%s so far)", st.Blobs.Partials, bytesText(st.Blobs.PartialBytes))
		}
		fmt.Fprintln(w)
	}
	if b, ok := st.Extra["backlog"].(map[string]any); ok {
		fmt.Fprintf(w, "not yet at a hub: %v captures (freeze at %v), oldest %v days (freeze at %v)\n",
			b["unsynced_entries"], b["max_unsynced_entries"], b["oldest_days"], b["max_unsynced_days"])
		if asFloat(b["unreceipted_dossiers"]) > 0 {
			fmt.Fprintf(w, "not yet receipted by the province: %v dossiers, %s of blobs (freeze at %v MB), oldest %v days (freeze at %v)\n",
				b["unreceipted_dossiers"], bytesText(int64(asFloat(b["unreceipted_blob_bytes"]))), b["max_unreceipted_blob_mb"],
				b["unreceipted_oldest_days"], b["max_unreceipted_days"])
		}
		if warning, _ := b["warning"].(string); warning != "" {
			fmt.Fprintf(w, "WARNING %s\n", warning)
		}
	}
	if len(st.Bundles) > 0 {
		fmt.Fprintln(w, "bundles (newest first):")
		for _, r := range st.Bundles {
			fmt.Fprintf(w, "  %s %-6s %-12s %-12s %d part(s), %d entries, %d blobs, %s%s\n", r.ID.Short(), r.Direction, r.Peer, r.State,
				len(r.Parts), r.Entries, r.Blobs, r.Updated.UTC().Format("2006-01-02 15:04Z"), noteText(r.Note))
		}
	}
	if bs := st.BlobStore; bs != nil {
		state := "up"
		if !bs.Up {
			state = "NOT ANSWERING since " + bs.Since.UTC().Format("2006-01-02 15:04Z")
		}
		fmt.Fprintf(w, "blob store: %s, %s; waiting on local disk: %d blobs, %s\n", bs.Location, state, bs.Waiting, bytesText(bs.WaitingBytes))
	}
	for _, a := range st.Alarms {
		if a.Origin == "" {
			fmt.Fprintf(w, "ALARM %s (x%d): %s\n", a.Kind, a.Count, a.Detail)
			continue
		}
		fmt.Fprintf(w, "ALARM %s origin %.8s seq %d from %s (x%d): %s\n", a.Kind, a.Origin, a.Seq, a.Peer, a.Count, a.Detail)
	}
	if len(st.Peers) == 0 {
		fmt.Fprintln(w, "no peers contacted yet")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPEER\tROLE\tLAST CONTACT\tBACKLOG\tDRAIN\tLINK RATE\tB/ENTRY\tLAST ERROR")
	for _, p := range st.Peers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d entries, %s\t%s\t%s\t%.0f\t%s\n", p.Name, p.Role, contactText(p, now),
			p.BacklogEntries, bytesText(p.BacklogBytes), drainText(p), rateText(p.RateBytesPerSec), p.BytesPerEntry, clip(p.LastError, 40))
	}
	tw.Flush()
	printVectors(w, st)
}

// printVectors shows, per origin, the seq held here and by each peer.
func printVectors(w io.Writer, st localapi.Status) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\nORIGIN\tHERE\t")
	for _, p := range st.Peers {
		fmt.Fprintf(tw, "%s\t", p.Name)
	}
	fmt.Fprintln(tw)
	for _, h := range st.Vector {
		fmt.Fprintf(tw, "%s\t%d\t", h.Origin.Short(), h.Seq)
		for _, p := range st.Peers {
			fmt.Fprintf(tw, "%s\t", seqText(p.TheirHeads, h.Origin))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

func seqText(v replication.Vector, o replication.OriginID) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprint(v.Seq(o))
}

func tierSuffix(t string) string {
	if t == "" {
		return ""
	}
	return " " + t
}

// contactText is a peer's last contact: connected, or when it was last
// heard from, and whether it is unreachable now.
func contactText(p replicator.PeerStatus, now time.Time) string {
	s := ago(p.LastContact, now, p.Connected)
	if p.Unreachable {
		s = "UNREACHABLE, heard " + s
	}
	return s
}

func ago(t, now time.Time, connected bool) string {
	switch {
	case connected:
		return "connected now"
	case t.IsZero():
		return "never"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func drainText(p replicator.PeerStatus) string {
	switch {
	case p.BacklogEntries == 0:
		return "-"
	case p.DrainSeconds == 0:
		return "unknown rate"
	}
	return (time.Duration(p.DrainSeconds * float64(time.Second))).Round(time.Second).String()
}

func rateText(bps float64) string {
	if bps == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f kbit/s", bps*8/1000)
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// viewStats reads a hub's view counts from the status's extra section
// (a struct in process, a JSON object over the API).
func viewStats(st localapi.Status) (reconcile.Stats, bool) {
	var vs reconcile.Stats
	raw, ok := st.Extra["view"]
	if !ok {
		return vs, false
	}
	b, err := json.Marshal(raw)
	if err != nil || json.Unmarshal(b, &vs) != nil {
		return vs, false
	}
	return vs, true
}

// printTrust shows the roster and what was refused or set aside.
func printTrust(w io.Writer, st localapi.Status) {
	if st.Trust.Open {
		fmt.Fprintln(w, "roster: OPEN MODE (no roster, unauthenticated sync: tests and labs only)")
	} else {
		fmt.Fprintf(w, "roster: anchor %s, %d devices (%d revoked); key %s\n", st.Trust.Anchor, st.Trust.Devices, st.Trust.Revoked, st.Key)
	}
	if len(st.Refused) > 0 {
		fmt.Fprintf(w, "refused: %s (%d refused ranges kept as evidence)\n", countsText(st.Refused), st.Trust.Evidence)
	}
	if st.Duplicates > 0 {
		fmt.Fprintf(w, "duplicates ignored (replays, second paths): %d\n", st.Duplicates)
	}
}

// countsText renders counts by reason, sorted by reason.
func countsText(m map[string]int) string { return joinCounts(m, "%s %d", ", ") }

// joinCounts renders each key and count of m with format, in key order,
// joined by sep.
func joinCounts(m map[string]int, format, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf(format, k, m[k])
	}
	return strings.Join(parts, sep)
}

// dossierSummary reads a hub's dossier completeness from the status's
// extra section (a struct in process, a JSON object over the API).
func dossierSummary(st localapi.Status) (dashboard.DossierSummary, bool) {
	var ds dashboard.DossierSummary
	raw, ok := st.Extra["dossiers"]
	if !ok {
		return ds, false
	}
	b, err := json.Marshal(raw)
	if err != nil || json.Unmarshal(b, &ds) != nil {
		return ds, false
	}
	return ds, true
}

// printDossiers shows dossier completeness per district, commune and
// laptop: complete, records without all their blobs, bytes to come and
// the drain time at the observed rate.
func printDossiers(w io.Writer, ds dashboard.DossierSummary) {
	t := ds.Totals
	fmt.Fprintf(w, "dossiers: %d complete of %d; %d records without all their blobs, %s to come%s\n",
		t.Complete, t.Dossiers, t.Incomplete, bytesText(t.PendingBytes), drainSuffix(t))
	if t.Dossiers == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nDOSSIERS\tCOMPLETE\tINCOMPLETE\tBLOBS TO COME\tDRAIN")
	line := func(name string, c dashboard.DossierCounts) {
		fmt.Fprintf(tw, "%s\t%d / %d\t%d\t%s\t%s\n", name, c.Complete, c.Dossiers, c.Incomplete, bytesText(c.PendingBytes), drainOf(c))
	}
	for _, d := range ds.Districts {
		line("district "+d.Code+" "+d.Name, d.DossierCounts)
	}
	for _, c := range ds.Communes {
		line("  commune "+c.Code+" "+c.Name, c.DossierCounts)
		for _, d := range ds.Devices {
			if d.Commune == c.Code {
				line("    laptop "+orNone(d.Name)+" "+d.Code, d.DossierCounts)
			}
		}
	}
	tw.Flush()
}

func drainSuffix(c dashboard.DossierCounts) string {
	if c.PendingBytes == 0 {
		return ""
	}
	return ", drain " + drainOf(c)
}

func drainOf(c dashboard.DossierCounts) string {
	switch {
	case c.PendingBytes == 0:
		return "-"
	case c.DrainSeconds == 0:
		return "unknown rate"
	}
	return (time.Duration(c.DrainSeconds * float64(time.Second))).Round(time.Second).String()
}

// asFloat reads a number of a status section (JSON numbers are float64;
// in process they may be ints).
func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return 0
}

func noteText(n string) string {
	if n == "" {
		return ""
	}
	return "; " + n
}
