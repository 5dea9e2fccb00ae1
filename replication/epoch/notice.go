package epoch

import (
	"encoding/binary"
	"fmt"

	"fieldsync/replication"
)

// NoticeSchema is the schema version of a KindFork payload.
const NoticeSchema = 1

// noticeVersion is the first byte of the payload encoding.
const noticeVersion = 1

// noticeSize is the whole payload: version(1) evidence(1) origin(16)
// from(8) at(8) held(32) other(32).
const noticeSize = 1 + 1 + replication.OriginIDSize + 8 + 8 + 2*replication.HashSize

// Evidence says how a hub learned that an origin forked.
type Evidence uint8

const (
	// EvidenceIngest: the hub was offered an entry at a seq where it
	// holds another (both chains verified against the origin's key): two
	// branches reached hubs, which may hold different ones.
	EvidenceIngest Evidence = 1
	// EvidenceGenesis: a new epoch's genesis names, for its previous
	// origin's head, a hash other than the entry the hub holds there. The
	// writer stopped writing the old origin and re-issued its own captures;
	// only the branch the hubs hold is anywhere, so nothing needs hiding.
	EvidenceGenesis Evidence = 2
)

func (e Evidence) String() string {
	switch e {
	case EvidenceIngest:
		return "ingest"
	case EvidenceGenesis:
		return "genesis"
	}
	return fmt.Sprintf("evidence(%d)", uint8(e))
}

// Notice is a hub's signed statement that an origin forked: at seq At it
// holds Held and knows of Other. Views quarantine the origin from seq From
// on when the evidence is EvidenceIngest (hubs may hold different
// branches there, so no branch can count); every writer that sees a notice
// naming its own current origin starts a new epoch and re-issues from From.
type Notice struct {
	Evidence Evidence
	Origin   replication.OriginID
	From     uint64 // first seq whose entries are in doubt
	At       uint64 // where the two hashes were seen
	Held     replication.Hash
	Other    replication.Hash
}

// Encode returns the canonical payload of a KindFork entry.
func (n *Notice) Encode() ([]byte, error) {
	if err := n.check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, noticeSize)
	b = append(b, noticeVersion, byte(n.Evidence))
	b = append(b, n.Origin[:]...)
	b = binary.BigEndian.AppendUint64(b, n.From)
	b = binary.BigEndian.AppendUint64(b, n.At)
	b = append(b, n.Held[:]...)
	return append(b, n.Other[:]...), nil
}

// DecodeNotice parses a KindFork payload.
func DecodeNotice(b []byte) (Notice, error) {
	var n Notice
	if len(b) != noticeSize {
		return n, fmt.Errorf("%w: fork notice of %d bytes, want %d", replication.ErrMalformed, len(b), noticeSize)
	}
	if b[0] != noticeVersion {
		return n, fmt.Errorf("%w: fork notice version %d, want %d", replication.ErrMalformed, b[0], noticeVersion)
	}
	n.Evidence = Evidence(b[1])
	p := b[2:]
	copy(n.Origin[:], p)
	p = p[replication.OriginIDSize:]
	n.From = binary.BigEndian.Uint64(p)
	n.At = binary.BigEndian.Uint64(p[8:])
	p = p[16:]
	copy(n.Held[:], p)
	copy(n.Other[:], p[replication.HashSize:])
	return n, n.check()
}

func (n *Notice) check() error {
	switch {
	case n.Evidence != EvidenceIngest && n.Evidence != EvidenceGenesis:
		return fmt.Errorf("%w: fork notice evidence %d", replication.ErrMalformed, n.Evidence)
	case n.Origin.IsZero():
		return fmt.Errorf("%w: fork notice without an origin", replication.ErrMalformed)
	case n.From < 1 || n.At < n.From:
		return fmt.Errorf("%w: fork notice from seq %d at seq %d: want 1 <= from <= at", replication.ErrMalformed, n.From, n.At)
	case n.Held == n.Other:
		return fmt.Errorf("%w: fork notice names one hash twice", replication.ErrMalformed)
	}
	return nil
}

// Quarantines reports whether views must set aside the origin's entries
// from From on.
func (n *Notice) Quarantines() bool { return n.Evidence == EvidenceIngest }
