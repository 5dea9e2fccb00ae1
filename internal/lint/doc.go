// Package lint holds the project's architecture rules, written as a test
// (in the style of pebble's internal/lint): which package may import which,
// and which packages must stay pure. Run with `go test ./internal/lint/`.
package lint
