package client

import (
	"context"
	"crypto/ed25519"
	"fieldsync/enrollment/residents"
	"fmt"
	"time"

	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/replication/replicator"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
)

// Offline is a Client over a data directory whose daemon is stopped. It
// writes through the same paths as the daemon: hub.Author (the clock
// resumed from the log) for a hub's entries, node.Node for captures.
type Offline struct {
	Dir *datadir.Dir

	view      *hub.View // opened on first use (review)
	closeView func() error
}

// NewOffline is a Client over d; Close closes d.
func NewOffline(d *datadir.Dir) *Offline { return &Offline{Dir: d} }

// Now is the wall clock the offline writers read (a test sets it back).
var Now = time.Now

// Status implements Client: what the directory holds, the peer states
// saved at the end of the last sessions, and a hub's view as it is stored
// (hub.StoredSummary: read, not built again, when it is up to the log).
func (c *Offline) Status() (localapi.Status, error) {
	d := c.Dir
	var st localapi.Status
	peers, err := replicator.PeerStatuses(d.Log, d.Config.Role)
	if err != nil {
		return st, err
	}
	if st, err = localapi.BaseStatus(d, peers, false); err != nil {
		return st, err
	}
	if st.Trust, st.Refused, err = daemon.OfflineTrust(d); err != nil {
		return st, err
	}
	if d.Config.Role != replication.RoleHub {
		n, err := node.New(d, node.Options{})
		if err != nil {
			return st, err
		}
		st.Extra, err = node.BacklogStatus(n)
		return st, err
	}
	vs, digest, err := hub.StoredSummary(d)
	if err != nil {
		return st, err
	}
	dos, err := hub.OfflineDossiers(d)
	if err != nil {
		return st, err
	}
	st.Extra = map[string]any{"view": vs, "digest": digest, "queue": review.QueueFor(d.Config.Tier, d.Config.Unit).Level, "dossiers": dos}
	return st, nil
}

// Roster implements Client.
func (c *Offline) Roster() (daemon.RosterView, error) {
	v := daemon.RosterView{Open: c.Dir.Config.ProvinceKey == ""}
	if v.Open {
		return v, nil
	}
	key, err := c.anchor()
	if err != nil {
		return v, err
	}
	rb, err := live.Load(key, c.Dir.Log)
	if err != nil {
		return v, err
	}
	v.Anchor, v.Devices = roster.Key(key), rb.Devices()
	return v, nil
}

func (c *Offline) anchor() (ed25519.PublicKey, error) {
	key, err := roster.ParseKey(c.Dir.Config.ProvinceKey)
	return ed25519.PublicKey(key), err
}

// ChangeRoster implements Client, through hub.Author as the daemon does.
func (c *Offline) ChangeRoster(req hub.RosterRequest) ([]replication.EntryID, error) {
	a, err := hub.NewAuthor(c.Dir)
	if err != nil {
		return nil, err
	}
	entries, err := a.Roster(req, Now())
	if err != nil {
		return nil, err
	}
	ids := make([]replication.EntryID, len(entries))
	for i := range entries {
		ids[i] = entries[i].ID()
	}
	return ids, nil
}

// ExportRoster implements Client.
func (c *Offline) ExportRoster() ([]byte, error) {
	if c.Dir.Config.ProvinceKey == "" {
		return nil, fmt.Errorf("%s runs open: it has no roster", c.Dir.Path)
	}
	key, err := c.anchor()
	if err != nil {
		return nil, err
	}
	return roster.Export(c.Dir.Log, key)
}

// ImportRoster implements Client (trust.ImportBundle: a directory without
// an anchor takes the bundle's signer).
func (c *Offline) ImportRoster(bundle []byte) (trust.Import, error) {
	return trust.ImportBundle(c.Dir, bundle)
}

