package wire

import (
	"encoding/binary"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/blob"
)

// The blob lane's messages: biometric blobs (package blob) move behind the
// records that reference them, in chunks, resumable at the chunk.
//
//	receiver → sender  BlobStatus  what it lacks: per origin the held entries
//	                               whose blobs are not all held, and the
//	                               partial writes it can resume
//	sender → receiver  BlobOffer   blobs it holds, each with the entry that
//	                               references it
//	receiver → sender  BlobAck     per blob: have it, want it from offset N,
//	                               or refused (why)
//	sender → receiver  BlobChunk   bytes of one blob at an offset
//
// Bodies:
//
//	BlobStatus: norigins(uvarint) need* npartials(uvarint) partial*
//	  need: origin(16) through(uvarint >= 1) nmissing(uvarint) missing*
//	        missing: the first seq, then each later one as its difference
//	        from the one before (>= 1): strictly ascending, all <= through
//	  partial: hash(32) offset(uvarint >= 1); hashes strictly ascending
//	BlobOffer: n(uvarint >= 1) (hash(32) size(uvarint) origin(16) seq(uvarint >= 1))*
//	  no hash twice; the order is the sender's transfer order
//	BlobChunk: hash(32) offset(uvarint) len(uvarint >= 1) data
//	BlobAck: n(uvarint >= 1) (hash(32) state(1) ...)*
//	  have: nothing more; want and held: offset(uvarint); refused: reason(1, non-zero)
//	  detail(uvarint length + UTF-8, at most MaxDetailBytes)

// Blob message limits. Each also stays within the frame's body limit.
const (
	// MaxBlobChunkBytes bounds the data of one chunk. Chunks are sized to
	// the link (syncproto.DefaultBlobChunkBytes); this only bounds what a
	// decoder accepts.
	MaxBlobChunkBytes = 1 << 20
	// MaxBlobOffers bounds the blobs of one offer, and MaxBlobAcks the
	// answers of one ack.
	MaxBlobOffers = 1024
	MaxBlobAcks   = 1024
	// MaxBlobMissing bounds the missing seqs of one status, across origins.
	MaxBlobMissing = 64 << 10
	// MaxBlobPartials bounds the partial writes one status lists.
	MaxBlobPartials = 1024
)

// BlobStatus is what a replica that takes blobs from the peer lacks, sent
// when the session starts. The sender offers the blobs of the Missing
// entries of each origin and of every entry above Through, and resumes a
// Partial write at its offset without an offer.
type BlobStatus struct {
	// Origins, strictly ascending by origin.
	Origins []BlobNeed
	// Partials, strictly ascending by hash.
	Partials []BlobPartial
}

// BlobNeed is what the receiver lacks of one origin's blobs.
type BlobNeed struct {
	Origin replication.OriginID
	// Through: every held entry of Origin up to this seq has all the blobs
	// it references here, except those of the Missing entries. Entries
	// above it are not known to be complete.
	Through uint64
	// Missing seqs, strictly ascending, each at most Through.
	Missing []uint64
}

// BlobPartial is a partial write the receiver keeps: Offset bytes of the
// blob are durable, and the sender may resume from there.
type BlobPartial struct {
	Hash   blob.Hash
	Offset uint64
}

// BlobOffer lists blobs the sender holds and would send, each with the
// entry that references it (the receiver takes a blob only for a reference
// held in an entry it verified). The order is the sender's transfer order.
type BlobOffer struct {
	Blobs []OfferedBlob
}

// OfferedBlob is one blob of an offer.
type OfferedBlob struct {
	blob.ID
	Entry replication.EntryID
}

// BlobChunk carries Data, the bytes of blob Hash from Offset on.
type BlobChunk struct {
	Hash   blob.Hash
	Offset uint64
	Data   []byte
}

// BlobAck answers offers and chunks: per blob, where the receiver stands.
type BlobAck struct {
	Blobs []BlobState
}

// BlobStateKind says where a receiver stands on a blob.
type BlobStateKind uint8

const (
	// BlobHave: the blob is held, verified; send none of it.
	BlobHave BlobStateKind = 1
	// BlobWant: send from Offset (the bytes before it are held).
	BlobWant BlobStateKind = 2
	// BlobRefused: do not send it in this session; Reason says why.
	BlobRefused BlobStateKind = 3
	// BlobHeld: the bytes before Offset are durable here (progress: the
	// sender goes on; unlike BlobWant it never sends it back).
	BlobHeld BlobStateKind = 4
)

var blobStateNames = [...]string{BlobHave: "have", BlobWant: "want", BlobRefused: "refused", BlobHeld: "held"}

// String returns the state's lowercase name.
func (k BlobStateKind) String() string {
	if k >= BlobHave && k <= BlobHeld {
		return blobStateNames[k]
	}
	return fmt.Sprintf("blobstate(%d)", uint8(k))
}

