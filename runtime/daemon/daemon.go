package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"fieldsync/dossier"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncproto"
	"fieldsync/runtime/localapi"
	"fieldsync/storage"
)

// maxAlarms bounds the distinct alarms kept in memory.
const maxAlarms = 1000

// ErrRestart is returned by Run when the replica must be reopened: a peer
// showed that its own origin went on elsewhere (its log was restored from an
// old copy, or cloned), a new epoch was requested, and opening the data
// directory again starts it (datadir.RequestRollover). The caller closes
// the directory, opens it again and runs a new daemon.
var ErrRestart = errors.New("daemon: restart to start a new epoch (this replica's log was restored or cloned)")

// Base is the shared part of a running replica.
type Base struct {
	Dir    *datadir.Dir
	Rep    *replicator.Replicator
	Logger *slog.Logger

	mu      sync.Mutex
	alarms  map[string]*localapi.Alarm
	onEv    func(peer string, ev syncproto.Event)
	metrics *metrics
	// restart is closed once a rollover is recorded; Run then returns
	// ErrRestart.
	restart     chan struct{}
	restartOnce sync.Once
	trust       trust
	// auth is the running API's (nil before Run): status counts what it
	// refused.
	auth atomic.Pointer[localapi.Auth]
	// ingested is what the replicator's OnIngest does: a bundle's batches
	// go the same way.
	ingested func(peer string, res oplog.IngestResult)
}

// New builds the base: rc is the replicator's config (Dir, Logger and
// OnEvent are filled in; a set rc.OnEvent is still called).
func New(dir *datadir.Dir, rc replicator.Config, logger *slog.Logger) (*Base, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Base{Dir: dir, Logger: logger, alarms: map[string]*localapi.Alarm{}, onEv: rc.OnEvent, restart: make(chan struct{})}
	b.metrics = newMetrics(b)
	if err := b.setupTrust(dir, &rc); err != nil {
		return nil, err
	}
	onIngest, onEnd := rc.OnIngest, rc.OnSessionEnd
	rc.Dir, rc.Logger, rc.OnEvent = dir, logger, b.alarm
	if rc.Blobs == nil && dir.Blobs != nil {
		// The blob lane: dossiers' blobs move behind their records.
		rc.Blobs = &replicator.BlobConfig{Refs: dossier.RefsOf}
	}
	b.ingested = func(peer string, res oplog.IngestResult) {
		b.noteIngest(res)
		if len(res.Applied) == 0 { // a replay: nothing new
			b.metrics.duplicate.Add(float64(res.Duplicates))
			return
		}
		b.Observe(res.Applied) // the roster first: the next range may need it
		b.metrics.ingest(res)
		if onIngest != nil {
			onIngest(peer, res)
		}
	}
	rc.OnIngest = b.ingested
	rc.OnSessionEnd = func(peer string, err error) {
		b.metrics.session(err)
		if onEnd != nil {
			onEnd(peer, err)
		}
	}
	rep, err := replicator.New(rc)
	if err != nil {
		return nil, err
	}
	b.Rep = rep
	if err := b.PublishBundleKey(); errors.Is(err, storage.ErrDiskFull) {
		// A hub at its disk floor must still start, to serve what it holds
		// and raise its disk-full alarm; the key is written at a later
		// start (bundles are refused until then: ErrNoKey).
		logger.Warn("this hub's bundle key is not published: the disk is below its floor; it is published at the next start after space is freed", "cause", "bundle-key", "err", err)
	} else if err != nil {
		return nil, err
	}
	return b, nil
}

// Mux returns a mux with /api/ping and /api/status; status adds extra,
// when set, as the role-specific section.
func (b *Base) Mux(extra func() (map[string]any, error)) *http.ServeMux {
	mux := http.NewServeMux()
	b.rosterRoutes(mux)
	mux.HandleFunc("GET /api/ping", func(w http.ResponseWriter, r *http.Request) { localapi.WriteJSON(w, 200, "pong") })
	b.bundleRoutes(mux)
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := b.Status(extra)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		localapi.WriteJSON(w, http.StatusOK, st)
	})
	return mux
}

