package wire

import (
	"fieldsync/replication"
)

// BatchSizer measures the uncompressed body of a Batch while it is built,
// entry by entry, without encoding anything, so that a sender can stop
// before MaxBodyBytes (or any smaller budget). The size it reports is
// exactly the body AppendFrame would write for the same entries, given in
// the same order; it does not check them (AppendFrame does).
//
//	s := wire.NewBatchSizer(id)
//	for _, e := range pending {
//		if s.Entries() > 0 && s.SizeWith(&e) > budget {
//			break
//		}
//		s.Add(&e)
//		... append e to the batch ...
//	}
//
// The frame on the wire is FrameHeaderSize plus at most this size (less
// when packing and zstd shrink it, which for JSON payloads is ~6x).
type BatchSizer struct {
	size       int // id, range headers and entry headers, without the range count
	ranges     int
	entries    int
	curN       int // entries in the open range
	cur        replication.OriginID
	nextSeq    uint64
	lastHLC    replication.HLC
	rangeCount int // UvarintLen(ranges), kept apart as it grows
	payloads   payloadSizer
}

// payloadSizer accounts for the columnar payload section (columnar.go).
type payloadSizer struct {
	templates map[string]int // template → index; only add inserts
	tmplBytes int            // the templates with their length prefixes
	rest      int            // template ids, values with their terminators, raw payloads
}

func (p *payloadSizer) size() int {
	return UvarintLen(uint64(len(p.templates))) + p.tmplBytes + p.rest
}

// with returns the section size if payload were added, and the template
// to insert (nil if none or already known).
func (p *payloadSizer) with(payload []byte) (int, []byte) {
	tmpl, vals, ok := splitJSON(payload)
	if !ok {
		return p.size() + UvarintLen(0) + len(payload), nil
	}
	n := p.size() + len(vals)
	for _, v := range vals {
		n += len(v)
	}
	t, known := p.templates[string(tmpl)]
	if known {
		return n + UvarintLen(uint64(t+1)), nil
	}
	t = len(p.templates)
	n += UvarintLen(uint64(t+1)) + UvarintLen(uint64(len(tmpl))) + len(tmpl)
	n += UvarintLen(uint64(t+1)) - UvarintLen(uint64(t)) // the template count grows
	return n, tmpl
}

func (p *payloadSizer) add(payload []byte) {
	n, tmpl := p.with(payload)
	if tmpl != nil {
		if p.templates == nil {
			p.templates = map[string]int{}
		}
		p.tmplBytes += UvarintLen(uint64(len(tmpl))) + len(tmpl)
		p.templates[string(tmpl)] = len(p.templates)
	}
	p.rest = n - UvarintLen(uint64(len(p.templates))) - p.tmplBytes
}

// NewBatchSizer starts measuring an empty batch with the given ID.
func NewBatchSizer(id uint64) *BatchSizer {
	return &BatchSizer{size: UvarintLen(id), rangeCount: 1}
}

// Size returns the body size of the batch so far.
func (s *BatchSizer) Size() int { return s.size + s.rangeCount + s.payloads.size() }

// Entries returns the number of entries added.
func (s *BatchSizer) Entries() int { return s.entries }

// Ranges returns the number of ranges the entries form.
func (s *BatchSizer) Ranges() int { return s.ranges }

// SizeWith returns the body size if e were added, leaving s unchanged.
func (s *BatchSizer) SizeWith(e *replication.Entry) int {
	t := *s
	t.payloads = payloadSizer{} // never write through the shared map
	headers := t.addHeader(e)
	n, _ := s.payloads.with(e.Payload)
	return headers + n
}

// Add accounts for e and returns the new body size. e continues the open
// range if it is the next seq of the same origin, else it opens a range.
func (s *BatchSizer) Add(e *replication.Entry) int {
	s.addHeader(e)
	s.payloads.add(e.Payload)
	return s.Size()
}

// addHeader accounts for e's range and entry header; it returns the size
// without the payload section.
func (s *BatchSizer) addHeader(e *replication.Entry) int {
	if s.entries == 0 || e.Origin != s.cur || e.Seq != s.nextSeq {
		s.openRange(e)
	} else {
		s.size += UvarintLen(uint64(s.curN+1)) - UvarintLen(uint64(s.curN))
		s.size += UvarintLen(zigzag(uint64(e.HLC - s.lastHLC)))
	}
	s.curN++
	s.entries++
	s.nextSeq = e.Seq + 1
	s.lastHLC = e.HLC
	s.size += entryHeaderSize(e)
	return s.size + s.rangeCount
}

func (s *BatchSizer) openRange(e *replication.Entry) {
	s.ranges++
	s.rangeCount = UvarintLen(uint64(s.ranges))
	s.cur, s.curN = e.Origin, 0
	s.size += replication.OriginIDSize + UvarintLen(e.Seq) + replication.HashSize + 1 // count of 1
	s.size += UvarintLen(uint64(e.HLC))
}

// entryHeaderSize is an entry's header size after its HLC.
func entryHeaderSize(e *replication.Entry) int {
	n := 1 + UvarintLen(uint64(e.Schema)) + UvarintLen(uint64(len(e.Payload))) + 1
	if len(e.Sig) > 0 {
		n += replication.SignatureSize
	}
	return n
}
