package s3_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"fieldsync/internal/seaweed"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/s3"
)

// The client's calls against a real SeaweedFS.
func TestClientAgainstSeaweedFS(t *testing.T) {
	srv := seaweed.Shared(t)
	ctx := context.Background()
	c, err := srv.Bucket(ctx, "client-test")
	if err != nil {
		t.Fatal(err)
	}
	body := blobtest.Bytes(1, 100_000)
	if _, err := c.Put(ctx, "a/one", body); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "a/one", 0, 0)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("get: %v (%d bytes)", err, len(got))
	}
	part, err := c.Get(ctx, "a/one", 1000, 10)
	if err != nil || !bytes.Equal(part, body[1000:1010]) {
		t.Fatalf("get range: %v %x", err, part)
	}
	info, err := c.Head(ctx, "a/one")
	if err != nil || info.Size != int64(len(body)) {
		t.Fatalf("head: %+v %v", info, err)
	}
	if _, err := c.Head(ctx, "a/none"); !errors.Is(err, s3.ErrNoSuchKey) {
		t.Fatalf("head of a missing key: %v", err)
	}
	if _, err := c.Get(ctx, "a/none", 0, 0); !errors.Is(err, s3.ErrNoSuchKey) {
		t.Fatalf("get of a missing key: %v", err)
	}

	// Multipart: two parts of 5 MiB and a short last one.
	big := blobtest.Bytes(2, 11<<20)
	id, err := c.CreateUpload(ctx, "a/big")
	if err != nil {
		t.Fatal(err)
	}
	var parts []s3.Part
	for i, off := 1, 0; off < len(big); i, off = i+1, off+5<<20 {
		p, err := c.UploadPart(ctx, "a/big", id, i, big[off:min(off+5<<20, len(big))])
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	listed, err := c.ListParts(ctx, "a/big", id)
	if err != nil || len(listed) != 3 || listed[2].ETag != parts[2].ETag {
		t.Fatalf("list parts: %+v %v", listed, err)
	}
	var ups []s3.Upload
	if err := c.ListUploads(ctx, "a/", func(u s3.Upload) bool { ups = append(ups, u); return true }); err != nil || len(ups) != 1 || ups[0].ID != id {
		t.Fatalf("list uploads: %+v %v", ups, err)
	}
	if err := c.CompleteUpload(ctx, "a/big", id, parts); err != nil {
		t.Fatal(err)
	}
	got, err = c.Get(ctx, "a/big", 0, 0)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("get multipart object: %v", err)
	}

	// An aborted upload leaves nothing.
	id2, err := c.CreateUpload(ctx, "a/aborted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, "a/aborted", id2, 1, body); err != nil {
		t.Fatal(err)
	}
	if err := c.AbortUpload(ctx, "a/aborted", id2); err != nil {
		t.Fatal(err)
	}
	ups = nil
	c.ListUploads(ctx, "a/", func(u s3.Upload) bool { ups = append(ups, u); return true })
	if len(ups) != 0 {
		t.Fatalf("uploads after complete and abort: %+v", ups)
	}

	var keys []string
	if err := c.List(ctx, "a/", func(o s3.ObjectInfo) bool { keys = append(keys, o.Key); return true }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "a/big" || keys[1] != "a/one" {
		t.Fatalf("list: %v", keys)
	}
	if err := c.Delete(ctx, "a/one"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Head(ctx, "a/one"); !errors.Is(err, s3.ErrNoSuchKey) {
		t.Fatalf("head after delete: %v", err)
	}

	// A wrong secret is refused, and says so.
	bad, err := s3.NewClient(s3.Config{Endpoint: srv.Endpoint(), Bucket: "client-test", Creds: s3.Credentials{AccessKey: srv.Creds.AccessKey, SecretKey: "wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Put(ctx, "a/forged", body)
	var se *s3.Error
	if !errors.As(err, &se) || se.Status != 403 || errors.Is(err, s3.ErrUnavailable) {
		t.Fatalf("a wrongly signed put: %v", err)
	}
	t.Logf("wrong secret: %v", err)
}
