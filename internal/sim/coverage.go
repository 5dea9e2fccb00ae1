package sim

// Coverage names a Sometimes assertion: a situation that some run of every
// batch of seeds must reach, or the batch fails. It guards the simulation
// itself: a nemesis that silently stopped producing a fault would leave
// every checker green while testing nothing.
type Coverage int

// The Sometimes assertions.
const (
	// CovCrashUnsynced: a laptop crashed holding own acked entries that no
	// other replica held yet (between append and sync).
	CovCrashUnsynced Coverage = iota
	// CovCrashBeforeOperatorAck: a laptop crashed after a durable append
	// and before the operator saw "saved".
	CovCrashBeforeOperatorAck
	// CovCrashBeforeAck: a replica crashed after writing a batch and
	// before its ack left (between persist and checkpoint at the sender).
	CovCrashBeforeAck
	// CovDupDeduplicated: a batch the network delivered twice was written
	// once; the second ingest found only duplicates.
	CovDupDeduplicated
	// CovLongPartition: a link stayed down longer than LongPartitionTicks.
	CovLongPartition
	// CovCutMidTransfer: a connection ended with batches unacknowledged.
	CovCutMidTransfer
	// CovCarryForward: the laptop with no hub link had entries reach the
	// province before the heal phase, carried by its colleague.
	CovCarryForward
	// CovRetransmit: a session went back to the peer's heads after
	// RetransmitTicks without an ack.
	CovRetransmit
	// CovGapResent: a receiver refused a range that would leave a gap
	// (an earlier batch was lost or overtaken) and the sender went back.
	CovGapResent
	// CovClockBehind: a laptop captured with its wall clock behind its
	// last HLC (a backward jump or reset), and the HLC still moved on.
	CovClockBehind
	// NumCoverage is the number of Sometimes assertions.
	NumCoverage
)

var coverageNames = [NumCoverage]string{
	CovCrashUnsynced:          "crash between append and sync",
	CovCrashBeforeOperatorAck: "crash between append and operator ack",
	CovCrashBeforeAck:         "crash between persist and ack",
	CovDupDeduplicated:        "duplicate batch delivered and deduplicated",
	CovLongPartition:          "link down longer than 2 days",
	CovCutMidTransfer:         "session cut mid-transfer",
	CovCarryForward:           "store-carry-forward: hubless laptop's entries reached the province",
	CovRetransmit:             "retransmit after ack timeout",
	CovGapResent:              "gap refused and resent",
	CovClockBehind:            "capture with the wall clock behind the HLC",
}

// String returns the assertion's description.
func (c Coverage) String() string { return coverageNames[c] }

func (s *Sim) cover(c Coverage) { s.res.Coverage[c]++ }
