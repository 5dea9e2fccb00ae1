package datadir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/storage"
	"fieldsync/storage/kv"
)

// testKDF is argon2id at its floor, to keep tests fast; production uses
// DefaultKDF.
func testKDF() *KDF {
	k := DefaultKDF()
	k.Time, k.MemoryKiB, k.Threads = 1, minKDFMemory, 1
	return &k
}

var nodeCfg = Config{Role: replication.RoleNode, Unit: "18586"}

func mustInit(t *testing.T, path string, opts InitOptions) {
	t.Helper()
	opts.Config = nodeCfg
	d, err := Init(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestInitWithoutKeyMakesAKeyFileBesideTheDirectory(t *testing.T) {
	tmp := t.TempDir()
	path := filepath.Join(tmp, "node")
	mustInit(t, path, InitOptions{})
	fi, err := os.Stat(path + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file beside the directory: %v %v", fi, err)
	}
	cfg, err := ReadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Key == nil || *cfg.Key != (KeySource{Source: KeySourceFile, File: filepath.Join("..", "node.key")}) || !cfg.Encrypted {
		t.Fatalf("config key source %+v", cfg.Key)
	}
	raw, _ := os.ReadFile(path + ".key")
	conf, _ := os.ReadFile(filepath.Join(path, ConfigFile))
	if bytes.Contains(conf, bytes.TrimSpace(raw)) {
		t.Fatal("config.json holds the key")
	}
	dev, _ := os.ReadFile(filepath.Join(path, KeyFile))
	if _, err := DecodeKey(dev); err == nil || !bytes.Contains(dev, []byte(sealedKeyPEMType)) {
		t.Fatalf("the device key is not sealed:\n%s", dev)
	}
	d, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	origin := d.Signer.Origin()
	d.Close()

	// A copy of the directory with its key file beside it opens as is.
	cp := filepath.Join(t.TempDir(), "copy")
	if err := os.MkdirAll(cp, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", path, path+".key", cp).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	d, err = Open(filepath.Join(cp, "node"), OpenOptions{})
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer d.Close()
	if d.Signer.Origin() != origin {
		t.Fatal("the copy has another device key")
	}
}

func TestKeySources(t *testing.T) {
	keyBytes := bytes.Repeat([]byte{7}, MasterKeySize)
	for _, tc := range []struct {
		name   string
		init   func(tmp string) InitOptions
		open   func(tmp string) OpenOptions // the right key, as a caller gives it
		source string
		needs  bool // Open with no key option fails with ErrNeedKey
	}{
		{"key file", func(tmp string) InitOptions { return InitOptions{KeyFile: filepath.Join(tmp, "master.key")} },
			func(string) OpenOptions { return OpenOptions{} }, KeySourceFile, false},
		{"passphrase", func(string) InitOptions {
			return InitOptions{Passphrase: []byte("mật khẩu đủ dài"), KDF: testKDF()}
		}, func(string) OpenOptions { return OpenOptions{Passphrase: []byte("mật khẩu đủ dài")} }, KeySourcePassphrase, true},
		{"supplied", func(string) InitOptions { return InitOptions{EncryptionKey: keyBytes} },
			func(string) OpenOptions { return OpenOptions{EncryptionKey: keyBytes} }, KeySourceSupplied, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			path := filepath.Join(tmp, "node")
			mustInit(t, path, tc.init(tmp))
			cfg, _ := ReadConfig(path)
			if cfg.Key.Source != tc.source {
				t.Fatalf("source %q, want %q", cfg.Key.Source, tc.source)
			}
			if _, err := os.Stat(path + ".key"); tc.source != KeySourceFile && err == nil {
				t.Fatal("a default key file was made although a key source was given")
			}
			d, err := Open(path, tc.open(tmp))
			if err != nil {
				t.Fatal(err)
			}
			d.Close()
			if _, err := Open(path, OpenOptions{}); tc.needs != errors.Is(err, ErrNeedKey) {
				t.Fatalf("open without a key: %v", err)
			}
		})
	}
}

// TestWrongKeyFailsClearlyAndChangesNothing: every way of giving a wrong
// key fails with ErrWrongKey naming the directory, and not one byte under
// the directory changes.
func TestWrongKeyFailsClearlyAndChangesNothing(t *testing.T) {
	tmp := t.TempDir()
	path := filepath.Join(tmp, "node")
	mustInit(t, path, InitOptions{Passphrase: []byte("the right passphrase"), KDF: testKDF()})
	other := filepath.Join(tmp, "other.key")
	if err := WriteNewKey(other, MasterKeySize); err != nil {
		t.Fatal(err)
	}
	before := oplogtest.HashTree(t, path)
	for name, opts := range map[string]OpenOptions{
		"passphrase": {Passphrase: []byte("a wrong passphrase")},
		"key file":   {KeyFile: other},
		"raw key":    {EncryptionKey: bytes.Repeat([]byte{1}, MasterKeySize)},
	} {
		_, err := Open(path, opts)
		if !errors.Is(err, ErrWrongKey) || !errors.Is(err, storage.ErrWrongKey) || !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: %v, want ErrWrongKey naming %s", name, err, path)
		}
		if !strings.Contains(err.Error(), "mismatch") {
			t.Fatalf("%s: %v does not carry Badger's ErrEncryptionKeyMismatch", name, err)
		}
		if _, err := Unlock(path, opts); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("%s: unlock: %v", name, err)
		}
	}
	oplogtest.SameTree(t, before, oplogtest.HashTree(t, path))
}

func TestOpenNeverStartsAnEmptyLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node")
	mustInit(t, path, InitOptions{})
	if err := os.RemoveAll(filepath.Join(path, LogDir)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, OpenOptions{})
	if !errors.Is(err, storage.ErrNoLog) || !strings.Contains(err.Error(), path) {
		t.Fatalf("open without its log: %v", err)
	}
	if _, err := os.Stat(filepath.Join(path, LogDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("open made a new log")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "nothing"), OpenOptions{}); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("open of a missing directory: %v", err)
	}
}

func TestKeyFileInsideTheDirectoryIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node")
	for _, kf := range []string{filepath.Join(path, "master.key"), filepath.Join(path, "keys", "k"), path} {
		if _, err := Init(path, InitOptions{Config: nodeCfg, KeyFile: kf}); err == nil || !strings.Contains(err.Error(), "inside the data directory") {
			t.Fatalf("init with key file %s: %v", kf, err)
		}
	}
	// Through a symlink too.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(path, InitOptions{Config: nodeCfg, KeyFile: filepath.Join(link, "k")}); err == nil {
		t.Fatal("a key file inside the directory through a symlink was accepted")
	}
}

// TestPassphraseIsNormalizedToNFC: the same words typed with combining
// accents (NFD) open a directory keyed with precomposed ones (NFC).
func TestPassphraseIsNormalizedToNFC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node")
	pass := "Trời mưa ở Hà Giang"
	mustInit(t, path, InitOptions{Passphrase: norm.NFC.Bytes([]byte(pass)), KDF: testKDF()})
	nfd := norm.NFD.Bytes([]byte(pass))
	if bytes.Equal(nfd, norm.NFC.Bytes([]byte(pass))) {
		t.Fatal("test passphrase has no combining forms")
	}
	d, err := Open(path, OpenOptions{Passphrase: nfd})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestShortPassphraseIsRefusedAtInit(t *testing.T) {
	_, err := Init(filepath.Join(t.TempDir(), "node"), InitOptions{Config: nodeCfg, Passphrase: []byte("123456"), KDF: testKDF()})
	if err == nil || !strings.Contains(err.Error(), "at least") {
		t.Fatalf("a 6-byte passphrase: %v", err)
	}
}

func TestRekey(t *testing.T) {
	for _, tc := range []struct {
		name     string
		init     func(tmp string) InitOptions
		old      OpenOptions
		next     func(tmp string) NewKey
		reopened func(tmp string) OpenOptions
	}{
		{"file to file", func(string) InitOptions { return InitOptions{} }, OpenOptions{},
			func(tmp string) NewKey { return NewKey{KeyFile: filepath.Join(tmp, "new.key")} },
			func(string) OpenOptions { return OpenOptions{} }},
		{"file to passphrase", func(string) InitOptions { return InitOptions{} }, OpenOptions{},
			func(string) NewKey { return NewKey{Passphrase: []byte("new passphrase here"), KDF: testKDF()} },
			func(string) OpenOptions { return OpenOptions{Passphrase: []byte("new passphrase here")} }},
		{"passphrase to passphrase", func(string) InitOptions {
			return InitOptions{Passphrase: []byte("old passphrase here"), KDF: testKDF()}
		}, OpenOptions{Passphrase: []byte("old passphrase here")},
			func(string) NewKey { return NewKey{Passphrase: []byte("new passphrase here"), KDF: testKDF()} },
			func(string) OpenOptions { return OpenOptions{Passphrase: []byte("new passphrase here")} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			path := filepath.Join(tmp, "node")
			origin, head := initWithEntries(t, path, tc.init(tmp))
			before := oldKeyOf(t, path, tc.old)
			if err := Rekey(path, tc.old, tc.next(tmp), storage.ProfileField); err != nil {
				t.Fatal(err)
			}
			checkRekeyed(t, path, before, tc.reopened(tmp), origin, head)
		})
	}
}

