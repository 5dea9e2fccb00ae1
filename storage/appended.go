package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"fieldsync/replication"
)

// The append watermark. Badger replays its memtable log (the .mem files)
// after a crash up to the first entry that does not match its checksum,
// and drops the rest in silence: one flipped bit there, and captures
// acknowledged to an officer are gone, with a store that reads as
// consistent. Entries received from peers come back by anti-entropy; a
// replica's own captures exist nowhere else until a hub has them. So
// every Append also records, outside Badger, the head it acknowledged
// (origin, seq, hash), synced before Append returns; an open that finds
// the store below it refuses, naming the memtable logs. The record has two
// slots written in turn, each with a generation and a CRC, so a write torn
// by a power cut leaves the other slot whole.

// AppendedFile is the watermark's file, in the store's directory.
const AppendedFile = "APPENDED"

const (
	appendedSlot  = 128
	appendedMagic = 0x66736877 // "fshw"
	appendedLen   = 4 + 8 + replication.OriginIDSize + 8 + replication.HashSize + 4
)

// appended is one watermark record.
type appended struct {
	gen  uint64
	head replication.OriginHead
}

func (a appended) encode() []byte {
	b := make([]byte, 0, appendedSlot)
	b = binary.BigEndian.AppendUint32(b, appendedMagic)
	b = binary.BigEndian.AppendUint64(b, a.gen)
	b = append(b, a.head.Origin[:]...)
	b = binary.BigEndian.AppendUint64(b, a.head.Seq)
	b = append(b, a.head.Hash[:]...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return append(b, make([]byte, appendedSlot-len(b))...)
}

func decodeAppended(b []byte) (appended, bool) {
	if len(b) < appendedLen || binary.BigEndian.Uint32(b) != appendedMagic ||
		crc32.ChecksumIEEE(b[:appendedLen-4]) != binary.BigEndian.Uint32(b[appendedLen-4:]) {
		return appended{}, false
	}
	var a appended
	a.gen = binary.BigEndian.Uint64(b[4:])
	copy(a.head.Origin[:], b[12:])
	a.head.Seq = binary.BigEndian.Uint64(b[12+replication.OriginIDSize:])
	copy(a.head.Hash[:], b[20+replication.OriginIDSize:])
	return a, true
}

// readAppended returns the newest whole record (ok false: no file yet).
func readAppended(dir string) (appended, bool, error) {
	path := filepath.Join(dir, AppendedFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(b) == 0 {
		return appended{}, false, nil
	}
	if err != nil {
		return appended{}, false, fmt.Errorf("storage: %w", err)
	}
	var best appended
	found := false
	for off := 0; off+appendedLen <= len(b) && off < 2*appendedSlot; off += appendedSlot {
		if a, ok := decodeAppended(b[off:]); ok && (!found || a.gen > best.gen) {
			best, found = a, true
		}
	}
	if !found {
		return appended{}, false, &DamageError{File: path, Detail: "neither of its two records reads (the head this replica last acknowledged)"}
	}
	return best, true, nil
}

// noteAppended records h as acknowledged (writeMu held). A failure is
// kept for the next call and does not fail the append: the entries are
// durable; the watermark only lags, which hides nothing already noted.
func (b *Log) noteAppended(h replication.OriginHead) {
	if b.opts.InMemory {
		return
	}
	b.appendedGen++
	rec := appended{gen: b.appendedGen, head: h}
	if b.appendedF == nil {
		f, err := os.OpenFile(filepath.Join(b.dir, AppendedFile), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return
		}
		b.appendedF = f
	}
	slot := int64(b.appendedGen%2) * appendedSlot
	if _, err := b.appendedF.WriteAt(rec.encode(), slot); err != nil {
		return
	}
	_ = b.appendedF.Sync()
}

// checkAppended compares the store with the watermark at open; mems are
// the memtable logs Badger replayed.
func (b *Log) checkAppended(mems []string) error {
	a, ok, err := readAppended(b.dir)
	if err != nil || !ok {
		return err
	}
	b.appendedGen = a.gen
	held := b.heads.Head(a.head.Origin)
	if held.Seq > a.head.Seq {
		return nil // the watermark lags (a crash between the commit and its note)
	}
	if held.Seq == a.head.Seq && held.Hash == a.head.Hash {
		return nil
	}
	where := "the store's files"
	if len(mems) > 0 {
		where = strings.Join(mems, ", ")
	}
	return &DamageError{File: filepath.Join(b.dir, firstNonEmpty(mems, AppendedFile)),
		Detail: fmt.Sprintf("this replica acknowledged entries of origin %s up to seq %d, and the store holds %d of them: the last writes were lost from %s (a memtable log that does not read past a damaged entry)",
			a.head.Origin.Short(), a.head.Seq, held.Seq, where),
		Holds: fmt.Sprintf("entries %s:%d..%d", a.head.Origin.Short(), held.Seq+1, a.head.Seq)}
}

// memNames lists dir's memtable logs (nil for a missing dir).
func memNames(dir string) []string {
	des, _ := os.ReadDir(dir)
	var out []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".mem") {
			out = append(out, de.Name())
		}
	}
	return out
}

func firstNonEmpty(names []string, or string) string {
	if len(names) > 0 {
		return names[0]
	}
	return or
}
