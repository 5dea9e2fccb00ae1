package capture

import (
	"net/http"

	"fieldsync/node"
	"fieldsync/runtime/localapi"
)

// NewDaemon builds a laptop's daemon with its capture app served on the
// local API (what `fieldsync run` does for a field node): cfg.Public and
// cfg.OnOfficerDisabled are set here.
func NewDaemon(cfg node.DaemonConfig) (*node.Daemon, *App, error) {
	var app *App
	cfg.Public = func(auth *localapi.Auth) http.Handler { return app.Handler(auth) }
	cfg.OnOfficerDisabled = func(id string) { app.EndSessions(id) }
	d, err := node.NewDaemon(cfg)
	if err != nil {
		return nil, nil, err
	}
	app, err = New(Config{Node: d.Node(), Peers: d.Rep.Peers, Clock: cfg.Replicator.Clock, Logger: cfg.Logger})
	if err != nil {
		return nil, nil, err
	}
	return d, app, nil
}
