package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"fieldsync/replication/bundle"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/bundleops"
	"fieldsync/runtime/client"
	"fieldsync/runtime/localapi"
)

func init() {
	register(&command{
		name:     "bundle",
		synopsis: "sync by hand: sealed bundles on a USB stick, laptop to hub and the hub's answer back",
		usage: `Usage: fieldsync bundle export --dir LAPTOP [--for HUB] --out FILE [--max-size SIZE] [--parts N]
       fieldsync bundle import --dir DIR [--answer FILE] PART...
       fieldsync bundle list   --dir DIR [--json]

For a commune with no link at all: the laptop writes what its hub lacks
to a stick, someone carries it down, the hub takes it, and the hub's
answer comes back up on the same stick.

export  writes what HUB still lacks as far as this laptop knows — entries,
        then blobs, portraits first — to FILE, sealed to HUB (and every
        other hub whose key this laptop holds: any of them can take it and
        carry it on) and signed by this laptop: a lost stick discloses
        nothing. --max-size bounds each file (a stick's free space: 700M,
        4G); what does not fit goes on in FILE.2, FILE.3, ... --parts N
        writes at most N files now. HUB is a hub's name or device key; the
        default is the hub this laptop last synced with. The laptop must
        have synced with its hub once (it learns the hub's key then).
import  takes parts: at a hub, a laptop's (checked as a sync session
        checks them: signatures, chains, the roster, blobs against their
        records; what is held is skipped); --answer FILE writes the hub's
        answer for the laptop. At a laptop, the hub's answer: what the hub
        now holds (the next bundle or session does not send it again), and
        the roster, decisions, receipts and resident lists for this
        commune. A part damaged or cut short is refused from the damaged
        frame on, with the reason; what came before it is kept. Any part
        can be imported again, in any order.
list    the bundles this replica wrote or took: exported, imported,
        answered, acknowledged.

Exit status 3 when a part was refused in whole or in part.

Examples:
  fieldsync bundle export --dir /var/lib/fieldsync --out /media/usb/xa-18586.fsb --max-size 700M
  fieldsync bundle import --dir /srv/fs-district /media/usb/xa-18586.fsb* --answer /media/usb/xa-18586.answer.fsb
  fieldsync bundle import --dir /var/lib/fieldsync /media/usb/xa-18586.answer.fsb
`,
		run: runBundle,
	})
}

func runBundle(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("want export, import or list")
	}
	switch args[0] {
	case "export":
		return runBundleExport(e, args[1:])
	case "import":
		return runBundleImport(e, args[1:])
	case "list":
		return runBundleList(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, commands["bundle"].usage)
		return nil
	}
	return usagef("unknown bundle command %q: want export, import or list", args[0])
}

// parseByteSize reads 700M, 4G, 64K or a number of bytes.
func parseByteSize(s string) (int64, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	num := s
	if mult > 1 {
		num = s[:len(s)-1]
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes, or 700M, 4G", s)
	}
	return int64(n * float64(mult)), nil
}

// withBundleEnv runs fn through the running daemon's API if it answers,
// else on the directory opened here.
func withBundleEnv(dir string, keys *keyFlags, viaAPI func(c *localapi.Client) error, direct func(env *bundleops.Env) error) error {
	return onDaemonOrDir(dir, keys, datadir.OpenOptions{}, viaAPI, func(c *client.Offline) error {
		env, err := bundleops.Standalone(c.Dir)
		if err != nil {
			return err
		}
		return direct(env)
	})
}

func runBundleExport(e *env, args []string) error {
	fs := newFlags(e, commands["bundle"])
	dir := fs.String("dir", "", "the laptop's data directory")
	forHub := fs.String("for", "", "the hub: its name or device key (default: the hub last synced with)")
	out := fs.String("out", "", "the first part's file (on the stick)")
	maxSize := fs.String("max-size", "", "most bytes per file: 700M, 4G (default: one file)")
	parts := fs.Int("parts", 0, "most files to write now (default: as many as needed)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	size, err := parseByteSize(*maxSize)
	if err != nil {
		return usagef("--max-size: %v", err)
	}
	if *out == "" {
		return usagef("--out FILE is required")
	}
	abs, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	req := bundleops.ExportRequest{For: *forHub, Out: abs, MaxSize: size, Parts: *parts}
	var rep bundleops.ExportReport
	err = withBundleEnv(*dir, keys,
		func(c *localapi.Client) error { return c.Do(http.MethodPost, "/api/bundle/export", req, &rep) },
		func(env *bundleops.Env) error {
			r, err := env.Export(req)
			if r != nil {
				rep = *r
			}
			return err
		})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, rep)
	}
	fmt.Fprintf(e.stdout, "bundle %s for %s (sealed to %s): %d entries, %d blobs (%s), %s in %d file(s):\n",
		rep.ID[:8], rep.Hub, strings.Join(rep.Recipients, ", "), rep.Entries, rep.Blobs, bytesText(rep.BlobBytes), bytesText(rep.Bytes), len(rep.Files))
	for _, f := range rep.Files {
		fmt.Fprintf(e.stdout, "  %s\n", f)
	}
	if !rep.Complete {
		fmt.Fprintf(e.stdout, "NOT EVERYTHING FITS: %d batches and %d blobs are left for a later bundle (more --parts, or a larger --max-size)\n", rep.LeftEntries, rep.LeftBlobs)
	}
	return nil
}

