package storage_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/storage"
)

func newKey(t testing.TB) []byte {
	k := make([]byte, storage.MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestEncryptedProfilesWriteCloseReopenRead is the CI test LIBRARIES.md asks
// for: with the production options of every profile and a master key,
// write, close (which flushes the memtable to an encrypted table: the
// point where a missing IndexCacheSize panics), reopen (which loads the
// table's index) and read everything back; and no stored byte holds the
// plaintext.
func TestEncryptedProfilesWriteCloseReopenRead(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile storage.Profile
	}{{"field", storage.ProfileField}, {"hub", storage.ProfileHub}, {"small", storage.ProfileSmall}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, key := t.TempDir(), newKey(t)
			opts := storage.Options{Dir: dir, EncryptionKey: key, Profile: tc.profile}
			l, err := storage.OpenLog(opts)
			if err != nil {
				t.Fatal(err)
			}
			s := oplogtest.NewSigner(7)
			mustAppend(t, l, s, oplogtest.GenesisDraft(s))
			const n = 300
			drafts := oplogtest.Drafts(n, "PLAINTEXTCANARY")
			for i := 0; i < n; i += 100 {
				mustAppend(t, l, s, drafts[i:i+100]...)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst")); len(ssts) == 0 {
				t.Fatal("close flushed no table: the encrypted table path was not exercised")
			}
			for i := 0; i < 2; i++ { // the second reopen reads a directory this build reopened
				l, err = storage.OpenLog(opts)
				if err != nil {
					t.Fatalf("reopen %d: %v", i, err)
				}
				if h, _ := l.Head(s.Origin()); h.Seq != n+1 {
					t.Fatalf("reopen %d: head %d, want %d", i, h.Seq, n+1)
				}
				e, err := l.Get(replication.EntryID{Origin: s.Origin(), Seq: n})
				if err != nil || !bytes.Contains(e.Payload, []byte("PLAINTEXTCANARY")) {
					t.Fatalf("reopen %d: read back %q, %v", i, e.Payload, err)
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if hit := grepDir(t, dir, []byte("PLAINTEXTCANARY")); hit != "" {
				t.Fatalf("plaintext found in %s", hit)
			}
		})
	}
}

func mustAppend(t *testing.T, l oplog.Log, s *replication.KeySigner, d ...replication.Draft) {
	t.Helper()
	if _, err := l.Append(s, d); err != nil {
		t.Fatal(err)
	}
}

func grepDir(t *testing.T, dir string, needle []byte) string {
	t.Helper()
	hit := ""
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, needle) {
			hit = p
		}
		return nil
	})
	return hit
}

func TestWrongKeyChangesNothing(t *testing.T) {
	dir, key := t.TempDir(), newKey(t)
	l, err := storage.OpenLog(storage.Options{Dir: dir, EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	s := oplogtest.NewSigner(1)
	mustAppend(t, l, s, oplogtest.GenesisDraft(s))
	l.Close()
	before := oplogtest.HashTree(t, dir)
	for name, k := range map[string][]byte{"other key": newKey(t), "no key": nil} {
		_, err := storage.OpenLog(storage.Options{Dir: dir, EncryptionKey: k})
		if !errors.Is(err, storage.ErrWrongKey) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("%s: %v, want ErrWrongKey naming %s", name, err, dir)
		}
		if k != nil && !errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			t.Fatalf("%s: %v does not wrap Badger's ErrEncryptionKeyMismatch", name, err)
		}
	}
	if _, err := storage.OpenLog(storage.Options{Dir: dir, EncryptionKey: key[:16]}); !errors.Is(err, storage.ErrBadKey) {
		t.Fatalf("a 16-byte key: %v, want ErrBadKey", err)
	}
	oplogtest.SameTree(t, before, oplogtest.HashTree(t, dir))
}

func TestMustExistNeverCreatesAnEmptyLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, err := storage.OpenLog(storage.Options{Dir: dir, EncryptionKey: newKey(t), MustExist: true})
	if !errors.Is(err, storage.ErrNoLog) {
		t.Fatalf("open of a missing log: %v, want ErrNoLog", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open of a missing log created %s", dir)
	}
}

