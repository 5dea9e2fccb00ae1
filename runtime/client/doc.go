// Package client is how a command reaches a replica: through its running
// daemon, or, when none runs, by opening its data directory itself.
//
// Every command that works "whether or not 'fieldsync run' is running"
// (status, roster, enroll, conflicts, duplicates, resolve) asks one Client.
// Open returns a Daemon when the directory's daemon answers (the daemon
// holds the directory's lock and key, so an officer needs no passphrase),
// and otherwise an Offline over the directory, opened with the options the
// command gives. Both implementations answer the same questions with the
// same types, so a command prints the same thing either way; the tests run
// each operation against both.
//
// The Offline implementation writes entries through the same paths as the
// daemon (hub.Author: the replica's clock resumed from its log), so an
// entry written while the daemon is stopped never carries a smaller HLC
// than one the daemon wrote before, whatever the wall clock says.
//
// The package holds no output formatting: that is the command's.
package client
