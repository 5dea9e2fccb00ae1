package wire

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"fieldsync/replication"
)

const h64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestHexPackRoundTrip(t *testing.T) {
	bodies := []string{
		`{"sha256":"` + h64 + `"}`,
		`"` + h64 + `""` + h64 + `"`,                       // adjacent
		`""` + h64 + `"` + h64 + `"`,                       // a quote before, hex after
		"\xff\xff\"" + h64 + "\"\xff\x00\x01",              // escapes around a hash
		`"` + strings.ToUpper(h64) + `"` + `"` + h64 + `"`, // upper case stays text
	}
	for _, b := range bodies {
		packed := packHex(nil, []byte(b))
		if packed == nil {
			t.Fatalf("%q: not packed", b)
		}
		got, err := unpackCanonical(packed, len(b))
		if err != nil || string(got) != b {
			t.Fatalf("%q: round trip %q %v", b, got, err)
		}
	}
	for _, b := range []string{`{"name":"no hashes here"}`, `"` + h64[:63] + `"` + `"` + h64 + `x"`} {
		if packHex(nil, []byte(b)) != nil {
			t.Fatalf("%q has no hash to move and must not be packed", b)
		}
	}
}

func TestHexPackRandomBodies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{`"`, h64, `"` + h64 + `"`, "\xff", "\x00", "\x01", "a", `"x"`, "{", "}"}
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		for range rng.IntN(20) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		body := []byte(b.String())
		packed := packHex(nil, body)
		if packed == nil {
			continue
		}
		got, err := unpackCanonical(packed, len(body))
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("body %q: %q %v", body, got, err)
		}
	}
}

func TestHexPackRejectsNonCanonical(t *testing.T) {
	body := []byte(`{"a":"` + h64 + `"}`)
	good := packHex(nil, body)
	cases := map[string][]byte{
		"hash left as text": append(append([]byte{1}, `{"a":"`+h64+`"}`...), make([]byte, 32)...),
		"unknown marker":    bytes.Replace(good, []byte{0xff, 0x01}, []byte{0xff, 0x07}, 1),
		"marker at the end": append(append([]byte{0}, 'x'), 0xff),
		"extra hash bytes":  append(bytes.Replace(good, []byte{1}, []byte{2}, 1), make([]byte, 32)...),
		"zero hashes":       append([]byte{0}, "abc"...),
		"count too large":   {0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, packed := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := unpackCanonical(packed, len(body)); !errors.Is(err, replication.ErrMalformed) {
				t.Fatalf("accepted: %v", err)
			}
		})
	}
}

func TestStreamCodecNeverCompressesFrames(t *testing.T) {
	sc, err := NewStreamCodec(DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	_, es := testChain(t, 1, 200, true) // JSON entries: zstd would shrink them
	frame, err := sc.AppendFrame(nil, &Batch{ID: 1, Ranges: []Range{rangeOf(es, 0, len(es))}})
	if err != nil {
		t.Fatal(err)
	}
	if frame[2]&algoZstd != 0 {
		t.Fatalf("a stream codec compressed a frame (algo %d)", frame[2])
	}
	c, _ := NewCodec(DefaultLimits())
	if _, _, err := c.DecodeFrame(frame); err != nil {
		t.Fatalf("a plain codec must read a stream codec's frames: %v", err)
	}
}

func FuzzUnpackHex(f *testing.F) {
	f.Add(packHex(nil, []byte(`{"a":"`+h64+`"}`)), 40)
	f.Add([]byte{1, 0xff, 0x01}, 66)
	f.Fuzz(func(t *testing.T, packed []byte, want int) {
		if want < 0 || want > 1<<20 {
			return
		}
		body, err := unpackCanonical(packed, want)
		if err != nil {
			return
		}
		if again := packHex(nil, body); !bytes.Equal(again, packed) {
			t.Fatal("accepted a non-canonical packing")
		}
	})
}
