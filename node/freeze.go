package node

import (
	"errors"
	"fmt"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
)

// Default freeze limits (MOSIP's registration client freezes too; its
// 100 packets / 100 days suit a station that syncs daily). A commune team
// captures 250-400 a day at a campaign's peak and may be cut off for a week
// or two (RELIABILITY.md §6): 5,000 captures is about two weeks of peak
// work, 21 days a long outage. Past them a stolen or broken laptop would
// lose or expose too much, so it must reach a hub first.
const (
	DefaultMaxUnsyncedEntries = 5000
	DefaultMaxUnsyncedAge     = 21 * 24 * time.Hour
	// Dossiers the province has not receipted: their blob bytes (3 GiB is
	// about ten station-days at DOMAIN.md §6.4's 1 MB a dossier) and the
	// age of the oldest. Blobs lag records on thin links, and a receipt
	// needs the province, so these limits are wider than the entries'.
	DefaultMaxUnreceiptedBlobBytes = 3 << 30
	DefaultMaxUnreceiptedAge       = 30 * 24 * time.Hour
	// freezeWarnFraction is where warnings start.
	freezeWarnFraction = 0.8
)

// FreezePolicy bounds what a laptop holds that no hub has acknowledged.
// The zero value takes the data directory's config (config.json
// max_unsynced_entries and max_unsynced_days), whose zeros mean the
// defaults; a negative limit turns that limit off (benchmarks, bulk loads).
type FreezePolicy struct {
	MaxUnsyncedEntries int
	MaxUnsyncedAge     time.Duration
	// MaxUnreceiptedBlobBytes and MaxUnreceiptedAge bound this laptop's
	// dossiers the province has not receipted: the blob bytes they hold
	// and the age of the oldest (config.json max_unreceipted_blob_mb and
	// max_unreceipted_days).
	MaxUnreceiptedBlobBytes int64
	MaxUnreceiptedAge       time.Duration
}

// NoFreeze turns every limit off.
var NoFreeze = FreezePolicy{MaxUnsyncedEntries: -1, MaxUnsyncedAge: -1, MaxUnreceiptedBlobBytes: -1, MaxUnreceiptedAge: -1}

func (p FreezePolicy) off() bool {
	return p.MaxUnsyncedEntries < 0 && p.MaxUnsyncedAge < 0 && p.MaxUnreceiptedBlobBytes < 0 && p.MaxUnreceiptedAge < 0
}

// peers returns what the replicator knows of its peers: live from a
// running daemon (Options.Peers), else as last persisted in the log.
func (n *Node) peers() ([]replicator.PeerStatus, error) {
	if n.opts.Peers != nil {
		return n.opts.Peers()
	}
	return replicator.PeerStatuses(n.dir.Log, n.dir.Config.Role)
}

// policyFor fills the zero limits of p from cfg, then from the defaults.
func policyFor(p FreezePolicy, cfg datadir.Config) FreezePolicy {
	if p.MaxUnsyncedEntries == 0 {
		p.MaxUnsyncedEntries = cfg.MaxUnsyncedEntries
	}
	if p.MaxUnsyncedAge == 0 {
		p.MaxUnsyncedAge = time.Duration(cfg.MaxUnsyncedDays) * 24 * time.Hour
	}
	if p.MaxUnreceiptedBlobBytes == 0 {
		p.MaxUnreceiptedBlobBytes = int64(cfg.MaxUnreceiptedBlobMB) << 20
	}
	if p.MaxUnreceiptedAge == 0 {
		p.MaxUnreceiptedAge = time.Duration(cfg.MaxUnreceiptedDays) * 24 * time.Hour
	}
	if p.MaxUnsyncedEntries == 0 {
		p.MaxUnsyncedEntries = DefaultMaxUnsyncedEntries
	}
	if p.MaxUnsyncedAge == 0 {
		p.MaxUnsyncedAge = DefaultMaxUnsyncedAge
	}
	if p.MaxUnreceiptedBlobBytes == 0 {
		p.MaxUnreceiptedBlobBytes = DefaultMaxUnreceiptedBlobBytes
	}
	if p.MaxUnreceiptedAge == 0 {
		p.MaxUnreceiptedAge = DefaultMaxUnreceiptedAge
	}
	return p
}

// ErrFrozen matches every *FrozenError.
var ErrFrozen = errors.New("node: frozen until it syncs with a hub")

// FrozenError is returned for a capture refused by the freeze rule: nothing
// was written. It says which limit and by how much, for the officer.
type FrozenError struct {
	Backlog Backlog
	Limit   string // which limit: "entries", "age", "blob-bytes" or "dossier-age"
}

func (e *FrozenError) Error() string {
	b, p := e.Backlog, e.Backlog.Policy
	switch e.Limit {
	case "age":
		return fmt.Sprintf("capture refused: the oldest capture not yet at a hub is %d days old (limit %d); take the laptop where it can sync",
			int(b.OldestAge.Hours()/24), int(p.MaxUnsyncedAge.Hours()/24))
	case "blob-bytes":
		return fmt.Sprintf("capture refused: %d dossiers hold %d MB of photos and fingerprints the province has not receipted yet (limit %d MB); take the laptop where it can sync its blobs",
			b.Dossiers.Dossiers, b.Dossiers.BlobBytes>>20, p.MaxUnreceiptedBlobBytes>>20)
	case "dossier-age":
		return fmt.Sprintf("capture refused: the oldest dossier the province has not receipted is %d days old (limit %d); take the laptop where it can sync its blobs",
			int(b.Dossiers.OldestAge.Hours()/24), int(p.MaxUnreceiptedAge.Hours()/24))
	}
	return fmt.Sprintf("capture refused: %d captures are not yet at a hub (limit %d); take the laptop where it can sync",
		e.Backlog.Unsynced, e.Backlog.Policy.MaxUnsyncedEntries)
}

