package replicator

import (
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// BlobConfig turns the blob lane on: the blobs entries reference move
// behind them, up the hierarchy (syncproto/blobs.go).
type BlobConfig struct {
	// Refs says which blobs an entry references; the shells pass
	// dossier.RefsOf (replication never imports the domain).
	Refs blob.RefsFunc
	// Store holds this replica's blobs; nil means Dir.Blobs.
	Store blob.Store
	// ChunkBytes and Offers tune the lane (syncproto's defaults when 0).
	ChunkBytes int
	Offers     int
	// Writers bounds the chunk writes (each synced) in progress at once
	// across all sessions, so a hub taking blobs from many laptops queues
	// them rather than starving its record writes of the disk. Default
	// DefaultBlobWriters.
	Writers int
}

// DefaultBlobWriters is the default bound on concurrent chunk writes: a
// few keep a disk busy; more only interleave fsyncs.
const DefaultBlobWriters = 4

// blobLane is the replica-wide part of the blob lane.
type blobLane struct {
	cfg   BlobConfig
	store blob.Store
	needs *needs.Index
	gate  chan struct{}
}

func (r *Replicator) openBlobs() error {
	bc := r.cfg.Blobs
	if bc == nil {
		return nil
	}
	store := bc.Store
	if store == nil {
		if r.cfg.Dir.Blobs == nil {
			return fmt.Errorf("replicator: the blob lane needs a blob store (the data directory has none)")
		}
		store = r.cfg.Dir.Blobs
	}
	if bc.Refs == nil {
		return fmt.Errorf("replicator: the blob lane needs Refs (which blobs an entry references)")
	}
	ix, err := needs.Open(r.cfg.Dir.Log, store, bc.Refs)
	if err != nil {
		return err
	}
	writers := bc.Writers
	if writers <= 0 {
		writers = DefaultBlobWriters
	}
	r.blobs = &blobLane{cfg: *bc, store: store, needs: ix, gate: make(chan struct{}, writers)}
	return nil
}

// Needs returns the index of incomplete dossiers (nil without the lane).
func (r *Replicator) Needs() *needs.Index {
	if r.blobs == nil {
		return nil
	}
	return r.blobs.needs
}

// blobOptions turns the lane on for one session. rate is the rate
// observed on the link to this peer (0 when unknown).
func (r *Replicator) blobOptions(opts *syncnet.Options, rate float64) {
	b := r.blobs
	if b == nil {
		return
	}
	opts.Proto.Blobs = &syncproto.BlobConfig{Store: b.store, Refs: b.cfg.Refs, Needs: b.needs,
		Flow: syncproto.UpFlow(r.cfg.Tiers), ChunkBytes: b.cfg.ChunkBytes, Offers: b.cfg.Offers}
	opts.BlobGate = b.gate
	opts.LinkBytesPerSec = rate
	opts.OnBlobCommitted = func(*wire.Hello, blob.ID, replication.EntryID) {
		r.Wake() // other sessions (a hub's upward one) may now send it on
	}
	opts.OnBlobsHeld = func(peer *wire.Hello, ids []replication.EntryID) {
		if err := b.needs.Recheck(ids...); err != nil {
			r.cfg.Logger.Warn("could not update the index of incomplete dossiers", "peer", peerName(peer), "err", err)
		}
	}
}

// blobWork reports whether a session did blob work: a session that ends
// broken after that leaves blobs for the next contact.
func blobWork(s syncproto.Stats) bool {
	return s.BlobsOffered > 0 || s.BlobChunksSent > 0 || s.BlobChunksReceived > 0
}

// rateAt returns the rate observed on the link to the target dialed at
// addr (0 for an accepted session, or a link not yet measured).
func (r *Replicator) rateAt(addr string) float64 {
	if addr == "" {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.targets[addr]
	if !ok {
		return 0
	}
	if p, ok := r.peers.byName[t.name]; ok {
		return p.RateBytesPerSec
	}
	return 0
}
