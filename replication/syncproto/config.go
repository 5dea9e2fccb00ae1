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
	// Limits are the codec limits of the link (wire.Codec.Limits; zero
	// fields take delta's defaults). The session's hard limits follow from
	// them: the largest batch it builds or accepts as configured, the heads
	// of a blob status, the refusals of one ack.
	Limits wire.Limits
	// Lossy says the transport may lose, duplicate or reorder messages
	// (the simulation, the scenario harness): a message before the peer's
	// Hello is then dropped, one before its Summary taken. The zero value
	// is for ordered transports (TCP, a bundle file), where either is a
	// protocol violation (see StateType).
	Lossy bool
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
	d := wire.DefaultLimits()
	for _, f := range []struct{ v, d *int }{{&c.Limits.MaxBodyBytes, &d.MaxBodyBytes}, {&c.Limits.MaxRanges, &d.MaxRanges},
		{&c.Limits.MaxEntries, &d.MaxEntries}, {&c.Limits.MaxHeads, &d.MaxHeads}, {&c.Limits.MaxRefusals, &d.MaxRefusals}} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
}

// hardBatchBytes is the most a batch may grow to reach a signed entry when
// no held signature falls within MaxBatchBytes (collectRange): the codec's
// body limit, less 1/64 of it for the batch's own framing and the last
// entry's signature.
func (c *Config) hardBatchBytes() int { return c.Limits.MaxBodyBytes - c.Limits.MaxBodyBytes/64 }

// Validate fills zero fields with defaults and checks relations.
func (c *Config) Validate() error {
	c.fillDefaults()
	switch {
	case c.Self.Role != string(replication.RoleNode) && c.Self.Role != string(replication.RoleHub):
		return fmt.Errorf("syncproto: self role %q, want node or hub", c.Self.Role)
	case c.MaxBatchBytes < wire.MinBodyLimit/2:
		return fmt.Errorf("syncproto: MaxBatchBytes %d is below %d", c.MaxBatchBytes, wire.MinBodyLimit/2)
	case c.Limits.MaxBodyBytes < wire.MinBodyLimit || c.Limits.MaxBodyBytes > wire.MaxBodyLimit:
		return fmt.Errorf("syncproto: Limits.MaxBodyBytes %d out of range %d..%d", c.Limits.MaxBodyBytes, wire.MinBodyLimit, wire.MaxBodyLimit)
	case c.MaxBatchBytes > c.Limits.MaxBodyBytes:
		return fmt.Errorf("syncproto: MaxBatchBytes %d exceeds the frame limit %d", c.MaxBatchBytes, c.Limits.MaxBodyBytes)
	case c.MaxBatchEntries < 1 || c.MaxBatchEntries > c.Limits.MaxEntries:
		return fmt.Errorf("syncproto: MaxBatchEntries %d out of range 1..%d (the codec's MaxEntries)", c.MaxBatchEntries, c.Limits.MaxEntries)
	case c.Limits.MaxRefusals < 1 || c.Limits.MaxHeads < 1 || c.Limits.MaxRanges < 1:
		return fmt.Errorf("syncproto: Limits %+v: every limit must be positive", c.Limits)
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
