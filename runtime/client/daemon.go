package client

import (
	"bytes"
	"fieldsync/enrollment/residents"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir/trust"
	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
)

// Daemon is a Client over a running daemon's local API.
type Daemon struct {
	API *localapi.Client
}

// Status implements Client.
func (c *Daemon) Status() (localapi.Status, error) {
	var st localapi.Status
	return st, c.API.Do(http.MethodGet, "/api/status", nil, &st)
}

// Roster implements Client.
func (c *Daemon) Roster() (daemon.RosterView, error) {
	var v daemon.RosterView
	return v, c.API.Do(http.MethodGet, "/api/roster", nil, &v)
}

// ChangeRoster implements Client.
func (c *Daemon) ChangeRoster(req hub.RosterRequest) ([]replication.EntryID, error) {
	var out struct {
		Entries []replication.EntryID `json:"entries"`
	}
	return out.Entries, c.API.Do(http.MethodPost, "/api/roster", req, &out)
}

// ExportRoster implements Client.
func (c *Daemon) ExportRoster() ([]byte, error) {
	var out struct {
		Bundle []byte `json:"bundle"`
	}
	return out.Bundle, c.API.Do(http.MethodGet, "/api/roster/export", nil, &out)
}

// ImportRoster implements Client. A running daemon always has an anchor
// (it checks the bundle against it), so AnchorSet is never set.
func (c *Daemon) ImportRoster(bundle []byte) (trust.Import, error) {
	var out map[string]int
	err := c.API.Do(http.MethodPost, "/api/roster/import", bytes.NewReader(bundle), &out)
	return trust.Import{Applied: out["applied"]}, err
}

// Conflicts implements Client: one page of reconcile.MaxQueueLimit items.
func (c *Daemon) Conflicts(q review.Queue) ([]*reconcile.Citizen, error) {
	var items []*reconcile.Citizen
	return items, c.API.Do(http.MethodGet, "/api/conflicts"+queueQuery(q), nil, &items)
}

// Duplicates implements Client: one page of reconcile.MaxQueueLimit items.
func (c *Daemon) Duplicates(q review.Queue) ([]review.PairItem, error) {
	var items []review.PairItem
	return items, c.API.Do(http.MethodGet, "/api/duplicates"+queueQuery(q), nil, &items)
}

// queueQuery is the API's query for q (the daemon fills in its level).
func queueQuery(q review.Queue) string {
	v := url.Values{"limit": {strconv.Itoa(reconcile.MaxQueueLimit)}}
	if q.All {
		v.Set("all", "1")
	}
	if q.Resolved {
		v.Set("resolved", "1")
	}
	return "?" + v.Encode()
}

// Resolve implements Client.
func (c *Daemon) Resolve(req review.Request) (replication.EntryID, error) {
	var out struct{ Entry replication.EntryID }
	return out.Entry, c.API.Do(http.MethodPost, "/api/resolve", req, &out)
}

// Enroll implements Client: the dossiers go to POST /api/enroll with their
// files inline, in batches; files this side could not read are refused
// here (LocalRejection), in input order with the daemon's results.
func (c *Daemon) Enroll(next Dossiers, out func(node.EnrollResult) error) error {
	b := &Batches{}
	b.Send = func(body io.Reader) error {
		var results []node.EnrollResult
		if err := PostDossiers(c.API, "/api/enroll", body, &results); err != nil {
			return err
		}
		for _, r := range results {
			if err := out(r); err != nil {
				return err
			}
		}
		return nil
	}
	err := EachDossier(next, func(i int, d *node.Dossier, decodeErr error) error {
		if decodeErr != nil {
			if err := b.Flush(); err != nil { // keep the output in input order
				return err
			}
			return out(node.EnrollResult{Record: i, Error: RowFailure(decodeErr)})
		}
		if fs := LocalRejection(d); fs != nil {
			if err := b.Flush(); err != nil {
				return err
			}
			return out(node.EnrollResult{Record: i, Rejected: fs})
		}
		return b.Add(d, i)
	})
	if err != nil {
		return err
	}
	return b.Flush()
}

// SetResidentStatus implements Client.
func (c *Daemon) SetResidentStatus(st residents.Status) (node.EnrollResult, error) {
	var res node.EnrollResult
	return res, c.API.Do(http.MethodPost, "/api/residents/status", st, &res)
}

// Officers implements Client.
func (c *Daemon) Officers() ([]node.Officer, error) {
	var os []node.Officer
	return os, c.API.Do(http.MethodGet, "/api/officers", nil, &os)
}

// ChangeOfficer implements Client.
func (c *Daemon) ChangeOfficer(req node.OfficerRequest) (node.Officer, error) {
	var o node.Officer
	return o, c.API.Do(http.MethodPost, "/api/officers", req, &o)
}

// Close implements Client.
func (c *Daemon) Close() error { return nil }