// BlobState is a receiver's answer about one blob.
type BlobState struct {
	Hash   blob.Hash
	State  BlobStateKind
	Offset uint64       // BlobWant and BlobHeld only
	Reason RefuseReason // BlobRefused only, never 0
	Detail string       // BlobRefused only; see ClipDetail
}

// Type returns TypeBlobStatus.
func (*BlobStatus) Type() MsgType { return TypeBlobStatus }

// Type returns TypeBlobOffer.
func (*BlobOffer) Type() MsgType { return TypeBlobOffer }

// Type returns TypeBlobChunk.
func (*BlobChunk) Type() MsgType { return TypeBlobChunk }

// Type returns TypeBlobAck.
func (*BlobAck) Type() MsgType { return TypeBlobAck }

var (
	_ Message = (*BlobStatus)(nil)
	_ Message = (*BlobOffer)(nil)
	_ Message = (*BlobChunk)(nil)
	_ Message = (*BlobAck)(nil)
)

// Minimum encoded sizes, for count checks before allocating.
const (
	minNeedSize    = replication.OriginIDSize + 1 + 1
	minPartialSize = blob.HashSize + 1
	minOfferSize   = blob.HashSize + 1 + replication.OriginIDSize + 1
	minStateSize   = blob.HashSize + 1
)

func (r *Reader) blobHash(field string) (h blob.Hash) {
	copy(h[:], r.Take(blob.HashSize, field))
	if r.err == nil && h.IsZero() {
		r.Fail(malformed("%s: zero hash", field))
	}
	return h
}

func appendBlobStatus(dst []byte, m *BlobStatus, l *Limits) ([]byte, error) {
	if len(m.Origins) > l.MaxHeads {
		return dst, tooLarge("blob status origins: count %d, limit %d", len(m.Origins), l.MaxHeads)
	}
	if len(m.Partials) > MaxBlobPartials {
		return dst, tooLarge("blob status partials: count %d, limit %d", len(m.Partials), MaxBlobPartials)
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.Origins)))
	missing := 0
	for i := range m.Origins {
		n := &m.Origins[i]
		switch {
		case i > 0 && !m.Origins[i-1].Origin.Less(n.Origin):
			return dst, invalid("blob status origin %d: %s not above the previous %s", i, n.Origin.Short(), m.Origins[i-1].Origin.Short())
		case n.Through == 0:
			return dst, invalid("blob status origin %s: through is 0", n.Origin.Short())
		}
		if missing += len(n.Missing); missing > MaxBlobMissing {
			return dst, tooLarge("blob status missing seqs: more than %d", MaxBlobMissing)
		}
		dst = append(dst, n.Origin[:]...)
		dst = binary.AppendUvarint(dst, n.Through)
		dst = binary.AppendUvarint(dst, uint64(len(n.Missing)))
		prev := uint64(0)
		for j, s := range n.Missing {
			if s <= prev || s > n.Through {
				return dst, invalid("blob status origin %s missing %d: seq %d not in %d..%d", n.Origin.Short(), j, s, prev+1, n.Through)
			}
			dst = binary.AppendUvarint(dst, s-prev)
			prev = s
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.Partials)))
	for i := range m.Partials {
		p := &m.Partials[i]
		switch {
		case p.Hash.IsZero():
			return dst, invalid("blob status partial %d: zero hash", i)
		case i > 0 && !hashLess(m.Partials[i-1].Hash, p.Hash):
			return dst, invalid("blob status partial %d: hash %s not above the previous", i, p.Hash.Short())
		case p.Offset == 0 || p.Offset >= blob.MaxSize:
			return dst, invalid("blob status partial %s: offset %d out of 1..%d", p.Hash.Short(), p.Offset, blob.MaxSize-1)
		}
		dst = append(dst, p.Hash[:]...)
		dst = binary.AppendUvarint(dst, p.Offset)
	}
	return dst, nil
}

