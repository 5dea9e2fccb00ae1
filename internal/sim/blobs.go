package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"fieldsync/dossier"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// The blob lane in the simulation: every capture saves one to three small
// blobs (the portrait and the index fingers, up to 2.5 KB: small enough for
// thousands of runs, larger than a chunk so that cuts, crashes and lost
// messages land inside them) in the laptop's blob.Mem before its record,
// and every session runs the lane with chunks of simChunk bytes. A crash
// drops what a writer had not synced (blob.Mem.Crash); a restore puts the
// image's blobs back with its log; a clone copies them.
//
// Checkers: blobs lost 0 — every blob an entry at the province references
// (outside quarantines) is held there, verified, except blobs a restore
// destroyed with the only store that held them; blobs corrupt 0 — every
// blob any replica holds verifies, and every blob a hub holds is
// referenced by an entry it holds (a hub takes no blob it cannot check).

const (
	// simChunk is the sessions' chunk size (the least the lane takes), and
	// simPipe their pipe: several chunks in flight per round trip, as on a
	// link whose round trip is long against a chunk's transmission.
	simChunk = syncproto.MinBlobChunkBytes
	simPipe  = 8 * simChunk
	// simBlobMin and simBlobMax bound a simulated blob's size.
	simBlobMin, simBlobMax = 200, 5 * simChunk / 2
)

// simSlots are the slots a simulated capture fills, in rank order.
var simSlots = []string{"face", "finger_r2", "finger_l2"}

// openBlobs gives a replica an empty blob store and its index of needs.
func (r *replica) openBlobs() error {
	r.blobs = blob.NewMem()
	return r.reopenNeeds()
}

// reopenNeeds rebuilds the index of needs from the log (at restart, as a
// real shell does when it opens the data directory).
func (r *replica) reopenNeeds() error {
	ix, err := needs.Open(r.log, r.blobs, dossier.RefsOf)
	r.needs = ix
	return err
}

// blobConfig is the lane's configuration for r's session with peer (nil
// when the run has no blobs).
func (s *Sim) blobConfig(r, peer *replica) *syncproto.BlobConfig {
	if !s.opt.Blobs {
		return nil
	}
	c := &syncproto.BlobConfig{Store: r.blobs, Refs: dossier.RefsOf, Needs: r.needs, ChunkBytes: simChunk, PipeBytes: simPipe, Offers: 16}
	if s.opt.Bug == BugHubKeepsBlobs && r.tier == "district" && peer == s.prov {
		c.Flow = func(from, to *wire.Hello) bool {
			return from.Node != r.name && syncproto.UpFlow(syncproto.DefaultTiers)(from, to)
		}
	}
	return c
}

// captureBlobs saves a capture's blobs in r's store (synced, before its
// record is appended) and returns their references for the record.
func (s *Sim) captureBlobs(r *replica) ([]blobRef, error) {
	if !s.opt.Blobs {
		return []blobRef{}, nil
	}
	n := 1 + s.brng.IntN(len(simSlots))
	refs := make([]blobRef, 0, n)
	for _, slot := range simSlots[:n] {
		data := make([]byte, simBlobMin+s.brng.IntN(simBlobMax-simBlobMin))
		for i := range data {
			data[i] = byte(s.brng.Uint32())
		}
		id, err := blob.PutBytes(r.blobs, data)
		if err != nil {
			return nil, err
		}
		refs = append(refs, blobRef{Kind: slot, SHA256: id.Hash.String(), Size: id.Size})
		s.res.Blobs++
	}
	return refs, nil
}

