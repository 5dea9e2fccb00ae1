package syncproto_test

// The blob lane's commands for the golden-file scenarios (interaction_test.go):
//
//	blobs l1 [chunk=N] [pipe=N] [offers=N]   give l1 a blob store and run the lane
//	capture-dossiers l1 n=2 sizes=(2500,900)  append n records, each with blobs of these sizes
//	write h1 [peer=l1]                       write the chunk h1's session handed out, report it
//	give-blob l1 h1 entry=2 slot=0           copy one of l1's blobs into h1's store
//	tamper-chunk l1 h1                       alter the data of the first queued l1→h1 chunk
//	print-blobs h1                           what h1's store holds, whole and partial
//	sync-chunks l1 h1 n=3                    sync until 3 chunks were written
//
// A write is printed as "h1: write blob HASH @OFF+LEN" (", commit" for a
// blob's last chunk); blob messages as
//
//	blob-status [origin:through missing=[…]] partials=[hash@off]
//	blob-offer [hash/size for origin:seq …]
//	blob-chunk hash @off+len
//	blob-ack [hash have|want@off|held@off|refused reason "detail"]

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

var iaBlobHandlers = map[string]iaHandler{
	"blobs":            handleBlobs,
	"capture-dossiers": handleCaptureDossiers,
	"write":            handleWrite,
	"give-blob":        handleGiveBlob,
	"tamper-chunk":     handleTamperChunk,
	"print-blobs":      handlePrintBlobs,
	"sync-chunks":      handleSyncChunks,
}

// handleSyncChunks: sync-chunks l1 h1 n=3 is sync, stopped once n chunks
// were written (to cut a transfer in the middle of a blob).
func handleSyncChunks(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	p := env.mustPair(t, td, names[0], names[1])
	left := intArg(t, td, "n", 1)
	for range iaMaxSyncRounds {
		moved := false
		for i, to := range names {
			from := names[1-i]
			for len(p.queue[to]) > 0 {
				frame := p.queue[to][0]
				p.queue[to] = p.queue[to][1:]
				env.step(t, b, p, from, to, decodeFrame(t, frame))
				moved = true
			}
			if p.persist[to] != nil {
				env.doPersist(t, b, p, to, from)
				moved = true
			}
			if p.write[to] != nil {
				env.doWrite(t, b, p, to, from)
				moved = true
				if left--; left == 0 {
					return
				}
			}
		}
		if !moved {
			return
		}
	}
}

// handleBlobs: blobs l1 [chunk=N] [pipe=N] [offers=N].
func handleBlobs(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	r := env.replica(t, td, positional(t, td, 1)[0])
	r.blobs = blob.NewMem()
	ix, err := needs.Open(r.log, r.blobs, testRefs)
	if err != nil {
		t.Fatal(err)
	}
	r.needs, r.writers = ix, map[*syncproto.Session]*syncproto.BlobWriters{}
	r.cfg.Blobs = &syncproto.BlobConfig{Store: r.blobs, Refs: testRefs, Needs: r.needs,
		ChunkBytes: intArg(t, td, "chunk", syncproto.MinBlobChunkBytes), PipeBytes: intArg(t, td, "pipe", 0), Offers: intArg(t, td, "offers", 8)}
	if r.cfg.Blobs.PipeBytes == 0 {
		r.cfg.Blobs.PipeBytes = r.cfg.Blobs.ChunkBytes
	}
	fmt.Fprintf(b, "%s: blob lane on, chunks of %d, pipe %d, %d offers\n", r.name, r.cfg.Blobs.ChunkBytes, r.cfg.Blobs.PipeBytes, r.cfg.Blobs.Offers)
}

// handleCaptureDossiers: capture-dossiers l1 n=2 sizes=2500,900.
func handleCaptureDossiers(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	r := env.replica(t, td, positional(t, td, 1)[0])
	if r.blobs == nil {
		td.Fatalf(t, "%s has no blob lane (blobs %s first)", r.name, r.name)
	}
	var sizes []int
	td.ScanArgs(t, "sizes", &sizes)
	h, _ := r.log.Head(r.signer.Origin())
	for i := range intArg(t, td, "n", 1) {
		seq := h.Seq + 1 + uint64(i)
		d := testDossier{Name: fmt.Sprintf("%s dossier %d", r.name, seq)}
		var parts []string
		for j, size := range sizes {
			id, err := blob.PutBytes(r.blobs, blobtest.Bytes(seq<<8|uint64(j)|uint64(r.signer.Origin()[0])<<32, size))
			if err != nil {
				t.Fatal(err)
			}
			sl := dossierSlots[j%len(dossierSlots)]
			d.Blobs = append(d.Blobs, testBlobRef{Slot: sl.slot, Hash: id.Hash.String(), Size: id.Size, Rank: sl.rank})
			parts = append(parts, fmt.Sprintf("%s %s", sl.slot, shortBlob(id)))
		}
		p, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		es, err := r.log.Append(r.signer, []replication.Draft{{Kind: replication.KindEnroll, Schema: 1, HLC: r.hlc.Next(iaTime), Payload: p}})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(b, "%s: captured %s:%d with %s\n", r.name, env.names[es[0].Origin], es[0].Seq, strings.Join(parts, ", "))
	}
}

