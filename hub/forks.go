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
// one (its own or another hub's) writes none. The rules are epoch.Watch's
// (the simulation's hubs run them too); this adds the locking, the writing
// and the alarm.
type forkWatch struct {
	log    oplog.Log
	author *Author
	view   *View
	clock  replication.Clock
	logger *slog.Logger

	mu sync.Mutex
	w  *epoch.Watch
}

// newForkWatch reads the geneses and notices held.
func newForkWatch(l oplog.Log, author *Author, view *View, clock replication.Clock, logger *slog.Logger) (*forkWatch, error) {
	ew, err := epoch.LoadWatch(l, maxClaims)
	if err != nil {
		return nil, err
	}
	return &forkWatch{log: l, author: author, view: view, clock: replication.OrReal(clock), logger: logger, w: ew}, nil
}

// ingested checks newly stored entries against the claims, both ways.
func (w *forkWatch) ingested(es []replication.Entry) {
	w.mu.Lock()
	notices := w.w.Ingested(w.log, es)
	w.mu.Unlock()
	for _, n := range notices {
		w.publish(n)
	}
}

// event handles the protocol's fork evidence.
func (w *forkWatch) event(ev syncproto.Event) {
	if ev.Kind != syncproto.EventFork || ev.Fork == nil {
		return
	}
	w.publish(epoch.IngestNotice(ev.Fork))
}

// publish writes a notice unless one of its kind is held for the origin.
func (w *forkWatch) publish(n epoch.Notice) {
	w.mu.Lock()
	claimed := w.w.Claim(n)
	w.mu.Unlock()
	if !claimed {
		return
	}
	_, err := w.author.Notice(n, replication.MakeHLC(w.clock.Now().UnixMilli(), 0))
	if err != nil {
		w.mu.Lock()
		w.w.Release(n) // try again at the next evidence
		w.mu.Unlock()
	} else {
		w.view.Wake()
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