// View opens the hub's stored view and brings it up to the log (once;
// Close closes it).
func (c *Offline) View() (*hub.View, error) {
	if c.view != nil {
		return c.view, nil
	}
	if c.Dir.Config.Role != replication.RoleHub {
		return nil, fmt.Errorf("%w: %s is a field node; conflicts and duplicates are reviewed at hubs", ErrNotHub, c.Dir.Path)
	}
	v, closeView, err := hub.OpenStored(c.Dir)
	if err != nil {
		return nil, err
	}
	c.view, c.closeView = v, closeView
	return v, nil
}

// queue is q on this hub's own review level.
func (c *Offline) queue(q review.Queue) review.Queue {
	own := review.QueueFor(c.Dir.Config.Tier, c.Dir.Config.Unit)
	own.All, own.Resolved = q.All, q.Resolved
	return own
}

// Conflicts implements Client: the whole queue, page by page.
func (c *Offline) Conflicts(q review.Queue) ([]*reconcile.Citizen, error) {
	v, err := c.View()
	if err != nil {
		return nil, err
	}
	return review.All(c.queue(q), v.Conflicts)
}

// Duplicates implements Client: the whole queue, page by page.
func (c *Offline) Duplicates(q review.Queue) ([]review.PairItem, error) {
	v, err := c.View()
	if err != nil {
		return nil, err
	}
	return review.All(c.queue(q), v.Pairs)
}

// Resolve implements Client, through hub.Author as the daemon does; the
// view it holds applies the decision before it returns.
func (c *Offline) Resolve(req review.Request) (replication.EntryID, error) {
	v, err := c.View()
	if err != nil {
		return replication.EntryID{}, err
	}
	a, err := hub.NewAuthor(c.Dir)
	if err != nil {
		return replication.EntryID{}, err
	}
	e, err := a.Resolve(v, req, replication.MakeHLC(Now().UnixMilli(), 0))
	if err != nil {
		return e.ID(), err
	}
	// As the daemon's Resolve, return once the view shows it.
	return e.ID(), v.CatchUp(context.Background())
}

// Enroll implements Client: each dossier saved by node.Node as the
// daemon's would be; a storage failure stops.
func (c *Offline) Enroll(next Dossiers, out func(node.EnrollResult) error) error {
	n, err := node.New(c.Dir, node.Options{})
	if err != nil {
		return err
	}
	return EachDossier(next, func(i int, d *node.Dossier, decodeErr error) error {
		r, err := enrollOne(n, i, d, decodeErr)
		if err != nil {
			return err
		}
		return out(r)
	})
}

// laptop refuses a hub's directory for a laptop's method.
func (c *Offline) laptop() error {
	if c.Dir.Config.Role != replication.RoleNode {
		return fmt.Errorf("%w: %s is a hub", ErrNotNode, c.Dir.Path)
	}
	return nil
}

// SetResidentStatus implements Client: node.Node.SetStatus, as the
// daemon's; a status the rules refuse is answered in Rejected.
func (c *Offline) SetResidentStatus(st residents.Status) (node.EnrollResult, error) {
	var res node.EnrollResult
	if err := c.laptop(); err != nil {
		return res, err
	}
	n, err := node.New(c.Dir, node.Options{})
	if err != nil {
		return res, err
	}
	rc, err := n.SetStatus(st)
	return res, answer(&res, rc, err)
}

// Officers implements Client.
func (c *Offline) Officers() ([]node.Officer, error) {
	if err := c.laptop(); err != nil {
		return nil, err
	}
	os, err := node.Officers(c.Dir.Log)
	for i := range os {
		os[i] = os[i].Public()
	}
	return os, err
}

// ChangeOfficer implements Client (node.ChangeOfficer, as the daemon's).
func (c *Offline) ChangeOfficer(req node.OfficerRequest) (node.Officer, error) {
	if err := c.laptop(); err != nil {
		return node.Officer{}, err
	}
	o, err := node.ChangeOfficer(c.Dir.Log, req, datadir.DefaultKDF(), Now())
	return o.Public(), err
}

// Close implements Client: the view's store, then the directory.
func (c *Offline) Close() error {
	if c.closeView != nil {
		c.closeView()
	}
	return c.Dir.Close()
}
