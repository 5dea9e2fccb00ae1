package review

import (
	"errors"
	"fmt"
	"strings"

	"fieldsync/hub/reconcile"
)

// ErrNoSuchItem is returned by Resolution when the conflict or pair named
// is not in the view. (Its text predates this package and is kept: the CLI
// prints it.)
var ErrNoSuchItem = errors.New("hub: no such conflict or duplicate pair in the view")

// ErrBadDecision is returned (wrapped) by Resolution when the decision
// does not fit its subject: a choice that is not a current version, a
// verdict on a conflict.
var ErrBadDecision = errors.New("hub: decision does not fit its subject")

// Request is an officer's decision, as the CLI, the local API
// (POST /api/resolve) and the dashboard (POST /dash/resolve) give it.
type Request struct {
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

// Rejected reports whether err refuses the decision itself (no such item,
// a decision that does not fit): the officer's to correct, not the hub's
// failure.
func Rejected(err error) bool {
	return errors.Is(err, ErrNoSuchItem) || errors.Is(err, ErrBadDecision)
}

// Resolution checks a decision against the view r shows and builds the
// resolve entry's payload: it names every version the officer saw and
// every decision on the subject it overrides.
func Resolution(r *reconcile.Reconciler, req Request) (reconcile.Resolution, error) {
	res := reconcile.Resolution{Officer: req.Officer, Note: req.Note}
	if req.Officer == "" {
		return res, fmt.Errorf("%w: name the officer deciding", ErrBadDecision)
	}
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

func conflictResolution(r *reconcile.Reconciler, req Request, res *reconcile.Resolution) error {
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

func pairResolution(r *reconcile.Reconciler, req Request, res *reconcile.Resolution) error {
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
