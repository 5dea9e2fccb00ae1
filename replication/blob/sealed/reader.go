package sealed

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"

	"fieldsync/replication/blob"
)

// reader reads a committed blob. Every record is opened (GCM) before a
// byte of it is returned; a sequential read also checks the SHA-256 of the
// whole before it reports io.EOF.
type reader struct {
	f    io.ReaderAt
	c    io.Closer // nil: nothing to close
	path string    // the file read, named in errors ("" for other readers)
	hd   header
	recs []recordPos

	cur    int // index of the record in plain, -1 if none
	plain  []byte
	sealed []byte

	pos    int64
	hasher hash.Hash
	done   bool
}

func (s *Store) newReader(f *os.File, h blob.Hash) (*reader, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r, err := s.newReaderAt(f, fi.Size(), h, f)
	if err != nil {
		return nil, err
	}
	r.path = f.Name()
	return r, nil
}

// newReaderAt reads blob h from the sealed bytes f of the given size; c,
// if set, is closed with the reader.
func (s *Store) newReaderAt(f io.ReaderAt, size int64, h blob.Hash, c io.Closer) (*reader, error) {
	hd, err := s.keys.readHeader(f)
	if err != nil {
		return nil, err
	}
	if hd.id.Hash != h {
		return nil, fmt.Errorf("%w: the file of %s names blob %s", blob.ErrCorrupt, h.Short(), hd.id.Hash.Short())
	}
	recs, err := scanRecords(f, size)
	if err != nil {
		return nil, fmt.Errorf("%w: blob %s: %w", blob.ErrCorrupt, h.Short(), err)
	}
	var total int64
	for _, r := range recs {
		total += int64(r.plainLen)
	}
	if total != hd.id.Size {
		return nil, fmt.Errorf("%w: blob %s holds %d of its %d bytes", blob.ErrCorrupt, h.Short(), total, hd.id.Size)
	}
	return &reader{f: f, c: c, hd: hd, recs: recs, cur: -1, hasher: sha256.New()}, nil
}

func (r *reader) Size() int64 { return r.hd.id.Size }

// inFile names the file read, for errors: the operator finds the damaged
// file by it (a blob's file name is not its hash).
func (r *reader) inFile() string {
	if r.path == "" {
		return ""
	}
	return " (file " + r.path + ")"
}

func (r *reader) Close() error {
	if r.c == nil {
		return nil
	}
	return r.c.Close()
}

// record returns record i's plain bytes, opened and checked.
func (r *reader) record(i int) ([]byte, error) {
	if r.cur == i {
		return r.plain, nil
	}
	rp := r.recs[i]
	if cap(r.sealed) < rp.sealed {
		r.sealed = make([]byte, rp.sealed)
	}
	buf := r.sealed[:rp.sealed]
	if _, err := r.f.ReadAt(buf, rp.fileOff+4); err != nil {
		return nil, fmt.Errorf("%w: blob %s%s: %w", blob.ErrCorrupt, r.hd.id.Hash.Short(), r.inFile(), err)
	}
	plain, err := r.hd.openRecord(rp.plainOff, buf, r.plain[:0])
	if err != nil {
		r.cur = -1
		return nil, fmt.Errorf("%w: blob %s%s: the record at byte %d does not open (the file was altered or the disk damaged it)",
			blob.ErrCorrupt, r.hd.id.Hash.Short(), r.inFile(), rp.plainOff)
	}
	r.cur, r.plain = i, plain
	return plain, nil
}

// ReadAt implements io.ReaderAt.
func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("sealed: negative offset %d", off)
	}
	n := 0
	for n < len(p) && off < r.hd.id.Size {
		i := sort.Search(len(r.recs), func(i int) bool { return r.recs[i].plainOff+int64(r.recs[i].plainLen) > off })
		plain, err := r.record(i)
		if err != nil {
			return n, err
		}
		k := copy(p[n:], plain[off-r.recs[i].plainOff:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Read implements io.Reader; the whole blob's SHA-256 is checked before
// io.EOF.
func (r *reader) Read(p []byte) (int, error) {
	if r.pos >= r.hd.id.Size {
		if !r.done {
			var got blob.Hash
			r.hasher.Sum(got[:0])
			if got != r.hd.id.Hash {
				return 0, fmt.Errorf("%w: blob %s%s reads back as %s", blob.ErrCorrupt, r.hd.id.Hash.Short(), r.inFile(), got.Short())
			}
			r.done = true
		}
		return 0, io.EOF
	}
	n, err := r.ReadAt(p, r.pos)
	r.hasher.Write(p[:n])
	r.pos += int64(n)
	if err == io.EOF {
		err = nil
	}
	return n, err
}
