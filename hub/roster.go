package hub

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
	"fieldsync/runtime/localapi"
)

// ErrNotAnchor is returned by Author.Roster on a replica that is not the
// trust anchor: only the province hub signs the roster.
var ErrNotAnchor = errors.New("hub: only the trust anchor (the province hub) signs the roster")

// ErrBadRosterRequest is returned (wrapped) for an invalid roster change.
var ErrBadRosterRequest = errors.New("hub: bad roster request")

// rosterMu serializes roster writes in a process.
var rosterMu sync.Mutex

// RosterRequest is an operator's change to the roster.
type RosterRequest struct {
	Op string `json:"op"` // "add" or "revoke"
	// Device is the device's public key in hex.
	Device string `json:"device"`
	// Add: the device's role, a hub's tier, its scope and name.
	Role  replication.Role `json:"role,omitempty"`
	Tier  string           `json:"tier,omitempty"`
	Units []string         `json:"units,omitempty"`
	Name  string           `json:"name,omitempty"`
	// Revoke: FromSeq, when set, is the last seq of the device's current
	// origin that stands (entries after it are quarantined); by default
	// it is the last seq this hub holds of it. Origin names the current
	// origin when the device has several. Every other origin of the
	// device stands as far as this hub holds it.
	FromSeq uint64 `json:"from_seq,omitempty"`
	Origin  string `json:"origin,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Roster writes the roster or revoke entry a request asks for to the
// anchor's roster origin in the hub's log, stamped with the hub's clock
// (so never before anything the hub wrote or saw, whatever the wall clock
// at now says), and returns the entries written (with the roster origin's
// genesis the first time). The daemon (ChangeRoster) and the CLI with the
// daemon stopped both write through it.
func (a *Author) Roster(req RosterRequest, now time.Time) ([]replication.Entry, error) {
	rosterMu.Lock() // the roster origin's first write adds its genesis
	defer rosterMu.Unlock()
	a.mu.Lock() // one clock: the entry's HLC is taken and written in order
	defer a.mu.Unlock()
	dir := a.dir
	hlc := a.hlc.Next(now)
	anchor := roster.SignerFor(dir.Signer).PublicKey()
	if dir.Config.ProvinceKey != hex.EncodeToString(anchor) {
		return nil, ErrNotAnchor
	}
	key, err := roster.ParseKey(req.Device)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRosterRequest, err)
	}
	var draft replication.Draft
	switch req.Op {
	case "add":
		draft, err = roster.AddDraft(roster.Add{Key: key, Role: req.Role, Tier: req.Tier, Units: req.Units, Name: req.Name}, hlc)
	case "revoke":
		var keep []roster.Limit
		if keep, err = revocationLimits(dir, key, req); err == nil {
			draft, err = roster.RevokeDraft(roster.Revoke{Key: key, Keep: keep, Note: req.Note}, hlc)
		}
	default:
		err = fmt.Errorf("op %q, want add or revoke", req.Op)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRosterRequest, err)
	}
	if req.Op == "add" {
		if err := checkRoom(dir, anchor, key); err != nil {
			return nil, err
		}
	}
	return roster.Write(dir.Log, dir.Signer, dir.Config.Tier, dir.Config.Unit, draft)
}

// checkRoom refuses an add beyond roster.MaxDevices, so that a valid
// roster never overflows the fold on any replica.
func checkRoom(dir *datadir.Dir, anchor ed25519.PublicKey, key []byte) error {
	rb, err := live.Load(anchor, dir.Log)
	if err != nil {
		return err
	}
	if _, ok := rb.Device(key); !ok && len(rb.Devices()) >= roster.MaxDevices {
		return fmt.Errorf("%w: %w", ErrBadRosterRequest, roster.ErrFull)
	}
	return nil
}

// revocationLimits keeps, of every origin of key this hub holds, what it
// holds; FromSeq replaces the limit of the current origin (the one named,
// or the only one, or the one whose head is latest by its clock).
func revocationLimits(dir *datadir.Dir, key []byte, req RosterRequest) ([]roster.Limit, error) {
	v, err := dir.Log.Vector()
	if err != nil {
		return nil, err
	}
	var keep []roster.Limit
	current, latest := -1, replication.HLC(0)
	for _, oh := range v.Heads() {
		g, err := dir.Log.Get(replication.EntryID{Origin: oh.Origin, Seq: 1})
		if err != nil {
			return nil, err
		}
		gen, err := replication.DecodeGenesis(g.Payload)
		if err != nil || !bytes.Equal(gen.PublicKey, key) || gen.Epoch == roster.Epoch {
			continue
		}
		head, err := dir.Log.Get(replication.EntryID{Origin: oh.Origin, Seq: oh.Seq})
		if err != nil {
			return nil, err
		}
		if req.Origin == oh.Origin.String() || req.Origin == "" && (current < 0 || head.HLC > latest) {
			current, latest = len(keep), head.HLC
		}
		keep = append(keep, roster.Limit{Origin: oh.Origin, Seq: oh.Seq})
	}
	if req.Origin != "" && (current < 0 || keep[current].Origin.String() != req.Origin) {
		return nil, fmt.Errorf("this hub holds no origin %s of the device", req.Origin)
	}
	if req.FromSeq > 0 {
		if current < 0 {
			return nil, errors.New("--from-seq: this hub holds no origin of the device")
		}
		keep[current].Seq = req.FromSeq
	}
	if len(keep) > roster.MaxKeep {
		slices.SortFunc(keep, func(a, b roster.Limit) int { return cmp.Compare(b.Seq, a.Seq) })
		keep = keep[:roster.MaxKeep]
	}
	return keep, nil
}

// ChangeRoster adds or revokes a device on the province hub while it runs:
// the entry is written, it goes out on every session, and the call
// returns once the view applied it (or resolveWait passed).
func (d *Daemon) ChangeRoster(req RosterRequest) ([]replication.Entry, error) {
	now := replication.OrReal(d.cfg.Replicator.Clock).Now()
	entries, err := d.author.Roster(req, now)
	if err != nil {
		return nil, err
	}
	d.Observe(entries)
	d.Rep.Wake()
	d.showOwn(entries[len(entries)-1].ID())
	return entries, nil
}

// serveRoster is POST /api/roster: ChangeRoster over the local API.
func (d *Daemon) serveRoster(w http.ResponseWriter, r *http.Request) {
	var req RosterRequest
	if !localapi.DecodeJSON(w, r, &req, 64<<10) {
		return
	}
	entries, err := d.ChangeRoster(req)
	switch {
	case errors.Is(err, ErrNotAnchor):
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	case errors.Is(err, ErrBadRosterRequest):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ids := make([]replication.EntryID, len(entries))
	for i := range entries {
		ids[i] = entries[i].ID()
	}
	localapi.WriteJSON(w, http.StatusOK, map[string]any{"entries": ids})
}

// Enlist does in one step, in process, what an operator does to bring a new
// replica into the province (the demo and tests use it): the province adds
// the directory's device to the roster with its role, tier, unit and name,
// and the directory takes the province as its anchor and imports its
// roster, so it knows its hubs' keys before its first sync. The directory
// must not be running.
func (d *Daemon) Enlist(nd *datadir.Dir) error {
	c := nd.Config
	req := RosterRequest{Op: "add", Device: hex.EncodeToString(nd.Signer.PublicKey()), Role: c.Role, Tier: c.Tier, Units: []string{c.Unit}, Name: c.Name}
	if _, err := d.ChangeRoster(req); err != nil {
		return err
	}
	anchor := roster.SignerFor(d.cfg.Dir.Signer).PublicKey()
	bundle, err := roster.Export(d.cfg.Dir.Log, anchor)
	if err != nil {
		return err
	}
	_, err = trust.Join(nd, bundle, anchor)
	return err
}

// ViewConfig returns a hub's reconciler config: the duplicate matcher, and
// the roster key its config names (Rule 0; none in open mode).
func ViewConfig(c datadir.Config) (reconcile.Config, error) {
	cfg := reconcile.Config{Matcher: NewMatcher()}
	if c.ProvinceKey != "" {
		k, err := roster.ParseKey(c.ProvinceKey)
		if err != nil {
			return cfg, err
		}
		cfg.Anchor = ed25519.PublicKey(k)
	}
	return cfg, nil
}
