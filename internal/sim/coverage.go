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
	// CovRestoreRolledOver: a laptop put back to an old disk image found
	// out and started a new epoch.
	CovRestoreRolledOver
	// CovCloneDetected: a clone whose copies wrote different entries
	// under one (origin, seq) was detected (rollback, ingest fork or
	// genesis notice).
	CovCloneDetected
	// CovReissueDelivered: a re-issue reached the province carrying an
	// entry it did not hold as itself.
	CovReissueDelivered
	// CovForkQuarantined: a hub found a fork at ingest and wrote the
	// notice that quarantines it.
	CovForkQuarantined
	// CovBlobResumed: a blob transfer resumed from a partial write (after
	// a cut, a crash, or a lost message) and went on from its offset.
	CovBlobResumed
	// CovBlobCarried: a blob of the hubless laptop reached the province
	// before the heal phase, carried by its colleague.
	CovBlobCarried
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
	CovRestoreRolledOver:      "restored laptop started a new epoch",
	CovCloneDetected:          "diverged clone detected",
	CovReissueDelivered:       "re-issue brought the province an entry it lacked",
	CovForkQuarantined:        "fork found at a hub's ingest and quarantined",
	CovBlobResumed:            "blob transfer resumed from a partial write",
	CovBlobCarried:            "store-carry-forward: hubless laptop's blobs reached the province",
}

// String returns the assertion's description.
func (c Coverage) String() string { return coverageNames[c] }

func (s *Sim) cover(c Coverage) { s.res.Coverage[c]++ }
