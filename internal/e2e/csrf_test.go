package e2e

import (
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"fieldsync/hub"
	"fieldsync/hub/dashboard"
	"fieldsync/node"
	"fieldsync/node/capture"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/localapi"
)

// stateChangingRoutes is every route of a running daemon that changes
// something, by who serves it. TestEveryStateChangingRouteIsListed keeps
// it complete.
var stateChangingRoutes = map[string][]string{
	"hub": {"/api/roster", "/api/resolve", "/api/roster/import", "/dash/resolve", "/api/login", "/logout", "/api/bundle/export", "/api/bundle/import", "/api/residents/import", "/api/model/train"},
	"node": {"/api/enroll", "/api/import", "/api/roster/import", "/api/login", "/logout", "/api/bundle/export", "/api/bundle/import", "/api/residents/status", "/api/officers",
		"/app/signin", "/app/check", "/app/save", "/app/status"},
}

// TestEveryStateChangingRouteIsListed fails when a handler registered for
// POST, PUT, PATCH or DELETE anywhere in the tree is missing from
// stateChangingRoutes, so a new route cannot skip the forgery test.
func TestEveryStateChangingRouteIsListed(t *testing.T) {
	listed := map[string]bool{}
	for _, rs := range stateChangingRoutes {
		for _, r := range rs {
			listed[r] = true
		}
	}
	route := regexp.MustCompile(`"(POST|PUT|PATCH|DELETE) (/[^"{ ]*)`)
	root := filepath.Join("..", "..")
	var found []string
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() && (info.Name() == ".git" || info.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range route.FindAllStringSubmatch(string(b), -1) {
			found = append(found, m[2])
			if !listed[m[2]] {
				t.Errorf("%s registers %s %s: add it to stateChangingRoutes", path, m[1], m[2])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 8 {
		t.Fatalf("found only %v: the pattern no longer matches how routes are registered", found)
	}
}

// csrfTarget is a running daemon with a logged-in browser session.
type csrfTarget struct {
	kind string // "hub" or "node"
	info localapi.Info
	jar  http.CookieJar
	// state is what a forged request would change (roster devices,
	// entries held); it must not move.
	state func() string
}

func (c *csrfTarget) base() string { return "http://" + c.info.Addr }

// startCSRFTargets runs a province hub (the roster's anchor, with its
// dashboard) and a laptop, each with its local API, and logs a browser
// session into each through a one-time link.
func startCSRFTargets(t *testing.T) (*deployment, []*csrfTarget) {
	d := newDeployment(t)
	hubReady, nodeReady := make(chan localapi.Info, 1), make(chan localapi.Info, 1)
	d.addHubWith("province", "province", "42", "", func(c *hub.DaemonConfig) {
		c.Public = dashboard.Handler
		c.Ready = func(i localapi.Info) { hubReady <- i }
	})
	dir := d.initDir(datadir.Config{Role: replication.RoleNode, Unit: "18586", Name: "l-thach-kenh"})
	n, _, err := capture.NewDaemon(node.DaemonConfig{Dir: dir, Replicator: fast(replicator.Config{Static: []string{d.addrs["province"]}}),
		Ready: func(i localapi.Info) { nodeReady <- i }})
	if err != nil {
		t.Fatal(err)
	}
	d.nodes["l-thach-kenh"] = n
	d.run("l-thach-kenh", n)
	prov := d.hubs["province"]
	// What a replica wrote itself (captures, roster changes, decisions):
	// entries arriving by sync move the total, not this.
	entries := func(dir *datadir.Dir) string {
		h, _ := dir.Log.Head(dir.Signer.Origin())
		return fmt.Sprint(h.Seq)
	}
	targets := []*csrfTarget{
		{kind: "hub", info: <-hubReady, state: func() string {
			return fmt.Sprintf("devices %d, own entries %s", len(prov.Roster().Devices()), entries(prov.Dir))
		}},
		{kind: "node", info: <-nodeReady, state: func() string { return "own entries " + entries(dir) }},
	}
	for _, c := range targets {
		link, err := localapi.NewClient(c.info).LoginLink()
		if err != nil {
			t.Fatal(err)
		}
		c.jar, _ = cookiejar.New(nil)
		resp, err := (&http.Client{Jar: c.jar}).Get(link.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		u, _ := url.Parse(c.base())
		if len(c.jar.Cookies(u)) != 1 {
			t.Fatalf("%s: login set %v", c.kind, c.jar.Cookies(u))
		}
	}
	return d, targets
}

// forgedBody is a body a cross-origin form can send: a text/plain form
// whose one field, name "{…" and value "…}", joins into JSON.
func forgedBody(route string) string {
	switch route {
	case "/api/roster":
		return `{"op":"add","device":"` + strings.Repeat("ab", 32) + `","role":"node","units":["18586"],"name":"=evil"}`
	case "/api/resolve", "/dash/resolve":
		return `{"id":"conflict:042085001234","choose":"aa:2","officer":"forged","note":"="}`
	case "/api/enroll":
		return `{"id_number":"042085009999","full_name":"="}`
	case "/api/import":
		return "id_number,full_name\n042085009999,Evil\n"
	}
	return "x=1"
}

// TestForgedCrossOriginRequestsAreRefused sends, with a logged-in
// browser's session cookie, the requests a page on another port of the
// same host can make (forms urlencoded, multipart and text/plain with
// JSON inside, no-cors fetches; with its Origin, with none, with
// Sec-Fetch-Site same-site) to every state-changing route of a running
// hub and laptop: each is refused (401 or 403, before any handler) and
// nothing changes. The same requests with a JSON body from the daemon's
// own origin get through the check (the session works).
func TestForgedCrossOriginRequestsAreRefused(t *testing.T) {
	_, targets := startCSRFTargets(t)
	for _, c := range targets {
		before := c.state()
		client := &http.Client{Jar: c.jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, route := range stateChangingRoutes[c.kind] {
			body := forgedBody(route)
			for _, f := range []struct {
				name string
				hdr  map[string]string
			}{
				{"text/plain form from another port", map[string]string{"Content-Type": "text/plain", "Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"}},
				{"urlencoded form from another port", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1:1"}},
				{"multipart form from another port", map[string]string{"Content-Type": "multipart/form-data; boundary=x", "Origin": "http://127.0.0.1:1"}},
				{"json from another port", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:1"}},
				{"json from another site", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}},
				{"json with no origin", map[string]string{"Content-Type": "application/json"}},
				{"text/plain from its own origin", map[string]string{"Content-Type": "text/plain", "Origin": c.base()}},
				{"same-site fetch naming its origin", map[string]string{"Content-Type": "application/json", "Origin": c.base(), "Sec-Fetch-Site": "same-site"}},
			} {
				req, _ := http.NewRequest("POST", c.base()+route, strings.NewReader(body))
				for k, v := range f.hdr {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s, %s: %s %s", c.kind, route, f.name, resp.Status, msg)
				}
			}
		}
		if after := c.state(); after != before {
			t.Errorf("%s: forged requests changed it: %s -> %s", c.kind, before, after)
		}
		// The session itself works from the daemon's own pages.
		req, _ := http.NewRequest("POST", c.base()+"/api/roster/import", strings.NewReader("not a bundle"))
		req.Header.Set("Content-Type", localapi.TypeBinary)
		req.Header.Set("Origin", c.base())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: a same-origin request with the session: %s, want 400 (the bundle refused by the handler)", c.kind, resp.Status)
		}
	}
}

// TestForgedFormsInABrowser is the attack as it happened: an operator
// logged into the province's dashboard and the laptop's pages opens a page
// served from another port of the same host, which submits forms (JSON
// smuggled in text/plain) and no-cors fetches to every state-changing
// route. Chromium sends the session cookies (another port is the same
// site); every request is refused on its origin and the roster, the
// decisions and the captures stay as they were.
func TestForgedFormsInABrowser(t *testing.T) {
	br := newBrowser(t, 1000, 800)
	_, targets := startCSRFTargets(t)
	var forms, fetches []string
	for _, c := range targets {
		link, err := localapi.NewClient(c.info).LoginLink()
		if err != nil {
			t.Fatal(err)
		}
		br.navigate(link.URL) // the operator's browser logs in
		for _, route := range stateChangingRoutes[c.kind] {
			body := forgedBody(route)
			name, value, ok := strings.Cut(body, "=")
			if !ok {
				name, value = body, ""
			}
			i := len(forms)
			forms = append(forms, fmt.Sprintf(`<iframe name="f%d"></iframe><form id="form%d" target="f%d" method="POST" enctype="text/plain" action="%s"><input name="%s" value="%s"></form>`,
				i, i, i, html.EscapeString(c.base()+route), html.EscapeString(name), html.EscapeString(value)))
			fetches = append(fetches, fmt.Sprintf(`fetch(%q, {method: 'POST', mode: 'no-cors', credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: %q}).catch(() => {});`,
				c.base()+route, body))
		}
	}
	before := map[string]string{}
	refusedBefore := map[string]int{}
	for _, c := range targets {
		before[c.kind] = c.state()
		refusedBefore[c.kind] = crossOriginRefusals(t, c)
	}
	var submit []string
	for i := range forms {
		submit = append(submit, fmt.Sprintf("document.getElementById('form%d').submit();", i))
	}
	page := "<!doctype html><title>cats</title>" + strings.Join(forms, "\n") +
		"<script>" + strings.Join(submit, "\n") + "\n" + strings.Join(fetches, "\n") + "</script>"
	evil := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the same host, another port
	if err != nil {
		t.Fatal(err)
	}
	evil.Listener = ln
	evil.Start()
	defer evil.Close()
	br.navigate(evil.URL)
	// Every forged request reached a daemon with the cookie and was
	// refused on its origin (a form and a fetch per route), but those to
	// /api/login, which takes the bearer token only and refuses any
	// session as unauthenticated.
	want := map[string]int{}
	for _, c := range targets {
		want[c.kind] = 2 * (len(stateChangingRoutes[c.kind]) - 1)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		done := true
		for _, c := range targets {
			if crossOriginRefusals(t, c)-refusedBefore[c.kind] < want[c.kind] {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			for _, c := range targets {
				t.Errorf("%s: %d cross-origin refusals, want %d (did the browser send the cookie?)", c.kind, crossOriginRefusals(t, c)-refusedBefore[c.kind], want[c.kind])
			}
			t.FailNow()
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	kinds := []string{}
	for _, c := range targets {
		kinds = append(kinds, c.kind)
		if after := c.state(); after != before[c.kind] {
			t.Errorf("%s: the forged page changed it: %s -> %s", c.kind, before[c.kind], after)
		}
		t.Logf("%s: %d forged requests refused (%s)", c.kind, crossOriginRefusals(t, c)-refusedBefore[c.kind], c.state())
	}
	sort.Strings(kinds)
}

// crossOriginRefusals reads the daemon's status count of requests refused
// for their origin or content type.
func crossOriginRefusals(t *testing.T, c *csrfTarget) int {
	var st localapi.Status
	if err := localapi.NewClient(c.info).Do("GET", "/api/status", nil, &st); err != nil {
		t.Fatal(err)
	}
	return st.Refused[localapi.RefusedCrossOrigin] + st.Refused[localapi.RefusedContentType]
}