func runBundleImport(e *env, args []string) error {
	fs := newFlags(e, commands["bundle"])
	dir := fs.String("dir", "", "the data directory")
	answer := fs.String("answer", "", "at a hub: write the answer for the laptop to FILE")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(fs.Args()) == 0 {
		return usagef("give the part files to import")
	}
	req := bundleops.ImportRequest{}
	for _, p := range fs.Args() {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		req.Paths = append(req.Paths, abs)
	}
	if *answer != "" {
		abs, err := filepath.Abs(*answer)
		if err != nil {
			return err
		}
		req.Answer = abs
	}
	var rep bundleops.ImportReport
	err := withBundleEnv(*dir, keys,
		func(c *localapi.Client) error { return c.Do(http.MethodPost, "/api/bundle/import", req, &rep) },
		func(env *bundleops.Env) error {
			r, err := env.Import(req)
			if r != nil {
				rep = *r
			}
			return err
		})
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		printImport(e, &rep)
	}
	refused := rep.Problems()
	for _, p := range rep.Parts {
		if p.Refused > 0 || p.BlobRefused > 0 {
			refused++
		}
	}
	if refused > 0 {
		return rejectedError{fmt.Errorf("%d part(s) refused in whole or in part (see above); what was not refused is taken", refused)}
	}
	return nil
}

func printImport(e *env, rep *bundleops.ImportReport) {
	for _, p := range rep.Parts {
		if p.ID == "" {
			fmt.Fprintf(e.stdout, "%s: REFUSED: %s\n", p.Path, p.Problem)
			continue
		}
		what := "part"
		if p.Direction == bundle.Return.String() {
			what = "answer"
		}
		fmt.Fprintf(e.stdout, "%s: %s %d of bundle %s from %s: entries %d new, %d already held, %d refused; blobs %d new, %d already held, %d refused, %d incomplete\n",
			p.Path, what, p.Part, p.ID[:8], p.From, p.Applied, p.Duplicate, p.Refused, p.BlobsTaken, p.BlobsHeld, p.BlobRefused, p.BlobsCut)
		for _, r := range p.Refusals {
			fmt.Fprintf(e.stdout, "  refused: %s\n", r)
		}
		if p.Answers != "" {
			fmt.Fprintf(e.stdout, "  acknowledges bundle %s\n", p.Answers[:8])
		}
		if p.Problem != "" {
			fmt.Fprintf(e.stdout, "  PROBLEM: %s\n", p.Problem)
		}
		if p.More {
			fmt.Fprintln(e.stdout, "  more parts of this bundle follow")
		}
	}
	if a := rep.Answer; a != nil {
		fmt.Fprintf(e.stdout, "answer %s written to %s (%s, %d entries for the laptop)\n", a.ID[:8], a.File, bytesText(a.Bytes), a.Entries)
	}
}

func runBundleList(e *env, args []string) error {
	fs := newFlags(e, commands["bundle"])
	dir := fs.String("dir", "", "the data directory")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var recs []bundle.Record
	err := withBundleEnv(*dir, keys,
		func(c *localapi.Client) error { return c.Do(http.MethodGet, "/api/bundles", nil, &recs) },
		func(env *bundleops.Env) error {
			var err error
			recs, err = env.List()
			return err
		})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, recs)
	}
	printBundles(e, recs)
	return nil
}

func printBundles(e *env, recs []bundle.Record) {
	if len(recs) == 0 {
		fmt.Fprintln(e.stdout, "no bundles")
		return
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUNDLE\tWAY\tPEER\tSTATE\tPARTS\tENTRIES\tBLOBS\tSIZE\tUPDATED\tNOTE")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", r.ID.Short(), r.Direction, r.Peer, r.State, len(r.Parts), r.Entries, r.Blobs,
			bytesText(r.Bytes), r.Updated.UTC().Format("2006-01-02 15:04Z"), r.Note)
	}
	tw.Flush()
}