// readyBlobs records and prints the blob work a Ready hands out, and
// rechecks the entries it names.
func (env *iaEnv) readyBlobs(t *testing.T, b *strings.Builder, p *iaPair, owner string, rd syncproto.Ready, indent string) {
	r := env.reps[owner]
	if len(rd.Held) > 0 && r.needs != nil {
		if err := r.needs.Recheck(rd.Held...); err != nil {
			t.Fatal(err)
		}
	}
	if w := rd.BlobWrite; w != nil {
		p.write[owner] = w
		commit := ""
		if w.Commit {
			commit = ", commit"
		}
		fmt.Fprintf(b, "%s%s: write blob %s @%d+%d%s\n", indent, owner, w.ID.Hash.Short(), w.Offset, len(w.Data), commit)
	}
}

// handleWrite: write h1 [peer=l1].
func handleWrite(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	owner := positional(t, td, 1)[0]
	var peer string
	td.MaybeScanArgs(t, "peer", &peer)
	for _, other := range env.peersOf(owner) {
		if peer != "" && other != peer {
			continue
		}
		if p := env.pair(owner, other); p.write[owner] != nil {
			env.doWrite(t, b, p, owner, other)
			return
		}
	}
	fmt.Fprintf(b, "%s: nothing to write\n", owner)
}

func (env *iaEnv) doWrite(t *testing.T, b *strings.Builder, p *iaPair, owner, peer string) {
	w := p.write[owner]
	delete(p.write, owner)
	r := env.reps[owner]
	s := p.sess[owner]
	ws := r.writers[s]
	if ws == nil {
		ws = syncproto.NewBlobWriters(r.blobs)
		r.writers[s] = ws
	}
	res := ws.Apply(w)
	switch {
	case res.Err != nil:
		fmt.Fprintf(b, "%s: blob %s: %v\n", owner, w.ID.Hash.Short(), res.Err)
	case res.Committed:
		fmt.Fprintf(b, "%s: blob %s committed, verified\n", owner, w.ID.Hash.Short())
	default:
		fmt.Fprintf(b, "%s: blob %s durable to %d\n", owner, w.ID.Hash.Short(), res.Durable)
	}
	if err := s.BlobWritten(res); err != nil {
		fmt.Fprintf(b, "  %s: blob written error: %v\n", owner, err)
		return
	}
	env.ready(t, b, p, owner, peer, "  ")
}

// endSession closes what a session held, as a shell does when it ends: a
// cut keeps every byte written.
func (r *iaReplica) endSession(s *syncproto.Session) {
	s.Close()
	if ws := r.writers[s]; ws != nil {
		ws.Close()
		delete(r.writers, s)
	}
}

// handleGiveBlob: give-blob l1 h1 entry=2 slot=0 puts a blob l1 holds
// into h1's store (a colleague carried it there).
func handleGiveBlob(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	from, to := env.replica(t, td, names[0]), env.replica(t, td, names[1])
	e, err := from.log.Get(replication.EntryID{Origin: from.signer.Origin(), Seq: uint64(intArg(t, td, "entry", 2))})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := testRefs(&e)
	if err != nil || len(refs) == 0 {
		td.Fatalf(t, "entry %d references no blob", e.Seq)
	}
	ref := refs[intArg(t, td, "slot", 0)]
	data, err := blob.ReadAll(from.blobs, ref.Hash)
	if err == nil {
		_, err = blob.PutBytes(to.blobs, data)
	}
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(b, "%s: holds %s (%s of %s:%d) too\n", to.name, shortBlob(ref.ID), ref.Slot, env.names[e.Origin], e.Seq)
}

