package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"fieldsync/hub"
	"fieldsync/hub/dashboard"
	"fieldsync/node"
	"fieldsync/node/capture"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
	"fieldsync/runtime/ratelog"
	"fieldsync/storage"
)

func init() {
	register(&command{
		name:     "run",
		synopsis: "run a field node or hub: sync, and the local API (and dashboard)",
		usage: `Usage: fieldsync run --dir DIR [flags]

Runs the replica in DIR until interrupted: it syncs with its parent hub and
peers whenever a link is up (the side that can dial, dials), accepts sync
sessions on --sync-listen, and serves the local API on --api-listen so that
enroll, import and status work while it runs. Flags override DIR/config.json
for this run; --save writes them back.

Examples:
  fieldsync run --dir /var/lib/fieldsync                       # a laptop: dials its hub
  fieldsync run --dir /srv/fs-district --sync-listen :7947 --api-listen 127.0.0.1:7980
  fieldsync run --dir /srv/fs-district --parent province.example:7947 --log-level debug
  fieldsync run --dir /srv/fs-province --blob-store 's3://s3.pc06.example/hatinh-blobs/hub-42?credentials=/etc/fieldsync/s3.credentials' --save
`,
		run: runRun,
	})
}

// runFlags are the flags of run that override config.json.
type runFlags struct {
	dir, syncListen, apiListen, parent, peers, logLevel, logFormat, blobStore string
	save                                                                      bool
}

func runRun(e *env, args []string) error {
	var f runFlags
	fs := newFlags(e, commands["run"])
	fs.StringVar(&f.dir, "dir", "", "data directory")
	fs.StringVar(&f.syncListen, "sync-listen", "", "address to accept sync sessions on (hubs; a laptop may leave it empty and only dial)")
	fs.StringVar(&f.apiListen, "api-listen", "", "address of the local API and dashboard (default 127.0.0.1, any port)")
	fs.StringVar(&f.parent, "parent", "", "sync address of the hub above")
	fs.StringVar(&f.peers, "peers", "", "comma-separated sync addresses of further peers")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "text or json")
	fs.StringVar(&f.blobStore, "blob-store", "", "hubs: keep blobs in an S3-compatible object store, s3://HOST/BUCKET/PREFIX?credentials=FILE (\"local\": DIR/blobs)")
	fs.BoolVar(&f.save, "save", false, "write the flags given into config.json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(e, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	if f.dir == "" {
		return usagef("--dir is required")
	}
	cfg, err := datadir.ReadConfig(f.dir)
	if err != nil {
		return err
	}
	applyRunFlags(&cfg, f)
	if f.save {
		if err := datadir.WriteConfig(f.dir, cfg); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reopen := false
	for {
		err := runOnce(ctx, e, f, logger, reopen)
		if !errors.Is(err, daemon.ErrRestart) {
			return err
		}
		logger.Warn("reopening the data directory to start a new epoch")
		reopen = true
	}
}

// reopenWait bounds how long a restarting daemon waits for its directory:
// while it is closed, a command run meanwhile (status, verify) finds no
// API and opens the directory itself, holding its lock for a moment.
const reopenWait = 30 * time.Second

