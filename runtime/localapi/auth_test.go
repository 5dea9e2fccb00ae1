package localapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// loginWith spends code at a; it returns the cookie set (nil if refused).
func loginWith(a *Auth, code string) *http.Cookie {
	w := httptest.NewRecorder()
	a.LoginHandler("refused").ServeHTTP(w, httptest.NewRequest("GET", "/login?code="+code, nil))
	if w.Code != http.StatusSeeOther {
		return nil
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == a.Cookie() {
			return c
		}
	}
	return nil
}

func TestLoginCodeOpensOneSessionOnce(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	a := NewAuth("tok", "7980", clk.now)
	code, exp := a.NewLoginCode()
	if exp.Sub(clk.now()) != LoginCodeTTL {
		t.Fatalf("expiry %v", exp)
	}
	c := loginWith(a, code)
	if c == nil {
		t.Fatal("a fresh code was refused")
	}
	if c.Name != "fieldsync_session_7980" || c.Value == "tok" || len(c.Value) != 64 || !c.HttpOnly ||
		c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != int(SessionMax/time.Second) {
		t.Fatalf("cookie %+v", c)
	}
	if loginWith(a, code) != nil {
		t.Fatal("a code worked twice")
	}
	for name, code := range map[string]string{"empty": "", "the token": "tok", "made up": strings.Repeat("ab", 32)} {
		if loginWith(a, code) != nil {
			t.Errorf("%s opened a session", name)
		}
	}
	late, _ := a.NewLoginCode()
	clk.add(LoginCodeTTL)
	if loginWith(a, late) != nil {
		t.Fatal("an expired code worked")
	}
}

