package hub

import (
	"fmt"
	"log/slog"
	"sync"

	"fieldsync/replication"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
)

// maxClaims bounds the genesis claims a hub remembers (one per epoch
// change of a device; a province sees a few hundred devices).
const maxClaims = 100_000

// forkWatch turns what a hub learns about forks into fork notices in its
// own log (KindFork), which replicate like decisions: every hub's view
// then quarantines the same entries, and the forked writers, which receive
// hub entries, start new epochs. Two sources:
//
//   - ingest: the protocol was offered an entry at a seq where the hub
//     holds another (EventFork): two branches reached hubs;
//   - genesis: a new epoch's genesis names a previous head whose hash
//     differs from the entry the hub holds there, in either arrival order.
//
// One notice per origin and evidence is enough; a hub that already holds
// one (its own or another hub's) writes none.
type forkWatch struct {
	log    oplog.Log
	author *Author
	view   *View
	clock  replication.Clock
	logger *slog.Logger

	mu     sync.Mutex
	claims map[replication.EntryID]claim // (prev origin, prev seq) → what a genesis says is there
	told   map[noticeKey]bool            // notices held
}

// claim is what a new epoch's genesis says about its previous origin.
type claim struct {
	hash        replication.Hash
	reissueFrom uint64
}

type noticeKey struct {
	origin   replication.OriginID
	evidence epoch.Evidence
}

// newForkWatch reads the geneses and notices held.
func newForkWatch(l oplog.Log, author *Author, view *View, clock replication.Clock, logger *slog.Logger) (*forkWatch, error) {
	w := &forkWatch{log: l, author: author, view: view, clock: replication.OrReal(clock), logger: logger,
		claims: map[replication.EntryID]claim{}, told: map[noticeKey]bool{}}
	v, err := l.Vector()
	if err != nil {
		return nil, err
	}
	for _, o := range v.Origins() {
		err := l.Scan(o, 1, func(e replication.Entry) bool {
			w.note(e)
			// Only hubs write notices: a laptop's log past its genesis
			// holds captures, not worth reading here.
			return e.Seq > 1 || isHubGenesis(e)
		})
		if err != nil {
			return nil, err
		}
	}
	return w, nil
}

func isHubGenesis(e replication.Entry) bool {
	g, err := replication.DecodeGenesis(e.Payload)
	return err == nil && g.Role == replication.RoleHub
}

// note records a genesis claim or a notice; it reports a claim it noted.
func (w *forkWatch) note(e replication.Entry) (replication.EntryID, claim, bool) {
	switch e.Kind {
	case replication.KindFork:
		if n, err := epoch.DecodeNotice(e.Payload); err == nil {
			w.told[noticeKey{n.Origin, n.Evidence}] = true
		}
	case replication.KindGenesis:
		g, err := replication.DecodeGenesis(e.Payload)
		if err != nil || g.PrevOrigin == nil || len(w.claims) >= maxClaims {
			return replication.EntryID{}, claim{}, false
		}
		id := replication.EntryID{Origin: *g.PrevOrigin, Seq: g.PrevSeq}
		c := claim{hash: *g.PrevHash, reissueFrom: g.ReissueFrom}
		w.claims[id] = c
		return id, c, true
	}
	return replication.EntryID{}, claim{}, false
}

// ingested checks newly stored entries against the claims, both ways.
func (w *forkWatch) ingested(es []replication.Entry) {
	w.mu.Lock()
	var notices []epoch.Notice
	for i := range es {
		e := &es[i]
		if id, c, ok := w.note(*e); ok {
			if held, err := w.log.Get(id); err == nil && held.Hash() != c.hash {
				notices = append(notices, genesisNotice(id, c, held.Hash()))
			}
			continue
		}
		if c, ok := w.claims[e.ID()]; ok && c.hash != e.Hash() {
			notices = append(notices, genesisNotice(e.ID(), c, e.Hash()))
		}
	}
	w.mu.Unlock()
	for _, n := range notices {
		w.publish(n)
	}
}

// genesisNotice: the writer re-issued from reissueFrom, so entries below it
// were acknowledged by a hub with the same hash — the branches part there
// or later.
func genesisNotice(id replication.EntryID, c claim, held replication.Hash) epoch.Notice {
	from := id.Seq
	if c.reissueFrom != 0 {
		from = c.reissueFrom
	}
	return epoch.Notice{Evidence: epoch.EvidenceGenesis, Origin: id.Origin, From: from, At: id.Seq, Held: held, Other: c.hash}
}

// event handles the protocol's fork evidence.
func (w *forkWatch) event(ev syncproto.Event) {
	if ev.Kind != syncproto.EventFork || ev.Fork == nil {
		return
	}
	f := ev.Fork
	w.publish(epoch.Notice{Evidence: epoch.EvidenceIngest, Origin: f.Origin, From: f.Seq, At: f.Seq, Held: f.Held.Hash(), Other: f.Offered.Hash()})
}

// publish writes a notice unless one of its kind is held for the origin.
func (w *forkWatch) publish(n epoch.Notice) {
	key := noticeKey{n.Origin, n.Evidence}
	w.mu.Lock()
	if w.told[key] {
		w.mu.Unlock()
		return
	}
	w.told[key] = true
	w.mu.Unlock()
	e, err := w.author.Notice(n, replication.MakeHLC(w.clock.Now().UnixMilli(), 0))
	if err != nil {
		w.mu.Lock()
		delete(w.told, key) // try again at the next evidence
		w.mu.Unlock()
	} else {
		w.view.Apply(e)
	}
	w.logger.Error("an origin forked: its device's log was restored or cloned", "origin", n.Origin.Short(), "from_seq", n.From,
		"at_seq", n.At, "evidence", n.Evidence.String(), "quarantined", n.Quarantines(), "err", err)
}

// Notice writes a fork notice to the hub's log (synced).
func (a *Author) Notice(n epoch.Notice, now replication.HLC) (replication.Entry, error) {
	payload, err := n.Encode()
	if err != nil {
		return replication.Entry{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hlc.Observe(now)
	draft := replication.Draft{Kind: replication.KindFork, Schema: epoch.NoticeSchema, Payload: payload, HLC: a.hlc.Next(now.Time())}
	es, err := a.dir.Log.Append(a.dir.Signer, []replication.Draft{draft})
	if err != nil {
		return replication.Entry{}, fmt.Errorf("hub: save fork notice: %w", err)
	}
	return es[0], nil
}
