package localapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// InfoFile is where a running daemon describes its API, relative to DIR.
const InfoFile = "run/api.json"

// MaxRequestBytes bounds a request body (an import of a day's captures).
const MaxRequestBytes = 256 << 20

// ErrNotRunning is returned by Dial when no daemon runs for the directory.
var ErrNotRunning = errors.New("localapi: no running daemon for this directory")

// Info is the content of InfoFile.
type Info struct {
	Addr  string `json:"addr"`
	Token string `json:"token"`
	PID   int    `json:"pid"`
}

// Server serves a daemon's API.
type Server struct {
	Info Info
	Auth *Auth
	dir  string
	srv  *http.Server
	ln   net.Listener
}

// Listen binds addr (e.g. "127.0.0.1:0") and prepares a server for handler,
// which receives only requests Auth admits (paths under /api/), while the
// handler public builds (given the Auth, to guard its own data routes)
// serves paths outside /api/; public may be nil.
func Listen(dir, addr string, handler http.Handler, public func(auth *Auth) http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("localapi: listen %s: %w", addr, err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		ln.Close()
		return nil, err
	}
	token := hex.EncodeToString(tok)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &Server{dir: dir, ln: ln, Auth: NewAuth(token, port, nil)}
	s.Info = Info{Addr: ln.Addr().String(), Token: token, PID: os.Getpid()}
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", s.Auth.loginLinkHandler(s.Info.Addr))
	mux.Handle("/api/", s.Auth.Require(http.MaxBytesHandler(handler, MaxRequestBytes)))
	mux.Handle("GET /login", s.Auth.LoginHandler(loginRefused))
	mux.Handle("POST /logout", s.Auth.LogoutHandler())
	if public != nil {
		mux.Handle("/", public(s.Auth))
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

const loginRefused = `<!doctype html><meta charset="utf-8"><title>fieldsync</title>
<p>Đường dẫn đăng nhập sai, đã dùng hoặc đã hết hạn. Hãy chạy <code>fieldsync login --dir THƯ_MỤC</code> trên máy này và mở đường dẫn mới mà lệnh in ra.</p>
<p>Wrong, used or expired login link. Run <code>fieldsync login --dir DIR</code> on this machine and open the new link it prints.</p>`

// Serve writes the info file and serves until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	if err := writeInfo(s.dir, s.Info); err != nil {
		s.ln.Close()
		return err
	}
	defer os.Remove(filepath.Join(s.dir, InfoFile))
	// http.Server.Serve returns as soon as Shutdown starts, while handlers
	// still run; the caller closes the store those handlers use once Serve
	// returns, so Serve returns only after Shutdown has finished.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.srv.Shutdown(sctx) != nil {
			// Live-update streams never go idle: cut what is still open.
			s.srv.Close()
		}
	}()
	err := s.srv.Serve(s.ln)
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-stopped
	return nil
}

func writeInfo(dir string, info Info) error {
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(info)
	path := filepath.Join(dir, InfoFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Client talks to a running daemon.
type Client struct {
	info Info
	http *http.Client
}

// Dial reads DIR's info file and checks the daemon answers.
func Dial(dir string) (*Client, error) {
	b, err := os.ReadFile(filepath.Join(dir, InfoFile))
	if err != nil {
		return nil, ErrNotRunning
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("localapi: %s: %w", InfoFile, err)
	}
	c := NewClient(info)
	if err := c.Do(http.MethodGet, "/api/ping", nil, nil); err != nil {
		return nil, fmt.Errorf("%w (%s does not answer: %v)", ErrNotRunning, info.Addr, err)
	}
	return c, nil
}

// Body is a request body with its content type (the API refuses a body
// whose type its route does not take).
type Body struct {
	Type string
	io.Reader
}

// Content types of the API's bodies.
const (
	TypeJSON       = "application/json"
	TypeJSONLines  = "application/x-ndjson"
	TypeCSV        = "text/csv"
	TypeBinary     = "application/octet-stream"
	typeJSONHeader = TypeJSON + "; charset=utf-8"
)

// NewClient talks to the daemon info describes (Dial reads it from DIR and
// checks the daemon answers).
func NewClient(info Info) *Client {
	return &Client{info: info, http: &http.Client{Timeout: 10 * time.Minute}}
}

// LoginLink asks the daemon for a one-time browser login link.
func (c *Client) LoginLink() (LoginLink, error) {
	var link LoginLink
	return link, c.Do(http.MethodPost, "/api/login", nil, &link)
}

// Do sends body (a Body, a bare io.Reader sent as application/octet-stream,
// or anything else JSON-encoded) and decodes the JSON answer into out
// (unless nil). A non-2xx status is an *Error.
func (c *Client) Do(method, path string, body, out any) error {
	var rd io.Reader
	var ct string
	switch b := body.(type) {
	case nil:
	case Body:
		rd, ct = b.Reader, b.Type
	case io.Reader:
		rd, ct = b, TypeBinary
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd, ct = bytes.NewReader(buf), TypeJSON
	}
	req, err := http.NewRequest(method, "http://"+c.info.Addr+path, rd)
	if err != nil {
		return err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", "Bearer "+c.info.Token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return &Error{Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Error is a non-2xx answer.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("daemon answered %d: %s", e.Status, e.Message) }

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", typeJSONHeader)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