func TestSessionsAreShortLivedAndPerPort(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	a := NewAuth("tok", "7980", clk.now)
	b := NewAuth("tok2", "7981", clk.now) // a second dashboard on the host
	get := func(au *Auth, cookies ...*http.Cookie) error {
		r := httptest.NewRequest("GET", "/dash/snapshot", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return au.Check(r)
	}
	code, _ := a.NewLoginCode()
	ca := loginWith(a, code)
	code, _ = b.NewLoginCode()
	cb := loginWith(b, code)
	// The browser sends both cookies to both ports: each daemon reads its own.
	if get(a, ca, cb) != nil || get(b, ca, cb) != nil {
		t.Fatal("two dashboards on one host do not keep their own sessions")
	}
	if !errors.Is(get(b, &http.Cookie{Name: b.Cookie(), Value: ca.Value}), ErrUnauthenticated) {
		t.Fatal("one daemon's session opened the other")
	}
	// Used within SessionIdle it lives on, up to SessionMax.
	for elapsed := time.Duration(0); elapsed+SessionIdle/2 < SessionMax; elapsed += SessionIdle / 2 {
		clk.add(SessionIdle / 2)
		if err := get(a, ca); err != nil {
			t.Fatalf("in use after %v: %v", elapsed, err)
		}
	}
	clk.add(SessionIdle / 2)
	if !errors.Is(get(a, ca), ErrUnauthenticated) {
		t.Fatal("a session outlived SessionMax")
	}
	if !errors.Is(get(b, cb), ErrUnauthenticated) {
		t.Fatal("an unused session outlived SessionIdle")
	}
}

func TestSessionsAndCodesAreBounded(t *testing.T) {
	a := NewAuth("tok", "1", nil)
	var first *http.Cookie
	for i := range maxSessions + 10 {
		code, _ := a.NewLoginCode()
		c := loginWith(a, code)
		if i == 0 {
			first = c
		}
	}
	for range maxCodes + 10 {
		a.NewLoginCode()
	}
	if len(a.sessions) > maxSessions || len(a.codes) > maxCodes {
		t.Fatalf("%d sessions, %d codes", len(a.sessions), len(a.codes))
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(first)
	if a.Check(r) == nil {
		t.Fatal("the oldest session was not the one to go")
	}
}

// TestCheck is the rule table: what a bearer and a session may do, from
// where, with what body.
func TestCheck(t *testing.T) {
	a := NewAuth("tok", "7980", nil)
	code, _ := a.NewLoginCode()
	sess := loginWith(a, code)
	const self = "http://127.0.0.1:7980"
	for _, tc := range []struct {
		name   string
		method string
		hdr    map[string]string
		cookie bool
		want   error
	}{
		{"bearer get", "GET", map[string]string{"Authorization": "Bearer tok"}, false, nil},
		{"bearer post, any origin", "POST", map[string]string{"Authorization": "Bearer tok", "Origin": "http://evil", "Content-Type": "application/json"}, false, nil},
		{"wrong bearer", "GET", map[string]string{"Authorization": "Bearer nope"}, false, ErrUnauthenticated},
		{"wrong bearer beats a session", "GET", map[string]string{"Authorization": "Bearer nope"}, true, ErrUnauthenticated},
		{"nothing", "GET", nil, false, ErrUnauthenticated},
		{"session get", "GET", nil, true, nil},
		{"session get, same origin", "GET", map[string]string{"Sec-Fetch-Site": "same-origin"}, true, nil},
		{"session get, typed address", "GET", map[string]string{"Sec-Fetch-Site": "none"}, true, nil},
		{"session get from another port", "GET", map[string]string{"Sec-Fetch-Site": "same-site"}, true, ErrCrossOrigin},
		{"session get from another site", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, ErrCrossOrigin},
		{"session json post", "POST", map[string]string{"Origin": self, "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}, true, nil},
		{"session post, no origin", "POST", map[string]string{"Content-Type": "application/json"}, true, ErrCrossOrigin},
		{"session post, null origin", "POST", map[string]string{"Origin": "null", "Content-Type": "application/json"}, true, ErrCrossOrigin},
		{"session post, other port", "POST", map[string]string{"Origin": "http://127.0.0.1:8000", "Content-Type": "application/json"}, true, ErrCrossOrigin},
		{"session post, other host", "POST", map[string]string{"Origin": "http://localhost:7980", "Content-Type": "application/json"}, true, ErrCrossOrigin},
		{"session post, same-site fetch", "POST", map[string]string{"Origin": self, "Sec-Fetch-Site": "same-site", "Content-Type": "application/json"}, true, ErrCrossOrigin},
		{"session post, typed none", "POST", map[string]string{"Origin": self, "Sec-Fetch-Site": "none", "Content-Type": "application/json"}, true, ErrCrossOrigin},
		{"session form post", "POST", map[string]string{"Origin": self, "Content-Type": "application/x-www-form-urlencoded"}, true, ErrContentType},
		{"session multipart post", "POST", map[string]string{"Origin": self, "Content-Type": "multipart/form-data; boundary=x"}, true, ErrContentType},
		{"session text post", "POST", map[string]string{"Origin": self, "Content-Type": "text/plain;charset=UTF-8"}, true, ErrContentType},
		{"session untyped post", "POST", map[string]string{"Origin": self}, true, ErrContentType},
		{"session delete, other origin", "DELETE", map[string]string{"Origin": "http://evil"}, true, ErrCrossOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, self+"/api/x", nil)
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			if tc.cookie {
				r.AddCookie(sess)
			}
			if err := a.Check(r); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRequireAnswersWithWhatToDo(t *testing.T) {
	a := NewAuth("tok", "1", nil)
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/status", nil))
	if w.Code != 401 || !strings.Contains(w.Body.String(), "fieldsync login") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/dash/snapshot", nil)
	h.ServeHTTP(w, r)
	if w.Code != 401 || !strings.HasPrefix(w.Body.String(), `{"error":`) {
		t.Fatalf("dashboard data answers JSON: %d %s", w.Code, w.Body)
	}
	// /api/login needs the token itself, never a session.
	code, _ := a.NewLoginCode()
	c := loginWith(a, code)
	w = httptest.NewRecorder()
	r = httptest.NewRequest("POST", "/api/login", nil)
	r.AddCookie(c)
	a.loginLinkHandler("127.0.0.1:1").ServeHTTP(w, r)
	if w.Code != 401 {
		t.Fatalf("a session minted a login code: %d", w.Code)
	}
}

// TestOpenSessionCarriesItsSubject: a session the daemon opens for
// someone it authenticated (an officer signing in) names them, replaces
// the session the browser had, times out like any other and ends with
// EndSessions; CheckOrigin refuses a sign-in from another origin.
func TestOpenSessionCarriesItsSubject(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	a := NewAuth("tok", "7980", clk.now)
	code, _ := a.NewLoginCode()
	old := loginWith(a, code)
	req := httptest.NewRequest("POST", "http://127.0.0.1:7980/app/signin", nil)
	req.AddCookie(old)
	w := httptest.NewRecorder()
	a.OpenSession(w, req, "CA-18586-02")
	var c *http.Cookie
	for _, ck := range w.Result().Cookies() {
		if ck.Name == a.Cookie() {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Value == old.Value {
		t.Fatalf("session cookie %+v", c)
	}
	with := func(ck *http.Cookie) *http.Request {
		r := httptest.NewRequest("GET", "http://127.0.0.1:7980/app/me", nil)
		r.AddCookie(ck)
		return r
	}
	if _, ok := a.Subject(with(old)); ok {
		t.Fatal("the session from before sign-in still lives (fixation)")
	}
	if s, ok := a.Subject(with(c)); !ok || s != "CA-18586-02" {
		t.Fatalf("subject %q %v", s, ok)
	}
	if a.Check(with(c)) != nil {
		t.Fatal("Require refuses the officer's session")
	}
	clk.add(SessionIdle + time.Second)
	if _, ok := a.Subject(with(c)); ok {
		t.Fatal("an idle officer session did not time out")
	}
	w = httptest.NewRecorder()
	a.OpenSession(w, req, "CA-18586-03")
	c = w.Result().Cookies()[0]
	a.EndSessions("CA-18586-03")
	if _, ok := a.Subject(with(c)); ok {
		t.Fatal("EndSessions left the session")
	}
	for _, h := range []map[string]string{
		{"Origin": "http://127.0.0.1:1", "Content-Type": "application/json"},
		{"Content-Type": "application/json"},
		{"Origin": "http://127.0.0.1:7980", "Content-Type": "application/x-www-form-urlencoded"},
		{"Origin": "http://127.0.0.1:7980", "Content-Type": "application/json", "Sec-Fetch-Site": "same-site"},
	} {
		r := httptest.NewRequest("POST", "http://127.0.0.1:7980/app/signin", strings.NewReader("{}"))
		for k, v := range h {
			r.Header.Set(k, v)
		}
		if err := a.CheckOrigin(r); !errors.Is(err, ErrCrossOrigin) && !errors.Is(err, ErrContentType) {
			t.Errorf("sign-in with %v admitted", h)
		}
	}
	r := httptest.NewRequest("POST", "http://127.0.0.1:7980/app/signin", strings.NewReader("{}"))
	r.Header.Set("Origin", "http://127.0.0.1:7980")
	r.Header.Set("Content-Type", "application/json")
	if err := a.CheckOrigin(r); err != nil {
		t.Fatalf("a same-origin sign-in refused: %v", err)
	}
	if n := a.Refusals()[RefusedCrossOrigin] + a.Refusals()[RefusedContentType]; n != 4 {
		t.Fatalf("%d sign-in refusals counted, want 4", n)
	}
}
