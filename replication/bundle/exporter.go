package bundle

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// Exporter writes what a hub lacks, as far as this replica knows, into
// bundle parts: the entries above the hub's heads, cut into batches by a
// sending sync session exactly as on the wire (so the hub verifies them
// as it verifies a session), then the blobs of the entries the hub is not
// known to hold them for, portraits first. Records come first; a part
// that fills up ends, and the next part goes on.
type Exporter struct {
	Log   oplog.Log
	Blobs blob.Store // nil: no blobs
	Refs  blob.RefsFunc
	// Proto is the sending session's config (Self: this replica's Hello).
	Proto syncproto.Config
	// Signer signs each part's header; ReplyKey goes in it (the answer is
	// sealed to it).
	Signer   ed25519.PrivateKey
	ReplyKey []byte
	// Hub is the hub as this replica knows it: its Hello and its heads
	// (what it acknowledged). To are the recipients (the hub first).
	Hub      wire.Hello
	HubHeads replication.Vector
	To       []RecipientKey
	// BlobsHeldThrough says, per origin, through which seq the hub is known
	// to hold every blob (the blobs of entries at or below it are not
	// sent); nil: none known.
	BlobsHeldThrough map[replication.OriginID]uint64
	// Direction of the parts (Up by default).
	Direction Direction
	// PartBytes bounds each part (0: no bound); MaxParts bounds the parts
	// written (0: as many as needed).
	PartBytes int64
	MaxParts  int
	// Create opens part n (1-based) for writing.
	Create func(n int) (io.WriteCloser, error)
	Now    time.Time
	Codec  *wire.Codec
	// ChunkBytes is the size of blob chunks (default 1 MiB, the most a
	// chunk message carries).
	ChunkBytes int

	// lead frames and extra messages go after the Hello and Summary of
	// the first part (an answer's).
	lead  []leadFrame
	extra []wire.Message
}

type leadFrame struct {
	kind byte
	body []byte
}

// Export is what an export wrote.
type Export struct {
	ID    ID
	Parts []PartStats
	// Entries and Blobs written, and BlobBytes their plain bytes.
	Entries, Blobs int
	BlobBytes      int64
	// Complete: everything the hub lacks was written; otherwise MaxParts
	// stopped it and LeftEntries/LeftBlobs say what remains.
	Complete               bool
	LeftEntries, LeftBlobs int
	// Heads are, per origin, the last seq written (what the hub holds once
	// it imports every part).
	Heads replication.Vector
	// BlobsWritten lists the blobs written whole, by hash.
	BlobsWritten []blob.Hash
}

// PartStats is one part written.
type PartStats struct {
	N              int
	Bytes          int64
	Entries, Blobs int
}

// ErrNothing: the hub holds everything this replica would send.
var ErrNothing = errors.New("bundle: nothing to send: the hub holds everything this replica knows of (as far as it knows)")

// frame is one message to write, with what it counts.
type frame struct {
	m       wire.Message
	entries int
	blob    *blob.ID // the chunk that ends a blob
}

// Run writes the parts.
func (ex *Exporter) Run() (*Export, error) { return ex.run(false) }

func (ex *Exporter) run(always bool) (*Export, error) {
	codec := ex.Codec
	if codec == nil {
		var err error
		if codec, err = wire.NewCodec(wire.Limits{}); err != nil {
			return nil, err
		}
	}
	if ex.Direction == 0 {
		ex.Direction = Up
	}
	chunk := ex.ChunkBytes
	if chunk <= 0 || chunk > wire.MaxBlobChunkBytes {
		chunk = wire.MaxBlobChunkBytes
	}
	id, err := NewID()
	if err != nil {
		return nil, err
	}
	out := &Export{ID: id, Heads: replication.Vector{}}
	hello, summary, batches, err := ex.records()
	if err != nil {
		return nil, err
	}
	blobs, err := ex.blobsToSend()
	if err != nil {
		return nil, err
	}
	if len(batches) == 0 && len(blobs) == 0 && !always {
		return nil, ErrNothing
	}
	w := &partWriter{ex: ex, codec: codec, out: out, preamble: []wire.Message{hello, summary}}
	if err := w.open(); err != nil {
		return w.stop(err, len(batches), len(blobs))
	}
	for _, f := range ex.lead {
		if err := w.w.Add(f.kind, f.body); err != nil {
			return nil, fmt.Errorf("bundle: the part cannot hold the answer: %w", err)
		}
	}
	for _, m := range ex.extra {
		if err := w.add(m); err != nil {
			return nil, fmt.Errorf("bundle: the part cannot hold the answer: %w", err)
		}
	}
	for _, b := range batches {
		n := 0
		for _, rg := range b.Ranges {
			n += len(rg.Entries)
		}
		if err := w.put(frame{m: b, entries: n}); err != nil {
			return w.stop(err, len(batches), len(blobs))
		}
		out.Entries += n
		for _, rg := range b.Ranges {
			last := rg.Entries[len(rg.Entries)-1]
			if last.Seq > out.Heads[rg.Origin].Seq {
				out.Heads[rg.Origin] = replication.Head{Seq: last.Seq, Hash: last.Hash()}
			}
		}
	}
	for i, ref := range blobs {
		if err := w.putBlob(ref, chunk); err != nil {
			return w.stop(err, 0, len(blobs)-i)
		}
	}
	if err := w.finish(false); err != nil {
		return nil, err
	}
	out.Complete = true
	return out, nil
}