func TestRekey(t *testing.T) {
	dir, oldKey, newK := t.TempDir(), newKey(t), newKey(t)
	l, err := storage.OpenLog(storage.Options{Dir: dir, EncryptionKey: oldKey})
	if err != nil {
		t.Fatal(err)
	}
	s := oplogtest.NewSigner(3)
	mustAppend(t, l, s, oplogtest.GenesisDraft(s))
	mustAppend(t, l, s, oplogtest.Drafts(50, "x")...)
	l.Close()
	if err := storage.Rekey(dir, newKey(t), newK, storage.ProfileField); !errors.Is(err, storage.ErrWrongKey) {
		t.Fatalf("rekey with the wrong old key: %v", err)
	}
	if err := storage.Rekey(dir, oldKey, newK, storage.ProfileField); err != nil {
		t.Fatal(err)
	}
	if err := storage.Rekey(dir, oldKey, newK, storage.ProfileField); err != nil {
		t.Fatalf("rekey again (resumed) should be a no-op: %v", err)
	}
	if _, err := storage.OpenLog(storage.Options{Dir: dir, EncryptionKey: oldKey}); !errors.Is(err, storage.ErrWrongKey) {
		t.Fatalf("the old key still opens the log: %v", err)
	}
	l, err = storage.OpenLog(storage.Options{Dir: dir, EncryptionKey: newK})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if h, _ := l.Head(s.Origin()); h.Seq != 51 {
		t.Fatalf("head after rekey %d", h.Seq)
	}
	mustAppend(t, l, s, oplogtest.Drafts(1, "after")...)
}

func TestRekeyRefusesAnOpenLog(t *testing.T) {
	dir, key := t.TempDir(), newKey(t)
	l, err := storage.OpenLog(storage.Options{Dir: dir, EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := storage.Rekey(dir, key, newKey(t), storage.ProfileField); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("rekey of an open log: %v, want ErrLocked", err)
	}
}

func TestFreeSpaceFloorRefusesBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	l, err := storage.OpenLog(storage.Options{Dir: dir, MinFreeBytes: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := oplogtest.NewSigner(1)
	_, err = l.Append(s, []replication.Draft{oplogtest.GenesisDraft(s)})
	if !errors.Is(err, storage.ErrDiskFull) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("append below the floor: %v", err)
	}
	if h, _ := l.Head(s.Origin()); h.Seq != 0 {
		t.Fatalf("a refused append moved the head to %d", h.Seq)
	}
	if f := storage.DefaultMinFree(storage.ProfileField); f < 64<<20 || f > 256<<20 {
		t.Fatalf("field floor %d MiB out of the documented range", f>>20)
	}
}

// BenchmarkAppendEncryption measures what encryption at rest costs a
// field laptop's appends: groups of 100 enrollment-sized drafts (about
// 1.5 KB each), synced, with and without a master key, side by side.
//
//	go test ./replication/oplog/ -run XXX -bench AppendEncryption -benchtime 200x
func BenchmarkAppendEncryption(b *testing.B) {
	payload := bytes.Repeat([]byte(`{"full_name":"Nguyễn Văn An","text":"Xã Thạch Kênh, Huyện Thạch Hà"}`), 20)
	for _, tc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"encrypted", newKey(b)}} {
		b.Run(tc.name, func(b *testing.B) {
			l, err := storage.OpenLog(storage.Options{Dir: b.TempDir(), EncryptionKey: tc.key})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			s := oplogtest.NewSigner(1)
			if _, err := l.Append(s, []replication.Draft{oplogtest.GenesisDraft(s)}); err != nil {
				b.Fatal(err)
			}
			drafts := make([]replication.Draft, 100)
			for i := range drafts {
				drafts[i] = replication.Draft{Kind: replication.KindEnroll, Schema: 1, Payload: payload, HLC: replication.MakeHLC(int64(10+i), 0)}
			}
			b.SetBytes(int64(len(drafts) * len(payload)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := l.Append(s, drafts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
