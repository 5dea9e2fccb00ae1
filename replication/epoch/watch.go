package epoch

import (
	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// Watch decides which fork notices a hub writes: the bookkeeping behind
// hub/forks.go, pure so that the simulation's hubs run the same rules. It
// remembers what new epochs' geneses claim about their previous origins'
// heads and which notices are held, and turns evidence into notices:
//
//   - ingest: the protocol found another entry at a held seq (IngestNotice);
//   - genesis: a new epoch's genesis names, for its previous origin's head,
//     a hash other than the entry held there, in either arrival order
//     (Ingested).
//
// One notice per origin and evidence is enough: Claim refuses a second.
// A Watch is not safe for concurrent use.
type Watch struct {
	maxClaims int
	claims    map[replication.EntryID]claim // (prev origin, prev seq) → what a genesis says is there
	told      map[noticeKey]bool            // notices held or being written
}

// claim is what a new epoch's genesis says about its previous origin.
type claim struct {
	hash        replication.Hash
	reissueFrom uint64
}

type noticeKey struct {
	origin   replication.OriginID
	evidence Evidence
}

// Getter reads one entry; oplog.Log satisfies it.
type Getter interface {
	Get(id replication.EntryID) (replication.Entry, error)
}

// NewWatch returns an empty watch remembering at most maxClaims genesis
// claims (one per epoch change of a device).
func NewWatch(maxClaims int) *Watch {
	return &Watch{maxClaims: maxClaims, claims: map[replication.EntryID]claim{}, told: map[noticeKey]bool{}}
}

// LoadWatch returns a watch that has noted what l holds: every genesis (a
// new epoch's claim) and every fork notice, which only hubs write (the rest
// of a laptop's log holds captures, not read).
func LoadWatch(l oplog.Log, maxClaims int) (*Watch, error) {
	w := NewWatch(maxClaims)
	v, err := l.Vector()
	if err != nil {
		return nil, err
	}
	for _, o := range v.Origins() {
		err := l.Scan(o, 1, func(e replication.Entry) bool {
			w.Note(&e)
			return e.Seq > 1 || isHubGenesis(&e)
		})
		if err != nil {
			return nil, err
		}
	}
	return w, nil
}

func isHubGenesis(e *replication.Entry) bool {
	g, err := replication.DecodeGenesis(e.Payload)
	return err == nil && g.Role == replication.RoleHub
}

// Note records what a held entry says: a fork notice (one of its origin
// and evidence is then held) or a new epoch's genesis claim. It reports the
// claim it noted, if any. Rebuilding a watch at start is Note over the log.
func (w *Watch) Note(e *replication.Entry) (replication.EntryID, bool) {
	switch e.Kind {
	case replication.KindFork:
		if n, err := DecodeNotice(e.Payload); err == nil {
			w.told[noticeKey{n.Origin, n.Evidence}] = true
		}
	case replication.KindGenesis:
		g, err := replication.DecodeGenesis(e.Payload)
		if err != nil || g.PrevOrigin == nil || len(w.claims) >= w.maxClaims {
			return replication.EntryID{}, false
		}
		id := replication.EntryID{Origin: *g.PrevOrigin, Seq: g.PrevSeq}
		w.claims[id] = claim{hash: *g.PrevHash, reissueFrom: g.ReissueFrom}
		return id, true
	}
	return replication.EntryID{}, false
}

// Ingested notes newly stored entries and returns the genesis-evidence
// notices they give, both ways: a genesis whose claim l contradicts, and an
// entry that contradicts a claim already noted. Claim still decides which
// of them to write.
func (w *Watch) Ingested(l Getter, es []replication.Entry) []Notice {
	var out []Notice
	for i := range es {
		e := &es[i]
		if id, ok := w.Note(e); ok {
			if held, err := l.Get(id); err == nil && held.Hash() != w.claims[id].hash {
				out = append(out, genesisNotice(id, w.claims[id], held.Hash()))
			}
			continue
		}
		if c, ok := w.claims[e.ID()]; ok && c.hash != e.Hash() {
			out = append(out, genesisNotice(e.ID(), c, e.Hash()))
		}
	}
	return out
}

// genesisNotice: the writer re-issued from reissueFrom and stands behind
// the entries below it — the branches part there or later (its re-issues,
// each naming its original's hash, show where; views need no more).
func genesisNotice(id replication.EntryID, c claim, held replication.Hash) Notice {
	from := id.Seq
	if c.reissueFrom != 0 {
		from = c.reissueFrom
	}
	return Notice{Evidence: EvidenceGenesis, Origin: id.Origin, From: from, At: id.Seq, Held: held, Other: c.hash}
}

// IngestNotice is the notice of a fork found at ingest (syncproto's
// EventFork evidence).
func IngestNotice(f *oplog.Fork) Notice {
	return Notice{Evidence: EvidenceIngest, Origin: f.Origin, From: f.Seq, At: f.Seq, Held: f.Held.Hash(), Other: f.Offered.Hash()}
}

// Claim reports whether n is to be written — no notice of its origin and
// evidence is held or being written — and marks it so. A caller whose
// write failed calls Release, so the next evidence tries again.
func (w *Watch) Claim(n Notice) bool {
	key := noticeKey{n.Origin, n.Evidence}
	if w.told[key] {
		return false
	}
	w.told[key] = true
	return true
}

// Release undoes a Claim whose notice was not written.
func (w *Watch) Release(n Notice) { delete(w.told, noticeKey{n.Origin, n.Evidence}) }
