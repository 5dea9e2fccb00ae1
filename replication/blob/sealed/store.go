package sealed

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"fieldsync/replication/blob"
	"fieldsync/replication/diskfree"
)

// partialDir holds partial writes, under the store's directory.
const partialDir = "partial"

// tmpPrefix marks files a crash may leave while being made.
const tmpPrefix = ".tmp-"

// DefaultMinFree is the free-space floor when Options.MinFreeBytes is 0:
// the room to finish the largest blob and write its record.
const DefaultMinFree = 2*blob.MaxSize + 16<<20

// Options configures a sealed store.
type Options struct {
	// Dir is the store's directory (a data directory's DIR/blobs).
	Dir string
	// Key is the store's 32-byte key (package datadir derives it from the
	// directory's sealed device key, so it survives a rekey unchanged).
	Key []byte
	// MinFreeBytes is the free-space floor: a write is refused with
	// blob.ErrDiskFull, before anything is acknowledged, when the disk has
	// less free. Zero takes DefaultMinFree; negative turns it off.
	MinFreeBytes int64
	// NoSync turns off fsync. Only benchmarks use it, to measure what
	// durability costs; nothing that acknowledges data may.
	NoSync bool
}

// Store is the local sealed blob store: one sealed file per blob (see the
// package doc for why files and not Badger's value log).
type Store struct {
	dir     string
	keys    *keys
	minFree int64
	noSync  bool

	mu   sync.Mutex
	open map[blob.Hash]*writer // the writer each blob being written has
	// usage counts the committed blobs of the shards walked so far: a
	// background walk counts them at Open, shard by shard under mu, and
	// commits and deletes count themselves in shards already walked.
	usage   blob.Usage
	walked  int           // shards walked, 0..256
	counted chan struct{} // closed when the walk is done
	closed  bool
}

var _ blob.Store = (*Store)(nil)

// Open opens (creating if needed) the store in opts.Dir. Files a crash
// left half-made are removed; partial writes are kept for Begin to resume.
func Open(opts Options) (*Store, error) {
	k, err := newKeys(opts.Key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, partialDir), 0o700); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	s := &Store{dir: opts.Dir, keys: k, noSync: opts.NoSync, open: map[blob.Hash]*writer{}}
	switch {
	case opts.MinFreeBytes > 0:
		s.minFree = opts.MinFreeBytes
	case opts.MinFreeBytes == 0:
		s.minFree = DefaultMinFree
	}
	if err := s.removeTemps(); err != nil {
		return nil, err
	}
	if err := s.removeCommittedPartials(); err != nil {
		return nil, err
	}
	s.counted = make(chan struct{})
	go s.count()
	return s, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) committedPath(h blob.Hash) string {
	name := s.keys.fileName(h)
	return filepath.Join(s.dir, name[:2], name)
}

func (s *Store) partialPath(h blob.Hash) string {
	return filepath.Join(s.dir, partialDir, s.keys.fileName(h))
}

// removeTemps deletes the temporary files of commits a crash interrupted.
func (s *Store) removeTemps() error {
	return s.walk(true, func(path string, _ fs.DirEntry) error {
		if strings.HasPrefix(filepath.Base(path), tmpPrefix) {
			return os.Remove(path)
		}
		return nil
	})
}

// removeCommittedPartials deletes partial files of blobs already committed
// (a crash between a commit's rename and its directory sync can leave
// both names).
func (s *Store) removeCommittedPartials() error {
	ents, err := os.ReadDir(filepath.Join(s.dir, partialDir))
	if err != nil {
		return fmt.Errorf("sealed: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if len(name) < 2 {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.dir, name[:2], name)); err == nil {
			if err := os.Remove(filepath.Join(s.dir, partialDir, name)); err != nil {
				return fmt.Errorf("sealed: %w", err)
			}
		}
	}
	return nil
}

