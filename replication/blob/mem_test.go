package blob_test

import (
	"errors"
	"testing"

	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
)

func TestMemConformance(t *testing.T) {
	stores := map[string]*blob.Mem{}
	blobtest.Run(t, blobtest.Harness{
		Open: func(t *testing.T) blob.Store {
			stores[t.Name()] = blob.NewMem()
			return stores[t.Name()]
		},
		Reopen: func(t *testing.T) blob.Store { return stores[t.Name()].Reopen() },
		Tamper: func(t *testing.T, h blob.Hash) { stores[t.Name()].Tamper(h, 100_000) },
	})
}

func TestMemCrashKeepsOnlySyncedBytes(t *testing.T) {
	m := blob.NewMem()
	b := blobtest.Bytes(1, 10_000)
	id := blob.IDOf(b)
	w, err := m.Begin(id)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b[:4000])
	w.Sync()
	w.Write(b[4000:6000])
	m.Crash()
	if _, err := w.Write(b[6000:]); !errors.Is(err, blob.ErrClosed) {
		t.Fatalf("a writer outlived the crash: %v", err)
	}
	p, err := m.Partial(id.Hash)
	if err != nil || p.Durable != 4000 {
		t.Fatalf("partial after crash %+v %v", p, err)
	}
	w, err = m.Begin(id)
	if err != nil || w.Offset() != 4000 {
		t.Fatalf("resume %v", err)
	}
}

func TestMemCapacityIsDiskFull(t *testing.T) {
	m := blob.NewMem()
	m.SetCapacity(15_000)
	if _, err := blob.PutBytes(m, blobtest.Bytes(2, 10_000)); err != nil {
		t.Fatal(err)
	}
	_, err := blob.PutBytes(m, blobtest.Bytes(3, 10_000))
	if !errors.Is(err, blob.ErrDiskFull) {
		t.Fatalf("got %v, want ErrDiskFull", err)
	}
	u, _ := m.Usage()
	if u.Blobs != 1 {
		t.Fatalf("usage %+v", u)
	}
}

func TestParseHash(t *testing.T) {
	h := blob.HashOf([]byte("portrait"))
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{h.String(), true},
		{"ABCDEF" + h.String()[6:], true},
		{h.String()[:63], false},
		{h.String() + "0", false},
		{"zz" + h.String()[2:], false},
		{"", false},
	} {
		got, err := blob.ParseHash(tc.in)
		if (err == nil) != tc.ok {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if tc.ok && tc.in == h.String() && got != h {
			t.Fatal("round trip")
		}
	}
}
