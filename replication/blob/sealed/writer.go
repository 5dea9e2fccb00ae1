package sealed

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"fieldsync/replication/blob"
)

// writer writes one blob into its partial file, record by record.
type writer struct {
	s    *Store
	id   blob.ID
	hd   header
	path string
	f    *os.File

	hasher      hash.Hash
	buf         []byte // written, not yet sealed (< RecordSize)
	offset      int64  // plain bytes written
	sealedPlain int64  // plain bytes in the file's records
	fileSize    int64
	durable     int64
	dirSynced   bool // the partial file's name is durable

	dead atomic.Bool // set by Commit, Abort, Close, or the store's Close
}

// Begin implements blob.Store. A partial write is resumed after each of
// its records is opened and hashed again, so a resumed write is checked
// from its first byte; the file is cut after the last good record (a
// record torn by a crash) and synced, so what Durable reports is on disk.
func (s *Store) Begin(id blob.ID) (blob.Writer, error) {
	if err := id.Check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if err := s.check(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if s.open[id.Hash] != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", blob.ErrBusy, id)
	}
	w := &writer{s: s, id: id, path: s.partialPath(id.Hash), hasher: sha256.New()}
	s.open[id.Hash] = w
	s.mu.Unlock()
	err := w.start()
	if err != nil {
		s.release(w)
		return nil, err
	}
	return w, nil
}

// release forgets w as the open writer of its blob.
func (s *Store) release(w *writer) {
	s.mu.Lock()
	if s.open[w.id.Hash] == w {
		delete(s.open, w.id.Hash)
	}
	s.mu.Unlock()
}

func (w *writer) start() error {
	if _, err := os.Stat(w.s.committedPath(w.id.Hash)); err == nil {
		return fmt.Errorf("%w: %s", blob.ErrExists, w.id)
	}
	ok, err := w.resume()
	if err != nil || ok {
		return err
	}
	return w.create()
}

// resume opens an existing partial write of the same ID; false if there
// is none worth resuming (it is removed).
func (w *writer) resume() (bool, error) {
	f, err := os.OpenFile(w.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sealed: %w", err)
	}
	hd, herr := w.s.keys.readHeader(f)
	if herr != nil || hd.id != w.id {
		f.Close()
		return false, os.Remove(w.path)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return false, err
	}
	w.f, w.hd = f, hd
	recs, _ := scanRecords(f, fi.Size()) // a torn tail is cut below
	end := int64(headerSize)
	var plain []byte
	for _, rp := range recs {
		sealed := make([]byte, rp.sealed)
		if _, err := f.ReadAt(sealed, rp.fileOff+4); err != nil {
			break
		}
		if plain, err = hd.openRecord(rp.plainOff, sealed, plain[:0]); err != nil || w.sealedPlain+int64(len(plain)) > w.id.Size {
			break
		}
		w.hasher.Write(plain)
		w.sealedPlain += int64(len(plain))
		end = rp.fileOff + 4 + int64(rp.sealed)
	}
	if end != fi.Size() {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return false, w.s.writeErr("cut a torn partial write", err)
		}
	}
	if err := w.syncFile(); err != nil {
		f.Close()
		return false, err
	}
	w.fileSize, w.offset, w.durable, w.dirSynced = end, w.sealedPlain, w.sealedPlain, true
	return true, nil
}

// create starts a new partial file with a fresh salt.
func (w *writer) create() error {
	if err := w.s.checkFree(headerSize); err != nil {
		return err
	}
	hd, err := w.s.keys.newHeader(w.id)
	if err != nil {
		return err
	}
	head, err := hd.encode()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(w.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return w.s.writeErr("create a partial write", err)
	}
	if _, err := f.WriteAt(head, 0); err != nil {
		f.Close()
		os.Remove(w.path)
		return w.s.writeErr("create a partial write", err)
	}
	w.f, w.hd, w.fileSize = f, hd, int64(headerSize)
	return nil
}

func (w *writer) alive() error {
	if w.dead.Load() {
		return blob.ErrClosed
	}
	return nil
}

func (w *writer) ID() blob.ID    { return w.id }
func (w *writer) Offset() int64  { return w.offset }
func (w *writer) Durable() int64 { return w.durable }

// snapshot is what Write and Sync roll back to when the disk refuses.
type snapshot struct {
	buf         []byte
	hasher      []byte
	sealedPlain int64
	fileSize    int64
}

func (w *writer) snapshot() snapshot {
	hs, _ := w.hasher.(encoding.BinaryMarshaler).MarshalBinary() // sha256 digests always marshal
	return snapshot{buf: append([]byte(nil), w.buf...), hasher: hs, sealedPlain: w.sealedPlain, fileSize: w.fileSize}
}

func (w *writer) rollback(sn snapshot) {
	w.f.Truncate(sn.fileSize) // best effort: a record past fileSize is cut at the next resume anyway
	w.buf, w.sealedPlain, w.fileSize = sn.buf, sn.sealedPlain, sn.fileSize
	w.hasher.(encoding.BinaryUnmarshaler).UnmarshalBinary(sn.hasher)
}

