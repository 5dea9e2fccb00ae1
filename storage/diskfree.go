package storage

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/dgraph-io/badger/v4"

	"fieldsync/replication/diskfree"
)

// minFreeSlack is added to the profile's floor: room for one group commit
// (MaxAppendBytes, MaxIngestBytes) and the small files Badger rewrites
// (MANIFEST, key registry), with margin.
const minFreeSlack = 16 << 20

// DefaultMinFree returns the free-space floor for a profile: twice the
// memtable size plus minFreeSlack. Badger writes its write-ahead log,
// memtable flushes and compaction output through memory-mapped files that
// it sizes first and fills later; on a full disk such a write is not an
// error but SIGBUS, which kills the process. The floor keeps enough room
// for the worst that can follow an accepted write: the memtable that write
// completes is flushed to a table (at most its size), and the first
// compaction writes its output before it deletes its input.
func DefaultMinFree(p Profile) int64 {
	return 2*badgerOptions(Options{Profile: p}).MemTableSize + minFreeSlack
}

func minFreeFor(opt int64, bo badger.Options) int64 {
	switch {
	case opt < 0:
		return 0
	case opt > 0:
		return opt
	}
	return 2*bo.MemTableSize + minFreeSlack
}

// checkFree refuses a write when the disk holding dir is below the floor
// minFree (0: unchecked).
func checkFree(dir string, minFree int64) error {
	if minFree <= 0 {
		return nil
	}
	free, err := diskfree.Bytes(dir)
	if err != nil || free < 0 {
		return nil // unknown: the write's own errors still surface
	}
	if free < minFree {
		return fmt.Errorf("%w: %d MiB free on the disk of %s, below the %d MiB fieldsync keeps free for its store; nothing was written — free some space and retry",
			ErrDiskFull, free>>20, dir, minFree>>20)
	}
	return nil
}

// diskFullError names ENOSPC for what it is.
func diskFullError(dir string, err error) error {
	if errors.Is(err, syscall.ENOSPC) && !errors.Is(err, ErrDiskFull) {
		return fmt.Errorf("%w: no space left on the disk of %s; nothing of this write was acknowledged: %w", ErrDiskFull, dir, err)
	}
	return err
}

// FreeSpace returns the bytes still free on the disk holding the log and
// the floor below which its writes are refused (0: unchecked; free -1:
// unknown). A daemon raises an alarm while free is below the floor.
func (b *Log) FreeSpace() (free, floor int64) {
	if b.minFree <= 0 {
		return -1, 0
	}
	f, err := diskfree.Bytes(b.dir)
	if err != nil {
		return -1, b.minFree
	}
	return f, b.minFree
}
