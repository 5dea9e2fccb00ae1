package dossier_test

import (
	"bytes"
	"errors"
	"testing"

	"fieldsync/dossier"
	"fieldsync/replication"
)

func TestReceiptRoundTrip(t *testing.T) {
	r := dossier.Receipt{Origin: replication.OriginID{7}, Through: 40, ThroughHash: replication.Hash{1}, Also: []uint64{42, 45}}
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := dossier.DecodeReceipt(b)
	if err != nil || got.Origin != r.Origin || got.Through != 40 || len(got.Also) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	for seq, want := range map[uint64]bool{1: true, 40: true, 41: false, 42: true, 45: true, 46: false} {
		if got.Covers(seq) != want {
			t.Fatalf("covers %d", seq)
		}
	}
	for name, bad := range map[string]dossier.Receipt{
		"zero origin":     {Through: 1, ThroughHash: replication.Hash{1}},
		"nothing":         {Origin: replication.OriginID{1}},
		"through no hash": {Origin: replication.OriginID{1}, Through: 3},
		"also not above":  {Origin: replication.OriginID{1}, Through: 3, ThroughHash: replication.Hash{1}, Also: []uint64{3}},
		"also not sorted": {Origin: replication.OriginID{1}, Also: []uint64{5, 4}},
		"hash no through": {Origin: replication.OriginID{1}, ThroughHash: replication.Hash{1}, Also: []uint64{2}},
		"too many":        {Origin: replication.OriginID{1}, Also: make([]uint64, dossier.MaxReceiptSeqs+1)},
	} {
		if _, err := bad.Encode(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	if _, err := dossier.DecodeReceipt(append(b, 0)); !errors.Is(err, replication.ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func FuzzDecodeReceipt(f *testing.F) {
	r := dossier.Receipt{Origin: replication.OriginID{7}, Through: 40, ThroughHash: replication.Hash{1}, Also: []uint64{42, 45}}
	b, _ := r.Encode()
	f.Add(b)
	f.Add(b[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := dossier.DecodeReceipt(b)
		if err != nil {
			return
		}
		again, err := r.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted receipt does not re-encode to its bytes: %v", err)
		}
	})
}