// records runs a sending session against the hub's heads and collects its
// Hello, Summary and batches.
func (ex *Exporter) records() (wire.Message, wire.Message, []*wire.Batch, error) {
	cfg := ex.Proto
	cfg.Blobs = nil
	s, err := syncproto.NewSession(cfg, ex.Log)
	if err != nil {
		return nil, nil, nil, err
	}
	defer s.Close()
	if err := s.Start(); err != nil {
		return nil, nil, nil, err
	}
	hub := ex.Hub
	if err := s.Step(&hub); err != nil {
		return nil, nil, nil, err
	}
	// The hub holds its own origin at least as far as this replica does
	// (it wrote it): never send it back.
	heads := ex.HubHeads.Clone()
	if heads == nil {
		heads = replication.Vector{}
	}
	if !hub.Origin.IsZero() {
		if h, err := ex.Log.Head(hub.Origin); err == nil && h.Seq > heads[hub.Origin].Seq {
			heads[hub.Origin] = h
		}
	}
	if err := s.Step(&wire.Summary{Heads: heads.Heads()}); err != nil {
		return nil, nil, nil, err
	}
	var hello, summary wire.Message
	var batches []*wire.Batch
	for range 1 << 22 {
		rd, err := s.Ready()
		if err != nil {
			return nil, nil, nil, err
		}
		if len(rd.Messages) == 0 {
			break
		}
		for _, m := range rd.Messages {
			switch m := m.(type) {
			case *wire.Hello:
				hello = m
			case *wire.Summary:
				summary = m
			case *wire.Batch:
				batches = append(batches, m)
				ack := &wire.Ack{BatchID: m.ID}
				for _, rg := range m.Ranges {
					last := rg.Entries[len(rg.Entries)-1]
					h := replication.Head{Seq: last.Seq, Hash: last.Hash()}
					ack.Heads = append(ack.Heads, replication.OriginHead{Origin: rg.Origin, Head: h})
				}
				if err := s.Step(ack); err != nil {
					return nil, nil, nil, err
				}
			}
		}
	}
	if hello == nil || summary == nil {
		return nil, nil, nil, errors.New("bundle: the session gave no hello or summary")
	}
	return hello, summary, batches, nil
}

// sendRef is a blob to send with the entry that references it.
type sendRef struct {
	blob.Ref
	entry replication.EntryID
}

