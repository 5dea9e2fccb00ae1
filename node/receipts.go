package node

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"fieldsync/dossier"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
)

// dossiers tracks this laptop's own dossiers against the province's
// receipts: which are receipted (the province holds them whole), and the
// blob bytes and capture times of those not yet. It reads the log
// incrementally — own entries and receipts above what it read before — so
// a capture's freeze check does not scan the log. Memory is O(dossiers
// not yet receipted): what the freeze rule bounds.
type dossiers struct {
	mu       sync.Mutex
	own      replication.OriginID
	scanned  uint64                          // own entries examined through here
	open     map[uint64]openDossier          // own dossiers not receipted
	through  uint64                          // receipted through here (branch checked)
	also     map[uint64]bool                 // receipted above through
	receipts map[replication.OriginID]uint64 // province origins read through here
}

type openDossier struct {
	bytes    int64
	captured time.Time
}

func newDossiers(own replication.OriginID) *dossiers {
	return &dossiers{own: own, open: map[uint64]openDossier{}, also: map[uint64]bool{}, receipts: map[replication.OriginID]uint64{}}
}

// refresh reads what is new in the log.
func (n *Node) refreshDossiers() error {
	t := n.dossiers
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := n.readReceiptsLocked(); err != nil {
		return err
	}
	head, err := n.dir.Log.Head(t.own)
	if err != nil {
		return err
	}
	if head.Seq > t.scanned {
		err = n.dir.Log.Scan(t.own, t.scanned+1, func(e replication.Entry) bool {
			t.scanned = e.Seq
			refs, err := dossier.RefsOf(&e)
			if err != nil || len(refs) == 0 || t.coveredLocked(e.Seq) {
				return true
			}
			od := openDossier{captured: time.UnixMilli(e.HLC.WallMillis())}
			for _, r := range refs {
				od.bytes += r.Size
			}
			t.open[e.Seq] = od
			return true
		})
		if err != nil {
			return err
		}
	}
	for seq := range t.open {
		if t.coveredLocked(seq) {
			delete(t.open, seq)
		}
	}
	return nil
}

func (t *dossiers) coveredLocked(seq uint64) bool { return seq <= t.through || t.also[seq] }

// readReceiptsLocked reads the receipts that arrived from the province
// since the last call. A receipt counts only if its origin is the
// province's — the roster's anchor key, or in open mode a hub whose genesis
// says tier province — and its Through names this laptop's own entry by
// the hash held here (a receipt for another branch of a forked origin
// covers nothing).
func (n *Node) readReceiptsLocked() error {
	t := n.dossiers
	vec, err := n.dir.Log.Vector()
	if err != nil {
		return err
	}
	for _, oh := range vec.Heads() {
		if oh.Seq <= t.receipts[oh.Origin] || oh.Origin == t.own || !n.isProvince(oh.Origin) {
			continue
		}
		from := max(t.receipts[oh.Origin]+1, 2)
		var ferr error
		err := n.dir.Log.Scan(oh.Origin, from, func(e replication.Entry) bool {
			t.receipts[oh.Origin] = e.Seq
			if e.Kind != replication.KindReceipt {
				return true
			}
			r, err := dossier.DecodeReceipt(e.Payload)
			if err != nil || r.Origin != t.own {
				return true
			}
			if r.Through > 0 {
				own, err := n.dir.Log.Get(replication.EntryID{Origin: t.own, Seq: r.Through})
				switch {
				case errors.Is(err, oplog.ErrNotFound): // not held here (a restored laptop): covers nothing
					return true
				case err != nil:
					ferr = err
					return false
				case own.Hash() != r.ThroughHash: // another branch of this origin
					return true
				}
				t.through = max(t.through, r.Through)
			}
			for _, s := range r.Also {
				if s > t.through {
					t.also[s] = true
				}
			}
			return true
		})
		if err == nil {
			err = ferr
		}
		if err != nil {
			return err
		}
		t.receipts[oh.Origin] = oh.Seq
	}
	for s := range t.also {
		if s <= t.through {
			delete(t.also, s)
		}
	}
	return nil
}

