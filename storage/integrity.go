package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// Damage on disk. Badger checks every table's checksum when it opens it
// and every block's when it reads it, and every value's (badgerOptions);
// a failure becomes a *DamageError naming the file, what it holds and what
// to do. Before Badger opens a directory, its manifest is read here: a
// manifest whose tail no longer reads, while tables it no longer lists are
// on disk, would make Badger delete those tables — silently, with what
// they held — so the store refuses to open instead.

// DamageError says which file of a store is damaged and what it holds.
// It wraps oplog.ErrCorrupt.
type DamageError struct {
	File   string // path of the damaged file
	Holds  string // what the file holds (entries of which origins, metadata), when known
	Detail string // what is wrong
	// Advice, when set, replaces the default of what to do (a store derived
	// from the log, such as a hub's view, is built again rather than
	// restored).
	Advice string
}

func (e *DamageError) Error() string {
	s := fmt.Sprintf("storage: %s is damaged: %s", e.File, e.Detail)
	if e.Holds != "" {
		s += "; it holds " + e.Holds
	}
	if e.Advice != "" {
		return s + ". " + e.Advice
	}
	return s + ". Do not write to this directory: copy it aside, then restore it from a backup or re-create the replica and sync it again from its hub (docs/SECURITY.md, damaged disk)"
}

func (e *DamageError) Unwrap() error { return oplog.ErrCorrupt }

// checkManifest reads dir's manifest before Badger does. A tail that does
// not read is what a crash leaves (the last change appended when the power
// went: Badger drops it, and what it was adding is still in the memtable
// logs) — unless tables the manifest no longer lists are on disk while no
// memtable log is: then the manifest is damaged, and Badger would delete
// those tables.
func checkManifest(dir string, bo badger.Options) error {
	path := filepath.Join(dir, badger.ManifestFilename)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	mf, readTo, err := badger.ReplayManifestFile(f, bo.ExternalMagicVersion, bo)
	if err != nil {
		return &DamageError{File: path, Detail: err.Error() + " (the list of the store's tables)"}
	}
	if readTo >= fi.Size() {
		return checkTables(dir, bo)
	}
	ssts, mems, err := storeFiles(dir)
	if err != nil {
		return err
	}
	var unlisted []string
	for _, id := range ssts {
		if _, ok := mf.Tables[id]; !ok {
			unlisted = append(unlisted, tableName(id))
		}
	}
	if len(unlisted) == 0 || mems > 0 {
		// A cut tail after a crash: Badger drops it; what it was adding is
		// still in the memtable logs, and nothing listed is lost.
		return checkTables(dir, bo)
	}
	return &DamageError{File: path, Detail: fmt.Sprintf("it reads only to byte %d of %d, and no longer lists %s, which are on disk: opening would delete them (the list of the store's tables)",
		readTo, fi.Size(), strings.Join(unlisted, ", "))}
}

// storeFiles lists the table IDs on disk and counts memtable logs.
func storeFiles(dir string) (ssts []uint64, mems int, err error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		switch {
		case strings.HasSuffix(name, ".sst"):
			if id, err := strconv.ParseUint(strings.TrimSuffix(name, ".sst"), 10, 64); err == nil {
				ssts = append(ssts, id)
			}
		case strings.HasSuffix(name, ".mem"):
			mems++
		}
	}
	return ssts, mems, nil
}

func tableName(id uint64) string { return fmt.Sprintf("%06d.sst", id) }

// fileInErr finds the store file a Badger error names.
var fileInErr = regexp.MustCompile(`([0-9]{6}\.(?:sst|vlog|mem))`)

