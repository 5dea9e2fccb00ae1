package roster_test

import (
	"bytes"
	"errors"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/rostertest"
)

func seedAdds(f *testing.F) {
	k := oplogtest.NewSigner(1).PublicKey()
	for _, a := range []roster.Add{
		{Key: k, Role: replication.RoleNode, Units: []string{"18586"}, Name: "laptop Thạch Kênh 1"},
		{Key: k, Role: replication.RoleHub, Tier: "district", Units: []string{"445", "436"}},
	} {
		b, err := roster.EncodeAdd(a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(append(b, ' '))
	}
	f.Add([]byte(`{"key":"AA==","role":"node","units":["1"]}`))
	f.Add([]byte(`{"key":null,"role":"node","units":[],"extra":1}`))
	f.Add(bytes.Repeat([]byte("["), 5000))
}

// FuzzDecodeAdd: no panic, bounded, and an accepted payload is canonical
// (re-encoding gives the same bytes) and valid.
func FuzzDecodeAdd(f *testing.F) {
	seedAdds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := roster.DecodeAdd(b)
		if err != nil {
			if !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, replication.ErrTooLarge) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if len(a.Units) == 0 || len(a.Units) > roster.MaxUnits || len(a.Key) != 32 {
			t.Fatalf("accepted an invalid add: %+v", a)
		}
		again, err := roster.EncodeAdd(a)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("not canonical: %q -> %q (%v)", b, again, err)
		}
	})
}

// FuzzDecodeRevoke: as FuzzDecodeAdd, for revocations.
func FuzzDecodeRevoke(f *testing.F) {
	s := oplogtest.NewSigner(2)
	for _, r := range []roster.Revoke{
		{Key: s.PublicKey()},
		{Key: s.PublicKey(), Keep: []roster.Limit{{Origin: s.Origin(), Seq: 41}, {Origin: s.WithEpoch(3).Origin(), Seq: 7}}, Note: "stolen 2026-03-02"},
	} {
		b, err := roster.EncodeRevoke(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte(`{"key":"","keep":[{"origin":"zz","seq":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := roster.DecodeRevoke(b)
		if err != nil {
			if !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, replication.ErrTooLarge) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if len(r.Keep) > roster.MaxKeep || len(r.Key) != 32 {
			t.Fatalf("accepted an invalid revocation: %+v", r)
		}
		again, err := roster.EncodeRevoke(r)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("not canonical: %q -> %q (%v)", b, again, err)
		}
	})
}

func TestDecodeRefusesNonCanonical(t *testing.T) {
	k := oplogtest.NewSigner(1).PublicKey()
	good, err := roster.EncodeAdd(roster.Add{Key: k, Role: replication.RoleNode, Units: []string{"18586", "18571"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roster.DecodeAdd(good); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"unsorted units": bytes.Replace(good, []byte(`"18571","18586"`), []byte(`"18586","18571"`), 1),
		"whitespace":     bytes.Replace(good, []byte(`,"role"`), []byte(`, "role"`), 1),
		"unknown field":  bytes.Replace(good, []byte(`{`), []byte(`{"x":1,`), 1),
		"node with tier": bytes.Replace(good, []byte(`"role":"node"`), []byte(`"role":"node","tier":"district"`), 1),
	} {
		if _, err := roster.DecodeAdd(b); !errors.Is(err, replication.ErrMalformed) {
			t.Errorf("%s: %s accepted (%v)", name, b, err)
		}
	}
}

// FuzzDecodeBundle: no panic, bounded, and an accepted bundle re-encodes
// to the same bytes.
func FuzzDecodeBundle(f *testing.F) {
	anchor := oplogtest.NewSigner(1)
	prov, g := rostertest.NewChain(roster.SignerFor(anchor), replication.RoleHub, "province")
	add := prov.AddDevice(f, roster.Add{Key: oplogtest.NewSigner(2).PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}})
	b, err := roster.EncodeBundle([]replication.Entry{g, add})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)-3])
	f.Add(append(append([]byte(nil), b[:30]...), 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte("fieldsync roster bundle v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := roster.DecodeBundle(b)
		if err != nil {
			if !errors.Is(err, replication.ErrMalformed) && !errors.Is(err, replication.ErrTooLarge) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		again, err := roster.EncodeBundle(es)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("not canonical (%v)", err)
		}
		roster.VerifyBundle(es, nil) // must not panic
	})
}
