package client

import (
	"errors"
	"fieldsync/enrollment/residents"
	"fmt"

	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
	"fieldsync/storage"
)

// Client is what a command asks of a replica. Its methods are not safe
// for concurrent use (a command is one goroutine).
type Client interface {
	// Status is the replica's state (GET /api/status).
	Status() (localapi.Status, error)
	// Roster is the roster the replica holds.
	Roster() (daemon.RosterView, error)
	// ChangeRoster adds or revokes a device (the province hub only) and
	// returns the entries written.
	ChangeRoster(req hub.RosterRequest) ([]replication.EntryID, error)
	// ExportRoster returns the roster as a signed bundle.
	ExportRoster() ([]byte, error)
	// ImportRoster verifies and ingests a roster bundle.
	ImportRoster(bundle []byte) (trust.Import, error)
	// Conflicts and Duplicates list a hub's review queue q (its Level is
	// filled in by the hub; All and Resolved are the caller's).
	Conflicts(q review.Queue) ([]*reconcile.Citizen, error)
	Duplicates(q review.Queue) ([]review.PairItem, error)
	// Resolve writes an officer's decision and returns its entry.
	Resolve(req review.Request) (replication.EntryID, error)
	// Enroll saves dossiers: next yields each dossier in input order (or
	// the error that kept one from decoding, a node row error) and
	// io.EOF at the end; out gets one result per dossier, in order.
	Enroll(next Dossiers, out func(node.EnrollResult) error) error
	// SetResidentStatus saves a resident's status (a laptop's).
	SetResidentStatus(st residents.Status) (node.EnrollResult, error)
	// Officers lists a laptop's officer accounts (without their
	// password hashes); ChangeOfficer adds, disables or enables one.
	Officers() ([]node.Officer, error)
	ChangeOfficer(req node.OfficerRequest) (node.Officer, error)
	// Close lets go of the daemon or the directory.
	Close() error
}

// Dossiers yields an input's dossiers in order: a record number, the
// dossier or the row error that kept it from decoding; io.EOF at the end.
type Dossiers func() (int, *node.Dossier, error)

// ErrNotHub is returned by the review methods of a field node's
// directory, ErrNotNode by the laptop methods of a hub's.
var (
	ErrNotHub  = errors.New("client: not a hub")
	ErrNotNode = errors.New("client: not a laptop")
)

// Open returns the running daemon of dir, or, when no daemon answers, dir
// opened offline with the options opts returns (called only then: a
// command run beside its daemon needs no key). A directory that is locked
// (its daemon holds it) but whose API does not answer is named as such.
func Open(dir string, opts func() (datadir.OpenOptions, error)) (Client, error) {
	if dir == "" {
		return nil, errors.New("client: no data directory given")
	}
	c, dialErr := localapi.Dial(dir)
	if dialErr == nil {
		return &Daemon{API: c}, nil
	}
	o, err := opts()
	if err != nil {
		return nil, err
	}
	d, err := datadir.Open(dir, o)
	if err != nil {
		return nil, OpenError(err, dialErr)
	}
	return NewOffline(d), nil
}

// OpenError explains a failure to open a directory directly after its
// daemon did not answer: a locked directory (a daemon holds it) whose API
// does not answer is named as such.
func OpenError(openErr, dialErr error) error {
	if errors.Is(openErr, storage.ErrLocked) {
		return fmt.Errorf("%w; and its API did not answer: %v", openErr, dialErr)
	}
	return openErr
}
