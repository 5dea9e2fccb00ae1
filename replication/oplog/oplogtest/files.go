package oplogtest

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// HashTree maps every file and directory under dir to a hash of its mode,
// size and (for files) bytes: take one before and one after an operation
// that must change nothing on disk, and compare them with SameTree.
func HashTree(t testing.TB, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h := sha256.New()
		fmt.Fprint(h, fi.Mode(), fi.Size())
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		out[p] = [32]byte(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SameTree fails the test for every path that changed, vanished or
// appeared between two HashTree results.
func SameTree(t testing.TB, before, after map[string][32]byte) {
	t.Helper()
	if len(before) == 0 {
		t.Fatal("an empty tree proves nothing")
	}
	for p, h := range before {
		if a, ok := after[p]; !ok || a != h {
			t.Errorf("%s changed or vanished", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}
