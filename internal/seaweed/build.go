package seaweed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Module and Version are the SeaweedFS the project builds.
const (
	Module  = "github.com/seaweedfs/seaweedfs"
	Version = "v0.0.0-20261109003541-7506e5f91cd6"
)

// CacheDir is where the binary is kept: the user's cache directory,
// fieldsync/seaweedfs/VERSION-GOVERSION (FIELDSYNC_CACHE overrides the
// root).
func CacheDir() (string, error) {
	root := os.Getenv("FIELDSYNC_CACHE")
	if root == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("seaweed: no cache directory (set FIELDSYNC_CACHE): %w", err)
		}
		root = filepath.Join(c, "fieldsync")
	}
	return filepath.Join(root, "seaweedfs", Version+"-"+runtime.Version()), nil
}

// Cached returns the path of the built binary, if there is one.
func Cached() (string, bool) {
	dir, err := CacheDir()
	if err != nil {
		return "", false
	}
	bin := filepath.Join(dir, "weed")
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bin, true
	}
	return "", false
}

// Build returns the cached binary, building it first if there is none.
// Concurrent builds (test packages run in parallel) wait for one another
// through a lock file. Progress goes to log.
func Build(ctx context.Context, log io.Writer) (string, error) {
	if bin, ok := Cached(); ok {
		return bin, nil
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("seaweed: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("seaweed: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("seaweed: lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if bin, ok := Cached(); ok { // built while we waited
		return bin, nil
	}
	start := time.Now()
	fmt.Fprintf(log, "seaweed: building SeaweedFS %s from the Go module proxy (once; several minutes on 2 cores)\n", Version)
	src, err := download(ctx)
	if err != nil {
		return "", err
	}
	work, err := os.MkdirTemp("", "seaweedfs-src-")
	if err != nil {
		return "", fmt.Errorf("seaweed: %w", err)
	}
	defer os.RemoveAll(work)
	if err := copyTree(src, work); err != nil {
		return "", fmt.Errorf("seaweed: copy the module to %s: %w", work, err)
	}
	tmp := filepath.Join(dir, "weed.tmp")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "./weed")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("seaweed: go build ./weed in %s: %w\n%s", work, err, tail(out.Bytes(), 4000))
	}
	bin := filepath.Join(dir, "weed")
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("seaweed: %w", err)
	}
	fmt.Fprintf(log, "seaweed: built %s in %s\n", bin, time.Since(start).Round(time.Second))
	return bin, nil
}

// download fetches the module into the module cache and returns its
// directory (read-only there).
func download(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", Module+"@"+Version)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("seaweed: go mod download %s@%s: %s", Module, Version, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("seaweed: go mod download %s@%s: %w\n%s", Module, Version, err, tail(stderr.Bytes(), 2000))
	}
	if info.Dir == "" {
		return "", errors.New("seaweed: go mod download gave no directory")
	}
	return info.Dir, nil
}

// copyTree copies a module directory, making what it writes writable.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil // the module zip holds no links; skip anything else
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
