package localapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Browser sessions. A browser never holds the API token: `fieldsync login`
// asks the daemon (with the token) for a one-time login code, the browser
// opens /login?code=CODE, and gets a session cookie of its own, random,
// short-lived and revocable. Cookies do not separate ports, so the cookie's
// name carries the listener's port: two dashboards on one host keep their
// own sessions.
const (
	// LoginCodeTTL is how long a login code may wait to be used (once).
	LoginCodeTTL = 10 * time.Minute
	// SessionIdle ends a session nobody used for this long (an open page
	// refetches every minute, so it stays in while the page is open).
	SessionIdle = 30 * time.Minute
	// SessionMax ends any session this long after its login: a shift.
	SessionMax = 12 * time.Hour
	// maxSessions and maxCodes bound what the daemon keeps; the oldest
	// goes first.
	maxSessions = 64
	maxCodes    = 16
)

// CookiePrefix starts the session cookie's name; the port follows
// (CookieName).
const CookiePrefix = "fieldsync_session_"

// Typed refusals, so callers (and tests) can tell them apart.
var (
	ErrUnauthenticated = errors.New("login required: run `fieldsync login --dir DIR` and open the link it prints, or send the API token (DIR/" + InfoFile + ") as a bearer token")
	ErrCrossOrigin     = errors.New("refused: a request that changes something must come from this daemon's own pages (Origin and Sec-Fetch-Site say otherwise)")
	ErrContentType     = errors.New("refused: a request that changes something must carry its body's real content type (a form, text/plain or no type is what another site can send)")
)

// Auth decides who may use the local API: a caller with the bearer token
// (the CLI, scripts on the machine), or a browser with a live session
// whose request is checked to come from this daemon's own pages. Every
// handler that serves data or changes state goes through Require.
type Auth struct {
	token  string
	cookie string
	now    func() time.Time

	mu       sync.Mutex
	codes    map[[32]byte]time.Time // hash of a login code -> its expiry
	sessions map[[32]byte]*session  // hash of a session ID -> session
	refused  map[string]int         // requests refused, by reason
}

type session struct {
	created, used time.Time
	// subject is who the session is for when the daemon authenticated
	// someone itself (an officer of the capture app, OpenSession); "" for
	// a session opened with a login code.
	subject string
}

// NewAuth builds the checks for the API token; port names the session
// cookie (CookieName); now is the clock (nil: time.Now).
func NewAuth(token, port string, now func() time.Time) *Auth {
	if now == nil {
		now = time.Now
	}
	return &Auth{token: token, cookie: CookieName(port), now: now,
		codes: map[[32]byte]time.Time{}, sessions: map[[32]byte]*session{}, refused: map[string]int{}}
}

// Refused reasons, as Refusals counts them.
const (
	RefusedUnauthenticated = "api-unauthenticated"
	RefusedCrossOrigin     = "api-cross-origin"
	RefusedContentType     = "api-content-type"
)

// Refusals counts the requests refused so far, by reason (status shows
// them: a count of cross-origin refusals says a page tried).
func (a *Auth) Refusals() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.refused))
	for k, v := range a.refused {
		out[k] = v
	}
	return out
}

func (a *Auth) count(err error) {
	reason := RefusedUnauthenticated
	switch {
	case errors.Is(err, ErrCrossOrigin):
		reason = RefusedCrossOrigin
	case errors.Is(err, ErrContentType):
		reason = RefusedContentType
	}
	a.mu.Lock()
	a.refused[reason]++
	a.mu.Unlock()
}

// CookieName is the session cookie's name for a listener on port.
func CookieName(port string) string { return CookiePrefix + port }

// Cookie returns this daemon's session cookie name.
func (a *Auth) Cookie() string { return a.cookie }

func digest(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// bearer reports whether r carries the API token as a bearer token.
func (a *Auth) bearer(r *http.Request) (present, ok bool) {
	got, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found {
		return false, false
	}
	return true, a.token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) == 1
}

// NewLoginCode makes a one-time login code, valid for LoginCodeTTL.
func (a *Auth) NewLoginCode() (string, time.Time) {
	code := random()
	now := a.now()
	exp := now.Add(LoginCodeTTL)
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.codes {
		if !now.Before(e) {
			delete(a.codes, k)
		}
	}
	if len(a.codes) >= maxCodes {
		oldest := firstKey(a.codes, func(x, y time.Time) bool { return x.Before(y) })
		delete(a.codes, oldest)
	}
	a.codes[digest(code)] = exp
	return code, exp
}

