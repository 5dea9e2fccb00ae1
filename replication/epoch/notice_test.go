package epoch

import (
	"bytes"
	"errors"
	"testing"

	"fieldsync/replication"
)

func sampleNotice() Notice {
	return Notice{Evidence: EvidenceIngest, Origin: replication.OriginID{7}, From: 51, At: 51, Held: replication.Hash{1}, Other: replication.Hash{2}}
}

func TestNoticeRoundTripAndRefusals(t *testing.T) {
	n := sampleNotice()
	b, err := n.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeNotice(b); err != nil || got != n {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for name, mut := range map[string]func(*Notice){
		"unknown evidence": func(n *Notice) { n.Evidence = 3 },
		"no origin":        func(n *Notice) { n.Origin = replication.OriginID{} },
		"from after at":    func(n *Notice) { n.From = 60 },
		"from 0":           func(n *Notice) { n.From = 0 },
		"one hash twice":   func(n *Notice) { n.Other = n.Held },
	} {
		n := sampleNotice()
		mut(&n)
		if _, err := n.Encode(); !errors.Is(err, replication.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := DecodeNotice(append(b, 0)); !errors.Is(err, replication.ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
}

func FuzzDecodeNotice(f *testing.F) {
	n := sampleNotice()
	good, _ := n.Encode()
	f.Add(good)
	f.Add(good[:10])
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := DecodeNotice(b)
		if err != nil {
			return
		}
		again, err := n.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes do not re-encode to themselves: %v", err)
		}
	})
}
