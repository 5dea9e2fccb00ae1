package reconcile_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cockroachdb/datadriven"

	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/epoch"
)

// branch is a second writer of an existing origin: a cloned disk image, or
// one restored from an old copy, writing its own entries after seq at.
type branch struct {
	of string // the origin's first writer
	at uint64
}

// handleEpochs runs the commands of Rules 8 and 9 (testdata/epochs.txt):
//
//	fork NAME of=ORIGIN at=SEQ        a second writer of ORIGIN after SEQ
//	epoch NAME of=WRITER reissue-from=SEQ seed=S
//	                                  WRITER (an origin or a fork) starts a
//	                                  new epoch and re-issues from SEQ
//	notice HUB origin=ORIGIN from=SEQ a hub's fork notice (ingest evidence)
//	digests ORIGIN                    the digest with each branch of ORIGIN
//	rebuilds [branch=B]               stale turns when applied as created
func (w *world) handleEpochs(t *testing.T, d *datadriven.TestData, args map[string]string) string {
	var n uint64
	switch d.Cmd {
	case "fork":
		name, of := d.CmdArgs[0].Key, w.origins[args["of"]]
		fmt.Sscan(args["at"], &n)
		at := w.entryAt(of.signer.Origin(), n, "")
		w.origins[name] = &origin{name: name, signer: of.signer, seq: n, prev: at.Hash(), clock: of.clock + 500}
		if w.branches == nil {
			w.branches = map[string]branch{}
		}
		w.branches[name] = branch{of: args["of"], at: n}
		return ""
	case "epoch":
		return w.startEpoch(t, d.CmdArgs[0].Key, args)
	case "notice":
		fmt.Sscan(args["from"], &n)
		o := w.origins[args["origin"]].signer.Origin()
		held, other := w.entryAt(o, n, ""), w.otherAt(o, n)
		p, err := (&epoch.Notice{Evidence: epoch.EvidenceIngest, Origin: o, From: n, At: n, Held: held.Hash(), Other: other.Hash()}).Encode()
		if err != nil {
			t.Fatal(err)
		}
		return w.ref(w.add(d.CmdArgs[0].Key, replication.KindFork, p))
	case "rebuilds":
		// As a hub gets them: each origin's entries in order, the origins
		// interleaved as created. Origins are judged again for late
		// arrivals only.
		cfg := reconcile.Config{Matcher: newTestMatcher(), Anchor: w.anchor}
		r := reconcile.New(cfg)
		for i, e := range w.entries {
			if w.holds(i, args["branch"]) {
				r.Apply(e)
			}
		}
		return fmt.Sprintf("%d rebuilds", r.Rejudged())
	case "digests":
		name := d.CmdArgs[0].Key
		first := w.viewOf(name, "").Digest()
		for b, br := range w.branches {
			if br.of == name && w.viewOf(name, b).Digest() != first {
				return fmt.Sprintf("the view with %s's branch differs from the view with %s's", b, name)
			}
		}
		return "one digest whichever branch a hub holds"
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

// startEpoch writes a new origin for writer's key: a genesis naming its
// head, then re-issues of its entries from reissue-from on.
func (w *world) startEpoch(t *testing.T, name string, args map[string]string) string {
	writer := w.origins[args["of"]]
	var from, seed uint64
	fmt.Sscan(args["reissue-from"], &from)
	fmt.Sscan(args["seed"], &seed)
	old := writer.signer.Origin()
	head := w.entryAt(old, writer.seq, args["of"])
	next := writer.signer.WithEpoch(seed)
	o := &origin{name: name, signer: next, clock: writer.clock}
	w.origins[name], w.names[next.Origin()] = o, name
	w.order = append(w.order, name)
	g := replication.NewGenesis(next, replication.RoleNode, "", "42")
	h := head.Hash()
	g.PrevOrigin, g.PrevSeq, g.PrevHash, g.ReissueFrom = &old, head.Seq, &h, from
	p, _ := json.Marshal(g)
	w.add(name, replication.KindGenesis, p)
	out := ""
	for s := from; s <= writer.seq; s++ {
		e := w.entryAt(old, s, args["of"])
		r := epoch.NewReissue(&e)
		payload, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s re-issues %s\n", w.ref(w.add(name, replication.KindReissue, payload)), w.ref(e.ID()))
	}
	return out
}

// entryAt returns the entry (o, seq) as writer wrote it (writer "" or the
// origin's first writer: the first branch).
func (w *world) entryAt(o replication.OriginID, seq uint64, writer string) replication.Entry {
	writer = w.branchName(writer)
	if b, ok := w.branches[writer]; ok && seq <= b.at {
		writer = "" // the prefix the branches share
	}
	for i, e := range w.entries {
		if e.Origin == o && e.Seq == seq && w.writerOf(i) == writer {
			return e
		}
	}
	panic(fmt.Sprintf("no entry %s:%d by %q", w.names[o], seq, writer))
}

// otherAt returns the other branch's entry at (o, seq).
func (w *world) otherAt(o replication.OriginID, seq uint64) replication.Entry {
	for i, e := range w.entries {
		if e.Origin == o && e.Seq == seq && w.writerOf(i) != "" {
			return e
		}
	}
	panic("no second branch there")
}

// branchName maps an origin's first writer to "" (its main branch).
func (w *world) branchName(writer string) string {
	if _, ok := w.branches[writer]; ok {
		return writer
	}
	return ""
}

// writerOf returns the branch that wrote entry i ("" for main branches).
func (w *world) writerOf(i int) string { return w.branchName(w.writers[i]) }

// holds reports whether a hub holding branch keep of origin name holds
// entry i: of that origin past a fork point, only keep's entries.
func (w *world) holds(i int, keep string) bool {
	writer := w.writerOf(i)
	if writer == "" {
		for b, br := range w.branches {
			e := w.entries[i]
			if b == keep && w.origins[br.of].signer.Origin() == e.Origin && e.Seq > br.at {
				return false
			}
		}
		return true
	}
	return writer == keep
}

// viewOf is the view of a hub holding branch keep ("" for the main one).
func (w *world) viewOf(_, keep string) interface{ Digest() string } {
	return w.applyBranch("", 0, keep)
}
