package hub

import (
	"context"
	"log/slog"
	"net/http"

	"fieldsync/internal/daemon"
	"fieldsync/internal/localapi"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
)

// DaemonConfig configures a running hub.
type DaemonConfig struct {
	Dir *datadir.Dir
	// Replicator is the sync runtime's config: the listener laptops and
	// lower hubs dial, the parent hub as a static target, the pools.
	Replicator replicator.Config
	// APIAddr is where the local API and dashboard listen.
	APIAddr string
	Logger  *slog.Logger
	Ready   func(localapi.Info)
}

// Daemon is a running hub: it ingests what arrives from below (every range
// verified against its origin's key by the protocol), stores it, and
// forwards everything upward unchanged through the same sync sessions.
type Daemon struct {
	*daemon.Base
	cfg DaemonConfig
}

// NewDaemon builds a hub daemon over an open directory.
func NewDaemon(cfg DaemonConfig) (*Daemon, error) {
	base, err := daemon.New(cfg.Dir, cfg.Replicator, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Daemon{Base: base, cfg: cfg}, nil
}

// Run syncs and serves until ctx ends.
func (d *Daemon) Run(ctx context.Context) error {
	return d.Base.Run(ctx, d.cfg.APIAddr, d.Handler(), nil, d.cfg.Ready)
}

// Handler is the hub's local API.
func (d *Daemon) Handler() http.Handler { return d.Mux(nil) }
