//go:build race

package gossip

// raceEnabled: under the race detector everything runs 5-10x slower, and a
// measurement in scaled time (100 s of protocol per real second) no longer
// measures the protocol.
const raceEnabled = true
