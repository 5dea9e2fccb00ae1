// Command fieldsync is the one binary of fieldsync: field node, hub, demo,
// generator and tools. Run `fieldsync help` for the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes (documented in the README's command reference).
const (
	exitOK       = 0 // success
	exitFailure  = 1 // the command failed (I/O, storage, network, a check that did not pass)
	exitUsage    = 2 // bad flags or arguments
	exitRejected = 3 // input was refused (a rejected record); nothing of it was written
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand. run returns an error; usageError and
// rejectedError choose the exit code.
type command struct {
	name     string
	synopsis string
	usage    string // full help: usage line, description, examples
	run      func(env *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// env is what every command gets: its output streams.
type env struct {
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type rejectedError struct{ err error }

func (e rejectedError) Error() string { return e.err.Error() }
func (e rejectedError) Unwrap() error { return e.err }

func main() {
	os.Exit(runMain(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}))
}

func runMain(args []string, e *env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprint(e.stdout, c.usage)
				return exitOK
			}
		}
		printHelp(e.stdout)
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(e.stdout, "fieldsync", version)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "fieldsync: unknown command %q\n\n", args[0])
		printHelp(e.stderr)
		return exitUsage
	}
	return exitCode(e, c, c.run(e, args[1:]))
}

func exitCode(e *env, c *command, err error) int {
	var ue usageError
	var re rejectedError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "fieldsync %s: %s\nRun 'fieldsync %s --help' for usage.\n", c.name, ue.msg, c.name)
		return exitUsage
	case errors.As(err, &re):
		fmt.Fprintf(e.stderr, "fieldsync %s: %s\n", c.name, re.err)
		return exitRejected
	}
	fmt.Fprintf(e.stderr, "fieldsync %s: %s\n", c.name, err)
	return exitFailure
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `fieldsync: offline-first sync of citizen ID-card enrollments from commune
laptops to district and provincial hubs, over thin and cut links.

Usage: fieldsync <command> [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].synopsis)
	}
	fmt.Fprint(w, `
Run 'fieldsync <command> --help' for a command's flags and examples.
Exit codes: 0 ok, 1 failure, 2 usage error, 3 input rejected (nothing written).
`)
}

// newFlags returns a flag set whose --help prints the command's usage.
func newFlags(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stdout, strings.TrimLeft(c.usage, "\n"))
		fmt.Fprintln(e.stdout, "\nFlags:")
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}

// parseFlags parses args, mapping flag errors to usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
