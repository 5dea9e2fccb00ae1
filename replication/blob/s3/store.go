package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fieldsync/replication/blob"
	"fieldsync/replication/blob/sealed"
)

// Defaults of Options.
const (
	// DefaultPartSize is the part size of multipart uploads: S3's minimum
	// is 5 MiB (but for the last part); a sealed blob larger than one part
	// goes up in parts.
	DefaultPartSize = 8 << 20
	minPartSize     = 5 << 20
	// hasConcurrency bounds the HEAD requests one Has call has in flight.
	hasConcurrency = 16
	// maxCached bounds the hashes remembered as held in the object store
	// (a Has answered from memory); about 64 bytes each.
	maxCached = 1 << 16
)

// Options configure a Store.
type Options struct {
	Client *Client
	// Prefix is the store's key prefix in the bucket, e.g. "hub-42/"
	// (default "fieldsync/"). A prefix belongs to one hub: Open refuses a
	// prefix another hub owns.
	Prefix string
	// Owner names the hub (its device origin): written once under the
	// prefix, checked at every Open.
	Owner string
	// Dir is the local directory (a data directory's DIR/blobs) where
	// blobs arriving chunk by chunk are kept, sealed, until they are whole
	// and in the object store; Key is the hub's blob key (the same sealed
	// format and key as the local store).
	Dir          string
	Key          []byte
	MinFreeBytes int64
	// PartSize is the multipart part size (default DefaultPartSize).
	PartSize int64
	// OnHealth is called when the object store becomes unavailable or is
	// back (an alarm); it must not block.
	OnHealth func(Health)
	Logger   *slog.Logger
	// RetryMin and RetryMax bound the uploader's wait between attempts
	// while the store is unavailable (defaults 1 s and 1 min).
	RetryMin, RetryMax time.Duration
}

