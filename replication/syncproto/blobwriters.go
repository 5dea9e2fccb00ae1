package syncproto

import (
	"errors"

	"fieldsync/replication/blob"
)

// BlobWriters carries out a session's BlobWrites on a blob store: the one
// way every shell (syncnet, the simulation, tests) writes received chunks.
// It keeps each blob's Writer open between its chunks, syncs every chunk
// before it is reported (so what the session acknowledges is durable), and
// commits the last. Close syncs and closes what is open: a cut keeps every
// byte received. It is not safe for concurrent use (one per session).
type BlobWriters struct {
	store blob.Store
	open  map[blob.Hash]blob.Writer
}

// NewBlobWriters returns writers over store.
func NewBlobWriters(store blob.Store) *BlobWriters {
	return &BlobWriters{store: store, open: map[blob.Hash]blob.Writer{}}
}

// Apply writes w and says where the blob stands (see BlobWritten).
func (ws *BlobWriters) Apply(w *BlobWrite) BlobWritten {
	h := w.ID.Hash
	wr, ok := ws.open[h]
	if !ok {
		var err error
		wr, err = ws.store.Begin(w.ID)
		if errors.Is(err, blob.ErrExists) {
			return BlobWritten{Durable: w.ID.Size, Committed: true}
		}
		if err != nil {
			return BlobWritten{Err: err}
		}
		ws.open[h] = wr
	}
	if wr.Offset() != w.Offset {
		// The store holds another prefix than the session thought (a
		// partial write from another session, bytes lost to a crash): say
		// where it stands; the session goes on from there.
		ws.drop(h, wr)
		return BlobWritten{Durable: wr.Durable()}
	}
	if _, err := wr.Write(w.Data); err != nil {
		if !errors.Is(err, blob.ErrDiskFull) {
			ws.drop(h, wr)
		}
		return BlobWritten{Durable: wr.Durable(), Err: err}
	}
	if w.Commit {
		delete(ws.open, h)
		if err := wr.Commit(); err != nil {
			if !errors.Is(err, blob.ErrMismatch) {
				wr.Close()
			}
			return BlobWritten{Err: err}
		}
		return BlobWritten{Durable: w.ID.Size, Committed: true}
	}
	if err := wr.Sync(); err != nil {
		ws.drop(h, wr)
		return BlobWritten{Durable: wr.Durable(), Err: err}
	}
	return BlobWritten{Durable: wr.Durable()}
}

// drop closes a writer, keeping its durable bytes.
func (ws *BlobWriters) drop(h blob.Hash, wr blob.Writer) {
	wr.Close()
	delete(ws.open, h)
}

// Close syncs and closes every open writer; the durable bytes stay for a
// later session to resume.
func (ws *BlobWriters) Close() error {
	var first error
	for h, wr := range ws.open {
		if err := wr.Sync(); err != nil && first == nil {
			first = err
		}
		if err := wr.Close(); err != nil && first == nil && !errors.Is(err, blob.ErrClosed) {
			first = err
		}
		delete(ws.open, h)
	}
	return first
}
