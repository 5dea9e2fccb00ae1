package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fieldsync/internal/seaweed"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/s3"
)

// The child process of the kill -9 test: it writes blobs into the store
// named by its environment, in chunks (synced) as the sync lane does, and
// prints "committed HASH" once each Commit returns, until it is killed.
const childEnv = "FIELDSYNC_S3_CHILD"

func childMain() int {
	c, err := s3.NewClient(s3.Config{Endpoint: os.Getenv("S3_ENDPOINT"), Bucket: os.Getenv("S3_BUCKET"),
		Creds: s3.Credentials{AccessKey: os.Getenv("S3_ACCESS"), SecretKey: os.Getenv("S3_SECRET")}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	st, err := s3.Open(s3.Options{Client: c, Prefix: "hub/", Owner: "crash-hub", Dir: os.Getenv("S3_DIR"), Key: testKey, MinFreeBytes: -1, PartSize: 5 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	seed, _ := strconv.ParseUint(os.Getenv("S3_SEED"), 10, 64)
	for i := uint64(0); ; i++ {
		b := crashBlob(seed*1000 + i)
		id := blob.IDOf(b)
		w, err := st.Begin(id)
		if errors.Is(err, blob.ErrExists) {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "begin:", err)
			return 1
		}
		for off := w.Offset(); off < id.Size; off += 256 << 10 {
			if _, err := w.Write(b[off:min(off+256<<10, id.Size)]); err != nil {
				fmt.Fprintln(os.Stderr, "write:", err)
				return 1
			}
			if err := w.Sync(); err != nil {
				fmt.Fprintln(os.Stderr, "sync:", err)
				return 1
			}
		}
		if err := w.Commit(); err != nil {
			fmt.Fprintln(os.Stderr, "commit:", err)
			return 1
		}
		fmt.Printf("committed %s\n", id.Hash)
	}
}

// crashBlob: every third blob is larger than a part (a multipart upload),
// the others a portrait's size.
func crashBlob(n uint64) []byte {
	if n%3 == 0 {
		return blobtest.Bytes(n, 12<<20+int(n%1000))
	}
	return blobtest.Bytes(n, 300_000+int(n%1000))
}

// TestKill9MidUpload kills a process writing blobs to the object store at
// random points, five times, and reopens the store after each: every blob
// whose Commit returned is held and reads back; what a killed process left
// whole on local disk is uploaded by the next; at the end each blob is one
// object, no multipart upload is left in the store, and the local disk
// holds nothing more.
func TestKill9MidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	srv := seaweed.Shared(t)
	ctx := context.Background()
	c, err := srv.Bucket(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	committed := map[blob.Hash]bool{}
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1", "S3_ENDPOINT="+srv.Endpoint(), "S3_BUCKET=crash", "S3_ACCESS="+srv.Creds.AccessKey,
			"S3_SECRET="+srv.Creds.SecretKey, "S3_DIR="+dir, "S3_SEED="+strconv.Itoa(round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Kill after the first commit plus 0-2 s: mid-write, mid-seal or
		// mid-upload, wherever it falls.
		first := true
		var kill <-chan time.Time
		deadline := time.After(2 * time.Minute)
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: the writer ended: %s", round, stderr.String())
				}
				hs, ok := strings.CutPrefix(l, "committed ")
				if !ok {
					continue
				}
				var h blob.Hash
				if _, err := hex.Decode(h[:], []byte(hs)); err != nil {
					t.Fatal(err)
				}
				committed[h] = true
				if first {
					first = false
					kill = time.After(time.Duration(rng.IntN(2000)) * time.Millisecond)
				}
			case <-kill:
				break wait
			case <-deadline:
				t.Fatalf("round %d: no commit in 2 minutes: %s", round, stderr.String())
			}
		}
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		for l := range lines { // what it printed before it died
			if hs, ok := strings.CutPrefix(l, "committed "); ok {
				var h blob.Hash
				hex.Decode(h[:], []byte(hs))
				committed[h] = true
			}
		}
	}
	st, err := s3.Open(s3.Options{Client: c, Prefix: "hub/", Owner: "crash-hub", Dir: dir, Key: testKey, MinFreeBytes: -1, PartSize: 5 << 20, RetryMin: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitFor(t, "the uploader to empty the local disk", func() bool { return st.Health().Waiting == 0 })
	for h := range committed {
		if err := blob.Check(st, h); err != nil {
			t.Fatalf("a committed blob: %v", err)
		}
	}
	var listed int
	seen := map[string]bool{}
	c.List(ctx, "hub/b/", func(o s3.ObjectInfo) bool {
		if seen[o.Key] {
			t.Errorf("key %s listed twice", o.Key)
		}
		seen[o.Key] = true
		listed++
		return true
	})
	u, err := st.Usage()
	if err != nil {
		t.Fatal(err)
	}
	var uploads []s3.Upload
	c.ListUploads(ctx, "hub/", func(up s3.Upload) bool { uploads = append(uploads, up); return true })
	t.Logf("%d blobs committed before a kill, %d objects after 5 kills and a reopen (%d partial writes kept to resume), %d multipart uploads left",
		len(committed), listed, u.Partials, len(uploads))
	if listed < len(committed) || u.Blobs != listed {
		t.Fatalf("%d objects, %d blobs, for %d committed", listed, u.Blobs, len(committed))
	}
	if len(uploads) != 0 {
		t.Fatalf("multipart uploads left in the store: %+v", uploads)
	}
	if h := st.Health(); h.Waiting != 0 || !h.Up {
		t.Fatalf("health %+v", h)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOutageWaitsThenUploads stops SeaweedFS with blobs being written:
// Commit says busy, the blob waits whole on local disk and is not held,
// Health is down; once the store is back the uploader takes it up, and
// nothing is lost or stored twice.
func TestOutageWaitsThenUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server")
	}
	srv := seaweed.Start(t) // its own: this test stops it
	ctx := context.Background()
	c, err := srv.Bucket(ctx, "outage")
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 3 * time.Second
	var downs, ups int
	st, err := s3.Open(s3.Options{Client: c, Prefix: "hub/", Owner: "h", Dir: t.TempDir(), Key: testKey, MinFreeBytes: -1,
		RetryMin: 100 * time.Millisecond, RetryMax: time.Second,
		OnHealth: func(h s3.Health) {
			if h.Up {
				ups++
			} else {
				downs++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before, err := blob.PutBytes(st, blobtest.Bytes(100, 200_000))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	// With the store down the blob is still taken, on local disk, chunk
	// by chunk; Commit says busy: not acknowledged.
	b := blobtest.Bytes(101, 300_000)
	id := blob.IDOf(b)
	w, err := st.Begin(id)
	if err != nil {
		t.Fatalf("begin with the store down: %v", err)
	}
	for off := int64(0); off < id.Size; off += 64 << 10 {
		if _, err := w.Write(b[off:min(off+64<<10, id.Size)]); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); !errors.Is(err, blob.ErrBusy) {
		t.Fatalf("commit with the store down: %v, want ErrBusy", err)
	} else {
		t.Logf("commit with the store down: %v", err)
	}
	if held, err := st.Has([]blob.Hash{id.Hash, before.Hash}); err != nil || held[0] || held[1] != true {
		t.Fatalf("has with the store down: %v %v (the waiting blob must not be held; the one before is remembered)", held, err)
	}
	if _, err := st.Begin(id); !errors.Is(err, blob.ErrBusy) {
		t.Fatalf("begin of a waiting blob with the store down: %v, want ErrBusy", err)
	}
	h := st.Health()
	if h.Up || downs != 1 || h.Waiting != 1 || h.WaitingBytes != id.Size {
		t.Fatalf("health with the store down: %+v (downs %d)", h, downs)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the blob to be uploaded", func() bool { return st.Health().Waiting == 0 && st.Health().Up })
	for _, hh := range []blob.Hash{before.Hash, id.Hash} {
		if err := blob.Check(st, hh); err != nil {
			t.Fatal(err)
		}
	}
	if ups < 1 || downs < 1 {
		t.Fatalf("store down reported %d times, back %d times", downs, ups)
	}
	n := 0
	c.List(ctx, "hub/b/", func(s3.ObjectInfo) bool { n++; return true })
	if n != 2 {
		t.Fatalf("%d objects for 2 blobs", n)
	}
	if _, err := st.Begin(id); !errors.Is(err, blob.ErrExists) {
		t.Fatalf("begin after the upload: %v", err)
	}
}
