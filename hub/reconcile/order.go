package reconcile

import (
	"bytes"
	"crypto/ed25519"
	"slices"

	"fieldsync/replication"
)

// Replay builds a reconciler from entries in the order in which no
// judgement of Rules 0, 8 and 9 changes (ReplayOrder). Its view is the
// view of the set.
func Replay(cfg Config, entries []replication.Entry) *Reconciler {
	r := New(cfg)
	for _, e := range ReplayOrder(cfg.Anchor, entries) {
		r.Apply(e)
	}
	return r
}

// ReplayOrder sorts entries as Replay applies them (a stable reorder):
// geneses, then origins in OriginOrder.
func ReplayOrder(anchor ed25519.PublicKey, entries []replication.Entry) []replication.Entry {
	var geneses []replication.Entry
	for _, e := range entries {
		if e.Kind == replication.KindGenesis {
			geneses = append(geneses, e)
		}
	}
	rank := map[replication.OriginID]int{}
	for i, o := range OriginOrder(anchor, geneses) {
		rank[o] = i + 1
	}
	key := func(e *replication.Entry) int {
		if e.Kind == replication.KindGenesis {
			return 0
		}
		if k, ok := rank[e.Origin]; ok {
			return k
		}
		return len(rank) + 1 // no genesis: judged after everything
	}
	out := slices.Clone(entries)
	slices.SortStableFunc(out, func(a, b replication.Entry) int { return key(&a) - key(&b) })
	return out
}

// OriginOrder orders origins, given their geneses, so that applying every
// genesis first and then each origin's entries in this order gives every
// entry its final judgement at once: the roster's origins (their key is
// the anchor), then hubs' (decisions and fork notices), then laptops'
// that replace none, then each new epoch after the origin it replaces
// (its re-issues meet their originals). Ties keep the order given.
func OriginOrder(anchor ed25519.PublicKey, geneses []replication.Entry) []replication.OriginID {
	type ranked struct {
		origin replication.OriginID
		rank   int
	}
	prev := map[replication.OriginID]replication.OriginID{}
	var out []ranked
	for _, e := range geneses {
		g, err := replication.DecodeGenesis(e.Payload)
		rank := 2
		switch {
		case err != nil:
		case anchor != nil && bytes.Equal(g.PublicKey, anchor):
			rank = 0
		case g.Role == replication.RoleHub:
			rank = 1
		}
		if err == nil && g.PrevOrigin != nil {
			prev[e.Origin] = *g.PrevOrigin
		}
		out = append(out, ranked{e.Origin, rank})
	}
	for i := range out {
		if out[i].rank == 2 {
			out[i].rank += depth(prev, out[i].origin)
		}
	}
	slices.SortStableFunc(out, func(a, b ranked) int { return a.rank - b.rank })
	origins := make([]replication.OriginID, len(out))
	for i, x := range out {
		origins[i] = x.origin
	}
	return origins
}

// depth counts the epochs before o (bounded: a chain longer than this is
// ordered at the bound).
func depth(prev map[replication.OriginID]replication.OriginID, o replication.OriginID) int {
	n := 0
	for p, ok := prev[o]; ok && n < 64; p, ok = prev[p] {
		n++
	}
	return n
}