// walk calls fn for every file of the shard directories (committed blobs),
// or, with temps, also for temporary files.
func (s *Store) walk(temps bool, fn func(path string, d fs.DirEntry) error) error {
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("sealed: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(s.dir, sh.Name()))
		if err != nil {
			return fmt.Errorf("sealed: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() || (!temps && strings.HasPrefix(e.Name(), tmpPrefix)) {
				continue
			}
			if err := fn(filepath.Join(s.dir, sh.Name(), e.Name()), e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) check() error {
	if s.closed {
		return blob.ErrClosed
	}
	return nil
}

// Has implements blob.Store: one stat per hash.
func (s *Store) Has(hs []blob.Hash) ([]bool, error) {
	if len(hs) > blob.MaxHasBatch {
		return nil, fmt.Errorf("sealed: has of %d hashes, limit %d", len(hs), blob.MaxHasBatch)
	}
	s.mu.Lock()
	err := s.check()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(hs))
	for i, h := range hs {
		_, err := os.Stat(s.committedPath(h))
		switch {
		case err == nil:
			out[i] = true
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("sealed: %w", err)
		}
	}
	return out, nil
}

// Stat implements blob.Store: it reads the blob's header.
func (s *Store) Stat(h blob.Hash) (blob.Info, error) {
	s.mu.Lock()
	err := s.check()
	s.mu.Unlock()
	if err != nil {
		return blob.Info{}, err
	}
	path := s.committedPath(h)
	hd, err := s.keys.readHeaderFile(path)
	if err != nil {
		return blob.Info{}, s.fileErr(h, path, err)
	}
	if hd.id.Hash != h {
		return blob.Info{}, fmt.Errorf("%w: the file of %s names another blob (file %s)", blob.ErrCorrupt, h.Short(), path)
	}
	return blob.Info{ID: hd.id}, nil
}

func (s *Store) readErr(h blob.Hash, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s", blob.ErrNotFound, h.Short())
	case errors.Is(err, blob.ErrCorrupt):
		return err
	}
	return fmt.Errorf("%w: blob %s: %w", blob.ErrCorrupt, h.Short(), err)
}

// fileErr is readErr naming the file when its bytes are damaged (a blob's
// file name is not its hash: the operator finds the file by this).
func (s *Store) fileErr(h blob.Hash, path string, err error) error {
	err = s.readErr(h, err)
	if errors.Is(err, blob.ErrCorrupt) && !strings.Contains(err.Error(), path) {
		return fmt.Errorf("%w (file %s)", err, path)
	}
	return err
}

func (k *keys) readHeaderFile(path string) (header, error) {
	f, err := os.Open(path)
	if err != nil {
		return header{}, err
	}
	defer f.Close()
	return k.readHeader(f)
}

func (k *keys) readHeader(f io.ReaderAt) (header, error) {
	b := make([]byte, headerSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		if err == io.EOF {
			return header{}, fmt.Errorf("sealed: file shorter than its header")
		}
		return header{}, err
	}
	return k.decodeHeader(b)
}

// Open implements blob.Store.
func (s *Store) Open(h blob.Hash) (blob.Reader, error) {
	s.mu.Lock()
	err := s.check()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	path := s.committedPath(h)
	f, err := os.Open(path)
	if err != nil {
		return nil, s.readErr(h, err)
	}
	r, err := s.newReader(f, h)
	if err != nil {
		f.Close()
		return nil, s.fileErr(h, path, err)
	}
	return r, nil
}

// Partial implements blob.Store: the records' plain lengths are added up
// without opening them (Begin checks them).
func (s *Store) Partial(h blob.Hash) (blob.Partial, error) {
	s.mu.Lock()
	err := s.check()
	s.mu.Unlock()
	if err != nil {
		return blob.Partial{}, err
	}
	p, err := s.statPartial(s.partialPath(h))
	if err != nil || p.Hash != h {
		return blob.Partial{}, fmt.Errorf("%w: no partial write of %s", blob.ErrNotFound, h.Short())
	}
	return p, nil
}

func (s *Store) statPartial(path string) (blob.Partial, error) {
	f, err := os.Open(path)
	if err != nil {
		return blob.Partial{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return blob.Partial{}, err
	}
	hd, err := s.keys.readHeader(f)
	if err != nil {
		return blob.Partial{}, err
	}
	recs, _ := scanRecords(f, fi.Size())
	var n int64
	for _, r := range recs {
		n += int64(r.plainLen)
	}
	return blob.Partial{ID: hd.id, Durable: n}, nil
}

// scanRecords reads the record lengths of a file from its header on. It
// returns the records that fit, and an error where the file stops making
// sense (a torn last record after a crash, or damage).
func scanRecords(f io.ReaderAt, size int64) ([]recordPos, error) {
	var out []recordPos
	off, plain := int64(headerSize), int64(0)
	var lb [4]byte
	for off < size {
		if size-off < 4 {
			return out, fmt.Errorf("sealed: torn record length at %d", off)
		}
		if _, err := f.ReadAt(lb[:], off); err != nil {
			return out, err
		}
		n, err := parseRecordLength(lb[:], size-off-4)
		if err != nil {
			return out, fmt.Errorf("sealed: at %d: %w", off, err)
		}
		pl := n - nonceSize - tagSize
		out = append(out, recordPos{fileOff: off, sealed: n, plainOff: plain, plainLen: pl})
		off += 4 + int64(n)
		plain += int64(pl)
		if plain > blob.MaxSize {
			return out, fmt.Errorf("sealed: records past the size limit")
		}
	}
	return out, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(h blob.Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if s.open[h] != nil {
		return fmt.Errorf("%w: %s", blob.ErrBusy, h.Short())
	}
	cp := s.committedPath(h)
	var size int64 // unknown for a damaged header: the byte count drifts by its size
	if hd, err := s.keys.readHeaderFile(cp); err == nil {
		size = hd.id.Size
	}
	errC := os.Remove(cp)
	errP := os.Remove(s.partialPath(h))
	if errors.Is(errC, fs.ErrNotExist) && errors.Is(errP, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", blob.ErrNotFound, h.Short())
	}
	for _, err := range []error{errC, errP} {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sealed: delete %s: %w", h.Short(), err)
		}
	}
	if errC == nil {
		s.counts(h, -1, -size)
		if err := s.syncDir(filepath.Dir(cp)); err != nil {
			return err
		}
	}
	return nil
}

// List implements blob.Store; it reads each file's header.
func (s *Store) List(fn func(blob.Info) bool) error {
	s.mu.Lock()
	err := s.check()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	stop := errors.New("stop")
	err = s.walk(false, func(path string, _ fs.DirEntry) error {
		hd, err := s.keys.readHeaderFile(path)
		if err != nil || s.keys.fileName(hd.id.Hash) != filepath.Base(path) {
			return nil // unreadable or misnamed: Verify reports it
		}
		if !fn(blob.Info{ID: hd.id}) {
			return stop
		}
		return nil
	})
	if err == stop {
		return nil
	}
	return err
}

// ListPartial implements blob.Store.
func (s *Store) ListPartial(fn func(blob.Partial) bool) error {
	s.mu.Lock()
	err := s.check()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(filepath.Join(s.dir, partialDir))
	if err != nil {
		return fmt.Errorf("sealed: %w", err)
	}
	for _, e := range ents {
		p, err := s.statPartial(filepath.Join(s.dir, partialDir, e.Name()))
		if err != nil || s.keys.fileName(p.Hash) != e.Name() {
			continue
		}
		if !fn(p) {
			break
		}
	}
	return nil
}

// shardOf is the index of a blob's shard directory (its name's first
// byte).
func (s *Store) shardOf(h blob.Hash) int {
	name := s.keys.fileName(h)
	var b [1]byte
	hex.Decode(b[:], []byte(name[:2]))
	return int(b[0])
}

// counts adds a commit (+1) or a delete (-1) of blob h to the usage, if
// the walk has counted its shard already (else the walk will see it, or
// not, as it is then). Call with mu held.
func (s *Store) counts(h blob.Hash, n int, bytes int64) {
	if s.shardOf(h) < s.walked {
		s.usage.Blobs += n
		if bytes != 0 {
			s.usage.Bytes += bytes
		}
	}
}

// count walks the shards once, counting committed blobs and their sizes
// (one header read per blob): about a second per 100,000 blobs on the
// reference machine, in the background from Open.
func (s *Store) count() {
	defer close(s.counted)
	for shard := 0; shard < 256; shard++ {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		dir := filepath.Join(s.dir, fmt.Sprintf("%02x", shard))
		if ents, err := os.ReadDir(dir); err == nil {
			for _, e := range ents {
				if e.IsDir() || strings.HasPrefix(e.Name(), tmpPrefix) {
					continue
				}
				if hd, err := s.keys.readHeaderFile(filepath.Join(dir, e.Name())); err == nil && s.keys.fileName(hd.id.Hash) == e.Name() {
					s.usage.Blobs++
					s.usage.Bytes += hd.id.Size
				}
			}
		}
		s.walked = shard + 1
		s.mu.Unlock()
	}
}

// Usage implements blob.Store. The committed blobs are counted once, in
// the background from Open; Usage waits for that count, then answers from
// counters kept by commits and deletes (and a walk of the partial writes).
func (s *Store) Usage() (blob.Usage, error) {
	<-s.counted
	s.mu.Lock()
	if err := s.check(); err != nil {
		s.mu.Unlock()
		return blob.Usage{}, err
	}
	out := s.usage
	s.mu.Unlock()
	err := s.ListPartial(func(p blob.Partial) bool { out.Partials++; out.PartialBytes += p.Durable; return true })
	return out, err
}

// Close implements blob.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return blob.ErrClosed
	}
	s.closed = true
	for _, w := range s.open {
		if !w.dead.Swap(true) {
			w.f.Close()
		}
	}
	s.open = map[blob.Hash]*writer{}
	return nil
}

