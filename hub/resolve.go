package hub

import (
	"encoding/json"
	"fmt"
	"sync"

	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
)

// Author writes the hub's own entries (decisions) to its log.
type Author struct {
	dir *datadir.Dir
	mu  sync.Mutex
	hlc replication.HLCState
}

// NewAuthor resumes the hub's clock from its log.
func NewAuthor(dir *datadir.Dir) (*Author, error) {
	hlc, err := dir.HLCState()
	if err != nil {
		return nil, err
	}
	return &Author{dir: dir, hlc: hlc}, nil
}

// Resume folds into the hub's clock what the log holds now (an entry
// written to it without the Author: the bundle key at start).
func (a *Author) Resume() error {
	hlc, err := a.dir.HLCState()
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hlc.Observe(hlc.Last())
	return nil
}

// Observe folds received entries' timestamps into the hub's clock.
func (a *Author) Observe(es []replication.Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range es {
		a.hlc.Observe(es[i].HLC)
	}
}

// Resolve checks a decision against the view (review.Resolution), writes it as a resolve entry
// in the hub's log (synced) and returns the entry; the view applies it
// from the log like any entry (View.WaitFor waits for that). It
// replicates like any entry, so every hub reaches the same view.
func (a *Author) Resolve(v *View, req review.Request, now replication.HLC) (replication.Entry, error) {
	res, err := review.Resolution(v.Reconciler(), req)
	if err != nil {
		return replication.Entry{}, err
	}
	payload, err := json.Marshal(res)
	if err != nil {
		return replication.Entry{}, err
	}
	a.mu.Lock()
	a.hlc.Observe(now)
	draft := replication.Draft{Kind: replication.KindResolve, Schema: reconcile.ResolutionSchema, Payload: payload, HLC: a.hlc.Next(now.Time())}
	es, err := a.dir.Log.Append(a.dir.Signer, []replication.Draft{draft})
	a.mu.Unlock()
	if err != nil {
		return replication.Entry{}, fmt.Errorf("hub: save decision: %w", err)
	}
	v.Wake()
	return es[0], nil
}

// Write appends the hub's own drafts (receipts), stamped with its clock,
// in one synced transaction.
func (a *Author) Write(drafts []replication.Draft) ([]replication.Entry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := replication.RealClock{}.Now()
	for i := range drafts {
		drafts[i].HLC = a.hlc.Next(now)
	}
	return a.dir.Log.Append(a.dir.Signer, drafts)
}
