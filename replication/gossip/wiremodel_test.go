package gossip

import (
	"testing"

	"fieldsync/internal/linkemu"
)

// TestWireModelMatchesLinkEmulator pins the transport's wire model to the
// link emulator's: gossip counts bytes with its own copy of the numbers
// (it links no emulator), and the figures are compared with the
// emulator's counters.
func TestWireModelMatchesLinkEmulator(t *testing.T) {
	for _, c := range []struct {
		name      string
		ours, emu int
	}{
		{"UDP header", udpOverhead, linkemu.UDPHeaderBytes},
		{"TCP header", tcpHeader, linkemu.TCPHeaderBytes},
		{"TCP MSS", tcpMSS, linkemu.DefaultMSS},
	} {
		if c.ours != c.emu {
			t.Errorf("%s: gossip counts %d, linkemu %d", c.name, c.ours, c.emu)
		}
	}
}

// The emulator's member view is what Config.Link takes.
var _ Link = linkemu.Member{}