// TestRekeyResumesAfterACrashAtEveryStep stops Rekey before each of its
// steps (as a crash would), checks the directory is either still on the
// old key or refuses to open as half-rotated, then runs Rekey again with
// the same keys: it finishes, the old key is dead and the new one works.
func TestRekeyResumesAfterACrashAtEveryStep(t *testing.T) {
	defer func() { rekeyHook = nil }()
	for _, step := range []string{"config", "device-next", "registry", "reports", "device", "done"} {
		t.Run(step, func(t *testing.T) {
			tmp := t.TempDir()
			path := filepath.Join(tmp, "node")
			origin, head := initWithEntries(t, path, InitOptions{})
			before := oldKeyOf(t, path, OpenOptions{})
			next := NewKey{Passphrase: []byte("the new passphrase"), KDF: testKDF()}
			crash := errors.New("simulated crash")
			rekeyHook = func(s string) error {
				if s == step {
					return crash
				}
				return nil
			}
			if err := Rekey(path, OpenOptions{}, next, storage.ProfileField); !errors.Is(err, crash) {
				t.Fatalf("rekey with a crash at %s: %v", step, err)
			}
			rekeyHook = nil
			d, err := Open(path, OpenOptions{})
			if d != nil {
				d.Close()
			}
			if step == "config" {
				if err != nil {
					t.Fatalf("a crash before any change: the old key should still open it: %v", err)
				}
			} else if !errors.Is(err, ErrRekeyPending) {
				t.Fatalf("open of a half-rotated directory: %v, want ErrRekeyPending", err)
			}
			if err := Rekey(path, OpenOptions{}, next, storage.ProfileField); err != nil {
				t.Fatalf("rekey again after a crash at %s: %v", step, err)
			}
			checkRekeyed(t, path, before, OpenOptions{Passphrase: next.Passphrase}, origin, head)
		})
	}
}

