package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"fieldsync/enrollment"
	"fieldsync/enrollment/pii"
	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/client"
	"fieldsync/runtime/localapi"
	"fieldsync/storage"
)

func init() {
	register(&command{
		name:     "conflicts",
		synopsis: "list citizens whose captures disagree on identity fields (hub review queue)",
		usage: `Usage: fieldsync conflicts --dir DIR [--all] [--resolved] [--json]

Lists the conflicts this hub reviews — captures of one citizen (same ID
number) that disagree on name, date of birth, sex, birth-registration place
or parents — with every version side by side. A district hub reviews its
own district's conflicts; the province, those across districts (--all shows
every one). Settle one with 'fieldsync resolve ID --choose VERSION'.

Examples:
  fieldsync conflicts --dir /srv/fs-district
  fieldsync conflicts --dir /srv/fs-province --all --json
`,
		run: runConflicts,
	})
	register(&command{
		name:     "duplicates",
		synopsis: "list probable duplicates: different keys, same person (hub review queue)",
		usage: `Usage: fieldsync duplicates --dir DIR [--all] [--resolved] [--json]

Lists probable duplicates — two citizens with different keys (a mistyped ID
number, a capture without one) who are probably the same person — with a
score, the reasons, and both records side by side. Settle one with
'fieldsync resolve PAIR-ID --same-person' or '--distinct'.

Examples:
  fieldsync duplicates --dir /srv/fs-district
  fieldsync duplicates --dir /srv/fs-province --all --json | jq '.[].reasons'
`,
		run: runDuplicates,
	})
	register(&command{
		name:     "resolve",
		synopsis: "decide a conflict or a probable duplicate (a resolve entry in the hub's log)",
		usage: `Usage: fieldsync resolve --dir DIR --officer NAME ID (--choose VERSION | --same-person | --distinct) [--note TEXT]

Records an officer's decision as a resolve entry in this hub's own log. It
replicates like any entry, so every hub reaches the same view; a higher
tier's decision outranks a lower tier's. ID is a conflict ("conflict:KEY",
or just the citizen's key) or a pair ("pair:A|B", as 'duplicates' prints).

Examples:
  fieldsync resolve --dir /srv/fs-district --officer CA-445-07 042085000123 --choose 3f2a…:17
  fieldsync resolve --dir /srv/fs-province --officer PC06-2 'pair:042085000123|042085000132' --same-person
`,
		run: runResolve,
	})
}

func reviewFlags(e *env, name string) (*flag.FlagSet, *string, *bool, *bool, *bool) {
	fs := newFlags(e, commands[name])
	dir := fs.String("dir", "", "hub data directory")
	all := fs.Bool("all", false, "every item, not only this hub's queue")
	resolved := fs.Bool("resolved", false, "include settled items")
	asJSON := fs.Bool("json", false, "print JSON")
	return fs, dir, all, resolved, asJSON
}

// openHubClient reaches a hub's daemon or opens its directory (with the
// hub's storage profile) offline.
func openHubClient(dir string, keys *keyFlags) (client.Client, error) {
	return openClient(dir, keys, datadir.OpenOptions{Profile: storage.ProfileHub})
}

// notHub turns a field node's refusal of review into a usage error.
func notHub(err error) error {
	if errors.Is(err, client.ErrNotHub) {
		return usagef("%s", strings.TrimPrefix(err.Error(), client.ErrNotHub.Error()+": "))
	}
	return err
}

func runConflicts(e *env, args []string) error {
	fs, dir, all, resolved, asJSON := reviewFlags(e, "conflicts")
	keys, showPII := addKeyFlags(fs), addShowPII(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m := newMasker(e, *showPII)
	c, err := openHubClient(*dir, keys)
	if err != nil {
		return err
	}
	defer c.Close()
	items, err := c.Conflicts(review.Queue{All: *all, Resolved: *resolved})
	if err != nil {
		return notHub(err)
	}
	if *asJSON {
		return writeMaskedJSON(e, m, items)
	}
	for _, c := range items {
		printConflict(e.stdout, c, m)
	}
	fmt.Fprintf(e.stdout, "%d conflict(s)\n", len(items))
	return nil
}

func runDuplicates(e *env, args []string) error {
	fs, dir, all, resolved, asJSON := reviewFlags(e, "duplicates")
	keys, showPII := addKeyFlags(fs), addShowPII(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m := newMasker(e, *showPII)
	c, err := openHubClient(*dir, keys)
	if err != nil {
		return err
	}
	defer c.Close()
	items, err := c.Duplicates(review.Queue{All: *all, Resolved: *resolved})
	if err != nil {
		return notHub(err)
	}
	if *asJSON {
		return writeMaskedJSON(e, m, items)
	}
	for _, p := range items {
		printPair(e.stdout, p, m)
	}
	fmt.Fprintf(e.stdout, "%d probable duplicate(s)\n", len(items))
	return nil
}

func runResolve(e *env, args []string) error {
	fs := newFlags(e, commands["resolve"])
	dir := fs.String("dir", "", "hub data directory")
	officer := fs.String("officer", "", "the deciding officer's badge or account")
	choose := fs.String("choose", "", "conflict: the version to show (origin:seq)")
	same := fs.Bool("same-person", false, "pair: the two citizens are one person")
	distinct := fs.Bool("distinct", false, "pair: they are different people")
	note := fs.String("note", "", "why")
	asJSON := fs.Bool("json", false, "print JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(fs.Args()) != 1 {
		return usagef("give one conflict or pair ID")
	}
	req := review.Request{ID: fs.Args()[0], Choose: *choose, SamePerson: *same, Distinct: *distinct, Officer: *officer, Note: *note}
	c, err := openHubClient(*dir, keys)
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := c.Resolve(req)
	var ae *localapi.Error
	if review.Rejected(err) || errors.As(err, &ae) && ae.Status/100 == 4 {
		return rejectedError{err}
	}
	if err != nil {
		return notHub(err)
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"entry": id})
	}
	fmt.Fprintf(e.stdout, "decision saved as %s; it replicates to every hub\n", id)
	return nil
}