// Health says whether the object store answers, and what waits for it.
type Health struct {
	Up        bool      `json:"up"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
	// Waiting blobs are whole and verified on local disk, not yet in the
	// object store (not acknowledged to any peer).
	Waiting      int   `json:"waiting"`
	WaitingBytes int64 `json:"waiting_bytes"`
}

// Store is a blob.Store on an S3-compatible object store. See the package
// doc for the layout and why.
type Store struct {
	c        *Client
	prefix   string
	stage    *sealed.Store // partial writes; committed: verified, waiting to be sealed for upload
	outbox   *sealed.Store // sealed whole (records full), being uploaded
	upDir    string        // multipart upload state
	partSize int64
	log      *slog.Logger
	onHealth func(Health)
	retryMin time.Duration
	retryMax time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	kick   chan struct{}

	mu        sync.Mutex
	writers   map[blob.Hash]bool          // blobs with an open writer
	uploading map[blob.Hash]chan struct{} // closed when that upload ends
	waiting   map[blob.Hash]int64         // whole on local disk, not yet uploaded: plain size
	held      map[blob.Hash]struct{}      // known to be in the object store
	health    Health
	claimed   bool        // the owner marker checked and orphaned uploads swept
	usage     *blob.Usage // of the object store, once listed; nil before
	edits     uint64      // uploads and deletes: a count listed across one is not kept
	closed    bool
	owner     string
}

var _ blob.Store = (*Store)(nil)

// ObjectKey is where blob h is kept: the prefix, "b/", and its sealed name
// (a keyed hash: the bucket does not say which images it holds).
func (s *Store) ObjectKey(h blob.Hash) string { return s.prefix + "b/" + s.stage.Name(h) }

// Open opens the store: the local directory, the bucket (checked, and
// claimed for Owner), and the uploads a crash or an outage left, which a
// background uploader finishes.
func Open(opts Options) (*Store, error) {
	if opts.Client == nil {
		return nil, errors.New("s3: no client")
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "fieldsync/"
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	part := opts.PartSize
	if part == 0 {
		part = DefaultPartSize
	}
	if part < minPartSize {
		return nil, fmt.Errorf("s3: part size %d, S3's minimum is %d", part, minPartSize)
	}
	stage, err := sealed.Open(sealed.Options{Dir: opts.Dir, Key: opts.Key, MinFreeBytes: opts.MinFreeBytes})
	if err != nil {
		return nil, err
	}
	outbox, err := sealed.Open(sealed.Options{Dir: filepath.Join(opts.Dir, "outbox"), Key: opts.Key, MinFreeBytes: opts.MinFreeBytes})
	if err != nil {
		stage.Close()
		return nil, err
	}
	upDir := filepath.Join(opts.Dir, "outbox", "uploads")
	if err := os.MkdirAll(upDir, 0o700); err != nil {
		stage.Close()
		outbox.Close()
		return nil, fmt.Errorf("s3: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{c: opts.Client, prefix: prefix, stage: stage, outbox: outbox, upDir: upDir, partSize: part, log: logger,
		onHealth: opts.OnHealth, retryMin: opts.RetryMin, retryMax: opts.RetryMax,
		done: make(chan struct{}), kick: make(chan struct{}, 1),
		writers: map[blob.Hash]bool{}, uploading: map[blob.Hash]chan struct{}{}, waiting: map[blob.Hash]int64{}, held: map[blob.Hash]struct{}{},
		health: Health{Up: true, Since: time.Now()}}
	if s.retryMin <= 0 {
		s.retryMin = time.Second
	}
	if s.retryMax <= 0 {
		s.retryMax = time.Minute
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	fail := func(err error) (*Store, error) {
		s.cancel()
		stage.Close()
		outbox.Close()
		return nil, err
	}
	s.owner = opts.Owner
	if s.owner == "" {
		s.owner = "unnamed"
	}
	for _, st := range []*sealed.Store{stage, outbox} {
		if err := st.List(func(in blob.Info) bool { s.waiting[in.Hash] = in.Size; return true }); err != nil {
			return fail(err)
		}
	}
	// A store that does not answer now is an outage (the hub starts, its
	// blobs wait, the alarm is up); one that answers no (a wrong bucket,
	// wrong credentials, another hub's prefix) is a mistake to fix first.
	if err := s.ensureClaimed(); err != nil && !errors.Is(err, ErrUnavailable) {
		return fail(err)
	}
	s.health.Waiting, s.health.WaitingBytes = s.countWaiting()
	go s.uploader()
	return s, nil
}

// ErrOwned: the prefix belongs to another hub.
var ErrOwned = errors.New("s3: the bucket prefix belongs to another hub")

// ensureClaimed claims the prefix and sweeps orphaned uploads, once
// (before the first upload: an Open during an outage does it later).
func (s *Store) ensureClaimed() error {
	s.mu.Lock()
	done := s.claimed
	s.mu.Unlock()
	if done {
		return nil
	}
	err := s.claim(s.owner)
	if err == nil {
		err = s.sweepUploads()
	}
	s.note(err)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.claimed = true
	s.mu.Unlock()
	return nil
}

// claim writes the owner marker under the prefix, or checks it. The
// bucket must exist and take the credentials (the message says which).
func (s *Store) claim(owner string) error {
	key := s.prefix + "owner"
	got, err := s.c.Get(s.ctx, key, 0, 0)
	switch {
	case err == nil:
		if string(got) != owner {
			return fmt.Errorf("%w: s3://%s/%s is %q's, this hub is %q (give this hub its own prefix)", ErrOwned, s.c.Bucket(), s.prefix, clip(string(got), 100), owner)
		}
		return nil
	case errors.Is(err, ErrNoSuchKey):
		var e *Error
		if errors.As(err, &e) && e.Code == "NoSuchBucket" {
			return fmt.Errorf("s3: bucket %q does not exist at %s (create it first): %w", s.c.Bucket(), s.c.Endpoint(), err)
		}
		_, err = s.c.Put(s.ctx, key, []byte(owner))
		return err
	}
	return fmt.Errorf("s3: bucket %q at %s: %w", s.c.Bucket(), s.c.Endpoint(), err)
}

// sweepUploads aborts the multipart uploads under the prefix that no
// local state names (a crash between starting one and recording it): they
// would hold parts forever.
func (s *Store) sweepUploads() error {
	known := map[string]bool{}
	ents, err := os.ReadDir(s.upDir)
	if err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	for _, e := range ents {
		if st, err := readUploadState(filepath.Join(s.upDir, e.Name())); err == nil {
			known[st.UploadID] = true
		}
	}
	var orphans []Upload
	err = s.c.ListUploads(s.ctx, s.prefix+"b/", func(u Upload) bool {
		if !known[u.ID] {
			orphans = append(orphans, u)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("s3: list multipart uploads: %w", err)
	}
	if len(orphans) > 0 {
		s.log.Info("aborting multipart uploads no local record names", "count", len(orphans))
	}
	for _, u := range orphans {
		if err := s.c.AbortUpload(s.ctx, u.Key, u.ID); err != nil && !errors.Is(err, ErrNoSuchKey) {
			return fmt.Errorf("s3: abort an orphaned upload of %s: %w", u.Key, err)
		}
		s.log.Info("aborted an orphaned multipart upload", "key", u.Key)
	}
	return nil
}

func (s *Store) check() error {
	if s.closed {
		return blob.ErrClosed
	}
	return nil
}

// note records the outcome of a call to the object store for Health.
func (s *Store) note(err error) {
	unavailable := errors.Is(err, ErrUnavailable)
	s.mu.Lock()
	changed := s.health.Up == unavailable
	if changed {
		s.health.Up = !unavailable
		s.health.Since = time.Now()
	}
	if unavailable {
		s.health.LastError = clip(err.Error(), 300)
	}
	h := s.health
	s.mu.Unlock()
	if changed {
		if unavailable {
			s.log.Warn("object store unavailable: blobs wait on local disk", "err", err)
		} else {
			s.log.Info("object store back")
		}
		if s.onHealth != nil {
			s.onHealth(h)
		}
	}
}

// Location names the store: endpoint, bucket and prefix (no credentials).
func (s *Store) Location() string { return s.c.Endpoint() + "/" + s.c.Bucket() + "/" + s.prefix }

// Health returns the store's health.
func (s *Store) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.health
	h.Waiting, h.WaitingBytes = s.countWaitingLocked()
	return h
}

func (s *Store) countWaiting() (int, int64) {
	return s.countWaitingLocked()
}

func (s *Store) countWaitingLocked() (int, int64) {
	var n int64
	for _, size := range s.waiting {
		n += size
	}
	return len(s.waiting), n
}

func (s *Store) remember(h blob.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.held) >= maxCached {
		for k := range s.held { // drop one at random
			delete(s.held, k)
			break
		}
	}
	s.held[h] = struct{}{}
}

// head reports whether blob h is in the object store, whole: an object of
// a sealed blob's size.
func (s *Store) head(h blob.Hash) (blob.Info, bool, error) {
	info, err := s.c.Head(s.ctx, s.ObjectKey(h))
	s.note(err)
	if errors.Is(err, ErrNoSuchKey) {
		return blob.Info{}, false, nil
	}
	if err != nil {
		return blob.Info{}, false, err
	}
	n, ok := sealed.PlainSize(info.Size)
	if !ok {
		return blob.Info{}, false, fmt.Errorf("%w: blob %s: the object of %d bytes is no sealed blob's size", blob.ErrCorrupt, h.Short(), info.Size)
	}
	return blob.Info{ID: blob.ID{Hash: h, Size: n}}, true, nil
}

// Has implements blob.Store: a HEAD per hash not known held, 16 at a time.
// A blob whole on local disk but not yet uploaded is not held. While the
// object store is unavailable, what it cannot confirm is answered not
// held — the safe side: such a blob is asked for again (and, received,
// waits on local disk), never taken as held — and Health says why; a sync
// session goes on with its records.
func (s *Store) Has(hs []blob.Hash) ([]bool, error) {
	if len(hs) > blob.MaxHasBatch {
		return nil, fmt.Errorf("s3: has of %d hashes, limit %d", len(hs), blob.MaxHasBatch)
	}
	s.mu.Lock()
	if err := s.check(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	out := make([]bool, len(hs))
	var ask []int
	for i, h := range hs {
		if _, ok := s.held[h]; ok {
			out[i] = true
		} else {
			ask = append(ask, i)
		}
	}
	s.mu.Unlock()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, hasConcurrency)
	)
	for _, i := range ask {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, ok, err := s.head(hs[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && !errors.Is(err, ErrUnavailable) && first == nil {
				first = err
			}
			out[i] = ok
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	for _, i := range ask {
		if out[i] {
			s.remember(hs[i])
		}
	}
	return out, nil
}

// Stat implements blob.Store: one HEAD.
func (s *Store) Stat(h blob.Hash) (blob.Info, error) {
	if err := s.checkOpen(); err != nil {
		return blob.Info{}, err
	}
	info, ok, err := s.head(h)
	if err != nil {
		return blob.Info{}, err
	}
	if !ok {
		return blob.Info{}, fmt.Errorf("%w: %s", blob.ErrNotFound, h.Short())
	}
	return info, nil
}

func (s *Store) checkOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check()
}

// Open implements blob.Store: the sealed object is read whole (at most
// blob.MaxSize and its records; the sync lane keeps one reader open per
// session) and every record is opened before a byte is returned.
func (s *Store) Open(h blob.Hash) (blob.Reader, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	raw, err := s.c.Get(s.ctx, s.ObjectKey(h), 0, 0)
	s.note(err)
	if errors.Is(err, ErrNoSuchKey) {
		return nil, fmt.Errorf("%w: %s", blob.ErrNotFound, h.Short())
	}
	if err != nil {
		return nil, fmt.Errorf("s3: read blob %s: %w", h.Short(), err)
	}
	if _, ok := sealed.PlainSize(int64(len(raw))); !ok {
		return nil, fmt.Errorf("%w: blob %s: the object of %d bytes is no sealed blob's size", blob.ErrCorrupt, h.Short(), len(raw))
	}
	return s.stage.NewReader(bytes.NewReader(raw), int64(len(raw)), h)
}

// Begin implements blob.Store. A blob the object store holds is ErrExists;
// one whole on local disk and waiting for the store is uploaded now (then
// ErrExists), or ErrBusy while the store is unavailable.
func (s *Store) Begin(id blob.ID) (blob.Writer, error) {
	if err := id.Check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if err := s.check(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if s.writers[id.Hash] {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", blob.ErrBusy, id)
	}
	_, cached := s.held[id.Hash]
	_, waiting := s.waiting[id.Hash]
	s.mu.Unlock()
	if cached {
		return nil, fmt.Errorf("%w: %s", blob.ErrExists, id)
	}
	if waiting {
		if err := s.publish(id.Hash); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s", blob.ErrExists, id)
	}
	// While the store is unavailable the blob is taken on local disk
	// (where it waits): a laptop's few minutes of link are not wasted.
	if _, ok, err := s.head(id.Hash); err != nil && !errors.Is(err, ErrUnavailable) {
		return nil, fmt.Errorf("s3: begin blob %s: %w", id, err)
	} else if ok {
		s.remember(id.Hash)
		return nil, fmt.Errorf("%w: %s", blob.ErrExists, id)
	}
	s.mu.Lock()
	if s.writers[id.Hash] {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", blob.ErrBusy, id)
	}
	s.writers[id.Hash] = true
	s.mu.Unlock()
	w, err := s.stage.Begin(id)
	if err != nil {
		s.release(id.Hash)
		return nil, err
	}
	return &writer{s: s, w: w}, nil
}

func (s *Store) release(h blob.Hash) {
	s.mu.Lock()
	delete(s.writers, h)
	s.mu.Unlock()
}

// Partial implements blob.Store: partial writes are on local disk.
func (s *Store) Partial(h blob.Hash) (blob.Partial, error) {
	if err := s.checkOpen(); err != nil {
		return blob.Partial{}, err
	}
	return s.stage.Partial(h)
}

// Delete implements blob.Store: the object, and anything of h on local
// disk.
func (s *Store) Delete(h blob.Hash) error {
	s.mu.Lock()
	if err := s.check(); err != nil {
		s.mu.Unlock()
		return err
	}
	_, up := s.uploading[h]
	if s.writers[h] || up {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", blob.ErrBusy, h.Short())
	}
	delete(s.held, h)
	delete(s.waiting, h)
	s.mu.Unlock()
	_, inStore, err := s.head(h)
	if err != nil {
		return err
	}
	found := inStore
	if inStore {
		info, _, _ := s.head(h)
		err := s.c.Delete(s.ctx, s.ObjectKey(h))
		s.note(err)
		if err != nil {
			return fmt.Errorf("s3: delete blob %s: %w", h.Short(), err)
		}
		s.counted(-1, -info.Size)
	}
	for _, st := range []*sealed.Store{s.stage, s.outbox} {
		switch err := st.Delete(h); {
		case err == nil:
			found = true
		case !errors.Is(err, blob.ErrNotFound):
			return err
		}
	}
	s.removeUploadState(h)
	if !found {
		return fmt.Errorf("%w: %s", blob.ErrNotFound, h.Short())
	}
	return nil
}

// List implements blob.Store: a listing of the objects, and each one's
// sealed header read (a ranged GET) for its hash.
func (s *Store) List(fn func(blob.Info) bool) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var keys []ObjectInfo
	err := s.c.List(s.ctx, s.prefix+"b/", func(o ObjectInfo) bool { keys = append(keys, o); return true })
	s.note(err)
	if err != nil {
		return fmt.Errorf("s3: list blobs: %w", err)
	}
	for _, o := range keys {
		n, ok := sealed.PlainSize(o.Size)
		if !ok {
			continue // not a whole sealed blob: verify reports it
		}
		hb, err := s.c.Get(s.ctx, o.Key, 0, sealed.HeaderSize)
		s.note(err)
		if errors.Is(err, ErrNoSuchKey) {
			continue // deleted since the listing
		}
		if err != nil {
			return fmt.Errorf("s3: list blobs: %w", err)
		}
		id, err := s.stage.ReadHeader(hb)
		if err != nil || id.Size != n || s.ObjectKey(id.Hash) != o.Key {
			continue // unreadable or misnamed: verify reports it
		}
		if !fn(blob.Info{ID: id}) {
			return nil
		}
	}
	return nil
}

// Scrub checks every object under the prefix without reading its records
// (blob.Check reads those): an object whose size is no sealed blob's,
// whose header does not open under the hub's key, or that sits under
// another blob's name is invisible to Has and List, so it is reported here
// by its key. It returns how many objects it checked.
func (s *Store) Scrub(fn func(key, problem string)) (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var objs []ObjectInfo
	err := s.c.List(s.ctx, s.prefix+"b/", func(o ObjectInfo) bool { objs = append(objs, o); return true })
	s.note(err)
	if err != nil {
		return 0, fmt.Errorf("s3: scrub: %w", err)
	}
	for _, o := range objs {
		n, ok := sealed.PlainSize(o.Size)
		if !ok {
			fn(o.Key, fmt.Sprintf("%d bytes: no sealed blob's size (cut short or altered)", o.Size))
			continue
		}
		hb, err := s.c.Get(s.ctx, o.Key, 0, sealed.HeaderSize)
		s.note(err)
		if errors.Is(err, ErrNoSuchKey) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("s3: scrub: %w", err)
		}
		id, err := s.stage.ReadHeader(hb)
		switch {
		case err != nil:
			fn(o.Key, "its header does not open under this hub's key (another hub's object, or altered)")
		case id.Size != n:
			fn(o.Key, fmt.Sprintf("its header says %d bytes, its size %d", id.Size, n))
		case s.ObjectKey(id.Hash) != o.Key:
			fn(o.Key, "it holds blob "+id.Hash.Short()+", whose key is another")
		}
	}
	return len(objs), nil
}

// ListPartial implements blob.Store.
func (s *Store) ListPartial(fn func(blob.Partial) bool) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.stage.ListPartial(fn)
}

// Usage implements blob.Store: the blobs and plain bytes in the object
// store, and the partial writes on local disk. The first call lists the
// prefix (a page per 1,000 blobs); later calls are kept up to date by
// uploads and deletes (the prefix is this hub's alone).
func (s *Store) Usage() (blob.Usage, error) {
	if err := s.checkOpen(); err != nil {
		return blob.Usage{}, err
	}
	s.mu.Lock()
	cached := s.usage
	s.mu.Unlock()
	var u blob.Usage
	if cached != nil {
		u = *cached
	} else {
		s.mu.Lock()
		edits := s.edits
		s.mu.Unlock()
		err := s.c.List(s.ctx, s.prefix+"b/", func(o ObjectInfo) bool {
			if n, ok := sealed.PlainSize(o.Size); ok {
				u.Blobs++
				u.Bytes += n
			}
			return true
		})
		s.note(err)
		if err != nil {
			return u, fmt.Errorf("s3: usage: %w", err)
		}
		s.mu.Lock()
		if s.edits == edits { // no upload or delete crossed the listing
			kept := u
			s.usage = &kept
		}
		s.mu.Unlock()
	}
	local, err := s.stage.Usage()
	if err != nil {
		return u, err
	}
	u.Partials, u.PartialBytes = local.Partials, local.PartialBytes
	return u, nil
}

// Close stops the uploader and closes the local stores; open writers keep
// their durable bytes, and blobs waiting for the object store are
// uploaded at the next Open.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return blob.ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	err1 := s.stage.Close()
	err2 := s.outbox.Close()
	return errors.Join(err1, err2)
}

// writer writes a blob to local disk; Commit uploads it.
type writer struct {
	s      *Store
	w      blob.Writer
	closed bool
}

func (w *writer) ID() blob.ID                 { return w.w.ID() }
func (w *writer) Offset() int64               { return w.w.Offset() }
func (w *writer) Durable() int64              { return w.w.Durable() }
func (w *writer) Write(p []byte) (int, error) { return w.w.Write(p) }
func (w *writer) Sync() error                 { return w.w.Sync() }

func (w *writer) done() {
	if !w.closed {
		w.closed = true
		w.s.release(w.w.ID().Hash)
	}
}

// Commit implements blob.Writer: the blob is checked and made durable on
// local disk, then sealed whole and uploaded; it returns once the object
// store holds it (verified by its size and MD5). If the store is
// unavailable the blob stays on local disk, the uploader goes on trying,
// and Commit returns an error wrapping blob.ErrBusy: nothing is
// acknowledged before the object store has it.
func (w *writer) Commit() error {
	id := w.w.ID()
	if err := w.w.Commit(); err != nil {
		if !errors.Is(err, blob.ErrIncomplete) {
			w.done()
		}
		return err
	}
	w.s.mu.Lock()
	w.s.waiting[id.Hash] = id.Size
	w.s.mu.Unlock()
	w.done()
	return w.s.publish(id.Hash)
}

func (w *writer) Abort() error {
	err := w.w.Abort()
	w.done()
	return err
}

func (w *writer) Close() error {
	err := w.w.Close()
	w.done()
	return err
}

// publish uploads a blob that is whole on local disk, once: concurrent
// calls for one blob wait for the first. An error wraps blob.ErrBusy when
// it can pass (the object store is unavailable).
func (s *Store) publish(h blob.Hash) error {
	s.mu.Lock()
	if ch, ok := s.uploading[h]; ok {
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
		_, still := s.waiting[h]
		_, held := s.held[h]
		s.mu.Unlock()
		if held && !still {
			return nil
		}
		return fmt.Errorf("%w: blob %s: its upload by another writer did not finish", blob.ErrBusy, h.Short())
	}
	ch := make(chan struct{})
	s.uploading[h] = ch
	s.mu.Unlock()
	err := s.upload(h)
	if errors.Is(err, blob.ErrCorrupt) {
		// The copy on local disk is damaged: drop it, so that it is no
		// longer waiting; it was never acknowledged, and its sender sends
		// it again.
		s.log.Error("a blob waiting for the object store is corrupt on local disk; dropped, its sender sends it again", "blob", h.Short(), "err", err)
		s.dropLocal(blob.ID{Hash: h})
		s.mu.Lock()
		delete(s.waiting, h)
		s.mu.Unlock()
	}
	s.mu.Lock()
	delete(s.uploading, h)
	if err == nil {
		delete(s.waiting, h)
	}
	s.mu.Unlock()
	close(ch)
	if err == nil {
		s.remember(h)
		return nil
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) {
		s.wake()
		return &WaitingError{Hash: h, Err: err}
	}
	return err
}

// WaitingError says a blob is whole and verified on local disk but not in
// the object store, which is unavailable: it is not acknowledged, and goes
// up when the store answers. It matches blob.ErrBusy (the sync lane then
// refuses the blob as busy, and its sender offers it again later) and
// ErrUnavailable.
type WaitingError struct {
	Hash blob.Hash
	Err  error
}

func (e *WaitingError) Error() string {
	return fmt.Sprintf("blob %s waits whole on local disk for the object store: %v", e.Hash.Short(), e.Err)
}

func (e *WaitingError) Unwrap() []error { return []error{blob.ErrBusy, e.Err} }

// upload moves blob h from local disk to the object store: sealed whole
// into the outbox (records full, so the object's size says its plain
// size), uploaded in one PUT or in parts, checked, then removed locally.
func (s *Store) upload(h blob.Hash) error {
	if err := s.ensureClaimed(); err != nil {
		return err
	}
	if info, ok, err := s.head(h); err != nil {
		return err
	} else if ok {
		return s.dropLocal(info.ID)
	}
	key := s.ObjectKey(h)
	// A blob that fits one part goes up in one PUT, sealed in memory (the
	// store checks its MD5; its answer's ETag is that MD5): nothing more
	// to keep on disk than the verified blob in the stage.
	if in, err := s.stage.Stat(h); err == nil && sealed.SealedSize(in.Size) <= s.partSize {
		plain, err := blob.ReadAll(s.stage, h)
		if err != nil {
			return err
		}
		raw, err := s.stage.Seal(in.ID, plain)
		if err != nil {
			return err
		}
		_, err = s.c.Put(s.ctx, key, raw)
		s.note(err)
		if err != nil {
			return fmt.Errorf("s3: upload blob %s: %w", h.Short(), err)
		}
		s.counted(1, in.Size)
		return s.dropLocal(in.ID)
	}
	f, size, err := s.outbox.OpenFile(h)
	if errors.Is(err, blob.ErrNotFound) {
		if err := s.seal(h); err != nil {
			return err
		}
		f, size, err = s.outbox.OpenFile(h)
	}
	if err != nil {
		return err
	}
	raw := make([]byte, size)
	_, err = f.ReadAt(raw, 0)
	f.Close()
	if err != nil {
		return fmt.Errorf("s3: read the sealed blob %s: %w", h.Short(), err)
	}
	plain, ok := sealed.PlainSize(size)
	if !ok {
		return fmt.Errorf("%w: the sealed blob %s in the outbox is %d bytes, not a whole blob's size", blob.ErrCorrupt, h.Short(), size)
	}
	// What goes up is checked first: every record opens, the whole hashes
	// to h.
	r, err := s.outbox.NewReader(bytes.NewReader(raw), size, h)
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	if err != nil {
		return fmt.Errorf("s3: the sealed blob %s in the outbox does not read back: %w", h.Short(), err)
	}
	etag, err := s.multipart(h, key, raw)
	if err != nil {
		return fmt.Errorf("s3: upload blob %s: %w", h.Short(), err)
	}
	info, err := s.c.Head(s.ctx, key)
	s.note(err)
	if err != nil {
		return fmt.Errorf("s3: check the upload of blob %s: %w", h.Short(), err)
	}
	if info.Size != size || (info.ETag != "" && info.ETag != etag) {
		return fmt.Errorf("s3: blob %s: the store holds %d bytes (ETag %s) of the %d uploaded (ETag %s)", h.Short(), info.Size, info.ETag, size, etag)
	}
	s.counted(1, plain)
	return s.dropLocal(blob.ID{Hash: h, Size: plain})
}

// seal copies a blob verified on local disk into the outbox, sealed whole.
func (s *Store) seal(h blob.Hash) error {
	in, err := s.stage.Stat(h)
	if err != nil {
		return fmt.Errorf("s3: blob %s is waiting for upload but not on local disk: %w", h.Short(), err)
	}
	r, err := s.stage.Open(h)
	if err != nil {
		return err
	}
	defer r.Close()
	return blob.Put(s.outbox, in.ID, r)
}

// counted follows an upload (n = 1) or a delete (n = -1) in the cached
// usage.
func (s *Store) counted(n int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.edits++
	if s.usage != nil {
		s.usage.Blobs += n
		s.usage.Bytes += bytes
	}
}

// dropLocal removes what the local disk holds of a blob now in the
// object store.
func (s *Store) dropLocal(id blob.ID) error {
	for _, st := range []*sealed.Store{s.outbox, s.stage} {
		if err := st.Delete(id.Hash); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return err
		}
	}
	s.removeUploadState(id.Hash)
	return nil
}

// uploadState is a multipart upload in progress, kept on local disk so a
// restart resumes it rather than starting another.
type uploadState struct {
	UploadID string `json:"upload_id"`
	Size     int64  `json:"size"`
	PartSize int64  `json:"part_size"`
}

func (s *Store) statePath(h blob.Hash) string {
	return filepath.Join(s.upDir, s.stage.Name(h)+".json")
}

func readUploadState(path string) (uploadState, error) {
	var st uploadState
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if len(b) > 4096 {
		return st, fmt.Errorf("s3: upload state %s: %d bytes", path, len(b))
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("s3: upload state %s: %w", path, err)
	}
	return st, nil
}

func (s *Store) writeUploadState(h blob.Hash, st uploadState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	path := s.statePath(h)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(s.upDir)
	}
	if err != nil {
		return fmt.Errorf("s3: record the upload of %s: %w", h.Short(), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *Store) removeUploadState(h blob.Hash) {
	os.Remove(s.statePath(h))
}

// multipart uploads raw in parts, resuming the upload a restart or an
// outage left (the parts the store holds with the right MD5 are kept).
// It returns the object's ETag (the MD5 of the parts' MD5s, "-N").
func (s *Store) multipart(h blob.Hash, key string, raw []byte) (string, error) {
	size := int64(len(raw))
	st, err := readUploadState(s.statePath(h))
	var have map[int]Part
	if err == nil && st.Size == size && st.PartSize == s.partSize {
		parts, err := s.c.ListParts(s.ctx, key, st.UploadID)
		s.note(err)
		switch {
		case err == nil:
			have = map[int]Part{}
			for _, p := range parts {
				have[p.Number] = p
			}
		case errors.Is(err, ErrNoSuchKey): // the upload is gone: start another
			st.UploadID = ""
		default:
			return "", err
		}
	} else {
		st = uploadState{Size: size, PartSize: s.partSize}
	}
	if st.UploadID == "" {
		id, err := s.c.CreateUpload(s.ctx, key)
		s.note(err)
		if err != nil {
			return "", err
		}
		st.UploadID = id
		if err := s.writeUploadState(h, st); err != nil {
			s.c.AbortUpload(s.ctx, key, id)
			return "", err
		}
	}
	var parts []Part
	var sums []byte
	for n, off := 1, int64(0); off < size; n, off = n+1, off+s.partSize {
		body := raw[off:min(off+s.partSize, size)]
		sum := md5.Sum(body)
		sums = append(sums, sum[:]...)
		if p, ok := have[n]; ok && p.ETag == hex.EncodeToString(sum[:]) && p.Size == int64(len(body)) {
			parts = append(parts, p)
			continue
		}
		p, err := s.c.UploadPart(s.ctx, key, st.UploadID, n, body)
		s.note(err)
		if err != nil {
			return "", err
		}
		parts = append(parts, p)
	}
	err = s.c.CompleteUpload(s.ctx, key, st.UploadID, parts)
	s.note(err)
	if err != nil {
		return "", err
	}
	sum := md5.Sum(sums)
	return fmt.Sprintf("%s-%d", hex.EncodeToString(sum[:]), len(parts)), nil
}

// wake asks the uploader to look at what waits.
func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// uploader uploads what waits on local disk (left by a crash, or by an
// outage), one blob at a time, waiting longer between attempts while the
// store is unavailable.
func (s *Store) uploader() {
	defer close(s.done)
	wait := time.Duration(0)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		case <-time.After(max(wait, s.retryMin)):
		}
		s.mu.Lock()
		var next []blob.Hash
		for h := range s.waiting {
			if _, busy := s.uploading[h]; !busy && !s.writers[h] {
				next = append(next, h)
			}
		}
		s.mu.Unlock()
		failed := false
		for _, h := range next {
			if s.ctx.Err() != nil {
				return
			}
			if err := s.publish(h); err != nil {
				failed = true
				if !errors.Is(err, blob.ErrBusy) {
					s.log.Error("a blob waiting for the object store cannot be uploaded", "blob", h.Short(), "err", err)
				}
				break
			}
		}
		switch {
		case failed:
			wait = min(max(2*wait, s.retryMin), s.retryMax)
		default:
			wait = 0
			if len(next) == 0 {
				wait = s.retryMax
			}
		}
	}
}
