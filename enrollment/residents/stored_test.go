package residents

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"fieldsync/storage/kv"
)

// storedRun applies ops to a stored census in kv.Mem, each op in a
// transaction of its own (as a hub's view applies entries in rounds), with
// pid(1) captured from the start and pid(2) captured after the ops.
func storedRun(t *testing.T, ops []op, retracted []op) kv.DB {
	t.Helper()
	db := kv.NewMem()
	step := func(fn func(c *Census)) {
		if err := db.Update(func(tx kv.Txn) error {
			c := NewStoredCensus(tx, nil)
			fn(c)
			return c.Flush()
		}); err != nil {
			t.Fatal(err)
		}
	}
	step(func(c *Census) { c.SetCaptured(pid(1), true) })
	for _, o := range ops {
		step(func(c *Census) { apply(c, o) })
	}
	for _, o := range retracted {
		step(func(c *Census) { retract(c, o) })
	}
	step(func(c *Census) { c.SetCaptured(pid(2), true) })
	return db
}

// The stored census is the memory census on disk: same counts, same people
// in every category, and a digest that depends only on the set of entries,
// retractions included.
func TestStoredCensusIsTheMemoryCensus(t *testing.T) {
	ops := scenario()
	mem := NewCensus(Config{Captured: captured(pid(1), pid(2))})
	for _, o := range ops {
		apply(mem, o)
	}
	read := func(db kv.DB) (communes []CommuneCounts, people map[string]Person, digest string) {
		people = map[string]Person{}
		db.View(func(r kv.Reader) error {
			var err error
			if communes, err = StoredCommunes(r); err != nil {
				t.Fatal(err)
			}
			for _, cc := range communes {
				ps, n, err := StoredPeople(r, cc.Commune, 0)
				if err != nil || n != len(ps) {
					t.Fatalf("%s: %d of %d people: %v", cc.Commune, len(ps), n, err)
				}
				for _, p := range ps {
					people[p.PersonalID] = p
				}
			}
			digest, _ = StoredDigest(r)
			return nil
		})
		return
	}
	communes, people, digest := read(storedRun(t, ops, nil))
	if fmt.Sprint(communes) != fmt.Sprint(mem.Communes()) {
		t.Fatalf("stored %v\nmemory %v", communes, mem.Communes())
	}
	for _, cc := range mem.Communes() {
		ps, _ := mem.People(cc.Commune, 0)
		for _, p := range ps {
			if got := people[p.PersonalID]; fmt.Sprintf("%+v", got.Status) != fmt.Sprintf("%+v", p.Status) || got.Category != p.Category || got.Captured != p.Captured || *got.Row != *p.Row {
				t.Errorf("%s stored %+v\nmemory %+v", p.PersonalID, got, p)
			}
		}
	}
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 5))
		order := append([]op(nil), ops...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		// Some retracted after being applied: the same as applying the rest.
		var extra []op
		for _, o := range ops {
			if rng.IntN(4) == 0 {
				extra = append(extra, o)
			}
		}
		var kept []op
		for _, o := range ops {
			if !containsOp(extra, o) {
				kept = append(kept, o)
			}
		}
		c1, _, d1 := read(storedRun(t, order, extra))
		c2, _, d2 := read(storedRun(t, kept, nil))
		if d1 != d2 || fmt.Sprint(c1) != fmt.Sprint(c2) {
			t.Fatalf("seed %d: apply all, retract %d: %v %s\napply the rest: %v %s", seed, len(extra), c1, d1, c2, d2)
		}
		if len(extra) == 0 && d1 != digest {
			t.Fatalf("seed %d: digest %s, want %s", seed, d1, digest)
		}
	}
}

func containsOp(ops []op, o op) bool {
	for _, x := range ops {
		if x.at == o.at {
			return true
		}
	}
	return false
}

func FuzzDecodePerson(f *testing.F) {
	p := &person{has: true, captured: true, cat: CatEnrolled, candidate: candidate{row: rowRef{ref: ref{hlc: 9, origin: hubA, seq: 2}, idx: 3}, commune: 18586, eligible: true}}
	p.status = &statusSet{items: []statusItem{{at: Ref{laptop, 4}, code: Away, officer: "CA-1", supersedes: []Ref{{other, 1}}}}}
	f.Add(encodePerson(p))
	f.Add([]byte{personVersion, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePerson(b)
		if err != nil {
			return
		}
		q, err := decodePerson(encodePerson(p))
		a, _ := json.Marshal(viewOf(1, p))
		b2, _ := json.Marshal(viewOf(1, q))
		if err != nil || string(a) != string(b2) {
			t.Fatalf("round trip: %+v\n%+v %v", p, q, err)
		}
	})
}
