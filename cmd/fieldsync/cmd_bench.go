package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// benchmark is one `fieldsync bench NAME`.
type benchmark struct {
	synopsis string
	run      func(e *env, args []string) error
}

var benchmarks = map[string]benchmark{}

func init() {
	register(&command{
		name:     "bench",
		synopsis: "measure fieldsync against baselines (figures for BENCHMARKS.md)",
		usage:    benchUsage(),
		run:      runBench,
	})
}

func benchUsage() string {
	return `Usage: fieldsync bench NAME [flags]

Runs one measurement and prints its figures (--json for a machine). Each
compares fieldsync with a baseline measured in the same run on the same
machine. BENCHMARKS.md lists the figures and the commands that produced them.

Benchmarks:
` + benchList() + `
Examples:
  fieldsync bench append --n 2000
  fieldsync bench import --n 100000
`
}

func benchList() string {
	names := make([]string, 0, len(benchmarks))
	for n := range benchmarks {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-12s %s\n", n, benchmarks[n].synopsis)
	}
	return b.String()
}

func runBench(e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stdout, benchUsage())
		return nil
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return usagef("unknown benchmark %q; one of:\n%s", args[0], benchList())
	}
	return b.run(e, args[1:])
}

// benchDir returns a scratch directory removed when the benchmark ends.
func benchDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "fieldsync-bench-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
