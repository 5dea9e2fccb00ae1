package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"fieldsync/node"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/client"
	"fieldsync/runtime/localapi"
)

// envOfficerPassword gives a new officer's password to `officer add`
// (scripts); otherwise --password-file, or the first line of stdin.
const envOfficerPassword = "FIELDSYNC_OFFICER_PASSWORD"

func init() {
	register(&command{
		name:     "officer",
		synopsis: "officer accounts of a laptop's capture app: add, list, disable, enable",
		usage: `Usage: fieldsync officer add     --dir LAPTOP --id ID --name NAME [--password-file FILE]
       fieldsync officer list    --dir LAPTOP [--json]
       fieldsync officer disable --dir LAPTOP --id ID
       fieldsync officer enable  --dir LAPTOP --id ID

Each commune officer signs in to the laptop's capture app with an account
set up here, at the district office; every capture and status carries the
officer who made it. Accounts are stored in the data directory, encrypted
with it; the password is kept only as an argon2id stretch (at least 8
characters). add also gives an existing officer a new password. disable
ends the officer's sessions at once.

The password comes from --password-file (its first line; the file must not
be readable by others), $FIELDSYNC_OFFICER_PASSWORD, or the first line of
standard input. The commands go through the running daemon when there is
one.

Examples:
  fieldsync officer add --dir /var/lib/fieldsync --id CA-18586-02 --name "Trần Văn Bình" < pass.txt
  fieldsync officer list --dir /var/lib/fieldsync
  fieldsync officer disable --dir /var/lib/fieldsync --id CA-18586-02
`,
		run: runOfficer,
	})
}

func runOfficer(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("officer: say add, list, disable or enable")
	}
	op := args[0]
	switch op {
	case "add", "list", "disable", "enable":
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, commands["officer"].usage)
		return nil
	default:
		return usagef("officer: unknown subcommand %q (add, list, disable or enable)", op)
	}
	fs := newFlags(e, commands["officer"])
	dir := fs.String("dir", "", "laptop data directory")
	id := fs.String("id", "", "the officer's ID (badge or account)")
	name := fs.String("name", "", "the officer's name as shown")
	passFile := fs.String("password-file", "", "file whose first line is the password")
	asJSON := fs.Bool("json", false, "print JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	req := node.OfficerRequest{Op: op, ID: *id, Name: *name}
	if op == "add" {
		pw, err := officerPassword(e, *passFile)
		if err != nil {
			return err
		}
		req.Password = pw
	}
	if op != "list" && *id == "" {
		return usagef("officer %s: give --id", op)
	}
	c, err := openClient(*dir, keys, datadir.OpenOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	if op == "list" {
		os, err := c.Officers()
		if err != nil {
			return notNode(err, "%s is a hub; officer accounts are a laptop's", *dir)
		}
		return printOfficers(e, os, *asJSON)
	}
	o, err := c.ChangeOfficer(req)
	var ae *localapi.Error
	if errors.Is(err, node.ErrBadOfficer) || errors.As(err, &ae) && ae.Status == 400 {
		return rejectedError{officerRefusal(err)}
	}
	if err != nil {
		return notNode(err, "%s is a hub; officer accounts are a laptop's", *dir)
	}
	if req.Op == "add" {
		fmt.Fprintf(e.stdout, "officer %s (%s) can sign in to the capture app\n", o.ID, o.Name)
	} else {
		fmt.Fprintf(e.stdout, "officer %s %sd\n", req.ID, req.Op)
	}
	return nil
}

// officerRefusal is what a refused change says: the daemon's message
// alone, or the error.
func officerRefusal(err error) error {
	var ae *localapi.Error
	if errors.As(err, &ae) {
		return errors.New(ae.Message)
	}
	return err
}

// notNode turns a hub's refusal of a laptop's command into a usage error
// saying so.
func notNode(err error, format string, args ...any) error {
	if errors.Is(err, client.ErrNotNode) {
		return usagef(format, args...)
	}
	return err
}

func printOfficers(e *env, os []node.Officer, asJSON bool) error {
	for i := range os {
		os[i] = os[i].Public()
	}
	if asJSON {
		return writeJSON(e.stdout, os)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tname\tcreated\tstate")
	for _, o := range os {
		st := "active"
		if o.Disabled {
			st = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.ID, o.Name, o.Created.Format("2006-01-02"), st)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d account(s)\n", len(os))
	return nil
}

// officerPassword reads a new officer's password.
func officerPassword(e *env, file string) (string, error) {
	if file != "" {
		b, err := readPassphraseFile(file)
		return string(b), err
	}
	if p := os.Getenv(envOfficerPassword); p != "" {
		return p, nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("officer add: give the password in --password-file, $%s or on standard input (%v)", envOfficerPassword, err)
	}
	return line, nil
}
