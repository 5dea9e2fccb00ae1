package delta

import (
	"fieldsync/replication"
)

// BatchSizer measures the uncompressed body of a Batch while it is built,
// entry by entry, without encoding anything, so that a sender can stop
// before MaxBodyBytes (or any smaller budget). The size it reports is
// exactly the body AppendFrame would write for the same entries, given in
// the same order; it does not check them (AppendFrame does).
//
//	s := delta.NewBatchSizer(id)
//	for _, e := range pending {
//		if s.Entries() > 0 && s.SizeWith(&e) > budget {
//			break
//		}
//		s.Add(&e)
//		... append e to the batch ...
//	}
//
// The frame on the wire is FrameHeaderSize plus at most this size (less
// when zstd shrinks it, which for JSON payloads is ~4x).
type BatchSizer struct {
	size       int // everything but the range count prefix
	ranges     int
	entries    int
	curN       int // entries in the open range
	cur        replication.OriginID
	nextSeq    uint64
	lastHLC    replication.HLC
	rangeCount int // uvarintLen(ranges), kept apart as it grows
}

// NewBatchSizer starts measuring an empty batch with the given ID.
func NewBatchSizer(id uint64) *BatchSizer {
	return &BatchSizer{size: uvarintLen(id), rangeCount: 1}
}

// Size returns the body size of the batch so far.
func (s *BatchSizer) Size() int { return s.size + s.rangeCount }

// Entries returns the number of entries added.
func (s *BatchSizer) Entries() int { return s.entries }

// Ranges returns the number of ranges the entries form.
func (s *BatchSizer) Ranges() int { return s.ranges }

// SizeWith returns the body size if e were added, leaving s unchanged.
func (s *BatchSizer) SizeWith(e *replication.Entry) int {
	t := *s
	return t.Add(e)
}

// Add accounts for e and returns the new body size. e continues the open
// range if it is the next seq of the same origin, else it opens a range.
func (s *BatchSizer) Add(e *replication.Entry) int {
	if s.entries == 0 || e.Origin != s.cur || e.Seq != s.nextSeq {
		s.openRange(e)
	} else {
		s.size += uvarintLen(uint64(s.curN+1)) - uvarintLen(uint64(s.curN))
		s.size += uvarintLen(zigzag(uint64(e.HLC - s.lastHLC)))
	}
	s.curN++
	s.entries++
	s.nextSeq = e.Seq + 1
	s.lastHLC = e.HLC
	s.size += entryTailSize(e)
	return s.Size()
}

func (s *BatchSizer) openRange(e *replication.Entry) {
	s.ranges++
	s.rangeCount = uvarintLen(uint64(s.ranges))
	s.cur, s.curN = e.Origin, 0
	s.size += replication.OriginIDSize + uvarintLen(e.Seq) + replication.HashSize + 1 // count of 1
	s.size += uvarintLen(uint64(e.HLC))
}

// entryTailSize is an entry's encoded size after its HLC.
func entryTailSize(e *replication.Entry) int {
	n := 1 + uvarintLen(uint64(e.Schema)) + uvarintLen(uint64(len(e.Payload))) + len(e.Payload) + 1
	if len(e.Sig) > 0 {
		n += replication.SignatureSize
	}
	return n
}
