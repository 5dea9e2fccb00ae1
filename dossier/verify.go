package dossier

import (
	"errors"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/blob"
)

// MaxProblems bounds the problems a BlobReport lists (all are counted).
const MaxProblems = 1000

// maxTrackedRefs bounds the referenced hashes kept to find unreferenced
// blobs (32 bytes each: 64 MiB); past it that count is skipped.
const maxTrackedRefs = 2 << 20

// BlobReport is what CheckBlobs found: every blob the records reference,
// by state, and the problems, each naming the entry, the slot and the
// blob.
type BlobReport struct {
	Records      int   `json:"records_with_blobs"`
	Refs         int   `json:"refs"`
	Blobs        int   `json:"blobs_checked"` // distinct blobs read and verified
	Bytes        int64 `json:"bytes_checked"`
	Missing      int   `json:"missing"` // of this replica's own records: a loss
	Pending      int   `json:"pending"` // of others' records, not yet received
	PendingBytes int64 `json:"pending_bytes"`
	Released     int   `json:"released"` // dropped by retention after a receipt
	Corrupt      int   `json:"corrupt"`
	// Unreferenced counts stored blobs no record references (a capture
	// cut between its blobs and its record, or an entry not yet held); -1
	// when there were too many references to track.
	Unreferenced int           `json:"unreferenced"`
	Unreadable   int           `json:"unreadable_records"` // refs that did not decode
	Problems     []BlobProblem `json:"problems,omitempty"`
}

// OK reports whether nothing is lost or damaged: no corrupt blob, no
// missing blob of this replica's own records, no unreadable record.
func (r *BlobReport) OK() bool { return r.Corrupt == 0 && r.Missing == 0 && r.Unreadable == 0 }

// BlobProblem is one blob that is missing or damaged, or a record whose
// references do not decode.
type BlobProblem struct {
	Entry   replication.EntryID `json:"entry"`
	Slot    string              `json:"slot,omitempty"`
	Blob    string              `json:"blob,omitempty"` // hash/size
	Problem string              `json:"problem"`
}

func (p BlobProblem) String() string {
	if p.Slot == "" {
		return fmt.Sprintf("%s: %s", p.Entry, p.Problem)
	}
	return fmt.Sprintf("%s %s blob %s: %s", p.Entry, p.Slot, p.Blob, p.Problem)
}

// CheckOptions says whose records a replica must hold the blobs of, and
// which it let go.
type CheckOptions struct {
	// Own reports whether a missing blob of origin o is a loss (a laptop's
	// own captures) rather than one not yet received (a hub's view of a
	// laptop's). Nil: every missing blob is pending.
	Own func(o replication.OriginID) bool
	// Released reports whether the blobs of entry id may have been
	// dropped by retention (the province receipted the dossier): then
	// their absence is no loss.
	Released func(id replication.EntryID) bool
}

// CheckBlobs reads every blob the entries reference and verifies it (each
// distinct blob once): present, whole, hashing to its reference. scan
// yields the entries. It also counts stored blobs no entry references.
// err is for failures to read the log or the store; what is wrong with
// the blobs is in the report.
func CheckBlobs(store blob.Store, scan func(fn func(e *replication.Entry) bool) error, opts CheckOptions) (BlobReport, error) {
	var rep BlobReport
	seen := map[blob.Hash]error{} // verdict per blob read
	problem := func(p BlobProblem) {
		if len(rep.Problems) < MaxProblems {
			rep.Problems = append(rep.Problems, p)
		}
	}
	var failure error
	err := scan(func(e *replication.Entry) bool {
		refs, err := RefsOf(e)
		if err != nil {
			rep.Unreadable++
			problem(BlobProblem{Entry: e.ID(), Problem: "its biometric references do not decode: " + err.Error()})
			return true
		}
		if len(refs) == 0 {
			return true
		}
		rep.Records++
		for _, r := range refs {
			rep.Refs++
			verdict, done := seen[r.Hash]
			if !done {
				if verdict = blob.Check(store, r.Hash); verdict == nil {
					rep.Blobs++
					rep.Bytes += r.Size
				}
				if len(seen) < maxTrackedRefs {
					seen[r.Hash] = verdict
				}
			}
			switch {
			case verdict == nil:
			case errors.Is(verdict, blob.ErrNotFound):
				switch {
				case opts.Released != nil && opts.Released(e.ID()):
					rep.Released++
				case opts.Own != nil && opts.Own(e.Origin):
					rep.Missing++
					problem(BlobProblem{Entry: e.ID(), Slot: r.Slot, Blob: r.ID.String(), Problem: "missing: this replica captured it and does not hold it"})
				default:
					rep.Pending++
					rep.PendingBytes += r.Size
				}
			case errors.Is(verdict, blob.ErrCorrupt):
				rep.Corrupt++
				problem(BlobProblem{Entry: e.ID(), Slot: r.Slot, Blob: r.ID.String(), Problem: verdict.Error()})
			default:
				failure = verdict
				return false
			}
		}
		return true
	})
	if err == nil {
		err = failure
	}
	if err != nil {
		return rep, err
	}
	if len(seen) >= maxTrackedRefs {
		rep.Unreferenced = -1
		return rep, nil
	}
	err = store.List(func(in blob.Info) bool {
		if _, ok := seen[in.Hash]; !ok {
			rep.Unreferenced++
		}
		return true
	})
	return rep, err
}
