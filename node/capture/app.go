package capture

import (
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"fieldsync/enrollment"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/localapi"
)

// Limits of what the app accepts and sends.
const (
	// MaxRecordBytes bounds a draft or a save (a record is a few KB).
	MaxRecordBytes = 64 << 10
	// MaxListItems bounds the people one /app/residents answer lists.
	MaxListItems = 500
	// MaxQueueItems bounds the recent captures the queue view lists.
	MaxQueueItems = 100
	// officerSubject prefixes an officer's session subject.
	officerSubject = "officer:"
)

//go:embed assets
var assets embed.FS

// Config configures an App.
type Config struct {
	// Node is the laptop's capture shell.
	Node *node.Node
	// Peers returns the replicator's live peer states (a daemon's
	// Rep.Peers): the queue view's hubs, backlogs and drain times.
	Peers func() ([]replicator.PeerStatus, error)
	// Clock is "now" for validation; nil is the real clock.
	Clock  replication.Clock
	Logger *slog.Logger
}

// App is the capture app of one laptop: its index and its handlers.
type App struct {
	cfg   Config
	node  *node.Node
	clock replication.Clock
	ix    *index

	signIn sync.Mutex // one password stretch at a time (64 MiB each)

	authMu sync.Mutex
	auth   *localapi.Auth // set by Handler
}

