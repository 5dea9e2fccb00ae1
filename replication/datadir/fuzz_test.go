package datadir

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fieldsync/replication"
)

// Every decoder of this package has a fuzz target (RELIABILITY.md §4):
// no panic, bounded work, and accepted input round-trips.

func FuzzDecodeHexKey(f *testing.F) {
	f.Add([]byte(hex.EncodeToString(bytes.Repeat([]byte{1}, 32)) + "\n"))
	f.Add([]byte("zz"))
	f.Add([]byte(""))
	f.Add([]byte(" " + hex.EncodeToString(make([]byte, 33))))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := DecodeHexKey(b, MasterKeySize)
		if err != nil {
			if !errors.Is(err, replication.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(k) != MasterKeySize {
			t.Fatalf("accepted a key of %d bytes", len(k))
		}
		k2, err := DecodeHexKey([]byte(hex.EncodeToString(k)), MasterKeySize)
		if err != nil || !bytes.Equal(k, k2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzKeySource decodes the key part of config.json (source, file, argon2id
// salt and parameters) as ReadConfig does, then derives a key from any
// parameters it accepts: within the limits, derivation stays bounded.
func FuzzKeySource(f *testing.F) {
	good, _ := json.Marshal(KeySource{Source: KeySourcePassphrase, KDF: testKDF()})
	f.Add(good)
	f.Add([]byte(`{"source":"file","file":"../node.key"}`))
	f.Add([]byte(`{"source":"supplied"}`))
	f.Add([]byte(`{"source":"passphrase","kdf":{"alg":"argon2id","salt":"00","time":4294967295,"memory_kib":4294967295,"threads":255}}`))
	f.Add([]byte(`{"source":"passphrase","kdf":{"alg":"argon2i","salt":"000102030405060708090a0b0c0d0e0f","time":1,"memory_kib":8192,"threads":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s KeySource
		if json.Unmarshal(b, &s) != nil || s.Validate() != nil {
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var s2 KeySource
		if err := json.Unmarshal(out, &s2); err != nil || s2.Validate() != nil {
			t.Fatalf("round trip of %s: %v", out, err)
		}
		if s.KDF == nil || s.KDF.MemoryKiB > 64<<10 || s.KDF.Time > 4 {
			return // costly but bounded by the limits; skip to keep fuzzing fast
		}
		start := time.Now()
		k, err := s.KDF.Derive([]byte("passphrase"))
		if err != nil || len(k) != MasterKeySize {
			t.Fatalf("derive with accepted parameters: %v", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("derivation took %v", d)
		}
	})
}

func FuzzOpenDeviceKey(f *testing.F) {
	master := bytes.Repeat([]byte{3}, MasterKeySize)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, ed25519.SeedSize))
	good, err := sealDeviceKey(master, priv)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-10])
	f.Add([]byte("-----BEGIN FIELDSYNC SEALED DEVICE KEY-----\n-----END FIELDSYNC SEALED DEVICE KEY-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := openDeviceKey(master, b)
		if err != nil {
			if !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, errOpen) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		resealed, err := sealDeviceKey(master, got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := openDeviceKey(master, resealed)
		if err != nil || !again.Equal(got) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzReadReport(f *testing.F) {
	dir := f.TempDir()
	k := &Keyring{dir: dir, master: bytes.Repeat([]byte{4}, MasterKeySize)}
	rw, err := k.CreateReport("fuzz")
	if err != nil {
		f.Fatal(err)
	}
	rw.Add([]byte(`{"line":1}`))
	rw.Add(nil)
	rw.Close()
	var good []byte
	for _, name := range mustList(f, dir) {
		good = mustRead(f, dir, name)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(append(bytes.Clone(reportMagic), make([]byte, reportIDSize+4)...))
	f.Add(append(append(bytes.Clone(reportMagic), make([]byte, reportIDSize)...), 0xff, 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := k.readReport(bytes.NewReader(b), func(rec []byte) error {
			if len(rec) > MaxReportRecord {
				t.Fatalf("record of %d bytes", len(rec))
			}
			n++
			return nil
		})
		if err != nil && !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, replication.ErrTooLarge) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func mustList(f *testing.F, dir string) []string {
	l, err := ListReports(dir)
	if err != nil || len(l) == 0 {
		f.Fatal(err)
	}
	var out []string
	for _, r := range l {
		out = append(out, r.Name)
	}
	return out
}

func mustRead(f *testing.F, dir, name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, ReportDir, name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzDecodeConfig reads config.json as ReadConfig does: no panic, and a
// config it accepts writes back to bytes it accepts again unchanged.
func FuzzDecodeConfig(f *testing.F) {
	good, _ := json.Marshal(Config{Version: ConfigVersion, Role: replication.RoleHub, Tier: "district", Unit: "436", Name: "hub-436",
		Pools: []PoolConfig{{Name: "d436", Listen: "0.0.0.0:7946", KeyFile: "d436.poolkey", Profile: "field"}}})
	f.Add(good)
	f.Add([]byte(`{"version":1,"role":"node","unit":"18586","name":"lap","min_free_mb":-2}`))
	f.Add([]byte(`{"version":1,"role":"node","unit":"18586","name":"lap","province_key":"00","open":true}`))
	f.Add([]byte(`{"pools":[{"name":"x"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := DecodeConfig(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeConfig(out)
		if err != nil {
			t.Fatalf("accepted config does not read back: %v\n%s", err, out)
		}
		if out2, _ := json.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("config changed on a round trip:\n%s\n%s", out, out2)
		}
	})
}