// Status returns the replica's status with its peers' backlogs.
func (b *Base) Status(extra func() (map[string]any, error)) (localapi.Status, error) {
	peers, err := b.Rep.Peers()
	if err != nil {
		return localapi.Status{}, err
	}
	st, err := localapi.BaseStatus(b.Dir, peers, true)
	if err != nil {
		return st, err
	}
	st.SyncAddr = b.Rep.Advertise()
	st.Alarms = b.Alarms()
	st.Trust, st.Refused = b.TrustStatus()
	if a := b.auth.Load(); a != nil {
		for k, v := range a.Refusals() {
			if st.Refused == nil {
				st.Refused = map[string]int{}
			}
			st.Refused[k] += v
		}
	}
	st.Duplicates = b.Duplicates()
	var blobAlarm *localapi.Alarm
	if st.BlobStore, blobAlarm = b.blobStoreStatus(); blobAlarm != nil {
		st.Alarms = append(st.Alarms, *blobAlarm)
	}
	if extra != nil {
		if st.Extra, err = extra(); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Run runs the replicator and serves api (authenticated /api/ paths) and
// the handler public builds with the API's Auth (other paths: the
// dashboard, /metrics; public may be nil) on apiAddr until ctx ends.
func (b *Base) Run(ctx context.Context, apiAddr string, api http.Handler, public func(auth *localapi.Auth) http.Handler, ready func(localapi.Info)) error {
	if apiAddr == "" {
		apiAddr = "127.0.0.1:0"
	}
	srv, err := localapi.Listen(b.Dir.Path, apiAddr, api, public)
	if err != nil {
		return err
	}
	b.auth.Store(srv.Auth)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- b.Rep.Run(ctx) }()
	go func() { errc <- srv.Serve(ctx) }()
	go b.watchDisk(ctx)
	if ready != nil {
		ready(srv.Info)
	}
	b.Logger.Info("replica running", "name", b.Dir.Config.Name, "role", b.Dir.Config.Role, "api", srv.Info.Addr, "sync", b.Rep.Advertise())
	select {
	case err = <-errc:
	case <-b.restart:
		err = ErrRestart
		cancel()
		<-errc
	}
	cancel()
	<-errc
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// alarm records a sync event an operator should see in status.
func (b *Base) alarm(peer string, ev syncproto.Event) {
	b.metrics.event(ev)
	b.noteTrustEvent(peer, ev)
	if ev.Kind == syncproto.EventRollback && ev.Origin == b.Dir.Signer.Origin() {
		b.rollover(peer, ev)
	}
	if b.onEv != nil {
		b.onEv(peer, ev)
	}
	key := fmt.Sprintf("%s/%s/%d", ev.Kind, ev.Origin, ev.Seq)
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.alarms[key]
	if !ok {
		if len(b.alarms) >= maxAlarms {
			return
		}
		a = &localapi.Alarm{Kind: ev.Kind.String(), Origin: ev.Origin.String(), Seq: ev.Seq, Peer: peer, Detail: ev.Reason.String() + ": " + ev.Detail}
		b.alarms[key] = a
	}
	a.Count++
}

// DiskCheckEvery is how often a running replica compares the free space
// of its disk with its store's floor (a variable for tests).
var DiskCheckEvery = 10 * time.Second

// Alarm kinds of conditions (present while they hold).
const (
	// AlarmDiskFull: the disk is below the store's floor; every write is
	// refused (captures, sync) until space is freed.
	AlarmDiskFull = "disk-full"
	// AlarmDiskLow: less than twice the floor is free; writes still go.
	AlarmDiskLow = "disk-low"
)

// watchDisk raises AlarmDiskFull while the disk holding the store is below
// its floor (and AlarmDiskLow within twice it), and clears them when
// space returns: sessions fail at every write meanwhile, and an operator
// must see why on the dashboard and in status.
func (b *Base) watchDisk(ctx context.Context) {
	fs, ok := b.Dir.Log.(interface{ FreeSpace() (int64, int64) })
	if !ok {
		return
	}
	for {
		free, floor := fs.FreeSpace()
		b.diskCondition(free, floor)
		select {
		case <-ctx.Done():
			return
		case <-time.After(DiskCheckEvery):
		}
	}
}

func (b *Base) diskCondition(free, floor int64) {
	full := free >= 0 && floor > 0 && free < floor
	low := free >= 0 && floor > 0 && !full && free < 2*floor
	mb := func(n int64) int64 { return n >> 20 }
	b.setCondition(AlarmDiskFull, full, fmt.Sprintf("%d MiB free on the disk of %s, below the %d MiB its store keeps free: every write is refused (captures, entries from peers) until space is freed; nothing acknowledged is lost", mb(free), b.Dir.Path, mb(floor)))
	b.setCondition(AlarmDiskLow, low, fmt.Sprintf("%d MiB free on the disk of %s: below %d MiB, writes will be refused", mb(free), b.Dir.Path, mb(floor)))
}

// setCondition raises (on) or clears (off) the alarm kind; while raised,
// each call counts once more.
func (b *Base) setCondition(kind string, on bool, detail string) {
	b.mu.Lock()
	a, had := b.alarms[kind]
	switch {
	case on && !had:
		a = &localapi.Alarm{Kind: kind, Detail: detail}
		b.alarms[kind] = a
	case !on && had:
		delete(b.alarms, kind)
	}
	if on {
		a.Count++
		a.Detail = detail
	}
	b.mu.Unlock()
	switch {
	case on && !had && kind == AlarmDiskFull:
		b.Logger.Error("the disk is below the store's free-space floor: writes are refused", "cause", kind, "detail", detail)
	case on && !had:
		b.Logger.Warn("the disk is nearly full", "cause", kind, "detail", detail)
	case !on && had:
		b.Logger.Info("disk space is back above the floor", "cause", kind)
	}
}

// Alarms returns the alarms raised so far, sorted.
func (b *Base) Alarms() []localapi.Alarm {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]localapi.Alarm, 0, len(b.alarms))
	for _, a := range b.alarms {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Origin < out[j].Origin || out[i].Origin == out[j].Origin && out[i].Seq < out[j].Seq
	})
	return out
}

