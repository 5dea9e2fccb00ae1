package epoch

import (
	"bytes"
	"errors"
	"testing"

	"fieldsync/replication"
)

func sampleReissue() Reissue {
	return Reissue{Of: replication.EntryID{Origin: replication.OriginID{1, 2, 3}, Seq: 42}, Hash: replication.Hash{9},
		Kind: replication.KindAmend, Schema: 1, Payload: []byte(`{"target":"x"}`)}
}

func TestReissueRoundTrip(t *testing.T) {
	r := sampleReissue()
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeReissue(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Of != r.Of || got.Hash != r.Hash || got.Kind != r.Kind || got.Schema != r.Schema || !bytes.Equal(got.Payload, r.Payload) {
		t.Fatalf("round trip: %+v, want %+v", got, r)
	}
}

func TestReissueRefuses(t *testing.T) {
	good, _ := func() ([]byte, error) { r := sampleReissue(); return r.Encode() }()
	for _, tc := range []struct {
		name string
		mut  func(r *Reissue)
		want error
	}{
		{"a genesis", func(r *Reissue) { r.Kind = replication.KindGenesis }, replication.ErrMalformed},
		{"a reissue of a reissue", func(r *Reissue) { r.Kind = replication.KindReissue }, replication.ErrMalformed},
		{"seq 1", func(r *Reissue) { r.Of.Seq = 1 }, replication.ErrMalformed},
		{"no origin", func(r *Reissue) { r.Of.Origin = replication.OriginID{} }, replication.ErrMalformed},
		{"too large", func(r *Reissue) { r.Payload = make([]byte, MaxReissuable+1) }, replication.ErrTooLarge},
	} {
		r := sampleReissue()
		tc.mut(&r)
		if _, err := r.Encode(); !errors.Is(err, tc.want) {
			t.Errorf("encode %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, b := range [][]byte{nil, good[:reissueHeader-1], append([]byte{2}, good[1:]...)} {
		if _, err := DecodeReissue(b); !errors.Is(err, replication.ErrMalformed) {
			t.Errorf("decode %x: %v, want ErrMalformed", b, err)
		}
	}
}

// FuzzDecodeReissue: no panic, bounded, and what decodes re-encodes to the
// same bytes (one encoding per value).
func FuzzDecodeReissue(f *testing.F) {
	r := sampleReissue()
	good, _ := r.Encode()
	f.Add(good)
	f.Add(good[:reissueHeader])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeReissue(b)
		if err != nil {
			return
		}
		if len(r.Payload) > MaxReissuable {
			t.Fatalf("payload of %d bytes accepted", len(r.Payload))
		}
		again, err := r.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes do not re-encode to themselves: %v", err)
		}
	})
}
