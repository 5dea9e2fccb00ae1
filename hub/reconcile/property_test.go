package reconcile_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"fieldsync/enrollment"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
)

// randomWorld builds a tangled entry set: laptops enrolling a small pool of
// people with variants, corrections of each other's captures, voids,
// decisions at two tiers on conflicts and pairs, and a corrupt payload.
func randomWorld(seed uint64) *world {
	rng := rand.New(rand.NewPCG(seed, 99))
	w := newWorld()
	laptops := []string{"l1", "l2", "l3", "l4"}
	for i, l := range laptops {
		w.addOrigin(l, replication.RoleNode, "", uint64(10+i), rng.Int64N(2e12))
	}
	w.addOrigin("d1", replication.RoleHub, "district", 20, rng.Int64N(2e12))
	w.addOrigin("d2", replication.RoleHub, "district", 21, rng.Int64N(2e12))
	w.addOrigin("p1", replication.RoleHub, "province", 22, rng.Int64N(2e12))
	ids := []string{"042085000123", "042085000124", "042190000555", "", ""}
	names := []string{"Nguyễn_Văn_An", "NGUYỄN_VĂN_AN", "Nguyễn_Văn_Ân", "Trần_Thị_Hoa", "Tran_Thi_Hoa"}
	var captures []replication.EntryID
	for i := 0; i < 40; i++ {
		l := laptops[rng.IntN(len(laptops))]
		over := map[string]string{"id": ids[rng.IntN(len(ids))], "name": names[rng.IntN(len(names))],
			"dob":       []string{"1985-03-12", "1985-12-03", "1985"}[rng.IntN(3)],
			"residence": []string{"18586", "18073", "18100"}[rng.IntN(3)],
			"commune":   []string{"18586", "18073"}[rng.IntN(2)]}
		switch {
		case len(captures) > 0 && rng.IntN(4) == 0:
			target := captures[rng.IntN(len(captures))]
			p, _ := json.Marshal(enrollment.Amendment{Target: target.String(), Record: record(over)})
			captures = append(captures, w.add(l, replication.KindAmend, p))
		case len(captures) > 0 && rng.IntN(10) == 0:
			p, _ := json.Marshal(enrollment.Voiding{Target: captures[rng.IntN(len(captures))].String(), Reason: "x"})
			w.add(l, replication.KindVoid, p)
		default:
			p, _ := json.Marshal(record(over))
			captures = append(captures, w.add(l, replication.KindEnroll, p))
		}
	}
	for i := 0; i < 12; i++ {
		hub := []string{"d1", "d2", "p1"}[rng.IntN(3)]
		res := reconcile.Resolution{Officer: "o", Subject: reconcile.ConflictID(ids[rng.IntN(3)])}
		for _, c := range captures {
			if rng.IntN(3) > 0 {
				res.Versions = append(res.Versions, c.String())
			}
		}
		if len(res.Versions) > 0 {
			res.Choose = res.Versions[rng.IntN(len(res.Versions))]
		}
		if rng.IntN(3) == 0 {
			res = reconcile.Resolution{Officer: "o", Subject: reconcile.PairID(ids[0], "prov:"+captures[rng.IntN(len(captures))].String()),
				Verdict: []string{reconcile.VerdictSamePerson, reconcile.VerdictDistinct}[rng.IntN(2)]}
		}
		p, _ := json.Marshal(res)
		w.add(hub, replication.KindResolve, p)
	}
	w.add("l1", replication.KindEnroll, []byte("{not json"))
	return w
}

// TestOrderIndependence applies the same entry set in 1,000 random orders,
// each with duplicates mixed in, one entry per round or in rounds of
// random sizes, and requires one digest: Replay's.
func TestOrderIndependence(t *testing.T) {
	orders := 1000
	if testing.Short() { // the race detector's run (.ci/run): the orders are the unit tests' job
		orders = 100
	}
	for _, seed := range []uint64{1, 2, 3} {
		w := randomWorld(seed)
		want := w.applyAll("", 0)
		if replay := reconcile.Replay(reconcile.Config{Matcher: newTestMatcher()}, w.entries); replay.Digest() != want.Digest() {
			t.Fatalf("seed %d: the view in creation order differs from Replay's", seed)
		}
		digests := map[string]int{}
		rng := rand.New(rand.NewPCG(seed, 7))
		for i := 0; i < orders; i++ {
			es := append([]replication.Entry(nil), w.entries...)
			for range len(es) / 4 { // duplicates: re-deliver some entries
				es = append(es, es[rng.IntN(len(es))])
			}
			rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
			if i%10 == 0 {
				digests[w.apply(es).Digest()]++
			} else {
				digests[w.applyInRounds(es, rng).Digest()]++
			}
		}
		if len(digests) != 1 || digests[want.Digest()] != orders {
			t.Fatalf("seed %d: %d distinct digests over %d orders", seed, len(digests), orders)
		}
		st := want.Stats()
		if st.Conflicts == 0 || st.Decisions == 0 || st.Invalid != 1 {
			t.Fatalf("seed %d: the random world must exercise conflicts and decisions: %+v", seed, st)
		}
		t.Logf("seed %d: %d entries, %d orders with duplicates, 1 digest; %+v", seed, len(w.entries), orders, st)
	}
}
