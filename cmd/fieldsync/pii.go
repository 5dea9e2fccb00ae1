package main

import (
	"flag"

	"fieldsync/enrollment/pii"
)

// Personal data on standard output: masked unless shown (package
// enrollment/pii has the policy). A terminal shows everything; a file or a
// pipe gets masked text unless --show-pii says the operator means to
// export it.

// addShowPII registers --show-pii.
func addShowPII(fs *flag.FlagSet) *bool {
	return fs.Bool("show-pii", false, "print personal data even when the output is not a terminal (a file or a pipe)")
}

// newMasker masks unless shown: --show-pii, or a terminal.
func newMasker(e *env, showFlag bool) pii.Masker {
	return pii.Masker{Show: showFlag || isTerminal(e.stdout)}
}
