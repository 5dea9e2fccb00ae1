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
		if again := encodeStored(&st); !bytes.Equal(again, b) {
			t.Fatalf("profile %x decodes and encodes as %x", b, again)
		}
	})
}

// FuzzDecodeExtra: what a view stored with a pair never panics the
// decoder; what decodes has one encoding (it re-encodes to itself).
func FuzzDecodeExtra(f *testing.F) {
	recs := synthRecordsNoise(f, 400, 23, 0.3)
	ix := build(DefaultConfig(), recs)
	for i, p := range ix.Pairs() {
		if i < 8 {
			f.Add(p.Extra)
		}
	}
	f.Add([]byte{extraVersion, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := DecodeExtra(b)
		if err != nil {
			return
		}
		var w [numCmp]int32
		var use [numCmp]bool
		for _, e := range x.Evidence {
			c := cmpOfCode(e.Code)
			w[c], use[c] = int32(e.Weight*16), e.Counted
		}
		if again := encodeExtra(x.Model, x.Points16, x.pat, &w, &use); !bytes.Equal(again, b) {
			t.Fatalf("extra %x decodes and encodes as %x", b, again)
		}
	})
}

// cmpOfCode is the comparison whose level has code.
func cmpOfCode(code string) int {
	for c := range numCmp {
		for _, t := range levelTexts[c] {
			if t.code == code && code != "" {
				return c
			}
		}
	}
	return -1
}