// rollover starts a new epoch on a rollback of the replica's own origin,
// re-issuing every entry of it: what one hub acknowledged may be a branch
// another hub's fork notice later sets aside, and hubs take a re-issue of
// an original they hold as nothing (reconcile Rule 9), so carrying all of
// it costs bytes once, in a rare event, and never counts a capture twice.
func (b *Base) rollover(peer string, ev syncproto.Event) {
	b.NewEpoch(2, fmt.Sprintf("%s holds seq %d of this replica's own origin: %s", peer, ev.Seq, ev.Detail))
}

// NewEpoch records a move to a new epoch that re-issues the current
// origin's entries from seq reissueFrom on, and makes Run return
// ErrRestart (the next open starts the epoch). Only the first call counts.
func (b *Base) NewEpoch(reissueFrom uint64, reason string) {
	b.restartOnce.Do(func() {
		b.Logger.Error("this replica's own origin went on elsewhere (restored from an old copy, or cloned): starting a new epoch",
			"origin", b.Dir.Signer.Origin().Short(), "reissue_from", reissueFrom, "reason", reason)
		if err := b.Dir.RequestRollover(reissueFrom, reason); err != nil {
			b.Logger.Error("could not record the new epoch; stopping", "err", err)
		}
		close(b.restart)
	})
}