// blobRef is a record's reference to a blob (enrollment.BlobRef's JSON).
type blobRef struct {
	Kind   string `json:"kind"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func biometricsJSON(refs []blobRef) string {
	b, err := json.Marshal(refs)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// doBlobWork carries out a Ready's blob work as syncnet does: the chunk
// handed out is written and synced (or committed) and reported; the
// entries the session names are rechecked in the index. A committed blob
// marks the replica dirty: its other sessions look again.
func (s *Sim) doBlobWork(e *end, rd *syncproto.Ready) bool {
	r := e.self
	if len(rd.Held) > 0 {
		if err := r.needs.Recheck(rd.Held...); err != nil {
			s.failf("%s recheck: %v", r.name, err)
		}
	}
	if rd.BlobWrite == nil {
		return false
	}
	if e.writers == nil {
		e.writers = syncproto.NewBlobWriters(r.blobs)
	}
	if s.opt.Bug == BugBlobBitFlip && r.role == replication.RoleHub {
		rd.BlobWrite.Data[0] ^= 1
	}
	res := e.writers.Apply(rd.BlobWrite)
	if h := rd.BlobWrite.ID.Hash; !e.written[h] {
		if e.written == nil {
			e.written = map[blob.Hash]bool{}
		}
		e.written[h] = true
		if rd.BlobWrite.Offset > 0 { // the session's first chunk of it
			s.cover(CovBlobResumed)
		}
	}
	if err := e.s.BlobWritten(res); err != nil {
		s.failf("%s←%s blob written: %v", r.name, e.peer.name, err)
		return false
	}
	if res.Committed {
		s.res.BlobsMoved++
		r.dirty = true
		if r == s.prov && s.deviceOf[rd.BlobWrite.Entry.Origin] == s.hubless.device && !s.healing {
			s.cover(CovBlobCarried)
		}
	}
	return true
}

// closeBlobs ends a session's blob work: its writers are synced and closed
// (a cut keeps every byte received; after a crash they are dead and the
// store has dropped what was not synced).
func (e *end) closeBlobs() {
	e.s.Close()
	if e.writers != nil {
		e.writers.Close()
	}
}

// copyBlobs returns a store holding m's committed blobs: a disk image or a
// cloned disk (a partial write is not worth imaging).
func copyBlobs(m *blob.Mem) (*blob.Mem, error) {
	out := blob.NewMem()
	var err error
	m.List(func(i blob.Info) bool {
		var data []byte
		if data, err = blob.ReadAll(m, i.Hash); err == nil {
			_, err = blob.PutBytes(out, data)
		}
		return err == nil
	})
	return out, err
}

// noteDestroyedBlobs marks the blobs a restore took away for good: held
// in the old store, not in the image, and held by no other replica.
func (s *Sim) noteDestroyedBlobs(r *replica, old *blob.Mem) {
	old.List(func(i blob.Info) bool {
		if has, _ := r.blobs.Has([]blob.Hash{i.Hash}); has[0] {
			return true
		}
		for _, x := range s.reps {
			if x == r {
				continue
			}
			if has, _ := x.blobs.Has([]blob.Hash{i.Hash}); has[0] {
				return true
			}
		}
		if !s.destroyedBlobs[i.Hash] {
			s.destroyedBlobs[i.Hash] = true
			s.res.BlobsDestroyed++
		}
		return true
	})
}

// checkBlobs: lost 0 and corrupt 0 (see the top of this file).
func (s *Sim) checkBlobs(q map[replication.OriginID]uint64) {
	for _, r := range s.reps {
		referenced, err := referencedBlobs(r)
		if err != nil {
			s.failf("blobs of %s: %v", r.name, err)
			return
		}
		r.blobs.List(func(i blob.Info) bool {
			if err := blob.Check(r.blobs, i.Hash); err != nil {
				s.res.BlobsCorrupt++
				s.failf("corrupt blob at %s: %s: %v", r.name, i.ID, err)
			}
			if r.role == replication.RoleHub && !referenced[i.ID] {
				s.res.BlobsCorrupt++
				s.failf("blob %s at %s is referenced by no entry it holds", i.ID, r.name)
			}
			return true
		})
	}
	prov := s.prov
	v, _ := prov.log.Vector()
	for _, o := range v.Origins() {
		err := prov.log.Scan(o, 1, func(e replication.Entry) bool {
			if !visible(q, e.ID()) {
				return true
			}
			refs, err := dossier.RefsOf(&e)
			if err != nil {
				s.failf("refs of %s at the province: %v", s.entryName(e.ID()), err)
				return true
			}
			for _, ref := range refs {
				if s.destroyedBlobs[ref.Hash] {
					continue
				}
				if err := blob.Check(prov.blobs, ref.Hash); err != nil {
					if s.stranded(e.Origin, ref.Hash) {
						s.res.BlobsStranded++
						if s.opt.StrictForks {
							s.failf("blob stranded: %s (%s of %s) is held only by %v", ref.ID, ref.Slot, s.entryName(e.ID()), s.holdersOf(ref.Hash))
						}
						continue
					}
					s.res.BlobsLost++
					if s.res.BlobsLost <= maxExamples {
						s.failf("blob lost: %s (%s of %s) is not at the province, verified: %v; held by %v", ref.ID, ref.Slot, s.entryName(e.ID()), err, s.holdersOf(ref.Hash))
					}
				}
			}
			return true
		})
		if err != nil {
			s.failf("scan the province: %v", err)
		}
	}
	if s.res.BlobsLost > maxExamples {
		s.failf("blobs lost: %d blobs referenced at the province are not there", s.res.BlobsLost)
	}
}

// referencedBlobs returns every blob the entries r holds reference.
func referencedBlobs(r *replica) (map[blob.ID]bool, error) {
	out := map[blob.ID]bool{}
	v, err := r.log.Vector()
	if err != nil {
		return nil, err
	}
	for _, o := range v.Origins() {
		var ferr error
		err := r.log.Scan(o, 1, func(e replication.Entry) bool {
			refs, err := dossier.RefsOf(&e)
			if err != nil {
				ferr = fmt.Errorf("refs of %s:%d: %w", o.Short(), e.Seq, err)
				return false
			}
			for _, ref := range refs {
				out[ref.ID] = true
			}
			return true
		})
		if err = errors.Join(err, ferr); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newBlobRand is the stream of blob contents and counts: its own, so the
// workload's other draws are those of a run without blobs.
func newBlobRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xb10b5)) }

// holdersOf names the replicas holding blob h (for failure messages).
func (s *Sim) holdersOf(h blob.Hash) []string {
	var out []string
	for _, r := range s.reps {
		if has, _ := r.blobs.Has([]blob.Hash{h}); has[0] {
			out = append(out, r.name)
		} else if p, err := r.blobs.Partial(h); err == nil {
			out = append(out, fmt.Sprintf("%s (partial %d)", r.name, p.Durable))
		}
	}
	return out
}

// stranded reports a blob the design leaves behind: its record is of an
// origin a restore or clone copied, no hub holds it, and laptops do — a
// branch left behind: its records got through first, its blobs are on a
// colleague's laptop whose only peer holds another branch at that seq
// and must refuse them (a blob moves only behind a record the receiver
// holds). Counted apart, failing only with Options.StrictForks.
func (s *Sim) stranded(o replication.OriginID, h blob.Hash) bool {
	if !s.forks.forkable(o) {
		return false
	}
	held := false
	for _, r := range s.reps {
		has, _ := r.blobs.Has([]blob.Hash{h})
		if !has[0] {
			continue
		}
		if r.role == replication.RoleHub {
			return false
		}
		held = true
	}
	return held
}