// handleTamperChunk: tamper-chunk l1 h1 flips a bit in the data of the
// first queued l1→h1 chunk (its frame stays valid: a hostile sender).
func handleTamperChunk(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	names := positional(t, td, 2)
	p := env.mustPair(t, td, names[0], names[1])
	for i, frame := range p.queue[names[1]] {
		c, ok := decodeFrame(t, frame).(*wire.BlobChunk)
		if !ok {
			continue
		}
		c.Data = bytes.Clone(c.Data)
		c.Data[len(c.Data)/2] ^= 0x10
		out, err := iaCodec.AppendFrame(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		p.queue[names[1]][i] = out
		fmt.Fprintf(b, "%s->%s blob-chunk %s @%d: one bit of its data flipped\n", names[0], names[1], c.Hash.Short(), c.Offset)
		return
	}
	td.Fatalf(t, "no chunk queued %s->%s", names[0], names[1])
}

// handlePrintBlobs: print-blobs h1.
func handlePrintBlobs(env *iaEnv, t *testing.T, td *datadriven.TestData, b *strings.Builder) {
	r := env.replica(t, td, positional(t, td, 1)[0])
	var held, partial []string
	r.blobs.List(func(i blob.Info) bool {
		state := "verified"
		if err := blob.Check(r.blobs, i.Hash); err != nil {
			state = err.Error()
		}
		held = append(held, fmt.Sprintf("%s %s", shortBlob(i.ID), state))
		return true
	})
	r.blobs.ListPartial(func(p blob.Partial) bool {
		partial = append(partial, fmt.Sprintf("%s durable %d", shortBlob(p.ID), p.Durable))
		return true
	})
	slices.Sort(held)
	slices.Sort(partial)
	fmt.Fprintf(b, "%s holds %d blobs, %d partial\n", r.name, len(held), len(partial))
	for _, h := range held {
		fmt.Fprintf(b, "  %s\n", h)
	}
	for _, p := range partial {
		fmt.Fprintf(b, "  partial %s\n", p)
	}
	if r.needs == nil {
		return
	}
	v, _ := r.log.Vector()
	for _, oh := range v.Heads() {
		var missing []string
		through, err := r.needs.Missing(oh.Origin, 100, func(s uint64) { missing = append(missing, fmt.Sprint(s)) })
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) > 0 {
			fmt.Fprintf(b, "  incomplete %s: through %d, missing [%s]\n", env.originName(oh.Origin), through, strings.Join(missing, " "))
		}
	}
}

func shortBlob(id blob.ID) string { return fmt.Sprintf("%s/%d", id.Hash.Short()[:8], id.Size) }

// describeBlobMessage renders a blob message on one line.
func (env *iaEnv) describeBlobMessage(m wire.Message) string {
	switch m := m.(type) {
	case *wire.BlobStatus:
		var os, ps []string
		for _, n := range m.Origins {
			miss := make([]string, len(n.Missing))
			for i, s := range n.Missing {
				miss[i] = fmt.Sprint(s)
			}
			os = append(os, fmt.Sprintf("%s:%d missing=[%s]", env.originName(n.Origin), n.Through, strings.Join(miss, " ")))
		}
		for _, p := range m.Partials {
			ps = append(ps, fmt.Sprintf("%s@%d", p.Hash.Short()[:8], p.Offset))
		}
		return fmt.Sprintf("blob-status [%s] partials=[%s]", strings.Join(os, " "), strings.Join(ps, " "))
	case *wire.BlobOffer:
		parts := make([]string, len(m.Blobs))
		for i, o := range m.Blobs {
			parts[i] = fmt.Sprintf("%s for %s:%d", shortBlob(o.ID), env.originName(o.Entry.Origin), o.Entry.Seq)
		}
		return "blob-offer [" + strings.Join(parts, ", ") + "]"
	case *wire.BlobChunk:
		return fmt.Sprintf("blob-chunk %s @%d+%d", m.Hash.Short()[:8], m.Offset, len(m.Data))
	case *wire.BlobAck:
		parts := make([]string, len(m.Blobs))
		for i, st := range m.Blobs {
			switch st.State {
			case wire.BlobWant, wire.BlobHeld:
				parts[i] = fmt.Sprintf("%s %s@%d", st.Hash.Short()[:8], st.State, st.Offset)
			case wire.BlobRefused:
				parts[i] = fmt.Sprintf("%s refused %s %q", st.Hash.Short()[:8], st.Reason, st.Detail)
			default:
				parts[i] = fmt.Sprintf("%s %s", st.Hash.Short()[:8], st.State)
			}
		}
		return "blob-ack [" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%T", m)
}
