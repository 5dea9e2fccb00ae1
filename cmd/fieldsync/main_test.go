package main

import (
	"os"
	"testing"
)

// TestMain lets tests run this very binary as a child process: with
// FIELDSYNC_TEST_MAIN=1 the test binary behaves as `fieldsync`, so crash
// tests kill a real process running the real command code.
func TestMain(m *testing.M) {
	if os.Getenv("FIELDSYNC_TEST_MAIN") == "1" {
		os.Exit(runMain(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}))
	}
	// Tests that predate the roster init open directories unless they
	// give an anchor (deploy_test gives one); child processes inherit it.
	os.Setenv(envOpen, "1")
	os.Exit(m.Run())
}