func (s *Store) syncDir(dir string) error {
	if s.noSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sealed: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return s.writeErr(dir, err)
	}
	return nil
}

// checkFree refuses a write of n bytes that would take the disk below the
// floor.
func (s *Store) checkFree(n int) error {
	if s.minFree <= 0 {
		return nil
	}
	free, err := diskfree.Bytes(s.dir)
	if err != nil || free < 0 {
		return nil // unknown: the write's own errors still surface
	}
	if free-int64(n) < s.minFree {
		return fmt.Errorf("%w: %d MiB free on the disk of %s, below the %d MiB fieldsync keeps free; nothing was written — free some space and retry",
			blob.ErrDiskFull, free>>20, s.dir, s.minFree>>20)
	}
	return nil
}

// writeErr names ENOSPC for what it is.
func (s *Store) writeErr(what string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: no space left on the disk of %s (%s); nothing of this write was acknowledged: %w", blob.ErrDiskFull, s.dir, what, err)
	}
	return fmt.Errorf("sealed: %s: %w", what, err)
}

// Scrub checks every committed file's header and name without reading
// its records (blob.Check reads those): a file whose header does not open
// under the store's key, or that sits under another blob's name, is
// invisible to Has and List, so it is reported here by its path. It
// returns how many files it checked.
func (s *Store) Scrub(fn func(path, problem string)) (int, error) {
	n := 0
	err := s.walk(false, func(path string, _ fs.DirEntry) error {
		n++
		hd, err := s.keys.readHeaderFile(path)
		switch {
		case err != nil:
			fn(path, "unreadable blob file: "+err.Error())
		case s.keys.fileName(hd.id.Hash) != filepath.Base(path):
			fn(path, fmt.Sprintf("blob file of %s under another blob's name", hd.id.Hash.Short()))
		}
		return nil
	})
	return n, err
}
