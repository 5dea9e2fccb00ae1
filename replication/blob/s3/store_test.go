package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"fieldsync/internal/seaweed"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/s3"
)

var testKey = bytes.Repeat([]byte{0x42}, 32)

// harness opens stores over one SeaweedFS, each test of the suite in its
// own bucket and local directory.
type harness struct {
	srv *seaweed.Server
	n   int
	dir string
	c   *s3.Client
	cur *s3.Store
}

func (h *harness) open(t *testing.T, fresh bool) blob.Store {
	if h.c == nil {
		c, err := h.srv.Bucket(context.Background(), "conformance")
		if err != nil {
			t.Fatal(err)
		}
		h.c = c
	}
	if fresh {
		h.n++
		h.dir = t.TempDir()
	}
	s, err := s3.Open(s3.Options{Client: h.c, Prefix: fmt.Sprintf("t%d/", h.n), Owner: "test-hub", Dir: h.dir, Key: testKey, MinFreeBytes: -1, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	h.cur = s
	return s
}

func TestConformanceOnSeaweedFS(t *testing.T) {
	h := &harness{srv: seaweed.Shared(t)}
	blobtest.Run(t, blobtest.Harness{
		Open:   func(t *testing.T) blob.Store { return h.open(t, true) },
		Reopen: func(t *testing.T) blob.Store { return h.open(t, false) },
		Tamper: func(t *testing.T, hs blob.Hash) {
			ctx := context.Background()
			key := h.cur.ObjectKey(hs)
			raw, err := h.c.Get(ctx, key, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			raw[len(raw)/2] ^= 0x01
			if _, err := h.c.Put(ctx, key, raw); err != nil {
				t.Fatal(err)
			}
		},
	})
}
