package bundle

import (
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// Importer takes bundle parts into a replica. It drives a receiving sync
// session with what a part holds — the writer's Hello and Summary, its
// batches, its blob offers and chunks — so every check is the session's:
// chains, signatures, the roster (Verifier), blobs referenced by a held
// entry, flowing up only, their hash at commit. What the replica holds is
// ignored; what it lacks is taken; what fails a check is refused with the
// session's reason, and the rest stands.
type Importer struct {
	Log   oplog.Log
	Blobs blob.Store // nil: the part's blobs are not taken (a replica without a store)
	Refs  blob.RefsFunc
	Needs syncproto.BlobNeeds
	// Proto is the receiving session's config: Self (this replica's
	// Hello) and Verifier (the roster); Blobs is filled in here.
	Proto syncproto.Config
	// Device and Key open parts sealed to this replica.
	Device ed25519.PublicKey
	Key    hpke.PrivateKey
	// Trusted says whether a part's signer may send this replica bundles
	// (a device on the roster); nil takes any signer (open mode).
	Trusted func(signer ed25519.PublicKey) error
	// OnIngest sees every batch written (a running hub's view).
	OnIngest func(peer *wire.Hello, res oplog.IngestResult)
	// OnHeld sees the entries whose blobs this import completed (the index
	// of needs rechecks them).
	OnHeld func(ids []replication.EntryID)
	// Codec decodes the messages; nil: one with the default limits.
	Codec *wire.Codec
}

// Result is what one part's import did.
type Result struct {
	Header    Header
	Peer      *wire.Hello              // the writer, as its Hello says
	PeerHeads []replication.OriginHead // the writer's vector, as its Summary says
	// Entries applied, already held, refused (with the session's reasons).
	Applied, Duplicate, Refused int
	Refusals                    []wire.Refusal
	// Blobs taken (committed now), already held, refused or cut short.
	BlobsTaken, BlobsHeld, BlobsRefused, BlobsIncomplete int
	BlobBytes                                            int64
	BlobRefusals                                         []wire.BlobState
	// Heads are this replica's heads after the import for the origins the
	// part carried (what an acknowledgement says); BlobStates the final
	// state of each blob offered.
	Heads      []replication.OriginHead
	BlobStates []wire.BlobState
	// Frames read; More: other parts of the bundle follow this one.
	Frames int
	More   bool
	// Err is why the part stopped before its end (damaged, truncated);
	// what came before it stands.
	Err error

	// An answer's (Direction Return): the bundle it answers, the hub's
	// heads for the origins that bundle carried, where each blob stands at
	// the hub, and which held entries still lack blobs there.
	Answers   *AnswerOf
	HubHeads  []replication.OriginHead
	HubBlobs  []wire.BlobState
	HubStatus *wire.BlobStatus
}

// maxRefusalsKept bounds the refusals a result lists.
const maxRefusalsKept = 100

// ImportPart imports one part from r. It returns an error only when
// nothing could be read (not a bundle, not for this replica, a signer not
// trusted) or the replica failed (a write error); a part damaged or cut
// short midway is imported up to there, with Result.Err saying where.
func (im *Importer) ImportPart(r io.Reader) (*Result, error) {
	p, err := OpenPart(r, im.Device, im.Key)
	if err != nil {
		return nil, err
	}
	if im.Trusted != nil {
		if err := im.Trusted(p.Header.Signer); err != nil {
			return nil, fmt.Errorf("bundle %s part %d: signed by device %s: %w", p.Header.ID.Short(), p.Header.Part, replication.DeviceIDOf(p.Header.Signer), err)
		}
	}
	codec := im.Codec
	if codec == nil {
		if codec, err = wire.NewCodec(wire.Limits{}); err != nil {
			return nil, err
		}
	}
	cfg := im.Proto
	if im.Blobs != nil {
		cfg.Blobs = &syncproto.BlobConfig{Store: im.Blobs, Refs: im.Refs, Needs: im.Needs}
	}
	s, err := syncproto.NewSession(cfg, im.Log)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := s.Start(); err != nil {
		return nil, err
	}
	run := &importRun{im: im, s: s, res: &Result{Header: p.Header}, skip: map[blob.Hash]bool{}, want: map[blob.Hash]uint64{}}
	if im.Blobs != nil {
		run.writers = syncproto.NewBlobWriters(im.Blobs)
		defer run.writers.Close()
	}
	if _, err := run.drain(); err != nil {
		return nil, err
	}
	for {
		kind, body, err := p.Next()
		if err == io.EOF {
			run.res.More = p.More
			break
		}
		if err != nil {
			run.res.Err = err
			break
		}
		run.res.Frames++
		if kind == FrameAnswer && p.Header.Direction == Return && run.res.Answers == nil {
			var a AnswerOf
			if len(body) > maxAnswerBody || json.Unmarshal(body, &a) != nil || len(a.Parts) > 1<<16 {
				run.res.Err = fmt.Errorf("%w: frame %d: a malformed answer", ErrDamaged, run.res.Frames-1)
				break
			}
			run.res.Answers = &a
			continue
		}
		if kind != FrameMessage {
			continue // a frame kind of a later version: skipped, as the end frame counts it
		}
		m, n, err := codec.DecodeFrame(body)
		if err == nil && n != len(body) {
			err = fmt.Errorf("%w: %d bytes after the message", replication.ErrMalformed, len(body)-n)
		}
		if err != nil {
			run.res.Err = fmt.Errorf("%w: frame %d holds no valid message: %w", ErrDamaged, run.res.Frames-1, err)
			break
		}
		if err := run.step(m); err != nil {
			return run.res, err
		}
	}
	if run.writers != nil {
		if err := run.writers.Close(); err != nil {
			return run.res, err
		}
	}
	for h, off := range run.want {
		if _, done := run.skip[h]; !done {
			run.res.BlobsIncomplete++
			run.res.BlobStates = append(run.res.BlobStates, wire.BlobState{Hash: h, State: wire.BlobWant, Offset: off})
		}
	}
	v, err := im.Log.Vector()
	if err != nil {
		return run.res, err
	}
	for _, o := range run.origins {
		if h := v[o]; h.Seq > 0 {
			run.res.Heads = append(run.res.Heads, replication.OriginHead{Origin: o, Head: h})
		}
	}
	return run.res, nil
}

type importRun struct {
	im      *Importer
	s       *syncproto.Session
	writers *syncproto.BlobWriters
	res     *Result
	origins []replication.OriginID
	seen    map[replication.OriginID]bool
	// per blob of this part: skip (held, refused, done) or the offset
	// the session wants next
	skip map[blob.Hash]bool
	want map[blob.Hash]uint64
}

// step feeds one message of the part to the session and carries out what
// it asks.
func (run *importRun) step(m wire.Message) error {
	switch m := m.(type) {
	case *wire.Hello:
		run.res.Peer = m
		return run.feed(m)
	case *wire.Summary:
		run.res.PeerHeads = m.Heads
		return run.feed(m)
	case *wire.Batch:
		for _, rg := range m.Ranges {
			if run.seen == nil {
				run.seen = map[replication.OriginID]bool{}
			}
			if !run.seen[rg.Origin] {
				run.seen[rg.Origin] = true
				run.origins = append(run.origins, rg.Origin)
			}
		}
		return run.feed(m)
	case *wire.BlobOffer:
		if run.writers == nil {
			return nil
		}
		for _, b := range m.Blobs {
			delete(run.skip, b.Hash)
			delete(run.want, b.Hash)
		}
		return run.feed(m)
	case *wire.BlobChunk:
		if run.writers == nil || run.skip[m.Hash] {
			return nil
		}
		next, ok := run.want[m.Hash]
		end := m.Offset + uint64(len(m.Data))
		switch {
		case !ok || end <= next:
			return nil // not wanted, or held already
		case m.Offset > next:
			// A gap: the bytes before this chunk are in another part not
			// imported yet (or a network session's partial write lies
			// elsewhere): the rest of this blob waits.
			run.skip[m.Hash] = true
			return nil
		case m.Offset < next:
			m = &wire.BlobChunk{Hash: m.Hash, Offset: next, Data: m.Data[next-m.Offset:]}
		}
		run.want[m.Hash] = end
		return run.feed(m)
	case *wire.Ack:
		if run.res.Header.Direction == Return && len(run.res.HubHeads) < 1<<20 {
			run.res.HubHeads = append(run.res.HubHeads, m.Heads...)
		}
	case *wire.BlobAck:
		if run.res.Header.Direction == Return && len(run.res.HubBlobs) < 1<<20 {
			run.res.HubBlobs = append(run.res.HubBlobs, m.Blobs...)
		}
	case *wire.BlobStatus:
		if run.res.Header.Direction == Return {
			run.res.HubStatus = m
		}
	}
	return nil // in an up bundle, acks and statuses are not the writer's to give: ignored
}

// feed steps one message and drains the session.
func (run *importRun) feed(m wire.Message) error {
	if err := run.s.Step(m); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	_, err := run.drain()
	return err
}

// drain carries out the session's work until it has none: batches to
// persist, chunks to write; its answers are read for the result.
func (run *importRun) drain() (bool, error) {
	moved := false
	for range 1 << 20 {
		rd, err := run.s.Ready()
		if err != nil {
			return moved, fmt.Errorf("bundle: %w", err)
		}
		for _, m := range rd.Messages {
			run.read(m)
		}
		if len(rd.Held) > 0 && run.im.OnHeld != nil {
			run.im.OnHeld(rd.Held)
		}
		switch {
		case rd.Persist != nil:
			res, err := run.im.Log.Ingest(rd.Persist.Entries, nil)
			if perr := run.s.Persisted(res, err); perr != nil {
				return moved, fmt.Errorf("bundle: %w", perr)
			}
			run.res.Applied += len(res.Applied)
			run.res.Duplicate += res.Duplicates
			if run.im.OnIngest != nil && (len(res.Applied) > 0 || res.Duplicates > 0) {
				run.im.OnIngest(run.s.Peer(), res)
			}
		case rd.BlobWrite != nil:
			w := rd.BlobWrite
			out := run.writers.Apply(w)
			if out.Committed || errors.Is(out.Err, blob.ErrExists) {
				run.res.BlobsTaken++
			}
			if out.Err == nil {
				run.res.BlobBytes += int64(len(w.Data))
			}
			if err := run.s.BlobWritten(out); err != nil {
				return moved, fmt.Errorf("bundle: %w", err)
			}
		default:
			if len(rd.Messages) == 0 {
				return moved, nil
			}
		}
		moved = true
	}
	return moved, errors.New("bundle: the session does not settle")
}

// read takes the session's answers: acks (refusals of entries) and blob
// states (have, want from, refused).
func (run *importRun) read(m wire.Message) {
	switch m := m.(type) {
	case *wire.Ack:
		for _, r := range m.Refused {
			run.res.Refused++ // counted per refusal: a range refused whole is one
			if len(run.res.Refusals) < maxRefusalsKept {
				run.res.Refusals = append(run.res.Refusals, r)
			}
		}
	case *wire.BlobAck:
		for _, st := range m.Blobs {
			switch st.State {
			case wire.BlobHave:
				if _, wanted := run.want[st.Hash]; !wanted {
					run.res.BlobsHeld++
				}
				run.skip[st.Hash] = true
				delete(run.want, st.Hash)
				run.res.BlobStates = append(run.res.BlobStates, st)
			case wire.BlobWant:
				if _, ok := run.want[st.Hash]; !ok || st.Offset != run.want[st.Hash] {
					run.want[st.Hash] = st.Offset
				}
			case wire.BlobRefused:
				run.skip[st.Hash] = true
				delete(run.want, st.Hash)
				run.res.BlobsRefused++
				run.res.BlobStates = append(run.res.BlobStates, st)
				if len(run.res.BlobRefusals) < maxRefusalsKept {
					run.res.BlobRefusals = append(run.res.BlobRefusals, st)
				}
			}
		}
	}
}