// Is makes errors.Is(err, ErrFrozen) true.
func (e *FrozenError) Is(target error) bool { return target == ErrFrozen }

// Backlog is what this laptop holds of its own captures that no hub has
// acknowledged, against the policy.
type Backlog struct {
	Unsynced  int           `json:"unsynced_entries"`
	AckedSeq  uint64        `json:"acked_seq"` // highest own seq a hub holds
	OldestAge time.Duration `json:"oldest_age_ns"`
	Policy    FreezePolicy  `json:"-"`
	// Dossiers are this laptop's dossiers the province has not receipted.
	Dossiers DossierBacklog `json:"dossiers"`
	// Warning is set when the backlog passes 80% of a limit.
	Warning string `json:"warning,omitempty"`
}

// Backlog measures the node's unacknowledged captures. What hubs hold
// comes from the replicator's peer states (live in a daemon, as last
// persisted otherwise). The age is read from the oldest unacknowledged
// entry's HLC against the node's clock: a clock set back delays the age
// limit, one set forward triggers it early, and an HLC pulled ahead by a
// peer's fast clock makes captures look younger — the entry limit holds
// whatever the clocks do.
func (n *Node) Backlog() (Backlog, error) {
	b := Backlog{Policy: n.freeze}
	o := n.dir.Signer.Origin()
	head, err := n.dir.Log.Head(o)
	if err != nil {
		return b, err
	}
	peers, err := n.peers()
	if err != nil {
		return b, err
	}
	b.AckedSeq, _ = replicator.HubAck(n.dir.Log, peers, o)
	b.AckedSeq = max(b.AckedSeq, 1) // the genesis is no capture
	if b.Dossiers, err = n.DossierBacklog(); err != nil {
		return b, err
	}
	if head.Seq <= b.AckedSeq {
		b.Warning = b.warning()
		return b, nil
	}
	b.Unsynced = int(head.Seq - b.AckedSeq)
	oldest, err := n.dir.Log.Get(replication.EntryID{Origin: o, Seq: b.AckedSeq + 1})
	if err != nil {
		return b, err
	}
	b.OldestAge = max(0, n.clock.Now().Sub(time.UnixMilli(oldest.HLC.WallMillis())))
	b.Warning = b.warning()
	return b, nil
}

func (b *Backlog) warning() string {
	p := b.Policy
	switch {
	case p.MaxUnsyncedEntries > 0 && float64(b.Unsynced) >= freezeWarnFraction*float64(p.MaxUnsyncedEntries):
		return fmt.Sprintf("%d of %d captures allowed before a sync are not yet at a hub: sync soon", b.Unsynced, p.MaxUnsyncedEntries)
	case p.MaxUnsyncedAge > 0 && float64(b.OldestAge) >= freezeWarnFraction*float64(p.MaxUnsyncedAge):
		return fmt.Sprintf("the oldest capture not yet at a hub is %d days old (limit %d): sync soon",
			int(b.OldestAge.Hours()/24), int(p.MaxUnsyncedAge.Hours()/24))
	case p.MaxUnreceiptedBlobBytes > 0 && float64(b.Dossiers.BlobBytes) >= freezeWarnFraction*float64(p.MaxUnreceiptedBlobBytes):
		return fmt.Sprintf("%d MB of dossiers' blobs of %d MB allowed are not yet receipted by the province: sync soon",
			b.Dossiers.BlobBytes>>20, p.MaxUnreceiptedBlobBytes>>20)
	case p.MaxUnreceiptedAge > 0 && float64(b.Dossiers.OldestAge) >= freezeWarnFraction*float64(p.MaxUnreceiptedAge):
		return fmt.Sprintf("the oldest dossier not yet receipted by the province is %d days old (limit %d): sync soon",
			int(b.Dossiers.OldestAge.Hours()/24), int(p.MaxUnreceiptedAge.Hours()/24))
	}
	return ""
}

// admit returns how many of count new captures the freeze rule lets
// through now (all of them, or up to the entry limit), the warning to show
// with them, and the refusal for the rest. The limit is exact: with
// MaxUnsyncedEntries captures unacknowledged, the next one is refused.
func (n *Node) admit(count int) (int, string, *FrozenError, error) {
	if n.freeze.off() {
		return count, "", nil, nil
	}
	b, err := n.Backlog()
	if err != nil {
		return 0, "", nil, err
	}
	p := n.freeze
	switch {
	case p.MaxUnsyncedAge > 0 && b.Unsynced > 0 && b.OldestAge > p.MaxUnsyncedAge:
		return 0, "", &FrozenError{Backlog: b, Limit: "age"}, nil
	case p.MaxUnreceiptedBlobBytes > 0 && b.Dossiers.BlobBytes >= p.MaxUnreceiptedBlobBytes:
		return 0, "", &FrozenError{Backlog: b, Limit: "blob-bytes"}, nil
	case p.MaxUnreceiptedAge > 0 && b.Dossiers.Dossiers > 0 && b.Dossiers.OldestAge > p.MaxUnreceiptedAge:
		return 0, "", &FrozenError{Backlog: b, Limit: "dossier-age"}, nil
	}
	ok := count
	var frozen *FrozenError
	if limit := n.freeze.MaxUnsyncedEntries; limit > 0 && b.Unsynced+count > limit {
		ok = max(0, limit-b.Unsynced)
		frozen = &FrozenError{Backlog: b, Limit: "entries"}
	}
	b.Unsynced += ok
	return ok, b.warning(), frozen, nil
}
