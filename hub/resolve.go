package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
)

// ErrNoSuchItem is returned by Resolve when the conflict or pair named is
// not in the view.
var ErrNoSuchItem = errors.New("hub: no such conflict or duplicate pair in the view")

// ErrBadDecision is returned (wrapped) by Resolve when the decision does
// not fit its subject: a choice that is not a current version, a verdict on
// a conflict.
var ErrBadDecision = errors.New("hub: decision does not fit its subject")

// ResolveRequest is an officer's decision, as the CLI and the API give it.
type ResolveRequest struct {
	// ID is a conflict ("conflict:<key>", or just the citizen key) or a
	// pair ("pair:<a>|<b>").
	ID string `json:"id"`
	// Choose is the version ("origin:seq") to show, for a conflict.
	Choose string `json:"choose,omitempty"`
	// SamePerson or Distinct decides a pair.
	SamePerson bool   `json:"same_person,omitempty"`
	Distinct   bool   `json:"distinct,omitempty"`
	Officer    string `json:"officer"`
	Note       string `json:"note,omitempty"`
}

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

// Observe folds received entries' timestamps into the hub's clock.
func (a *Author) Observe(es []replication.Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range es {
		a.hlc.Observe(es[i].HLC)
	}
}

// Resolve checks a decision against the view, writes it as a resolve entry
// in the hub's log (synced) and returns the entry; the view applies it
// from the log like any entry (View.WaitFor waits for that). It
// replicates like any entry, so every hub reaches the same view.
func (a *Author) Resolve(v *View, req ResolveRequest, now replication.HLC) (replication.Entry, error) {
	res, err := resolution(v, req)
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

// resolution builds the payload: it names every version the officer saw
// and every decision on the subject it overrides.
func resolution(v *View, req ResolveRequest) (reconcile.Resolution, error) {
	res := reconcile.Resolution{Officer: req.Officer, Note: req.Note}
	if req.Officer == "" {
		return res, fmt.Errorf("%w: name the officer deciding", ErrBadDecision)
	}
	r := v.Reconciler()
	var err error
	if strings.HasPrefix(req.ID, "pair:") {
		err = pairResolution(r, req, &res)
	} else {
		err = conflictResolution(r, req, &res)
	}
	if err != nil {
		return res, err
	}
	ds, err := r.Decisions(res.Subject)
	for _, d := range ds {
		res.Supersedes = append(res.Supersedes, d.Entry.String())
	}
	return res, err
}

func conflictResolution(r *reconcile.Reconciler, req ResolveRequest, res *reconcile.Resolution) error {
	key := strings.TrimPrefix(req.ID, "conflict:")
	c, err := r.Citizen(key)
	if err != nil {
		return err
	}
	if c == nil || c.Conflict == nil {
		return fmt.Errorf("%w: %s", ErrNoSuchItem, req.ID)
	}
	if req.SamePerson || req.Distinct {
		return fmt.Errorf("%w: a conflict is settled by choosing a version (--choose), not a verdict", ErrBadDecision)
	}
	res.Subject = c.Conflict.ID
	for _, ver := range c.Versions {
		res.Versions = append(res.Versions, ver.ID.String())
		if ver.ID.String() == req.Choose {
			res.Choose = req.Choose
		}
	}
	if res.Choose == "" {
		return fmt.Errorf("%w: --choose %q is not one of the versions %s", ErrBadDecision, req.Choose, strings.Join(res.Versions, ", "))
	}
	return nil
}

func pairResolution(r *reconcile.Reconciler, req ResolveRequest, res *reconcile.Resolution) error {
	p, ok, err := r.Pair(req.ID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchItem, req.ID)
	}
	switch {
	case req.Choose != "" || req.SamePerson == req.Distinct:
		return fmt.Errorf("%w: a duplicate pair is settled by --same-person or --distinct", ErrBadDecision)
	case req.SamePerson:
		res.Verdict = reconcile.VerdictSamePerson
	default:
		res.Verdict = reconcile.VerdictDistinct
	}
	res.Subject = p.ID
	return nil
}
