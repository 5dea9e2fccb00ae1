package oplog_test

import (
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// TestHeadsLayers: a transaction reads what it wrote over what lies
// beneath (a group's transaction over the committed table, one call's
// over the group's), and nothing shows in the table before Publish.
func TestHeadsLayers(t *testing.T) {
	a, b := replication.OriginID{1}, replication.OriginID{2}
	h := oplog.NewHeads()
	h.Publish(map[replication.OriginID]replication.Head{a: {Seq: 1}})
	group := oplog.NewTxHeads(h)
	group.Put(b, replication.Head{Seq: 5})
	call := oplog.NewTxHeads(group)
	call.Put(a, replication.Head{Seq: 2})
	for _, c := range []struct {
		name string
		got  replication.Head
		want uint64
	}{
		{"call sees its own write", call.Head(a), 2},
		{"call sees the group's", call.Head(b), 5},
		{"group does not see the call's", group.Head(a), 1},
		{"table has no uncommitted write", h.Head(b), 0},
	} {
		if c.got.Seq != c.want {
			t.Errorf("%s: seq %d, want %d", c.name, c.got.Seq, c.want)
		}
	}
	h.Publish(group.Written)
	if v := h.Vector(); len(v) != 2 || v[b].Seq != 5 || v[a].Seq != 1 {
		t.Fatalf("after publish: %v", v)
	}
	c := h.Clone()
	h.Publish(map[replication.OriginID]replication.Head{a: {Seq: 9}})
	if c.Head(a).Seq != 1 {
		t.Fatal("a clone follows the original")
	}
}