// Write implements blob.Writer: full records are sealed and written
// (not synced) as they fill.
func (w *writer) Write(p []byte) (int, error) {
	if err := w.alive(); err != nil {
		return 0, err
	}
	if w.offset+int64(len(p)) > w.id.Size {
		return 0, fmt.Errorf("%w: blob %s: %d bytes written past its size", blob.ErrMismatch, w.id, w.offset+int64(len(p))-w.id.Size)
	}
	if len(w.buf)+len(p) < RecordSize { // stays in memory
		w.buf = append(w.buf, p...)
		w.hasher.Write(p)
		w.offset += int64(len(p))
		return len(p), nil
	}
	if err := w.s.checkFree(len(p) + len(p)/RecordSize*32 + 64); err != nil {
		return 0, err
	}
	sn := w.snapshot()
	for rest := p; len(rest) > 0; {
		take := min(RecordSize-len(w.buf), len(rest))
		w.buf = append(w.buf, rest[:take]...)
		w.hasher.Write(rest[:take])
		rest = rest[take:]
		if len(w.buf) == RecordSize {
			if err := w.seal(); err != nil {
				w.rollback(sn)
				return 0, err
			}
		}
	}
	w.offset += int64(len(p))
	return len(p), nil
}

// seal writes the buffered bytes as one record.
func (w *writer) seal() error {
	rec := make([]byte, 4+nonceSize, 4+nonceSize+len(w.buf)+tagSize)
	if _, err := rand.Read(rec[4:]); err != nil {
		return err
	}
	rec = w.hd.aead.Seal(rec, rec[4:4+nonceSize], w.buf, w.hd.additional(w.sealedPlain))
	binary.BigEndian.PutUint32(rec, uint32(len(rec)-4))
	if _, err := w.f.WriteAt(rec, w.fileSize); err != nil {
		return w.s.writeErr("write blob "+w.id.String(), err)
	}
	w.fileSize += int64(len(rec))
	w.sealedPlain += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

func (w *writer) syncFile() error {
	if w.s.noSync {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return w.s.writeErr("sync blob "+w.id.String(), err)
	}
	return nil
}

// flush seals what is buffered and syncs the file.
func (w *writer) flush() error {
	if len(w.buf) > 0 {
		if err := w.s.checkFree(len(w.buf) + 64); err != nil {
			return err
		}
		sn := w.snapshot()
		if err := w.seal(); err != nil {
			w.rollback(sn)
			return err
		}
	}
	if err := w.syncFile(); err != nil {
		// After a failed fsync the page cache cannot be trusted
		// ("fsyncgate"): this writer stops; a later Begin checks every
		// record again.
		w.kill()
		return err
	}
	return nil
}

// Sync implements blob.Writer.
func (w *writer) Sync() error {
	if err := w.alive(); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if !w.dirSynced {
		if err := w.s.syncDir(filepath.Dir(w.path)); err != nil {
			w.kill()
			return err
		}
		w.dirSynced = true
	}
	w.durable = w.offset
	return nil
}

// Commit implements blob.Writer: hash checked, file synced, renamed to
// its committed name, directory synced.
func (w *writer) Commit() error {
	if err := w.alive(); err != nil {
		return err
	}
	if w.offset < w.id.Size {
		return fmt.Errorf("%w: blob %s: %d of %d bytes", blob.ErrIncomplete, w.id, w.offset, w.id.Size)
	}
	var got blob.Hash
	w.hasher.Sum(got[:0])
	if got != w.id.Hash {
		w.discard()
		return fmt.Errorf("%w: blob %s: the bytes hash to %s", blob.ErrMismatch, w.id, got.Short())
	}
	if err := w.flush(); err != nil {
		return err
	}
	target := w.s.committedPath(w.id.Hash)
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return w.s.writeErr("make a shard directory", err)
	}
	// The rename and its count happen under the store's lock, so that
	// the background count sees the blob or is told of it, never both.
	w.s.mu.Lock()
	err := os.Rename(w.path, target)
	if err == nil {
		w.s.counts(w.id.Hash, 1, w.id.Size)
	}
	w.s.mu.Unlock()
	if err != nil {
		return w.s.writeErr("commit blob "+w.id.String(), err)
	}
	w.kill()
	return w.s.syncDir(filepath.Dir(target))
}

// kill closes the writer and its file.
func (w *writer) kill() {
	if w.dead.Swap(true) {
		return
	}
	w.f.Close()
	w.s.release(w)
}

func (w *writer) discard() {
	w.kill()
	os.Remove(w.path)
}

// Abort implements blob.Writer.
func (w *writer) Abort() error {
	if err := w.alive(); err != nil {
		return err
	}
	w.discard()
	return nil
}

// Close implements blob.Writer.
func (w *writer) Close() error {
	if err := w.alive(); err != nil {
		return err
	}
	w.kill()
	return nil
}
