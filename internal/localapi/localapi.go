// Package localapi is the HTTP API a running daemon (`fieldsync run`)
// serves, and the client the CLI uses to reach it, so that enroll, import
// and status work while the daemon holds the data directory.
//
// The daemon listens on loopback (by default) and writes DIR/run/api.json
// (mode 0600): its address and a random bearer token. Every request must
// carry the token; reading it requires access to the data directory, which
// is exactly who may use the API. The file is removed on shutdown.
package localapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
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
	Info  Info
	dir   string
	srv   *http.Server
	ln    net.Listener
	token string
}

// Listen binds addr (e.g. "127.0.0.1:0") and prepares a server for handler,
// which receives only authenticated requests (paths under /api/), while the
// handler public builds (given the token, e.g. for the dashboard's session)
// serves paths outside /api/; public may be nil.
func Listen(dir, addr string, handler http.Handler, public func(token string) http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("localapi: listen %s: %w", addr, err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{dir: dir, ln: ln, token: hex.EncodeToString(tok)}
	s.Info = Info{Addr: ln.Addr().String(), Token: s.token, PID: os.Getpid()}
	mux := http.NewServeMux()
	mux.Handle("/api/", s.authenticated(http.MaxBytesHandler(handler, MaxRequestBytes)))
	if public != nil {
		mux.Handle("/", public(s.token))
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Token returns the bearer token (the dashboard embeds it in its session).
func (s *Server) Token() string { return s.token }

// Serve writes the info file and serves until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	if err := writeInfo(s.dir, s.Info); err != nil {
		s.ln.Close()
		return err
	}
	defer os.Remove(filepath.Join(s.dir, InfoFile))
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.srv.Shutdown(sctx) != nil {
			// Live-update streams never go idle: cut what is still open.
			s.srv.Close()
		}
	}()
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// authenticated accepts "Authorization: Bearer TOKEN" or the session cookie.
func (s *Server) authenticated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if c, err := r.Cookie(CookieName); err == nil && got == "" {
			got = c.Value
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
			http.Error(w, "missing or wrong token (see DIR/"+InfoFile+")", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// CookieName is the dashboard's session cookie (its value is the token).
const CookieName = "fieldsync_session"

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
	c := &Client{info: info, http: &http.Client{Timeout: 10 * time.Minute}}
	if err := c.Do(http.MethodGet, "/api/ping", nil, nil); err != nil {
		return nil, fmt.Errorf("%w (%s does not answer: %v)", ErrNotRunning, info.Addr, err)
	}
	return c, nil
}

// Do sends body (JSON-encoded unless it is an io.Reader) and decodes the
// JSON answer into out (unless nil). A non-2xx status is an *Error.
func (c *Client) Do(method, path string, body, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, "http://"+c.info.Addr+path, rd)
	if err != nil {
		return err
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
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
