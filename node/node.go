package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
	"fieldsync/replication/epoch"
	"fieldsync/replication/replicator"
)

// MaxGroupRecords and MaxGroupBytes bound one group commit of an import:
// one synced transaction, well inside oplog's append limits.
const (
	MaxGroupRecords = 500
	MaxGroupBytes   = 1536 << 10
)

// RejectedError is returned when a record fails validation: nothing was
// written. Findings lists every reason, each naming its field.
type RejectedError struct {
	Findings enrollment.Findings
}

func (e *RejectedError) Error() string {
	return "record rejected: " + e.Findings.Error()
}

// ErrRejected matches every *RejectedError with errors.Is.
var ErrRejected = errors.New("record rejected")

// Is makes errors.Is(err, ErrRejected) true for a *RejectedError.
func (e *RejectedError) Is(target error) bool { return target == ErrRejected }

// Options configures a Node.
type Options struct {
	// Clock is where capture times and HLCs come from; nil is the real clock.
	Clock replication.Clock
	// Freeze bounds the captures held that no hub acknowledged (the zero
	// value: the data directory's config, else the defaults; NoFreeze).
	Freeze FreezePolicy
	// Peers returns the replicator's live peer states (a daemon sets it);
	// nil reads those last persisted in the log.
	Peers func() ([]replicator.PeerStatus, error)
}

// Node is the field-node shell: it validates captures, gives them HLC
// timestamps, and appends them durably to the device's own log. It is safe
// for concurrent use; captures are serialized.
type Node struct {
	dir    *datadir.Dir
	clock  replication.Clock
	opts   Options
	freeze FreezePolicy

	mu  sync.Mutex // serializes captures (HLC state)
	hlc replication.HLCState

	dossiers *dossiers // own dossiers against the province's receipts

	watchMu  sync.Mutex
	watchers []func([]replication.Entry)
}

// Watch registers fn to be told of every entry this node appends or, in a
// daemon, ingests from a peer, after it is durable (the capture app keeps
// its index current this way). fn must not block for long; it may be
// called from several goroutines, one batch at a time each.
func (n *Node) Watch(fn func([]replication.Entry)) {
	n.watchMu.Lock()
	n.watchers = append(n.watchers, fn)
	n.watchMu.Unlock()
}

// notify tells the watchers of entries now durable.
func (n *Node) notify(es []replication.Entry) {
	if len(es) == 0 {
		return
	}
	n.watchMu.Lock()
	ws := n.watchers
	n.watchMu.Unlock()
	for _, fn := range ws {
		fn(es)
	}
}

// New returns a node over an open data directory. The HLC starts after the
// latest timestamp held, so it never goes backwards across restarts.
func New(dir *datadir.Dir, opts Options) (*Node, error) {
	n := &Node{dir: dir, clock: replication.OrReal(opts.Clock), opts: opts, freeze: policyFor(opts.Freeze, dir.Config),
		dossiers: newDossiers(dir.Signer.Origin())}
	hlc, err := dir.HLCState()
	if err != nil {
		return nil, err
	}
	n.hlc = hlc
	return n, nil
}

// Observe folds the timestamps of entries received from peers into the
// node's clock, so its next captures order after them (HLC causality).
func (n *Node) Observe(es []replication.Entry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range es {
		n.hlc.Observe(es[i].HLC)
	}
}

// Dir returns the node's data directory.
func (n *Node) Dir() *datadir.Dir { return n.dir }

// Receipt is what an operator is told once a capture is saved: the entry's
// ID and hash, and the warnings the validator raised.
type Receipt struct {
	ID       replication.EntryID `json:"id"`
	Hash     replication.Hash    `json:"hash"`
	Findings enrollment.Findings `json:"findings,omitempty"`
	// BacklogWarning is set when the captures not yet at a hub near a
	// freeze limit (FreezePolicy).
	BacklogWarning string `json:"backlog_warning,omitempty"`
}

// Enroll validates and saves one enrollment. When it returns a receipt the
// entry is synced to disk. A rejected record returns *RejectedError and
// writes nothing.
func (n *Node) Enroll(e *enrollment.Enrollment) (Receipt, error) {
	results, err := n.EnrollBatch([]enrollment.Enrollment{*e})
	if err != nil {
		return Receipt{}, err
	}
	if results[0].Err != nil {
		return Receipt{}, results[0].Err
	}
	return results[0].Receipt, nil
}

// Result is the outcome for one record of a batch: a Receipt, or Err (a
// *RejectedError) when the record was refused.
type Result struct {
	Receipt Receipt
	Err     error
}

// EnrollBatch saves records without files: SaveDossiers with none. A
// record may list exceptions for slots it has no image of, never hashes.
// At most MaxGroupRecords records.
func (n *Node) EnrollBatch(recs []enrollment.Enrollment) ([]Result, error) {
	ds := make([]Dossier, len(recs))
	for i := range recs {
		ds[i].Record = recs[i]
	}
	return n.SaveDossiers(ds)
}

