package syncproto

import (
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// ProtocolVersion is the sync protocol version sent in Hello.
const ProtocolVersion = 1

// Defaults. Each is a limit with a reason.
const (
	// DefaultMaxBatchEntries bounds the entries of one batch.
	DefaultMaxBatchEntries = 1000
	// DefaultMaxBatchBytes bounds one batch's uncompressed body. About
	// 400 enrollments, ~60 KB compressed: 4 s on a 128 kbit/s link, so a
	// cut wastes little, while zstd still sees enough records to compress
	// well.
	DefaultMaxBatchBytes = 256 << 10
	// DefaultWindow is how many batches may await an ack. Two keep a
	// 300-800 ms RTT link busy while one is acked; more would only grow
	// what a cut can waste.
	DefaultWindow = 2
	// DefaultCheckpointEvery: a batch carries the signature of every entry
	// whose seq is a multiple of this, besides the last of each range, so
	// every holder can cut a forwardable range at least this often.
	DefaultCheckpointEvery = 64
	// DefaultRetransmitTicks: with no ack for this many ticks, the sender
	// goes back to what the peer acknowledged and sends again.
	DefaultRetransmitTicks = 10
	// DefaultRetryRefusedTicks: an origin the peer refused for a reason
	// that can pass (its device not yet on the peer's roster, a failure
	// on its side) is offered again after this many ticks. A laptop's
	// session has ended long before; it matters to hubs, whose sessions
	// stay open for days (at syncnet's 2 s ticks: two minutes).
	DefaultRetryRefusedTicks = 60
	// DefaultForkContext is how many entries before a suspected fork point
	// a sender re-sends so that the receiver can find where histories part.
	DefaultForkContext = 64
	// maxPending bounds batches received but not yet persisted; the peer
	// never has more than its window outstanding, so more is a protocol
	// violation.
	maxPending = 8
)

// Config configures a Session.
type Config struct {
	// Self is what this replica announces in its Hello.
	Self wire.Hello
	// MaxBatchEntries and MaxBatchBytes bound each batch sent.
	MaxBatchEntries int
	MaxBatchBytes   int
	// Window is the number of batches that may be unacknowledged.
	Window int
	// CheckpointEvery: see DefaultCheckpointEvery.
	CheckpointEvery uint64
	// RetransmitTicks: see DefaultRetransmitTicks.
	RetransmitTicks int
	// ForkContext: see DefaultForkContext.
	ForkContext uint64
	// RetryRefusedTicks: see DefaultRetryRefusedTicks.
	RetryRefusedTicks int
	// Verifier authorizes entries beyond their signatures (the roster);
	// nil admits every correctly signed entry.
	Verifier Verifier
	// Blobs, when set, runs the blob lane (blobs.go); nil moves records
	// only.
	Blobs *BlobConfig
	// PeerUnits are the units the peer serves as its authenticated key's
	// roster entry gives them; the shell sets them per session. Nil takes
	// the unit its Hello announces (an open deployment, or a test). They
	// decide which downward channels the peer is offered (offers).
	PeerUnits []string
}

// DefaultConfig returns a config with the defaults for self.
func DefaultConfig(self wire.Hello) Config {
	c := Config{Self: self}
	c.fillDefaults()
	return c
}

func (c *Config) fillDefaults() {
	if c.MaxBatchEntries == 0 {
		c.MaxBatchEntries = DefaultMaxBatchEntries
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = DefaultCheckpointEvery
	}
	if c.RetransmitTicks == 0 {
		c.RetransmitTicks = DefaultRetransmitTicks
	}
	if c.ForkContext == 0 {
		c.ForkContext = DefaultForkContext
	}
	if c.RetryRefusedTicks == 0 {
		c.RetryRefusedTicks = DefaultRetryRefusedTicks
	}
	if c.Self.Version == 0 {
		c.Self.Version = ProtocolVersion
	}
}

// Validate fills zero fields with defaults and checks relations.
func (c *Config) Validate() error {
	c.fillDefaults()
	switch {
	case c.Self.Role != string(replication.RoleNode) && c.Self.Role != string(replication.RoleHub):
		return fmt.Errorf("syncproto: self role %q, want node or hub", c.Self.Role)
	case c.MaxBatchBytes < wire.MinBodyLimit/2:
		return fmt.Errorf("syncproto: MaxBatchBytes %d is below %d", c.MaxBatchBytes, wire.MinBodyLimit/2)
	case c.MaxBatchBytes > wire.DefaultMaxBodyBytes:
		return fmt.Errorf("syncproto: MaxBatchBytes %d exceeds the frame limit %d", c.MaxBatchBytes, wire.DefaultMaxBodyBytes)
	case c.MaxBatchEntries < 1 || c.MaxBatchEntries > wire.DefaultMaxEntries:
		return fmt.Errorf("syncproto: MaxBatchEntries %d out of range", c.MaxBatchEntries)
	case c.Window < 1 || c.Window > maxPending:
		return fmt.Errorf("syncproto: Window %d out of range 1..%d", c.Window, maxPending)
	}
	if c.Blobs != nil {
		return c.Blobs.validate()
	}
	return nil
}

// Verifier authorizes a range of an origin's entries after their chain and
// signatures verified: is the device on the roster? It admits or refuses a
// range whole — a partial admit would leave a head without a signature,
// which could not be forwarded. Per-entry rules that must converge on every
// hub (commune scope, revocation from a seq) belong in the hub's view,
// which is a function of the entries, not here. Admit must be
// deterministic and must not block.
type Verifier interface {
	Admit(g replication.Genesis, entries []replication.Entry) (ok bool, reason wire.RefuseReason, detail string)
}