// blobsToSend lists the blobs this replica holds of entries the hub is
// not known to hold the blobs of: portraits first (by rank), then by
// origin and seq.
func (ex *Exporter) blobsToSend() ([]sendRef, error) {
	if ex.Blobs == nil || ex.Refs == nil {
		return nil, nil
	}
	v, err := ex.Log.Vector()
	if err != nil {
		return nil, err
	}
	var refs []sendRef
	seen := map[blob.Hash]bool{}
	for _, oh := range v.Heads() {
		from := ex.BlobsHeldThrough[oh.Origin] + 1
		err := ex.Log.Scan(oh.Origin, from, func(e replication.Entry) bool {
			rs, err := ex.Refs(&e)
			if err != nil {
				return true // an entry whose payload does not read moves without blobs
			}
			for _, r := range rs {
				if !seen[r.Hash] {
					seen[r.Hash] = true
					refs = append(refs, sendRef{Ref: r, entry: replication.EntryID{Origin: e.Origin, Seq: e.Seq}})
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	// Only what this replica holds (a carried colleague's entry may come
	// without its blobs).
	var held []sendRef
	for i := 0; i < len(refs); i += blob.MaxHasBatch {
		batch := refs[i:min(i+blob.MaxHasBatch, len(refs))]
		hs := make([]blob.Hash, len(batch))
		for j, r := range batch {
			hs[j] = r.Hash
		}
		has, err := ex.Blobs.Has(hs)
		if err != nil {
			return nil, err
		}
		for j, r := range batch {
			if has[j] {
				held = append(held, r)
			}
		}
	}
	sort.SliceStable(held, func(i, j int) bool { return held[i].Rank < held[j].Rank })
	return held, nil
}

// partWriter writes frames into parts, opening the next when one fills.
type partWriter struct {
	ex       *Exporter
	codec    *wire.Codec
	out      *Export
	preamble []wire.Message
	w        *Writer
	f        io.WriteCloser
	cur      PartStats
	// offer re-sent at the start of a part when a blob's chunks go on there
	offer *wire.BlobOffer
}

var errPartsExhausted = errors.New("bundle: the parts allowed are full")

func (pw *partWriter) open() error {
	n := len(pw.out.Parts) + 1
	if pw.ex.MaxParts > 0 && n > pw.ex.MaxParts {
		return errPartsExhausted
	}
	f, err := pw.ex.Create(n)
	if err != nil {
		return err
	}
	h := Header{ID: pw.out.ID, Part: uint32(n), Direction: pw.ex.Direction, Created: pw.ex.Now.Unix(), ReplyKey: pw.ex.ReplyKey}
	w, err := NewWriter(f, h, pw.ex.Signer, pw.ex.To, pw.ex.PartBytes)
	if err != nil {
		f.Close()
		return err
	}
	pw.w, pw.f, pw.cur = w, f, PartStats{N: n}
	for _, m := range pw.preamble {
		if err := pw.add(m); err != nil {
			return fmt.Errorf("bundle: a part of %d bytes cannot hold the bundle's hello and summary: %w", pw.ex.PartBytes, err)
		}
	}
	if pw.offer != nil {
		if err := pw.add(pw.offer); err != nil {
			return err
		}
	}
	return nil
}

func (pw *partWriter) add(m wire.Message) error {
	b, err := pw.codec.AppendFrame(nil, m)
	if err != nil {
		return err
	}
	return pw.w.Add(FrameMessage, b)
}

// put writes f, closing a full part and opening the next.
func (pw *partWriter) put(f frame) error {
	if pw.w == nil {
		if err := pw.open(); err != nil {
			return err
		}
	}
	err := pw.add(f.m)
	if errors.Is(err, ErrFull) {
		if err := pw.finish(true); err != nil {
			return err
		}
		if err := pw.open(); err != nil {
			return err
		}
		err = pw.add(f.m)
		if errors.Is(err, ErrFull) {
			return fmt.Errorf("bundle: one message does not fit in an empty part of %d bytes; give a larger --max-size", pw.ex.PartBytes)
		}
	}
	if err != nil {
		return err
	}
	pw.cur.Entries += f.entries
	if f.blob != nil {
		pw.cur.Blobs++
	}
	return nil
}

// putBlob writes a blob's offer and its chunks.
func (pw *partWriter) putBlob(ref sendRef, chunk int) error {
	r, err := pw.ex.Blobs.Open(ref.Hash)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil // deleted since it was listed
		}
		return err
	}
	defer r.Close()
	offer := &wire.BlobOffer{Blobs: []wire.OfferedBlob{{ID: ref.ID, Entry: ref.entry}}}
	pw.offer = nil
	if err := pw.put(frame{m: offer}); err != nil {
		return err
	}
	pw.offer = offer
	defer func() { pw.offer = nil }()
	buf := make([]byte, chunk)
	for off := int64(0); off < ref.Size; {
		n := int(min(int64(chunk), ref.Size-off))
		if room := pw.w.Room(); room >= 0 {
			// Fill the part: a chunk cut to what is left, if that is worth a frame.
			if fit := int(room) - 64; fit < n && fit >= 4<<10 {
				n = fit
			}
		}
		if _, err := r.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("bundle: read blob %s: %w", ref.ID, err)
		}
		f := frame{m: &wire.BlobChunk{Hash: ref.Hash, Offset: uint64(off), Data: buf[:n]}}
		if off+int64(n) == ref.Size {
			f.blob = &ref.ID
		}
		if err := pw.put(f); err != nil {
			return err
		}
		off += int64(n)
	}
	pw.out.Blobs++
	pw.out.BlobBytes += ref.Size
	pw.out.BlobsWritten = append(pw.out.BlobsWritten, ref.Hash)
	return nil
}

// finish closes the current part.
func (pw *partWriter) finish(more bool) error {
	if pw.w == nil {
		return nil
	}
	if err := pw.w.Close(more); err != nil {
		pw.f.Close()
		return err
	}
	pw.cur.Bytes = pw.w.Written()
	if s, ok := pw.f.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			pw.f.Close()
			return err
		}
	}
	if err := pw.f.Close(); err != nil {
		return err
	}
	pw.out.Parts = append(pw.out.Parts, pw.cur)
	pw.w, pw.f = nil, nil
	return nil
}

// stop ends an export that ran out of parts: what was written stands.
func (pw *partWriter) stop(err error, leftEntries, leftBlobs int) (*Export, error) {
	if !errors.Is(err, errPartsExhausted) {
		if pw.f != nil {
			pw.f.Close()
		}
		return nil, err
	}
	pw.out.LeftEntries, pw.out.LeftBlobs = leftEntries, leftBlobs
	return pw.out, nil
}
