package bundle

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"testing"
	"time"
)

// FuzzReadPart feeds arbitrary bytes to every decoder of a part: the
// header, the signature check, the recipient's seal and the frames. A
// clean error or frames that opened, never a panic, and never more than
// the limits allow.
func FuzzReadPart(f *testing.F) {
	seed := bytes.Repeat([]byte{3}, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	key, err := KeyOf(priv)
	if err != nil {
		f.Fatal(err)
	}
	var good bytes.Buffer
	w, err := NewWriter(&good, Header{ID: ID{1}, Part: 1, Direction: Up, Created: time.Unix(1e9, 0).Unix()}, priv,
		[]RecipientKey{{Device: priv.Public().(ed25519.PublicKey), Key: key.PublicKey()}}, 0)
	if err != nil {
		f.Fatal(err)
	}
	w.Add(FrameMessage, []byte("frame one"))
	w.Add(FrameAnswer, []byte(`{"bundle":"00000000000000000000000000000000","parts":[1]}`))
	w.Close(true)
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:len(good.Bytes())/2])
	f.Add([]byte(magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeHeader(b)
		ParseKey(b)
		p, err := OpenPart(bytes.NewReader(b), priv.Public().(ed25519.PublicKey), key)
		if err != nil {
			return
		}
		for range 1000 {
			_, body, err := p.Next()
			if err != nil {
				if err != io.EOF && p.ended {
					t.Fatal("an error after the end")
				}
				return
			}
			if len(body) > MaxFrame {
				t.Fatalf("a frame of %d bytes", len(body))
			}
		}
	})
}
