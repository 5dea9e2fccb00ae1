package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"fieldsync/replication/wire"
	"fieldsync/storage"
)

// The pre-built input lives on disk, not in memory, so that the peak
// memory of a timed phase is the phase's own: a province's batches are a
// few GB. Two files hold the same entries in the same order:
//
//   - batches: each sync batch as the frame the laptop's session sends
//     (wire stream codec, as inside a session's zstd stream); the hub
//     path reads and decodes them, as a hub decodes what arrives;
//   - kv: per batch, the keys and values a log stores for its entries
//     (storage.EntryKV); the baseline reads and writes them.
//
// Both are read back from the page cache right after they are written.
const (
	batchesFile = "batches.frames"
	kvFile      = "entries.kv"
	// spoolBuffer is the buffered I/O size of both files.
	spoolBuffer = 1 << 20
	// maxKVBatchBytes bounds one kv record: a sync batch's keys and values
	// are far below a frame's body limit.
	maxKVBatchBytes = 2 * wire.DefaultMaxBodyBytes
)

// spoolWriter writes both files.
type spoolWriter struct {
	codec      *wire.Codec
	files      [2]*os.File
	frames, kv *bufio.Writer
	slab       []byte // scratch for one kv record
}

func createSpool(dir string) (*spoolWriter, error) {
	codec, err := wire.NewStreamCodec(wire.DefaultLimits())
	if err != nil {
		return nil, err
	}
	w := &spoolWriter{codec: codec}
	for i, name := range []string{batchesFile, kvFile} {
		if w.files[i], err = os.Create(filepath.Join(dir, name)); err != nil {
			w.close()
			return nil, err
		}
	}
	w.frames, w.kv = bufio.NewWriterSize(w.files[0], spoolBuffer), bufio.NewWriterSize(w.files[1], spoolBuffer)
	return w, nil
}

// add writes one batch to both files and returns the kv bytes written.
func (w *spoolWriter) add(b *wire.Batch) (int64, error) {
	if _, err := w.codec.WriteFrame(w.frames, b); err != nil {
		return 0, err
	}
	w.slab = w.slab[:0]
	n := 0
	for ri := range b.Ranges {
		for i := range b.Ranges[ri].Entries {
			k, v, err := storage.EntryKV(&b.Ranges[ri].Entries[i])
			if err != nil {
				return 0, err
			}
			w.slab = binary.AppendUvarint(w.slab, uint64(len(k)))
			w.slab = append(w.slab, k...)
			w.slab = binary.AppendUvarint(w.slab, uint64(len(v)))
			w.slab = append(w.slab, v...)
			n += len(k) + len(v)
		}
	}
	if len(w.slab) > maxKVBatchBytes {
		return 0, fmt.Errorf("bench: kv record of %d bytes, limit %d", len(w.slab), maxKVBatchBytes)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(w.slab)))
	if _, err := w.kv.Write(hdr[:]); err != nil {
		return 0, err
	}
	_, err := w.kv.Write(w.slab)
	return int64(n), err
}

// finish flushes and closes both files.
func (w *spoolWriter) finish() error {
	err := errors.Join(w.frames.Flush(), w.kv.Flush())
	return errors.Join(err, w.close())
}

func (w *spoolWriter) close() error {
	var err error
	for _, f := range w.files {
		if f != nil {
			err = errors.Join(err, f.Close())
		}
	}
	return err
}

// frameReader reads the batches file.
type frameReader struct {
	f     *os.File
	r     *bufio.Reader
	codec *wire.Codec
}

func openFrames(dir string) (*frameReader, error) {
	codec, err := wire.NewStreamCodec(wire.DefaultLimits())
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, batchesFile))
	if err != nil {
		return nil, err
	}
	return &frameReader{f: f, r: bufio.NewReaderSize(f, spoolBuffer), codec: codec}, nil
}

// next returns the next batch, or io.EOF after the last.
func (fr *frameReader) next() (*wire.Batch, error) {
	m, _, err := fr.codec.ReadFrame(fr.r)
	if err != nil {
		return nil, err
	}
	b, ok := m.(*wire.Batch)
	if !ok {
		return nil, fmt.Errorf("bench: %s frame in the batches file", m.Type())
	}
	return b, nil
}

func (fr *frameReader) close() error { return fr.f.Close() }

// kvReader reads the kv file.
type kvReader struct {
	f *os.File
	r *bufio.Reader
}

func openKV(dir string) (*kvReader, error) {
	f, err := os.Open(filepath.Join(dir, kvFile))
	if err != nil {
		return nil, err
	}
	return &kvReader{f: f, r: bufio.NewReaderSize(f, spoolBuffer)}, nil
}

// next returns one batch's keys and values (alternating), or io.EOF. They
// share one fresh slab, since a write batch keeps them until it commits.
func (kr *kvReader) next(kvs [][]byte) ([][]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(kr.r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxKVBatchBytes {
		return nil, fmt.Errorf("bench: kv record of %d bytes, limit %d", n, maxKVBatchBytes)
	}
	slab := make([]byte, n)
	if _, err := io.ReadFull(kr.r, slab); err != nil {
		return nil, fmt.Errorf("bench: kv record: %w", err)
	}
	kvs = kvs[:0]
	for len(slab) > 0 {
		l, k := binary.Uvarint(slab)
		if k <= 0 || uint64(len(slab)-k) < l {
			return nil, errors.New("bench: kv record is corrupt")
		}
		kvs = append(kvs, slab[k:k+int(l)])
		slab = slab[k+int(l):]
	}
	if len(kvs)%2 != 0 {
		return nil, errors.New("bench: kv record has a key without a value")
	}
	return kvs, nil
}

func (kr *kvReader) close() error { return kr.f.Close() }