// openDirRetrying opens the data directory; when reopening after a
// restart, a lock held by another process is waited out (up to
// reopenWait) rather than ending the daemon: the daemon gave the lock up
// itself a moment ago.
func openDirRetrying(ctx context.Context, dir string, o datadir.OpenOptions, reopen bool, logger *slog.Logger) (*datadir.Dir, error) {
	deadline := time.Now().Add(reopenWait)
	for warned := false; ; {
		d, err := datadir.Open(dir, o)
		if err == nil || !reopen || !errors.Is(err, storage.ErrLocked) || time.Now().After(deadline) {
			return d, err
		}
		if !warned {
			logger.Warn("the data directory is held by another process while this daemon restarts; waiting for it", "dir", dir)
			warned = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runOnce opens the directory, joins the pools and runs the daemon until
// ctx ends or the daemon asks to be reopened (daemon.ErrRestart).
func runOnce(ctx context.Context, e *env, f runFlags, logger *slog.Logger, reopen bool) error {
	cfg, err := datadir.ReadConfig(f.dir)
	if err != nil {
		return err
	}
	profile := storage.ProfileField
	if cfg.Role == replication.RoleHub {
		profile = storage.ProfileHub
	}
	o, err := (*keyFlags)(nil).openOptions(datadir.OpenOptions{Logger: logger, Profile: profile, BlobStore: f.blobStore}) // the key from config.json or the environment
	if err != nil {
		return err
	}
	d, err := openDirRetrying(ctx, f.dir, o, reopen, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	applyRunFlags(&d.Config, f)
	cfg = d.Config
	rc, err := replicatorConfig(cfg)
	if err != nil {
		return err
	}
	pools, stopPools, err := startPools(d, rc.Advertise, logger)
	if err != nil {
		return err
	}
	defer stopPools()
	rc.Pools = pools
	ready := func(info localapi.Info) {
		fmt.Fprintf(e.stdout, "fieldsync %s %s running: sync %s, api http://%s\n", cfg.Role, cfg.Name, orNone(rc.Advertise), info.Addr)
		if cfg.Role == replication.RoleHub {
			// No secret in the service's output: a one-time link comes from
			// `fieldsync login`, to whoever can read the directory.
			fmt.Fprintf(e.stdout, "dashboard: http://%s/ (log in: fieldsync login --dir %s)\n", info.Addr, f.dir)
		} else {
			fmt.Fprintf(e.stdout, "capture app: http://%s/ (officers sign in; accounts: fieldsync officer add --dir %s)\n", info.Addr, f.dir)
		}
	}
	return runDaemon(ctx, d, rc, cfg.APIAddr, logger, ready)
}

func runDaemon(ctx context.Context, d *datadir.Dir, rc replicator.Config, apiAddr string, logger *slog.Logger, ready func(localapi.Info)) error {
	if d.Config.Role == replication.RoleHub {
		h, err := hub.NewDaemon(hub.DaemonConfig{Dir: d, Replicator: rc, APIAddr: apiAddr, Logger: logger, Ready: ready, Public: dashboard.Handler})
		if err != nil {
			return err
		}
		return h.Run(ctx)
	}
	n, _, err := capture.NewDaemon(node.DaemonConfig{Dir: d, Replicator: rc, APIAddr: apiAddr, Logger: logger, Ready: ready})
	if err != nil {
		return err
	}
	return n.Run(ctx)
}

func applyRunFlags(cfg *datadir.Config, f runFlags) {
	if f.syncListen != "" {
		cfg.SyncAddr = f.syncListen
	}
	if f.apiListen != "" {
		cfg.APIAddr = f.apiListen
	}
	if f.parent != "" {
		cfg.Parent = f.parent
	}
	if f.peers != "" {
		cfg.Peers = strings.Split(f.peers, ",")
	}
	switch f.blobStore {
	case "":
	case "local":
		cfg.BlobStore = ""
	default:
		cfg.BlobStore = f.blobStore
	}
}

// replicatorConfig builds the sync runtime's config from the node's config.
func replicatorConfig(cfg datadir.Config) (replicator.Config, error) {
	var rc replicator.Config
	if cfg.SyncAddr != "" {
		ln, err := net.Listen("tcp", cfg.SyncAddr)
		if err != nil {
			return rc, fmt.Errorf("sync listener: %w", err)
		}
		rc.Listener, rc.Advertise = ln, ln.Addr().String()
		if cfg.SyncAdvertise != "" {
			rc.Advertise = cfg.SyncAdvertise
		}
	}
	if cfg.Parent != "" {
		rc.Static = append(rc.Static, cfg.Parent)
	}
	rc.Static = append(rc.Static, cfg.Peers...)
	return rc, nil
}

func newLogger(e *env, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	// Every line goes through a per-cause rate limit: what a peer or a
	// stranger sends must not decide how much this replica writes.
	switch format {
	case "text":
		return slog.New(ratelog.New(slog.NewTextHandler(e.stderr, opts), ratelog.Options{})), nil
	case "json":
		return slog.New(ratelog.New(slog.NewJSONHandler(e.stderr, opts), ratelog.Options{})), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

func orNone(s string) string {
	if s == "" {
		return "(dial only)"
	}
	return s
}