func decodeBlobStatus(b []byte, l *Limits) (*BlobStatus, error) {
	r := Reader{b: b}
	m := &BlobStatus{}
	n := r.Count("blob status origins", l.MaxHeads, minNeedSize)
	if n > 0 {
		m.Origins = make([]BlobNeed, n)
	}
	missing := 0
	for i := range m.Origins {
		need := &m.Origins[i]
		need.Origin = r.origin("origin")
		need.Through = r.Uvarint("through")
		k := r.Count("missing", MaxBlobMissing-missing, 1)
		missing += k
		switch {
		case r.err != nil:
		case need.Through == 0:
			r.Fail(malformed("through is 0"))
		case i > 0 && !m.Origins[i-1].Origin.Less(need.Origin):
			r.Fail(malformed("origin %s not above the previous %s", need.Origin.Short(), m.Origins[i-1].Origin.Short()))
		}
		if r.err == nil && k > 0 {
			need.Missing = make([]uint64, k)
		}
		prev := uint64(0)
		for j := range need.Missing {
			d := r.Uvarint("missing seq")
			if r.err == nil && (d == 0 || d > need.Through-prev) {
				r.Fail(malformed("missing seq %d: step %d after %d leaves 1..%d", j, d, prev, need.Through))
			}
			if r.err != nil {
				break
			}
			prev += d
			need.Missing[j] = prev
		}
		if r.err != nil {
			return nil, fmt.Errorf("blob status origin %d: %w", i, r.err)
		}
	}
	n = r.Count("blob status partials", MaxBlobPartials, minPartialSize)
	if n > 0 {
		m.Partials = make([]BlobPartial, n)
	}
	for i := range m.Partials {
		p := &m.Partials[i]
		p.Hash = r.blobHash("hash")
		p.Offset = r.Uvarint("offset")
		switch {
		case r.err != nil:
		case p.Offset == 0 || p.Offset >= blob.MaxSize:
			r.Fail(malformed("offset %d out of 1..%d", p.Offset, blob.MaxSize-1))
		case i > 0 && !hashLess(m.Partials[i-1].Hash, p.Hash):
			r.Fail(malformed("hash %s not above the previous", p.Hash.Short()))
		}
		if r.err != nil {
			return nil, fmt.Errorf("blob status partial %d: %w", i, r.err)
		}
	}
	if err := r.End("blob status"); err != nil {
		return nil, err
	}
	return m, nil
}

func hashLess(a, b blob.Hash) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func appendBlobOffer(dst []byte, m *BlobOffer) ([]byte, error) {
	switch {
	case len(m.Blobs) == 0:
		return dst, invalid("blob offer: no blobs")
	case len(m.Blobs) > MaxBlobOffers:
		return dst, tooLarge("blob offer: count %d, limit %d", len(m.Blobs), MaxBlobOffers)
	}
	seen := make(map[blob.Hash]bool, len(m.Blobs))
	dst = binary.AppendUvarint(dst, uint64(len(m.Blobs)))
	for i := range m.Blobs {
		o := &m.Blobs[i]
		if err := o.ID.Check(); err != nil {
			return dst, invalid("blob offer %d: %v", i, err)
		}
		if o.Entry.Seq == 0 {
			return dst, invalid("blob offer %d: entry seq is 0", i)
		}
		if seen[o.Hash] {
			return dst, invalid("blob offer %d: blob %s offered twice", i, o.Hash.Short())
		}
		seen[o.Hash] = true
		dst = append(dst, o.Hash[:]...)
		dst = binary.AppendUvarint(dst, uint64(o.Size))
		dst = append(dst, o.Entry.Origin[:]...)
		dst = binary.AppendUvarint(dst, o.Entry.Seq)
	}
	return dst, nil
}

func decodeBlobOffer(b []byte) (*BlobOffer, error) {
	r := Reader{b: b}
	n := r.Count("blob offer", MaxBlobOffers, minOfferSize)
	if r.err == nil && n == 0 {
		r.Fail(malformed("blob offer: no blobs"))
	}
	if r.err != nil {
		return nil, r.err
	}
	m := &BlobOffer{Blobs: make([]OfferedBlob, n)}
	seen := make(map[blob.Hash]bool, n)
	for i := range m.Blobs {
		o := &m.Blobs[i]
		o.Hash = r.blobHash("hash")
		size := r.Uvarint("size")
		o.Entry.Origin = r.origin("origin")
		o.Entry.Seq = r.Uvarint("seq")
		switch {
		case r.err != nil:
		case size == 0 || size > blob.MaxSize:
			r.Fail(malformed("size %d out of 1..%d", size, blob.MaxSize))
		case o.Entry.Seq == 0:
			r.Fail(malformed("entry seq is 0"))
		case seen[o.Hash]:
			r.Fail(malformed("blob %s offered twice", o.Hash.Short()))
		}
		if r.err != nil {
			return nil, fmt.Errorf("blob offer %d: %w", i, r.err)
		}
		o.Size = int64(size)
		seen[o.Hash] = true
	}
	if err := r.End("blob offer"); err != nil {
		return nil, err
	}
	return m, nil
}