// login spends a code and opens a session; it returns the session ID.
func (a *Auth) login(code string) (string, bool) {
	if code == "" {
		return "", false
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	k := digest(code)
	exp, ok := a.codes[k]
	delete(a.codes, k) // once, whatever happens next
	if !ok || !now.Before(exp) {
		return "", false
	}
	return a.newSessionLocked(now, ""), true
}

// newSessionLocked opens a session for subject, dropping dead ones and,
// at maxSessions, the least recently used; it returns the session ID.
func (a *Auth) newSessionLocked(now time.Time, subject string) string {
	for k, s := range a.sessions {
		if !s.live(now) {
			delete(a.sessions, k)
		}
	}
	if len(a.sessions) >= maxSessions {
		oldest := firstKey(a.sessions, func(x, y *session) bool { return x.used.Before(y.used) })
		delete(a.sessions, oldest)
	}
	id := random()
	a.sessions[digest(id)] = &session{created: now, used: now, subject: subject}
	return id
}

// OpenSession opens a browser session for subject — someone the caller
// authenticated itself, such as an officer signing in to the capture app
// with a password — and sets its cookie on w. It is the same kind of
// session as a login code opens: random, HttpOnly, SameSite=Strict, ended
// by SessionIdle, SessionMax and POST /logout, and checked by Require.
// Any session r already carries is ended first (no fixation).
func (a *Auth) OpenSession(w http.ResponseWriter, r *http.Request, subject string) {
	a.logout(r)
	a.mu.Lock()
	id := a.newSessionLocked(a.now(), subject)
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: id, Path: "/", MaxAge: int(SessionMax / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// Subject returns the subject of r's live session ("" for one opened with
// a login code) and whether r carries a live session at all. It does not
// count as a use of the session.
func (a *Auth) Subject(r *http.Request) (string, bool) {
	c, err := r.Cookie(a.cookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[digest(c.Value)]
	if !ok || !s.live(a.now()) {
		return "", false
	}
	return s.subject, true
}

// EndSessions ends every session of subject (an officer disabled).
func (a *Auth) EndSessions(subject string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, s := range a.sessions {
		if s.subject == subject {
			delete(a.sessions, k)
		}
	}
}

// CheckOrigin applies to a request that carries no session yet — a
// sign-in form's POST — the checks Check makes of a session's request that
// changes something: it must come from this daemon's own origin, with a
// content type no cross-origin form can send. A refusal is counted
// (Refusals) like Require's.
func (a *Auth) CheckOrigin(r *http.Request) error {
	err := checkOrigin(r)
	if err != nil {
		a.count(err)
	}
	return err
}

func checkOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" || !sameOrigin(r) {
		return ErrCrossOrigin
	}
	if formContentType(r.Header.Get("Content-Type")) {
		return ErrContentType
	}
	return nil
}

func (s *session) live(now time.Time) bool {
	return now.Sub(s.used) < SessionIdle && now.Sub(s.created) < SessionMax
}

// session reports whether r carries a live session cookie, and refreshes it.
func (a *Auth) session(r *http.Request) bool {
	c, err := r.Cookie(a.cookie)
	if err != nil || c.Value == "" {
		return false
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	k := digest(c.Value)
	s, ok := a.sessions[k]
	if !ok {
		return false
	}
	if !s.live(now) {
		delete(a.sessions, k)
		return false
	}
	s.used = now
	return true
}

func (a *Auth) logout(r *http.Request) {
	if c, err := r.Cookie(a.cookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, digest(c.Value))
		a.mu.Unlock()
	}
}

// Check decides whether r may go on: nil, or ErrUnauthenticated,
// ErrCrossOrigin or ErrContentType.
//
// A bearer token is enough: a page of another site cannot set the
// Authorization header without a CORS preflight, which this server never
// answers. A session cookie is not: cookies do not separate ports, and
// SameSite counts another port of this host as the same site, so a page
// served there would ride along. A request with a session must therefore
// come from this daemon's own origin (Sec-Fetch-Site, when the browser
// sends it, says same-origin; a request that changes something must carry
// an Origin naming this host and port), and its body must have a content
// type no cross-origin form can send without a preflight.
func (a *Auth) Check(r *http.Request) error {
	if present, ok := a.bearer(r); present {
		if !ok {
			return ErrUnauthenticated
		}
		return nil
	}
	if !a.session(r) {
		return ErrUnauthenticated
	}
	site := r.Header.Get("Sec-Fetch-Site")
	if safeMethod(r.Method) {
		// "none": the operator typed the address or opened a bookmark.
		if site != "" && site != "same-origin" && site != "none" {
			return ErrCrossOrigin
		}
		return nil
	}
	if site != "" && site != "same-origin" {
		return ErrCrossOrigin
	}
	if !sameOrigin(r) {
		return ErrCrossOrigin
	}
	if formContentType(r.Header.Get("Content-Type")) {
		return ErrContentType
	}
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports whether r's Origin names the host and port r was sent
// to (no Origin on a request that changes something: refused).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return sameHost(u.Host, r.Host, u.Scheme)
}

func sameHost(a, b, scheme string) bool {
	return strings.EqualFold(withPort(a, scheme), withPort(b, scheme))
}

func withPort(h, scheme string) string {
	if _, _, err := net.SplitHostPort(h); err == nil {
		return h
	}
	if scheme == "https" {
		return net.JoinHostPort(strings.Trim(h, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(h, "[]"), "80")
}

// formContentType reports whether ct is one a cross-origin page may send
// without a preflight (the CORS-safelisted types), or none at all.
func formContentType(ct string) bool {
	if strings.TrimSpace(ct) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true
	}
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return true
	}
	return false
}

// Require serves h only to requests Check admits; others get 401 or 403
// with a message saying what to do, as JSON {"error": …} when the caller
// asked for JSON, plain text otherwise.
func (a *Auth) Require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Check(r); err != nil {
			a.count(err)
			status := http.StatusForbidden
			if errors.Is(err, ErrUnauthenticated) {
				status = http.StatusUnauthorized
			}
			refuse(w, r, status, err.Error())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// RequireBearer serves h only to callers holding the API token itself.
func (a *Auth) RequireBearer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.bearer(r); !ok {
			a.count(ErrUnauthenticated)
			refuse(w, r, http.StatusUnauthorized, "this needs the API token (DIR/"+InfoFile+") as a bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") || strings.HasPrefix(r.URL.Path, "/dash/") {
		WriteJSON(w, status, map[string]string{"error": msg})
		return
	}
	http.Error(w, msg, status)
}

// LoginHandler serves GET /login?code=CODE: it spends the code, sets the
// session cookie and sends the browser to "/" (dropping the code from the
// address bar and history). refused is the page shown for a wrong or used
// code.
func (a *Auth) LoginHandler(refused string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		id, ok := a.login(r.URL.Query().Get("code"))
		if !ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(refused))
			return
		}
		http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: id, Path: "/", MaxAge: int(SessionMax / time.Second),
			HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// LogoutHandler serves POST /logout: it ends the session and clears the
// cookie. Only from this daemon's own pages (Check).
func (a *Auth) LogoutHandler() http.Handler {
	return a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.logout(r)
		http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.WriteHeader(http.StatusNoContent)
	}))
}

