package reconcile_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/roster"
)

// handleRoster runs the golden files' roster commands:
//
//	anchor seed=N                                the province's roster key (origin "roster")
//	roster add NAME [role=hub tier=T] [units=U,V] [by=ORIGIN]
//	roster revoke NAME [keep=NAME:SEQ,...] [by=ORIGIN]
func (w *world) handleRoster(t *testing.T, d *datadriven.TestData, args map[string]string) string {
	if d.Cmd == "anchor" {
		var seed uint64
		fmt.Sscan(args["seed"], &seed)
		w.addAnchor(seed)
		return ""
	}
	op, name := d.CmdArgs[0].Key, d.CmdArgs[1].Key
	by := args["by"]
	if by == "" {
		by = "roster"
	}
	key := w.origins[name].signer.PublicKey()
	var draft replication.Draft
	var err error
	switch op {
	case "add":
		units := []string{"18586"}
		if args["units"] != "" {
			units = strings.Split(args["units"], ",")
		}
		role := replication.RoleNode
		if args["role"] == "hub" {
			role = replication.RoleHub
		}
		draft, err = roster.AddDraft(roster.Add{Key: key, Role: role, Tier: args["tier"], Units: units, Name: name}, 0)
	case "revoke":
		var keep []roster.Limit
		if args["keep"] != "" {
			for _, ref := range strings.Split(args["keep"], ",") {
				id := w.parseRef(ref)
				keep = append(keep, roster.Limit{Origin: id.Origin, Seq: id.Seq})
			}
		}
		draft, err = roster.RevokeDraft(roster.Revoke{Key: key, Keep: keep}, 0)
	default:
		t.Fatalf("roster %s: want add or revoke", op)
	}
	if err != nil {
		t.Fatal(err)
	}
	return w.ref(w.add(by, draft.Kind, draft.Payload))
}

// addAnchor adds the roster origin of a province hub whose device key
// derives from seed, and makes its key the view's anchor.
func (w *world) addAnchor(seed uint64) {
	s := roster.SignerFor(oplogtest.NewSigner(seed))
	o := &origin{name: "roster", signer: s, clock: 1}
	w.origins["roster"], w.names[s.Origin()] = o, "roster"
	w.order = append(w.order, "roster")
	p, _ := json.Marshal(replication.NewGenesis(s, replication.RoleHub, "province", "42"))
	w.add("roster", replication.KindGenesis, p)
	w.anchor = s.PublicKey()
}

// rosterWorld is randomWorld under a roster: l1 may capture in two
// districts, l2 in two communes, l3 in one (its captures elsewhere are
// out of scope), l4 is not on the roster, the hubs are, and l2 is revoked
// keeping half of what it wrote — the revocation placed before or after
// the entries it withdraws, depending on the order of application.
func rosterWorld(seed uint64) *world {
	w := randomWorld(seed)
	w.addAnchor(seed + 1000)
	add := func(name string, role replication.Role, tier string, units ...string) {
		d, err := roster.AddDraft(roster.Add{Key: w.origins[name].signer.PublicKey(), Role: role, Tier: tier, Units: units}, 0)
		if err != nil {
			panic(err)
		}
		w.add("roster", d.Kind, d.Payload)
	}
	add("l1", replication.RoleNode, "", "445", "436")
	add("l2", replication.RoleNode, "", "18586", "18073")
	add("l3", replication.RoleNode, "", "18586")
	add("d1", replication.RoleHub, "district", "445")
	add("d2", replication.RoleHub, "district", "436")
	add("p1", replication.RoleHub, "province", "42")
	l2 := w.origins["l2"]
	d, err := roster.RevokeDraft(roster.Revoke{Key: l2.signer.PublicKey(), Keep: []roster.Limit{{Origin: l2.signer.Origin(), Seq: l2.seq / 2}}}, 0)
	if err != nil {
		panic(err)
	}
	w.add("roster", d.Kind, d.Payload)
	// A hub that writes a roster entry of its own: refused (not the anchor).
	d, _ = roster.AddDraft(roster.Add{Key: w.origins["l4"].signer.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}}, 0)
	w.add("d1", d.Kind, d.Payload)
	return w
}

// TestRuleZeroIsOrderIndependent applies a roster world in 150 random
// orders with duplicates (the reconciler judging origins again whenever a
// late entry changes a verdict): one digest, Replay's; every reason of
// Rule 0 is exercised; and no quarantined entry shows anywhere in the
// view.
func TestRuleZeroIsOrderIndependent(t *testing.T) {
	for _, seed := range []uint64{1} {
		w := rosterWorld(seed)
		want := w.apply(w.entries)
		st := want.Stats()
		for _, reason := range []roster.Reason{roster.ReasonNotOnRoster, roster.ReasonOutOfScope, roster.ReasonRevoked, roster.ReasonNotAnchor} {
			if st.Quarantined[string(reason)] == 0 {
				t.Fatalf("seed %d: nothing quarantined as %s: %v", seed, reason, st.Quarantined)
			}
		}
		checkQuarantineApplied(t, w, want)
		if replay := reconcile.Replay(reconcile.Config{Matcher: newTestMatcher(), Anchor: w.anchor}, w.entries); replay.Digest() != want.Digest() {
			t.Fatalf("seed %d: the view in creation order differs from Replay's", seed)
		}
		rng := rand.New(rand.NewPCG(seed, 11))
		digests, stale := map[string]int{}, 0
		for range 150 {
			es := append([]replication.Entry(nil), w.entries...)
			for range len(es) / 4 {
				es = append(es, es[rng.IntN(len(es))])
			}
			rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
			r := w.apply(es)
			stale += r.Rejudged()
			digests[r.Digest()]++
		}
		if len(digests) != 1 || digests[want.Digest()] != 150 {
			t.Fatalf("seed %d: %d distinct digests over 150 orders", seed, len(digests))
		}
		t.Logf("seed %d: %d entries, quarantined %v; 150 orders, 1 digest (%d origins judged again)", seed, len(w.entries), st.Quarantined, stale)
	}
}

// checkQuarantineApplied: a quarantined entry is no version, no decision,
// and names no citizen; and the view equals an open view of the admitted
// entries alone.
func checkQuarantineApplied(t *testing.T, w *world, r *reconcile.Reconciler) {
	t.Helper()
	held := map[replication.EntryID]bool{}
	for _, q := range r.Quarantine() {
		held[q.Entry] = true
	}
	var admitted []replication.Entry
	for _, e := range w.entries {
		if !held[e.ID()] && e.Kind != replication.KindRoster && e.Kind != replication.KindRevoke {
			admitted = append(admitted, e)
		}
	}
	open := reconcile.New(reconcile.Config{Matcher: newTestMatcher()})
	for _, e := range admitted {
		open.Apply(e)
	}
	if got, want := w.describeCitizens(r), w.describeCitizens(open); got != want {
		t.Fatalf("the gated view differs from the open view of the admitted entries:\n%s\nwant\n%s", got, want)
	}
	for _, k := range r.Keys() {
		c, err := r.Citizen(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range c.Versions {
			if held[v.ID] {
				t.Fatalf("quarantined %s is a version of %s", w.ref(v.ID), k)
			}
		}
	}
}

// describeCitizens is describe without the quarantine and stats lines.
func (w *world) describeCitizens(r *reconcile.Reconciler) string {
	var keep []string
	for _, l := range strings.Split(w.describe(r), "\n") {
		if !strings.HasPrefix(l, "quarantined ") && !strings.HasPrefix(l, "stats:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