// draftEnroll fills the capture metadata the device knows, validates, and
// builds the draft. Captured citizen text is never touched.
func (n *Node) draftEnroll(e *enrollment.Enrollment) (replication.Draft, enrollment.Findings, error) {
	now := n.clock.Now()
	n.fillCapture(&e.Capture, now)
	findings := enrollment.Validate(e, enrollment.Context{Now: now})
	if findings.Rejected() {
		return replication.Draft{}, findings, &RejectedError{Findings: findings}
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return replication.Draft{}, findings, fmt.Errorf("node: encode record: %w", err)
	}
	if len(payload) > epoch.MaxReissuable { // so it can always be carried into a new epoch
		return replication.Draft{}, findings, fmt.Errorf("%w: record of %d bytes, limit %d", replication.ErrTooLarge, len(payload), epoch.MaxReissuable)
	}
	return replication.Draft{Kind: replication.KindEnroll, Schema: enrollment.SchemaVersion, Payload: payload, HLC: n.hlc.Next(now)}, findings, nil
}

// fillCapture supplies what this device knows when the capture app left it
// out: the commune it serves, its own device ID, and the time.
func (n *Node) fillCapture(c *enrollment.Capture, now time.Time) {
	if c.CommuneCode == "" && n.dir.Config.Role == replication.RoleNode {
		c.CommuneCode = n.dir.Config.Unit
	}
	if c.Device == "" {
		c.Device = string(replication.DeviceIDOf(n.dir.Signer.PublicKey()))
	}
	if c.CapturedAt.IsZero() {
		c.CapturedAt = now.UTC()
	}
}

// Amend saves a corrected record that supersedes the entry target.
func (n *Node) Amend(target replication.EntryID, rec enrollment.Enrollment, reason string) (Receipt, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	prev, err := n.dir.Log.Get(target)
	if err != nil {
		return Receipt{}, fmt.Errorf("node: amend %s: %w", target, err)
	}
	now := n.clock.Now()
	n.fillCapture(&rec.Capture, now)
	findings := keptRefs(&prev, &rec)
	findings = append(findings, enrollment.Validate(&rec, enrollment.Context{Now: now})...)
	if findings.Rejected() {
		return Receipt{Findings: findings}, &RejectedError{Findings: findings}
	}
	payload, err := json.Marshal(enrollment.Amendment{Target: target.String(), Reason: reason, Record: rec})
	if err != nil {
		return Receipt{}, err
	}
	if len(payload) > epoch.MaxReissuable {
		return Receipt{}, fmt.Errorf("%w: amendment of %d bytes, limit %d", replication.ErrTooLarge, len(payload), epoch.MaxReissuable)
	}
	return n.appendOne(replication.Draft{Kind: replication.KindAmend, Schema: enrollment.SchemaVersion, Payload: payload, HLC: n.hlc.Next(now)}, findings)
}

// Void withdraws the capture target.
func (n *Node) Void(target replication.EntryID, reason string) (Receipt, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.dir.Log.Get(target); err != nil {
		return Receipt{}, fmt.Errorf("node: void %s: %w", target, err)
	}
	payload, err := json.Marshal(enrollment.Voiding{Target: target.String(), Reason: reason})
	if err != nil {
		return Receipt{}, err
	}
	return n.appendOne(replication.Draft{Kind: replication.KindVoid, Schema: enrollment.SchemaVersion, Payload: payload, HLC: n.hlc.Next(n.clock.Now())}, nil)
}

func (n *Node) appendOne(d replication.Draft, findings enrollment.Findings) (Receipt, error) {
	ok, warning, frozen, err := n.admit(1)
	switch {
	case err != nil:
		return Receipt{}, err
	case ok == 0:
		return Receipt{Findings: findings}, frozen
	}
	es, err := n.dir.Log.Append(n.dir.Signer, []replication.Draft{d})
	if err != nil {
		return Receipt{}, fmt.Errorf("node: save: %w", err)
	}
	n.notify(es)
	return Receipt{ID: es[0].ID(), Hash: es[0].Hash(), Findings: findings, BacklogWarning: warning}, nil
}

// keptRefs checks the biometric references of an amended record: a
// correction may keep the images its target holds (the same slot, hash
// and size), never name others — a reference is computed from a file at
// capture, not taken from input.
func keptRefs(target *replication.Entry, rec *enrollment.Enrollment) enrollment.Findings {
	held := map[blob.Ref]bool{}
	refs, _ := dossier.RefsOf(target)
	for _, r := range refs {
		held[blob.Ref{ID: r.ID, Slot: r.Slot}] = true
	}
	var fs enrollment.Findings
	for i, b := range rec.Biometrics {
		if b.SHA256 == "" {
			continue
		}
		r, err := dossier.RefOf(b)
		if err == nil && held[blob.Ref{ID: r.ID, Slot: r.Slot}] {
			continue
		}
		one := enrollment.Enrollment{Biometrics: []enrollment.BlobRef{b}}
		_, ffs := enrollment.BuildBiometrics(&one, nil)
		at := fmt.Sprintf("biometrics[%d]", i)
		for _, f := range ffs {
			f.Field = strings.Replace(f.Field, "biometrics[0]", at, 1)
			f.Message = strings.Replace(f.Message, "biometrics[0]", at, 1)
			f.MessageVI = strings.Replace(f.MessageVI, "biometrics[0]", at, 1)
			fs = append(fs, f)
		}
	}
	return fs
}