func appendBlobChunk(dst []byte, m *BlobChunk) ([]byte, error) {
	switch {
	case m.Hash.IsZero():
		return dst, invalid("blob chunk: zero hash")
	case len(m.Data) == 0:
		return dst, invalid("blob chunk %s: no data", m.Hash.Short())
	case len(m.Data) > MaxBlobChunkBytes:
		return dst, tooLarge("blob chunk %s: %d bytes, limit %d", m.Hash.Short(), len(m.Data), MaxBlobChunkBytes)
	case m.Offset+uint64(len(m.Data)) > blob.MaxSize:
		return dst, invalid("blob chunk %s: ends at %d, past the largest blob (%d)", m.Hash.Short(), m.Offset+uint64(len(m.Data)), blob.MaxSize)
	}
	dst = append(dst, m.Hash[:]...)
	dst = binary.AppendUvarint(dst, m.Offset)
	dst = binary.AppendUvarint(dst, uint64(len(m.Data)))
	return append(dst, m.Data...), nil
}

func decodeBlobChunk(b []byte) (*BlobChunk, error) {
	r := Reader{b: b}
	m := &BlobChunk{Hash: r.blobHash("blob chunk hash"), Offset: r.Uvarint("blob chunk offset")}
	n := r.Uvarint("blob chunk length")
	switch {
	case r.err != nil:
	case n == 0:
		r.Fail(malformed("blob chunk length is 0"))
	case n > MaxBlobChunkBytes:
		r.Fail(tooLarge("blob chunk length %d, limit %d", n, MaxBlobChunkBytes))
	case m.Offset > blob.MaxSize || n > blob.MaxSize-m.Offset:
		r.Fail(malformed("blob chunk ends past the largest blob (%d bytes)", blob.MaxSize))
	}
	if data := r.Take(int(n), "blob chunk data"); r.err == nil {
		m.Data = append([]byte(nil), data...) // the body buffer is reused
	}
	if err := r.End("blob chunk"); err != nil {
		return nil, err
	}
	return m, nil
}

func appendBlobAck(dst []byte, m *BlobAck) ([]byte, error) {
	switch {
	case len(m.Blobs) == 0:
		return dst, invalid("blob ack: no blobs")
	case len(m.Blobs) > MaxBlobAcks:
		return dst, tooLarge("blob ack: count %d, limit %d", len(m.Blobs), MaxBlobAcks)
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.Blobs)))
	for i := range m.Blobs {
		s := &m.Blobs[i]
		if s.Hash.IsZero() {
			return dst, invalid("blob ack %d: zero hash", i)
		}
		dst = append(dst, s.Hash[:]...)
		dst = append(dst, byte(s.State))
		var err error
		switch s.State {
		case BlobHave:
			if s.Offset != 0 || s.Reason != 0 || s.Detail != "" {
				err = invalid("blob ack %d: have carries no offset or reason", i)
			}
		case BlobWant, BlobHeld:
			if s.Offset >= blob.MaxSize || s.Reason != 0 || s.Detail != "" {
				err = invalid("blob ack %d: %s carries an offset below %d and no reason", i, s.State, blob.MaxSize)
			}
			dst = binary.AppendUvarint(dst, s.Offset)
		case BlobRefused:
			if s.Reason == 0 || s.Offset != 0 {
				err = invalid("blob ack %d: refused needs a reason and no offset", i)
			} else if err = checkString("detail", s.Detail, MaxDetailBytes); err != nil {
				err = fmt.Errorf("blob ack %d: %w", i, err)
			}
			dst = append(dst, byte(s.Reason))
			dst = AppendString(dst, s.Detail)
		default:
			err = invalid("blob ack %d: state %d unknown", i, s.State)
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func decodeBlobAck(b []byte) (*BlobAck, error) {
	r := Reader{b: b}
	n := r.Count("blob ack", MaxBlobAcks, minStateSize)
	if r.err == nil && n == 0 {
		r.Fail(malformed("blob ack: no blobs"))
	}
	if r.err != nil {
		return nil, r.err
	}
	m := &BlobAck{Blobs: make([]BlobState, n)}
	for i := range m.Blobs {
		s := &m.Blobs[i]
		s.Hash = r.blobHash("hash")
		s.State = BlobStateKind(r.Byte("state"))
		switch {
		case r.err != nil:
		case s.State == BlobHave:
		case s.State == BlobWant || s.State == BlobHeld:
			if s.Offset = r.Uvarint("offset"); r.err == nil && s.Offset >= blob.MaxSize {
				r.Fail(malformed("offset %d past the largest blob", s.Offset))
			}
		case s.State == BlobRefused:
			s.Reason = RefuseReason(r.Byte("reason"))
			if r.err == nil && s.Reason == 0 {
				r.Fail(malformed("reason is 0"))
			}
			s.Detail = r.Str("detail", MaxDetailBytes)
		default:
			r.Fail(malformed("state %d unknown", s.State))
		}
		if r.err != nil {
			return nil, fmt.Errorf("blob ack %d: %w", i, r.err)
		}
	}
	if err := r.End("blob ack"); err != nil {
		return nil, err
	}
	return m, nil
}