// damage turns a Badger error that reports damage into a *DamageError
// naming the file (with what it holds, when db is open and the file is a
// table), or returns nil if err does not report damage.
func damage(dir string, db *badger.DB, err error) error {
	if err == nil {
		return nil
	}
	var de *DamageError
	if errors.As(err, &de) {
		return err
	}
	msg := err.Error()
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "checksum for data key"), strings.Contains(low, "keyregistry"):
		return &DamageError{File: filepath.Join(dir, badger.KeyRegistryFileName), Detail: msg + " (the store's data keys: without them nothing can be decrypted)"}
	case strings.Contains(low, "manifest"):
		return &DamageError{File: filepath.Join(dir, badger.ManifestFilename), Detail: msg + " (the list of the store's tables)"}
	case !strings.Contains(low, "checksum") && !strings.Contains(low, "corrupt") && !strings.Contains(low, "opening table") &&
		!strings.Contains(low, "open existing file") && !strings.Contains(low, "invalid") && !strings.Contains(low, "decode") &&
		!strings.Contains(low, "truncate") && !strings.Contains(low, "bad magic") && !strings.Contains(low, "unexpected eof"):
		return nil
	}
	m := fileInErr.FindString(msg)
	if m == "" {
		return nil // no file named: the caller may look for it (verifyTables)
	}
	out := &DamageError{File: filepath.Join(dir, m), Detail: msg}
	if db != nil && strings.HasSuffix(m, ".sst") {
		id, _ := strconv.ParseUint(strings.TrimSuffix(m, ".sst"), 10, 64)
		out.Holds = tableHolds(db, id)
	}
	return out
}

// tableHolds describes a table's key range: entries of which origins and
// seqs, heads, metadata.
func tableHolds(db *badger.DB, id uint64) string {
	for _, ti := range db.Tables() {
		if ti.ID != id {
			continue
		}
		return fmt.Sprintf("%d keys from %s to %s", ti.KeyCount, describeKey(ti.Left), describeKey(ti.Right))
	}
	return ""
}

// describeKey says what a store key is (a version suffix may follow it).
func describeKey(k []byte) string {
	if len(k) == 0 {
		return "?"
	}
	switch k[0] {
	case prefixEntry:
		if len(k) >= 1+replication.OriginIDSize+8 {
			var o replication.OriginID
			copy(o[:], k[1:])
			seq := uint64(0)
			for _, b := range k[1+replication.OriginIDSize : 1+replication.OriginIDSize+8] {
				seq = seq<<8 | uint64(b)
			}
			return fmt.Sprintf("entry %s:%d", o.Short(), seq)
		}
	case prefixHead:
		return "the heads"
	case prefixMeta:
		return fmt.Sprintf("metadata %q", strings.TrimRight(string(k[1:min(len(k), 40)]), "\x00"))
	}
	return fmt.Sprintf("key %x", k[:min(len(k), 16)])
}

// VerifyStore reads every table of the store whole, checking every block's
// checksum, and then every key and value: what `fieldsync verify` does
// beyond the chains. It returns a *DamageError for the first damaged file.
func (b *Log) VerifyStore() (StoreReport, error) {
	if b.isClosed() {
		return StoreReport{}, ErrClosed
	}
	return verifyStore(b.dir, b.opts, b.db)
}

// VerifyStore reads every table of the store whole and every key and
// value, as Log.VerifyStore does.
func (d *DB) VerifyStore() (StoreReport, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return StoreReport{}, ErrClosed
	}
	return verifyStore(d.dir, d.opts, d.db)
}

func verifyStore(dir string, opts Options, db *badger.DB) (StoreReport, error) {
	var rep StoreReport
	for _, ti := range db.Tables() {
		rep.Tables++
		rep.TableBytes += int64(ti.OnDiskSize)
	}
	if opts.InMemory {
		return rep, nil
	}
	if err := verifyTables(dir, badgerOptions(opts), db); err != nil {
		return rep, err
	}
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, AllVersions: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if err := item.Value(func([]byte) error { return nil }); err != nil {
				return err
			}
			rep.Keys++
		}
		return nil
	})
	if err != nil {
		if d := damage(dir, db, err); d != nil {
			return rep, d
		}
		return rep, fmt.Errorf("storage: verify: %w", err)
	}
	return rep, nil
}

// StoreReport is what VerifyStore read.
type StoreReport struct {
	Tables     int   `json:"tables"`
	TableBytes int64 `json:"table_bytes"`
	Keys       int   `json:"keys"`
}

