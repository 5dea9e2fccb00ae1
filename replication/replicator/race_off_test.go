//go:build !race

package replicator_test

// raceEnabled: timings mean little under the race detector (5-10x slower).
const raceEnabled = false
