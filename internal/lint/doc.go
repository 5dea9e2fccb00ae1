// Package lint holds the project's architecture rules, written as tests
// (in the style of pebble's internal/lint). Run with `go test ./internal/lint/`.
//
//   - TestImportBoundaries: which package may import which (only storage
//     imports Badger, only gossip memberlist, the hub never the node…).
//   - TestLayout: the layout of docs/design.md, on what each package links
//     transitively: shipped code links no harness (internal/..., test
//     helpers such as oplogtest), and only node/, hub/ and cmd/ link the
//     runtime (runtime/...). TestLayoutRulesCatchViolations runs the same
//     rules on made-up import graphs, so a rule that stops biting fails.
//   - TestPurePackagesDoNoIO and TestPurePackagesLinkNoEngine: the pure
//     cores do no I/O, read no clock, and link no storage engine or gossip
//     library, even through another package.
package lint