// verifyTables reads every table the manifest lists, whole, on its own:
// every block is decrypted and its checksum checked, and the keys read
// must be as many as the table's index says. (Badger's own
// DB.VerifyChecksum dereferences a nil block on the first damaged one, in
// v4.9.6: it panics rather than report.) The first damaged table is a
// *DamageError naming it and what it holds.
func verifyTables(dir string, bo badger.Options, db *badger.DB) error {
	return eachTable(dir, bo, db, true)
}

// checkTables opens every table the manifest lists as Badger will, its
// footer and index only, before Badger does: Badger v4.9.6 panics, in a
// goroutine of its own (the process dies), on a table whose footer a bit
// flip damaged.
func checkTables(dir string, bo badger.Options) error {
	return eachTable(dir, bo, nil, false)
}

// eachTable checks each table the manifest lists: its index (whole false)
// or every block (whole true).
func eachTable(dir string, bo badger.Options, db *badger.DB, whole bool) error {
	path := filepath.Join(dir, badger.ManifestFilename)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	mf, _, err := badger.ReplayManifestFile(f, bo.ExternalMagicVersion, bo)
	f.Close()
	if err != nil {
		return &DamageError{File: path, Detail: err.Error()}
	}
	if len(mf.Tables) == 0 {
		return nil
	}
	kr, err := badger.OpenKeyRegistry(registryOptions(dir, bo.EncryptionKey, true))
	if err != nil {
		return translateOpenError(dir, err)
	}
	defer kr.Close()
	cache, err := ristretto.NewCache(&ristretto.Config[uint64, *fb.TableIndex]{NumCounters: 1000, MaxCost: 8 << 20, BufferItems: 64})
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer cache.Close()
	ids := make([]uint64, 0, len(mf.Tables))
	for id := range mf.Tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		file := filepath.Join(dir, tableName(id))
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return &DamageError{File: path, Detail: fmt.Sprintf("it lists table %s, which is not on disk (the list of the store's tables, or the table, was lost)", tableName(id))}
		}
		if err := checkTable(file, id, mf.Tables[id], kr, bo, cache, whole); err != nil {
			d := &DamageError{File: file, Detail: err.Error()}
			if db != nil {
				d.Holds = tableHolds(db, id)
			}
			return d
		}
	}
	return nil
}

// checkTable opens one table from a read-only mapping of its file (never
// through Badger's own file handling, which deletes a table whose last
// reference goes), under recover: Badger panics on some damage.
func checkTable(file string, id uint64, tm badger.TableManifest, kr *badger.KeyRegistry, bo badger.Options, cache *ristretto.Cache[uint64, *fb.TableIndex], whole bool) (err error) {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return errors.New("the file is empty")
	}
	// Read, not mapped: verify may run beside the open store (its memtable
	// flush, a compaction), and a mapped file that changes size under the
	// mapping kills the process with SIGBUS (TestBitFlipsAreDetected, 1 run
	// in 4). A table is at most a few tens of MB.
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return fmt.Errorf("it changed while being read: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable: %v", r)
		}
	}()
	dk, err := kr.DataKey(tm.KeyID)
	if err != nil {
		return fmt.Errorf("its data key %d: %w", tm.KeyID, err)
	}
	t, err := table.OpenInMemoryTable(data, id, &table.Options{ChkMode: options.OnBlockRead, BlockSize: bo.BlockSize,
		Compression: tm.Compression, DataKey: dk, IndexCache: cache, ZSTDCompressionLevel: bo.ZSTDCompressionLevel})
	if err != nil {
		return err
	}
	if !whole {
		return nil
	}
	it := t.NewIterator(0)
	defer it.Close()
	n := uint32(0)
	for it.Rewind(); it.Valid(); it.Next() {
		n++
	}
	if want := t.KeyCount(); n != want {
		return fmt.Errorf("%d of its %d keys read: a block does not match its checksum", n, want)
	}
	return nil
}
