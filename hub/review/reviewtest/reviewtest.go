// Package reviewtest makes review items for tests: captures that give a
// hub's view exactly one conflict and one probable duplicate.
package reviewtest

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
)

// Captures are the entries of two laptops (each origin from its genesis,
// in seq order): one citizen captured on both with different names (a
// conflict), and the same person again under a mistyped ID number (a
// probable duplicate).
type Captures struct {
	Entries []replication.Entry
	// Laptops are the laptops' device keys, and Commune the commune their
	// captures name (what a roster must admit).
	Laptops []ed25519.PublicKey
	Commune string
}

// Entries returns the Captures' entries.
func Entries(t testing.TB) []replication.Entry { return New(t).Entries }

// New makes the Captures.
func New(t testing.TB) Captures {
	t.Helper()
	gen, err := synth.New(synth.Config{Count: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := gen.Next()
	base := rec.Enrollment
	renamed := base
	renamed.FullName += " ANH"
	mistyped := base
	id := []byte(base.PersonalID)
	id[len(id)-1] = '0' + (id[len(id)-1]-'0'+1)%10
	mistyped.PersonalID = string(id)
	out := Captures{Commune: base.Capture.CommuneCode}
	laptop := func(seed uint64, recs ...enrollment.Enrollment) {
		s := oplogtest.NewSigner(seed)
		out.Laptops = append(out.Laptops, s.PublicKey())
		es := []replication.Entry{replication.Seal(s, oplogtest.GenesisDraft(s), 1, replication.Hash{})}
		for i, e := range recs {
			payload, err := json.Marshal(&e)
			if err != nil {
				t.Fatal(err)
			}
			d := replication.Draft{Kind: replication.KindEnroll, Schema: enrollment.SchemaVersion, Payload: payload,
				HLC: replication.MakeHLC(e.Capture.CapturedAt.UnixMilli()+int64(seed*1000+uint64(i)), 0)}
			prev := es[len(es)-1]
			es = append(es, replication.Seal(s, d, prev.Seq+1, prev.Hash()))
		}
		out.Entries = append(out.Entries, es...)
	}
	laptop(1, base, mistyped)
	laptop(2, renamed)
	return out
}
