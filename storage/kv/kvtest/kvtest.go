// Package kvtest is the conformance suite every kv.DB passes (kv.Mem,
// storage.DB), and a check of kv.Batch over each.
package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"fieldsync/storage/kv"
)

// Run runs the suite on stores made by open (each test gets a fresh one).
func Run(t *testing.T, open func(t *testing.T) kv.DB) {
	t.Run("get set delete", func(t *testing.T) { testBasics(t, open(t)) })
	t.Run("scan prefix and from", func(t *testing.T) { testScan(t, open(t)) })
	t.Run("a failed update writes nothing", func(t *testing.T) { testAtomic(t, open(t)) })
	t.Run("a view is a snapshot", func(t *testing.T) { testSnapshot(t, open(t)) })
	t.Run("batch reads through its writes", func(t *testing.T) { testBatch(t, open(t)) })
}

func set(t *testing.T, db kv.DB, kvs ...string) {
	t.Helper()
	err := db.Update(func(tx kv.Txn) error {
		for i := 0; i < len(kvs); i += 2 {
			if err := tx.Set([]byte(kvs[i]), []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, db kv.DB, key string) (string, bool) {
	t.Helper()
	var v []byte
	err := db.View(func(r kv.Reader) error {
		var err error
		v, err = r.Get([]byte(key))
		return err
	})
	if errors.Is(err, kv.ErrNotFound) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(v), true
}

func scan(t *testing.T, r kv.Reader, prefix, from string) []string {
	t.Helper()
	var out []string
	var f []byte
	if from != "" {
		f = []byte(from)
	}
	if err := r.Scan([]byte(prefix), f, func(k, v []byte) bool {
		out = append(out, string(k)+"="+string(v))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func testBasics(t *testing.T, db kv.DB) {
	if _, ok := get(t, db, "a"); ok {
		t.Fatal("an empty store holds a")
	}
	set(t, db, "a", "1", "b", "2")
	if v, ok := get(t, db, "a"); !ok || v != "1" {
		t.Fatalf("a = %q %v", v, ok)
	}
	err := db.Update(func(tx kv.Txn) error {
		if err := tx.Delete([]byte("a")); err != nil {
			return err
		}
		if _, err := tx.Get([]byte("a")); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("a transaction must read its own delete: %v", err)
		}
		return tx.Set([]byte("b"), []byte("3"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := get(t, db, "a"); ok {
		t.Fatal("a survived its delete")
	}
	if v, _ := get(t, db, "b"); v != "3" {
		t.Fatalf("b = %q", v)
	}
}

func testScan(t *testing.T, db kv.DB) {
	set(t, db, "p/a", "1", "p/b", "2", "p/c", "3", "q/a", "4", "p", "0", "o/z", "5", "p\xff", "6")
	err := db.View(func(r kv.Reader) error {
		if got := scan(t, r, "p/", ""); !slices.Equal(got, []string{"p/a=1", "p/b=2", "p/c=3"}) {
			return fmt.Errorf("scan p/: %v", got)
		}
		if got := scan(t, r, "p/", "p/b"); !slices.Equal(got, []string{"p/b=2", "p/c=3"}) {
			return fmt.Errorf("scan p/ from p/b: %v", got)
		}
		if got := scan(t, r, "p/", "a"); len(got) != 3 {
			return fmt.Errorf("a from below the prefix starts at the prefix: %v", got)
		}
		if got := scan(t, r, "", ""); len(got) != 7 {
			return fmt.Errorf("scan everything: %v", got)
		}
		n := 0
		if err := r.Scan([]byte("p/"), nil, func(k, v []byte) bool { n++; return false }); err != nil || n != 1 {
			return fmt.Errorf("a scan stops when told: %d %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testAtomic(t *testing.T, db kv.DB) {
	set(t, db, "a", "1")
	boom := errors.New("boom")
	err := db.Update(func(tx kv.Txn) error {
		tx.Set([]byte("a"), []byte("2"))
		tx.Set([]byte("b"), []byte("2"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v", err)
	}
	if v, _ := get(t, db, "a"); v != "1" {
		t.Fatalf("a failed update changed a: %q", v)
	}
	if _, ok := get(t, db, "b"); ok {
		t.Fatal("a failed update wrote b")
	}
}

func testSnapshot(t *testing.T, db kv.DB) {
	set(t, db, "a", "1")
	err := db.View(func(r kv.Reader) error {
		set(t, db, "a", "2", "b", "2")
		if v, _ := r.Get([]byte("a")); string(v) != "1" {
			return fmt.Errorf("a view saw a later write: a = %q", v)
		}
		if got := scan(t, r, "", ""); len(got) != 1 {
			return fmt.Errorf("a view's scan saw a later write: %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testBatch drives a Batch over the store and a map side by side with
// random writes and checks every read, then writes the batch.
func testBatch(t *testing.T, db kv.DB) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() string { return fmt.Sprintf("%c/%02d", "abc"[rng.IntN(3)], rng.IntN(30)) }
	model := map[string]string{}
	for range 40 {
		k, v := key(), fmt.Sprint(rng.IntN(1000))
		set(t, db, k, v)
		model[k] = v
	}
	err := db.Update(func(tx kv.Txn) error {
		b := kv.NewBatch(tx)
		for i := range 2000 {
			k := key()
			switch rng.IntN(4) {
			case 0:
				b.Delete([]byte(k))
				delete(model, k)
			case 1, 2:
				v := fmt.Sprint(i)
				b.Set([]byte(k), []byte(v))
				model[k] = v
			default:
				got, err := b.Get([]byte(k))
				want, ok := model[k]
				if ok != (err == nil) || ok && string(got) != want {
					return fmt.Errorf("batch get %s = %q %v, want %q %v", k, got, err, want, ok)
				}
			}
			if i%50 == 0 {
				prefix := string("abc"[rng.IntN(3)]) + "/"
				from := ""
				if rng.IntN(2) == 0 {
					from = key()
				}
				if got, want := scan(t, b, prefix, from), modelScan(model, prefix, from); !slices.Equal(got, want) {
					return fmt.Errorf("batch scan %s from %q:\n got %v\nwant %v", prefix, from, got, want)
				}
			}
		}
		return b.WriteTo(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(r kv.Reader) error {
		if got, want := scan(t, r, "", ""), modelScan(model, "", ""); !slices.Equal(got, want) {
			return fmt.Errorf("after WriteTo:\n got %v\nwant %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func modelScan(m map[string]string, prefix, from string) []string {
	var keys []string
	for k := range m {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix && bytes.Compare([]byte(k), []byte(from)) >= 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return out
}