// isProvince reports whether origin o is the provincial hub's.
func (n *Node) isProvince(o replication.OriginID) bool {
	e, err := n.dir.Log.Get(replication.EntryID{Origin: o, Seq: 1})
	if err != nil {
		return false
	}
	g, err := replication.DecodeGenesis(e.Payload)
	if err != nil || g.Role != replication.RoleHub {
		return false
	}
	if key := n.dir.Config.ProvinceKey; key != "" {
		k, err := hex.DecodeString(key)
		return err == nil && bytes.Equal(k, g.PublicKey)
	}
	return g.Tier == "province"
}

// Receipted reports whether the province's receipts cover entry id of this
// laptop (its blobs may be released after the retention age).
func (n *Node) Receipted(id replication.EntryID) bool {
	if n.refreshDossiers() != nil || id.Origin != n.dossiers.own {
		return false
	}
	t := n.dossiers
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.coveredLocked(id.Seq)
}

// DossierBacklog is what this laptop holds of its own dossiers that the
// province has not receipted yet.
type DossierBacklog struct {
	Dossiers  int           `json:"dossiers"`
	BlobBytes int64         `json:"blob_bytes"`
	OldestAge time.Duration `json:"oldest_age_ns"`
	// ReceiptedThrough: every own entry up to here is receipted.
	ReceiptedThrough uint64 `json:"receipted_through"`
}

// DossierBacklog measures the dossiers not yet receipted.
func (n *Node) DossierBacklog() (DossierBacklog, error) {
	var b DossierBacklog
	if err := n.refreshDossiers(); err != nil {
		return b, err
	}
	t := n.dossiers
	t.mu.Lock()
	defer t.mu.Unlock()
	now := n.clock.Now()
	b.ReceiptedThrough = t.through
	for _, od := range t.open {
		b.Dossiers++
		b.BlobBytes += od.bytes
		b.OldestAge = max(b.OldestAge, now.Sub(od.captured))
	}
	return b, nil
}

// DefaultRetention is how long a laptop keeps the blobs of a receipted
// dossier: a week for a card printed wrong to be captured again from the
// same files, should the province's copy be lost.
const DefaultRetention = 7 * 24 * time.Hour

// RetainReport says what Retain released.
type RetainReport struct {
	Dossiers int   `json:"dossiers"` // receipted dossiers past the age
	Blobs    int   `json:"blobs"`    // blob files deleted
	Bytes    int64 `json:"bytes"`
	Kept     int   `json:"kept"` // blobs of those dossiers another record still needs
}

// Retain deletes the blobs of this laptop's dossiers that the province
// has receipted and that were captured more than age ago; records stay.
// A blob another record still needs (one not receipted, or younger) is
// kept. dryRun counts without deleting.
func (n *Node) Retain(age time.Duration, dryRun bool) (RetainReport, error) {
	var rep RetainReport
	if age < 0 {
		return rep, nil
	}
	if err := n.refreshDossiers(); err != nil {
		return rep, err
	}
	t := n.dossiers
	cutoff := n.clock.Now().Add(-age)
	release := map[blob.Hash]int64{}
	keep := map[blob.Hash]bool{}
	err := n.dir.Log.Scan(t.own, 1, func(e replication.Entry) bool {
		refs, err := dossier.RefsOf(&e)
		if err != nil || len(refs) == 0 {
			return true
		}
		t.mu.Lock()
		covered := t.coveredLocked(e.Seq)
		t.mu.Unlock()
		old := time.UnixMilli(e.HLC.WallMillis()).Before(cutoff)
		if covered && old {
			rep.Dossiers++
		}
		for _, r := range refs {
			if covered && old {
				release[r.Hash] = r.Size
			} else {
				keep[r.Hash] = true
			}
		}
		return true
	})
	if err != nil {
		return rep, err
	}
	for h, size := range release {
		if keep[h] {
			rep.Kept++
			continue
		}
		if dryRun {
			if held, _ := n.dir.Blobs.Has([]blob.Hash{h}); held[0] {
				rep.Blobs++
				rep.Bytes += size
			}
			continue
		}
		switch err := n.dir.Blobs.Delete(h); {
		case err == nil:
			rep.Blobs++
			rep.Bytes += size
		case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrBusy):
		default:
			return rep, fmt.Errorf("node: release blob %s: %w", h.Short(), err)
		}
	}
	return rep, nil
}