func initWithEntries(t *testing.T, path string, opts InitOptions) (replication.OriginID, uint64) {
	t.Helper()
	opts.Config = nodeCfg
	d, err := Init(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var drafts []replication.Draft
	for i := range 20 {
		drafts = append(drafts, replication.Draft{Kind: replication.KindEnroll, Schema: 1, Payload: fmt.Appendf(nil, `{"n":%d}`, i), HLC: replication.MakeHLC(int64(10+i), 0)})
	}
	es, err := d.Log.Append(d.Signer, drafts)
	if err != nil {
		t.Fatal(err)
	}
	rw, err := d.Keyring().CreateReport("import-rejected")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{`{"line":1}`, `{"line":2}`} {
		if err := rw.Add([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	return d.Signer.Origin(), es[len(es)-1].Seq
}

// oldKeyOf returns the master key the old options find.
func oldKeyOf(t *testing.T, path string, opts OpenOptions) []byte {
	t.Helper()
	k, err := Unlock(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return k.master
}

func checkRekeyed(t *testing.T, path string, oldKey []byte, opts OpenOptions, origin replication.OriginID, head uint64) {
	t.Helper()
	if _, err := Open(path, OpenOptions{EncryptionKey: oldKey}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the old key still opens the directory: %v", err)
	}
	if err := storage.CheckKey(filepath.Join(path, LogDir), oldKey); !errors.Is(err, storage.ErrWrongKey) {
		t.Fatalf("the old key still opens Badger's key registry: %v", err)
	}
	if _, err := openWith(path, KeyFile, oldKey); err == nil {
		t.Fatal("the old key still opens the device key")
	}
	d, err := Open(path, opts)
	if err != nil {
		t.Fatalf("open with the new key: %v", err)
	}
	defer d.Close()
	if d.Signer.Origin() != origin {
		t.Fatal("the device key changed in the rekey")
	}
	if h, _ := d.Log.Head(origin); h.Seq != head {
		t.Fatalf("head %d after rekey, want %d", h.Seq, head)
	}
	if _, err := os.Stat(filepath.Join(path, nextKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("device.key.next left behind")
	}
	reports, _ := ListReports(path)
	if len(reports) != 1 {
		t.Fatalf("reports after rekey: %+v", reports)
	}
	n := 0
	if err := d.Keyring().ReadReport(reports[0].Name, func([]byte) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("the report under the new key: %d records, %v", n, err)
	}
	old := &Keyring{dir: path, master: oldKey}
	if err := old.ReadReport(reports[0].Name, func([]byte) error { return nil }); err == nil {
		t.Fatal("the old key still opens the report")
	}
	if _, err := d.Log.Append(d.Signer, []replication.Draft{{Kind: replication.KindEnroll, Schema: 1, Payload: []byte(`{}`), HLC: replication.MakeHLC(1e6, 0)}}); err != nil {
		t.Fatal(err)
	}
}

func TestReportsAreSealed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node")
	mustInit(t, path, InitOptions{})
	k, err := Unlock(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rw, err := k.CreateReport("import-rejected")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"line":3,"name":"NGUYỄN VĂN CANARY"}`, `{"line":9,"id":"001099012345"}`, ""}
	for _, r := range want {
		if err := rw.Add([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	if hit := grepTree(t, path, []string{"CANARY", "001099012345"}); hit != "" {
		t.Fatalf("plaintext in %s", hit)
	}
	list, err := ListReports(path)
	if err != nil || len(list) != 1 || list[0].Name != rw.Name() {
		t.Fatalf("list %+v %v", list, err)
	}
	var got []string
	if err := k.ReadReport(rw.Name(), func(b []byte) error { got = append(got, string(b)); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("read back %q", got)
	}
	file := filepath.Join(path, ReportDir, rw.Name())
	b, _ := os.ReadFile(file)
	for _, tc := range []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"flipped bit", func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-5] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"records swapped", func(b []byte) []byte { return swapFirstRecords(t, b) }},
	} {
		if err := os.WriteFile(file, tc.mut(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := k.ReadReport(rw.Name(), func([]byte) error { return nil }); !errors.Is(err, replication.ErrMalformed) {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	other := &Keyring{dir: path, master: bytes.Repeat([]byte{9}, MasterKeySize)}
	os.WriteFile(file, b, 0o600)
	if err := other.ReadReport(rw.Name(), func([]byte) error { return nil }); err == nil {
		t.Fatal("another key reads the report")
	}
	if err := k.ReadReport("../config.json", func([]byte) error { return nil }); err == nil {
		t.Fatal("a path outside the reports was read")
	}
}

func swapFirstRecords(t *testing.T, b []byte) []byte {
	t.Helper()
	h := len(reportMagic) + reportIDSize
	l1 := 4 + int(uint32(b[h])<<24|uint32(b[h+1])<<16|uint32(b[h+2])<<8|uint32(b[h+3]))
	r1 := b[h : h+l1]
	l2 := 4 + int(uint32(b[h+l1])<<24|uint32(b[h+l1+1])<<16|uint32(b[h+l1+2])<<8|uint32(b[h+l1+3]))
	r2 := b[h+l1 : h+l1+l2]
	out := append(bytes.Clone(b[:h]), r2...)
	out = append(out, r1...)
	return append(out, b[h+l1+l2:]...)
}

func grepTree(t *testing.T, dir string, needles []string) string {
	t.Helper()
	hit := ""
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				hit = p
			}
		}
		return nil
	})
	return hit
}

// TestInitThatDidNotFinishIsNotTakenForADirectory: config.json is written
// last, so an init stopped before it (a full disk refusing the genesis)
// leaves no directory that Open accepts, and init again says what to do.
func TestInitThatDidNotFinishIsNotTakenForADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node")
	cfg := nodeCfg
	cfg.MinFreeMB = 1 << 20 // a floor no disk here clears: the genesis is refused
	_, err := Init(path, InitOptions{Config: cfg})
	if !errors.Is(err, storage.ErrDiskFull) {
		t.Fatalf("init below the floor: %v", err)
	}
	if _, err := Open(path, OpenOptions{}); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("open after a failed init: %v", err)
	}
	if _, err := Init(path, InitOptions{Config: nodeCfg}); err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("init again: %v", err)
	}
}

// TestRekeyTakesTheView: a hub's view store (DIR/view) is re-encrypted with
// the log; afterwards the new key opens it, with what it held.
func TestRekeyTakesTheView(t *testing.T) {
	tmp := t.TempDir()
	path := filepath.Join(tmp, "hub")
	d, err := Init(path, InitOptions{Config: Config{Role: replication.RoleHub, Tier: "district", Unit: "445", Name: "h", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	view, err := d.OpenView()
	if err != nil {
		t.Fatal(err)
	}
	if err := view.Update(func(tx kv.Txn) error { return tx.Set([]byte("c/042085000123"), []byte("a row")) }); err != nil {
		t.Fatal(err)
	}
	view.Close()
	d.Close()
	next := NewKey{Passphrase: []byte("the new passphrase"), KDF: testKDF()}
	if err := Rekey(path, OpenOptions{}, next, storage.ProfileField); err != nil {
		t.Fatal(err)
	}
	d, err = Open(path, OpenOptions{Passphrase: next.Passphrase})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	view, err = d.OpenView()
	if err != nil {
		t.Fatalf("the new key does not open the view: %v", err)
	}
	defer view.Close()
	err = view.View(func(r kv.Reader) error {
		v, err := r.Get([]byte("c/042085000123"))
		if err == nil && string(v) != "a row" {
			err = errors.New("the view's row changed")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
