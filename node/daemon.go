package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
)

// DaemonConfig configures a running field node.
type DaemonConfig struct {
	Dir *datadir.Dir
	// Replicator is the sync runtime's config (listener, targets, pools,
	// dialer); Dir is filled in.
	Replicator replicator.Config
	// APIAddr is where the local API listens ("127.0.0.1:0" by default).
	APIAddr string
	Logger  *slog.Logger
	Options Options
	// Ready, if set, is called once the daemon serves, with its API info.
	Ready func(localapi.Info)
	// Public, if set, builds the handler of the paths outside /api/ (the
	// capture app's pages and data) given the API's Auth; /metrics is
	// served before it.
	Public func(auth *localapi.Auth) http.Handler
	// OfficerKDF makes the stretch parameters of a new officer password
	// (nil: datadir.DefaultKDF; tests pass cheaper ones).
	OfficerKDF func() datadir.KDF
	// OnOfficerDisabled, if set, is told of an account disabled through
	// the API (the capture app ends its sessions).
	OnOfficerDisabled func(id string)
}

// Daemon is a running field node: capture, sync and the local API.
type Daemon struct {
	*daemon.Base
	cfg  DaemonConfig
	node *Node
}

// NewDaemon builds a field-node daemon over an open directory.
func NewDaemon(cfg DaemonConfig) (*Daemon, error) {
	n, err := New(cfg.Dir, cfg.Options)
	if err != nil {
		return nil, err
	}
	rc := cfg.Replicator
	var base *daemon.Base
	rc.OnIngest = func(_ string, res oplog.IngestResult) {
		n.Observe(res.Applied)
		n.notify(res.Applied)
		if from, ok := forkedHere(cfg.Dir, res.Applied); ok {
			base.NewEpoch(from, "a hub's fork notice names this laptop's origin")
		}
	}
	base, err = daemon.New(cfg.Dir, rc, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if n.opts.Peers == nil { // the freeze rule reads what hubs hold, live
		n.opts.Peers = base.Rep.Peers
	}
	// Whatever this node appends (the capture app's saves and statuses
	// included) is offered to peers at once.
	n.Watch(func([]replication.Entry) { base.Rep.Wake() })
	return &Daemon{Base: base, cfg: cfg, node: n}, nil
}

// Node returns the capture shell.
func (d *Daemon) Node() *Node { return d.node }

// retainEvery is how often a running laptop releases the blobs of
// receipted dossiers past the retention age.
const retainEvery = time.Hour

// retainLoop runs Retain with the directory's retention age.
func (d *Daemon) retainLoop(ctx context.Context) {
	age := RetentionOf(d.cfg.Dir.Config)
	if age < 0 {
		return
	}
	t := time.NewTicker(retainEvery)
	defer t.Stop()
	for {
		if rep, err := d.node.Retain(age, false); err != nil {
			d.Logger.Warn("could not release receipted blobs", "err", err)
		} else if rep.Blobs > 0 {
			d.Logger.Info("released the blobs of receipted dossiers", "dossiers", rep.Dossiers, "blobs", rep.Blobs, "bytes", rep.Bytes)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RetentionOf is the retention age a directory's config asks for
// (negative: keep every blob).
func RetentionOf(cfg datadir.Config) time.Duration {
	switch {
	case cfg.BlobRetentionDays < 0:
		return -1
	case cfg.BlobRetentionDays > 0:
		return time.Duration(cfg.BlobRetentionDays) * 24 * time.Hour
	}
	return DefaultRetention
}

// Run syncs and serves the local API (and /metrics) until ctx ends.
func (d *Daemon) Run(ctx context.Context) error {
	// The retention pass uses the directory the caller closes once Run
	// returns: Run waits for it.
	ctx, cancel := context.WithCancel(ctx)
	retained := make(chan struct{})
	go func() { defer close(retained); d.retainLoop(ctx) }()
	defer func() { cancel(); <-retained }()
	public := func(auth *localapi.Auth) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", d.Metrics())
		if d.cfg.Public != nil {
			mux.Handle("/", d.cfg.Public(auth))
		}
		return mux
	}
	return d.Base.Run(ctx, d.cfg.APIAddr, d.Handler(), public, d.cfg.Ready)
}

// Handler is the local API: /api/ping, /api/status, /api/enroll, /api/import.
func (d *Daemon) Handler() http.Handler {
	mux := d.Mux(d.extraStatus)
	mux.HandleFunc("POST /api/enroll", d.serveEnroll)
	mux.HandleFunc("POST /api/import", d.serveImport)
	mux.HandleFunc("POST /api/residents/status", d.serveStatus)
	mux.HandleFunc("GET /api/officers", d.serveOfficers)
	mux.HandleFunc("POST /api/officers", d.serveOfficerChange)
	return mux
}

// OfficerRequest adds an officer (a new password for an existing one) or
// disables or enables one.
type OfficerRequest struct {
	Op       string `json:"op"` // "add", "disable" or "enable"
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Password string `json:"password,omitempty"`
}

func (d *Daemon) serveOfficers(w http.ResponseWriter, r *http.Request) {
	os, err := Officers(d.cfg.Dir.Log)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for i := range os {
		os[i] = os[i].Public()
	}
	localapi.WriteJSON(w, http.StatusOK, os)
}

// serveOfficerChange manages accounts: with the API token only (the
// operator's CLI at the district office), never from a browser session.
func (d *Daemon) serveOfficerChange(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		http.Error(w, "officer accounts are managed with 'fieldsync officer' on this laptop", http.StatusForbidden)
		return
	}
	var req OfficerRequest
	if !localapi.DecodeJSON(w, r, &req, 4<<10) {
		return
	}
	o, err := d.ChangeOfficer(req)
	switch {
	case errors.Is(err, ErrBadOfficer):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		localapi.WriteJSON(w, http.StatusOK, o.Public())
	}
}

// ChangeOfficer applies an OfficerRequest to this laptop's accounts.
func (d *Daemon) ChangeOfficer(req OfficerRequest) (Officer, error) {
	kdf := datadir.DefaultKDF()
	if d.cfg.OfficerKDF != nil {
		kdf = d.cfg.OfficerKDF()
	}
	o, err := ChangeOfficer(d.cfg.Dir.Log, req, kdf, d.node.clock.Now())
	if err == nil && req.Op == "disable" && d.cfg.OnOfficerDisabled != nil {
		d.cfg.OnOfficerDisabled(req.ID)
	}
	return o, err
}

// ChangeOfficer adds, disables or enables an officer's account in l (the
// daemon's ChangeOfficer, and the CLI with the daemon stopped); a new
// password is hashed with kdf.
func ChangeOfficer(l oplog.Log, req OfficerRequest, kdf datadir.KDF, now time.Time) (Officer, error) {
	switch req.Op {
	case "add":
		return AddOfficer(l, req.ID, req.Name, []byte(req.Password), kdf, now)
	case "disable", "enable":
		if err := SetOfficerDisabled(l, req.ID, req.Op == "disable"); err != nil {
			return Officer{}, err
		}
		return Officer{ID: req.ID, Disabled: req.Op == "disable"}, nil
	}
	return Officer{}, fmt.Errorf("%w: op %q: add, disable or enable", ErrBadOfficer, req.Op)
}

// serveStatus saves a resident's status (Node.SetStatus): 200 with the
// receipt, 422 with the reasons when the rules refuse it.
func (d *Daemon) serveStatus(w http.ResponseWriter, r *http.Request) {
	var s residents.Status
	if !localapi.DecodeJSON(w, r, &s, residents.MaxStatusBytes) {
		return
	}
	rc, err := d.node.SetStatus(s)
	var rej *RejectedError
	switch {
	case errors.As(err, &rej):
		localapi.WriteJSON(w, http.StatusUnprocessableEntity, EnrollResult{Record: 1, Rejected: rej.Findings})
	case errors.Is(err, ErrFrozen):
		http.Error(w, err.Error(), http.StatusConflict)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		d.Rep.Wake()
		localapi.WriteJSON(w, http.StatusOK, EnrollResult{Record: 1, Receipt: &rc})
	}
}

// EnrollResult is one record's outcome over the API.
type EnrollResult struct {
	Record   int                 `json:"record"`
	Receipt  *Receipt            `json:"receipt,omitempty"`
	Rejected enrollment.Findings `json:"rejected,omitempty"`
	Error    string              `json:"error,omitempty"`
}

// serveEnroll takes JSON lines (or one object per line), each a record
// with its files inline (DecodeDossierJSON; paths are not read); each is
// saved or refused as with `fieldsync enroll`.
func (d *Daemon) serveEnroll(w http.ResponseWriter, r *http.Request) {
	if !localapi.RequireType(w, r, localapi.TypeJSON, localapi.TypeJSONLines) {
		return
	}
	var out []EnrollResult
	dr := &jsonDossiers{lr: enrollment.NewJSONLinesReaderMax(r.Body, MaxDossierLine)}
	for i := 1; ; i++ {
		line, dos, err := dr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		res := EnrollResult{Record: i}
		if line > 0 { // the line, or the client's own numbering
			res.Record = line
		}
		switch {
		case IsRowError(err):
			res.Error = err.Error()
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		default:
			rc, err := d.node.SaveDossier(&dos)
			var rej *RejectedError
			switch {
			case errors.As(err, &rej):
				res.Rejected = rej.Findings
			case errors.Is(err, ErrFrozen):
				res.Error = err.Error()
			case err != nil:
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			default:
				res.Receipt = &rc
			}
		}
		out = append(out, res)
	}
	d.Rep.Wake()
	localapi.WriteJSON(w, http.StatusOK, out)
}

// ImportResult is an import's outcome over the API.
type ImportResult struct {
	Stats    ImportStats   `json:"stats"`
	Rejected []RejectedRow `json:"rejected,omitempty"`
}

// maxReportedRows bounds the rejected rows an API answer carries.
const maxReportedRows = 10000

func (d *Daemon) serveImport(w http.ResponseWriter, r *http.Request) {
	if !localapi.RequireType(w, r, localapi.TypeCSV, localapi.TypeJSONLines, localapi.TypeJSON, localapi.TypeBinary) {
		return
	}
	var res ImportResult
	keep := func(row RejectedRow) {
		if len(res.Rejected) < maxReportedRows {
			res.Rejected = append(res.Rejected, row)
		}
	}
	st, err := d.node.Import(r.Body, ImportOptions{Format: r.URL.Query().Get("format"), OnRejected: keep,
		OnGroup: func(ImportStats) { d.Rep.Wake() }})
	res.Stats = st
	switch {
	case IsInputError(err): // the user's input: 422, which the CLI shows as a refusal
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	localapi.WriteJSON(w, http.StatusOK, res)
}

// forkedHere looks for a hub's fork notice that quarantines this laptop's
// own origin (two branches of it reached hubs: it was cloned, or restored
// and its new captures travelled through a colleague): it must start a new
// epoch and re-issue its entries from the notice's seq on.
func forkedHere(dir *datadir.Dir, es []replication.Entry) (uint64, bool) {
	for i := range es {
		if es[i].Kind != replication.KindFork {
			continue
		}
		n, err := epoch.DecodeNotice(es[i].Payload)
		if err == nil && n.Quarantines() && n.Origin == dir.Signer.Origin() {
			return n.From, true
		}
	}
	return 0, false
}

// extraStatus adds the freeze rule's backlog to the status.
func (d *Daemon) extraStatus() (map[string]any, error) {
	return BacklogStatus(d.node)
}

// BacklogStatus is a laptop's section of the status: its captures not yet
// at a hub, against the freeze limits.
func BacklogStatus(n *Node) (map[string]any, error) {
	b, err := n.Backlog()
	if err != nil {
		return nil, err
	}
	return map[string]any{"backlog": map[string]any{
		"unsynced_entries": b.Unsynced, "acked_seq": b.AckedSeq, "oldest_days": int(b.OldestAge.Hours() / 24),
		"max_unsynced_entries": b.Policy.MaxUnsyncedEntries, "max_unsynced_days": int(b.Policy.MaxUnsyncedAge.Hours() / 24),
		"warning":              b.Warning,
		"unreceipted_dossiers": b.Dossiers.Dossiers, "unreceipted_blob_bytes": b.Dossiers.BlobBytes,
		"unreceipted_oldest_days": int(b.Dossiers.OldestAge.Hours() / 24), "receipted_through": b.Dossiers.ReceiptedThrough,
		"max_unreceipted_blob_mb": b.Policy.MaxUnreceiptedBlobBytes >> 20, "max_unreceipted_days": int(b.Policy.MaxUnreceiptedAge.Hours() / 24),
	}}, nil
}
