package dedup

import (
	"bytes"
	"testing"
)

// FuzzDecodeModel: a model from another hub's entry never panics the
// decoder; what decodes re-encodes to itself and compiles the same.
func FuzzDecodeModel(f *testing.F) {
	f.Add(DefaultModel().Encode())
	f.Add(TextbookModel().Encode())
	f.Add([]byte(`{"format":1,"comparisons":[{"name":"given","levels":[{"code":"given-equal","w16":5}]}]}`))
	f.Add([]byte(`{"format":1,"tf":[{"field":"given","values":[{"fold":"hung","adj_w16":-9999}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeModel(b)
		if err != nil {
			return
		}
		again, err := DecodeModel(m.Encode())
		if err != nil || again.ID() != m.ID() || !bytes.Equal(again.Encode(), m.Encode()) {
			t.Fatalf("a decoded model does not round-trip: %v", err)
		}
	})
}

// FuzzDecodeProfile: a stored profile never panics the decoder or the
// Index; what decodes is indexed and re-encoded the same.
func FuzzDecodeProfile(f *testing.F) {
	for _, r := range synthRecordsNoise(f, 60, 19, 0.3) {
		f.Add(EncodeProfile(&r))
	}
	f.Add([]byte{profileVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeProfile(b)
		if err != nil {
			return
		}
		ix := NewIndex(DefaultConfig())
		if err := ix.PutProfile("k", b, "r"); err != nil {
			t.Fatalf("decoded but not indexed: %v", err)
		}
		_ = ix.Pairs()
		ix.Delete("k")
		if ix.Len() != 0 {
			t.Fatal("not deleted")
		}
		_ = st
	})
}