// LoginLink is the answer of POST /api/login.
type LoginLink struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// loginLinkHandler serves POST /api/login (bearer token only): a one-time
// link that opens a browser session.
func (a *Auth) loginLinkHandler(addr string) http.Handler {
	return a.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, exp := a.NewLoginCode()
		WriteJSON(w, http.StatusOK, LoginLink{URL: "http://" + addr + "/login?code=" + url.QueryEscape(code), Expires: exp})
	}))
}

// RequireType refuses (415) a body whose content type is none of types;
// handlers that decode a body call it first.
func RequireType(w http.ResponseWriter, r *http.Request, types ...string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil {
		for _, t := range types {
			if mt == t {
				return true
			}
		}
	}
	refuse(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("send the body as %s", strings.Join(types, " or ")))
	return false
}

func firstKey[V any](m map[[32]byte]V, less func(a, b V) bool) [32]byte {
	var best [32]byte
	var bv V
	first := true
	for k, v := range m {
		if first || less(v, bv) {
			best, bv, first = k, v, false
		}
	}
	return best
}

// DecodeJSON reads r's body into v: application/json only, at most limit
// bytes, no unknown fields. On failure it has answered (415 or 400) and
// returns false.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	if !RequireType(w, r, TypeJSON) {
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		refuse(w, r, http.StatusBadRequest, strings.TrimPrefix(r.URL.Path, "/api/")+": "+err.Error())
		return false
	}
	return true
}