// New builds the app over a node, indexing what its log holds, and keeps
// the index current with every entry the node appends or ingests.
func New(cfg Config) (*App, error) {
	if cfg.Node == nil {
		return nil, errors.New("capture: a node is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, node: cfg.Node, clock: replication.OrReal(cfg.Clock), ix: newIndex()}
	a.node.Watch(a.ix.apply) // before the scan: nothing slips between
	if err := a.load(); err != nil {
		return nil, err
	}
	return a, nil
}

// load indexes every entry of the log, origin by origin.
func (a *App) load() error {
	l := a.node.Dir().Log
	v, err := l.Vector()
	if err != nil {
		return err
	}
	const chunk = 1024
	batch := make([]replication.Entry, 0, chunk)
	for _, o := range v.Origins() {
		err := l.Scan(o, 2, func(e replication.Entry) bool {
			if batch = append(batch, e); len(batch) == chunk {
				a.ix.apply(batch)
				batch = batch[:0]
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	a.ix.apply(batch)
	return nil
}

// EndSessions signs an officer out everywhere (an account disabled).
func (a *App) EndSessions(officer string) {
	a.authMu.Lock()
	auth := a.auth
	a.authMu.Unlock()
	if auth != nil {
		auth.EndSessions(officerSubject + officer)
	}
}

// Handler serves the app: its pages to anyone, its data to a signed-in
// officer's session (localapi.Auth: same-origin, typed bodies).
func (a *App) Handler(auth *localapi.Auth) http.Handler {
	a.authMu.Lock()
	a.auth = auth
	a.authMu.Unlock()
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	files := http.FileServerFS(static)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", files)
	mux.Handle("GET /assets/", http.StripPrefix("/assets", files))
	mux.HandleFunc("GET /app/session", a.serveSession)
	mux.HandleFunc("POST /app/signin", a.serveSignIn)
	mux.Handle("GET /app/refdata", a.officer(a.serveRefdata))
	mux.Handle("POST /app/check", a.officer(a.serveCheck))
	mux.Handle("POST /app/save", a.officer(a.serveSave))
	mux.Handle("GET /app/capture", a.officer(a.serveCapture))
	mux.Handle("GET /app/residents", a.officer(a.serveResidents))
	mux.Handle("POST /app/status", a.officer(a.serveStatus))
	mux.Handle("GET /app/queue", a.officer(a.serveQueue))
	return securityHeaders(mux)
}

// securityHeaders allows the laptop's own origin only (no CDN, no
// framing), and the camera for this page alone.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		hd.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		if strings.HasPrefix(r.URL.Path, "/app/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

// officerKey is the context of a signed-in officer's request.
type officerFunc func(w http.ResponseWriter, r *http.Request, o node.Officer)

// officer serves h to a request of a live session signed in as an officer
// whose account stands (not disabled since); others get 401 and the page
// shows the sign-in form.
func (a *App) officer(h officerFunc) http.Handler {
	return a.auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subject, _ := a.auth.Subject(r)
		id, ok := strings.CutPrefix(subject, officerSubject)
		if !ok {
			writeError(w, http.StatusUnauthorized, "sign in as an officer", "đăng nhập bằng tài khoản cán bộ")
			return
		}
		o, ok := a.officerByID(id)
		if !ok {
			a.auth.EndSessions(subject)
			writeError(w, http.StatusUnauthorized, "this account is disabled: sign in again", "tài khoản đã bị khóa: đăng nhập lại")
			return
		}
		h(w, r, o)
	}))
}

func (a *App) officerByID(id string) (node.Officer, bool) {
	os, err := node.Officers(a.node.Dir().Log)
	if err != nil {
		return node.Officer{}, false
	}
	for _, o := range os {
		if o.ID == id && !o.Disabled {
			return o.Public(), true
		}
	}
	return node.Officer{}, false
}

// apiError is an error the page shows, in both languages.
type apiError struct {
	Error   string `json:"error"`
	ErrorVI string `json:"error_vi"`
}

func writeError(w http.ResponseWriter, status int, en, vi string) {
	localapi.WriteJSON(w, status, apiError{Error: en, ErrorVI: vi})
}

// Session is what the page learns first: the laptop, and the officer
// signed in (nil: show the sign-in form).
type Session struct {
	Officer *node.Officer `json:"officer"`
	Commune string        `json:"commune"`
	Name    string        `json:"commune_name"`
	Laptop  string        `json:"laptop"`
	Idle    int           `json:"session_idle_seconds"`
	// CodeList is the code list in force today: the form's default for
	// units (the 2025 reform's list from 1 July 2025).
	CodeList string `json:"code_list"`
	Officers int    `json:"officers"` // accounts set up (0: none yet)
}

func (a *App) serveSession(w http.ResponseWriter, r *http.Request) {
	cfg := a.node.Dir().Config
	s := Session{Commune: cfg.Unit, Name: communeName(cfg.Unit), Laptop: cfg.Name, Idle: int(localapi.SessionIdle / time.Second),
		CodeList: enrollment.CodeList2023}
	if !a.clock.Now().Before(reform2025) {
		s.CodeList = enrollment.CodeList2025
	}
	if os, err := node.Officers(a.node.Dir().Log); err == nil {
		s.Officers = len(os)
	}
	if subject, ok := a.auth.Subject(r); ok {
		if id, ok := strings.CutPrefix(subject, officerSubject); ok {
			if o, ok := a.officerByID(id); ok {
				s.Officer = &o
			}
		}
	}
	localapi.WriteJSON(w, http.StatusOK, s)
}

// signInRequest is the sign-in form.
type signInRequest struct {
	Officer  string `json:"officer"`
	Password string `json:"password"`
}

// serveSignIn checks an officer's password and opens a session for them
// (the local API's own sessions: they time out when idle and end at sign
// out). Only from this laptop's own page, as JSON; one check at a time.
func (a *App) serveSignIn(w http.ResponseWriter, r *http.Request) {
	if err := a.auth.CheckOrigin(r); err != nil {
		writeError(w, http.StatusForbidden, err.Error(), "từ chối: yêu cầu phải đến từ trang của chính máy này")
		return
	}
	var req signInRequest
	if !localapi.DecodeJSON(w, r, &req, 4<<10) {
		return
	}
	a.signIn.Lock()
	o, err := node.CheckOfficer(a.node.Dir().Log, req.Officer, []byte(req.Password))
	a.signIn.Unlock()
	switch {
	case errors.Is(err, node.ErrSignIn):
		a.cfg.Logger.Warn("officer sign-in refused", "officer", clipLog(req.Officer))
		writeError(w, http.StatusUnauthorized, "wrong officer ID or password (or the account is disabled)", "sai mã cán bộ hoặc mật khẩu (hoặc tài khoản đã bị khóa)")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error(), err.Error())
		return
	}
	a.auth.OpenSession(w, r, officerSubject+o.ID)
	p := o.Public()
	localapi.WriteJSON(w, http.StatusOK, map[string]any{"officer": p})
}

func clipLog(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// reform2025 is when the 2025-07 code list came into force.
var reform2025 = time.Date(2025, 7, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))

func communeName(code string) string {
	for _, l := range []string{enrollment.CodeList2023, enrollment.CodeList2025} {
		if u, ok := enrollment.UnitByCode(l, code); ok {
			return u.Name
		}
	}
	return code
}
