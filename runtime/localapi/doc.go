// Package localapi is the HTTP API a running daemon (`fieldsync run`)
// serves, and the client the CLI uses to reach it, so that enroll, import
// and status work while the daemon holds the data directory.
//
// The daemon listens on loopback (by default) and writes DIR/run/api.json
// (mode 0600): its address and a random bearer token. Every request to
// /api/ must carry the token, or come from a browser session (auth.go):
// reading the token requires access to the data directory, which is
// exactly who may use the API, and a browser gets a session of its own
// through a one-time login link (`fieldsync login`), never the token. The
// file is removed on shutdown.
//
// # Routes every daemon serves
//
//	POST /api/login    (bearer only) a one-time login link {"url", "expires"}
//	GET  /login?code=  spends the code, sets the session cookie, redirects to /
//	POST /logout       ends the session
//
// Every other /api/ path goes to the daemon's handler through Auth.Require;
// the public handler (dashboard, capture app, /metrics) wraps its own data
// routes in the same Auth.Require.
package localapi
