package oplog

import (
	"crypto/ed25519"
	"fmt"

	"fieldsync/replication"
)

// VerifyReport is the result of re-checking every chain a log holds.
type VerifyReport struct {
	Origins    int    `json:"origins"`
	Entries    uint64 `json:"entries"`
	Signatures uint64 `json:"signatures_checked"`
	// Break describes the first problem found, empty when all verified.
	Break string `json:"break,omitempty"`
	// BreakAt is the entry where the first problem was found.
	BreakAt *replication.EntryID `json:"break_at,omitempty"`
}

// OK reports whether every chain verified.
func (r VerifyReport) OK() bool { return r.Break == "" }

// Verify re-checks every origin's chain from its genesis: seqs contiguous
// from 1, each previous hash linking, every signature held verifying under
// the genesis key, the head signed and matching the stored head. It stops at
// the first break and reports it; err is for failures to read.
func Verify(l Log) (VerifyReport, error) {
	var rep VerifyReport
	v, err := l.Vector()
	if err != nil {
		return rep, err
	}
	for _, oh := range v.Heads() {
		rep.Origins++
		if err := verifyOrigin(l, oh, &rep); err != nil {
			return rep, err
		}
		if !rep.OK() {
			return rep, nil
		}
	}
	return rep, nil
}

func verifyOrigin(l Log, oh replication.OriginHead, rep *VerifyReport) error {
	var (
		pub  ed25519.PublicKey
		prev replication.Hash
		next uint64 = 1
		last replication.Entry
	)
	fail := func(id replication.EntryID, format string, args ...any) bool {
		rep.Break = fmt.Sprintf(format, args...)
		rep.BreakAt = &id
		return false
	}
	err := l.Scan(oh.Origin, 1, func(e replication.Entry) bool {
		switch {
		case e.Seq != next:
			return fail(e.ID(), "seq %d follows seq %d", e.Seq, next-1)
		case e.Prev != prev:
			return fail(e.ID(), "previous hash %s does not match entry %d (%s)", e.Prev.Short(), e.Seq-1, prev.Short())
		}
		if e.Seq == 1 {
			g, err := replication.VerifyGenesis(&e)
			if err != nil {
				return fail(e.ID(), "genesis: %v", err)
			}
			pub = g.PublicKey
		} else if e.Sig != nil {
			if err := replication.VerifySignature(pub, e.Hash(), e.Sig); err != nil {
				return fail(e.ID(), "signature: %v", err)
			}
		}
		if e.Sig != nil {
			rep.Signatures++
		}
		rep.Entries++
		prev, next, last = e.Hash(), e.Seq+1, e
		return true
	})
	if err != nil || !rep.OK() {
		return err
	}
	id := replication.EntryID{Origin: oh.Origin, Seq: oh.Seq}
	switch {
	case last.Seq != oh.Seq || prev != oh.Hash:
		fail(id, "stored head (seq %d) does not match the chain (ends at seq %d)", oh.Seq, last.Seq)
	case last.Sig == nil:
		fail(id, "head entry is not signed; nothing covers the tail of the chain")
	}
	return nil
}
