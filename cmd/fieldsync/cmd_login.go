package main

import (
	"errors"
	"fmt"

	"fieldsync/runtime/localapi"
)

func init() {
	register(&command{
		name:     "login",
		synopsis: "print a one-time link that opens a browser session on the running daemon's pages",
		usage: `Usage: fieldsync login --dir DIR [--json]

Asks the daemon running for DIR (fieldsync run) for a one-time login link
and prints it. Opening the link in a browser on this machine gives that
browser a session of its own (a cookie for this daemon's port only, ended
after 30 minutes unused or 12 hours in all); the link works once and
expires after 10 minutes. The API token never reaches the browser. Anyone
who can read DIR/run/api.json can make a link: that is who may use the
dashboard.

Examples:
  fieldsync login --dir /srv/fs-district
`,
		run: runLogin,
	})
}

func runLogin(e *env, args []string) error {
	fs := newFlags(e, commands["login"])
	dir := fs.String("dir", "", "data directory")
	asJSON := fs.Bool("json", false, "print the link and its expiry as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := dialDaemon(*dir)
	if errors.Is(err, localapi.ErrNotRunning) {
		return fmt.Errorf("%w: start it with 'fieldsync run --dir %s' first", err, *dir)
	}
	if err != nil {
		return err
	}
	var link localapi.LoginLink
	if err := c.Do("POST", "/api/login", nil, &link); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, link)
	}
	fmt.Fprintf(e.stdout, "%s\n(open it once, before %s)\n", link.URL, link.Expires.Local().Format("15:04"))
	return nil
}
