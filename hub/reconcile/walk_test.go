package reconcile_test

import (
	"encoding/json"
	"testing"

	"fieldsync/enrollment"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
)

// TestAmendWalkCutIsCounted: a record with more amends below it than one
// walk re-places is cut at the limit, and the cut is counted (the hub
// exposes the count as a metric and logs it), not passed over in silence.
func TestAmendWalkCutIsCounted(t *testing.T) {
	defer reconcile.SetAmendWalk(3)()
	w := newWorld()
	w.addOrigin("l1", replication.RoleNode, "", 10, 1e12)
	p, _ := json.Marshal(record(nil))
	root := w.add("l1", replication.KindEnroll, p)
	prev := root
	for range 5 { // a chain of five amends: the root's subtree holds six versions
		p, _ := json.Marshal(enrollment.Amendment{Target: prev.String(), Record: record(nil)})
		prev = w.add("l1", replication.KindAmend, p)
	}
	if r := w.applyAll("", 0); r.AmendWalksCut() != 0 {
		t.Fatalf("in order, each walk re-places two versions: %d cut", r.AmendWalksCut())
	}
	// The root last: its walk goes down the whole chain, past the limit.
	if r := w.applyAll("reverse", 0); r.AmendWalksCut() == 0 {
		t.Fatal("a walk past the limit was not counted")
	}
}