// withHub reaches the hub's daemon (daemon) or, when none runs, opens its
// directory and stored view, brought up to the log (offline): for the
// commands that go beyond client.Client (the model, resident lists).
func withHub(dir string, keys *keyFlags, daemon func(*localapi.Client) error, offline func(d *datadir.Dir, v *hub.View) error) error {
	return onDaemonOrDir(dir, keys, datadir.OpenOptions{Profile: storage.ProfileHub}, daemon, func(c *client.Offline) error {
		v, err := c.View()
		if err != nil {
			return notHub(err)
		}
		return offline(c.Dir, v)
	})
}

// withView asks the running hub (GET path into out) or reads the stored
// view (offline).
func withView(dir string, keys *keyFlags, path string, out any, offline func(*hub.View) error) error {
	return withHub(dir, keys, func(c *localapi.Client) error { return c.Do("GET", path, nil, out) },
		func(_ *datadir.Dir, v *hub.View) error { return offline(v) })
}

func printConflict(w io.Writer, c *reconcile.Citizen, m pii.Masker) {
	state := "OPEN"
	if c.Conflict.Resolved != nil {
		state = "settled by " + c.Conflict.Resolved.Entry.String()
	}
	fmt.Fprintf(w, "%s  citizen %s  fields %s  (%s)  %s\n", m.Text(c.Conflict.ID), m.Text(c.Key), strings.Join(c.Conflict.Fields, ", "), c.Conflict.Level, state)
	for _, v := range c.Versions {
		r := v.Record
		mark := " "
		if v.ID == c.Shown {
			mark = "*"
		}
		fmt.Fprintf(w, "  %s %s  %s | %s | %s | born %s | father %s | captured %s by %s\n", mark, v.ID, m.Text(r.FullName), m.Text(r.DateOfBirth.String()), m.Text(string(r.Sex)),
			m.Text(r.BirthRegistration.Text), m.Text(relativeName(r.Father)), r.Capture.CommuneCode, m.Text(r.Capture.Officer))
	}
}

func printPair(w io.Writer, p review.PairItem, m pii.Masker) {
	state := "OPEN"
	if p.Resolved != nil {
		state = p.Resolved.Verdict + " by " + p.Resolved.Entry.String()
	}
	fmt.Fprintf(w, "%s  score %.4f  (%s)  %s  model %s\n", m.Text(p.ID), p.Score, p.Level, state, p.Model)
	for _, ev := range p.Evidence {
		counted := ""
		if !ev.Counted {
			counted = "  (not counted: a stronger line of its group says it)"
		}
		fmt.Fprintf(w, "  %+6.1f  %s / %s%s\n", ev.Weight, ev.VI, ev.EN, counted)
	}
	for _, c := range p.Citizens {
		if c == nil {
			continue
		}
		r := c.Record
		fmt.Fprintf(w, "  %-28s %s | %s | %s | ID %s | father %s | %s\n", m.Text(c.Key), m.Text(r.FullName), m.Text(r.DateOfBirth.String()), m.Text(string(r.Sex)),
			m.Text(r.PersonalID), m.Text(relativeName(r.Father)), m.Text(r.PermanentResidence.Text))
	}
}

func relativeName(r *enrollment.Relative) string {
	if r == nil {
		return "-"
	}
	return r.FullName
}

// writeMaskedJSON prints v as one JSON line, masked unless shown.
func writeMaskedJSON(e *env, m pii.Masker, v any) error {
	mv, err := m.JSON(v)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, mv)
}
