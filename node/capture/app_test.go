package capture_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/node"
	"fieldsync/node/capture"
	"fieldsync/replication"
	"fieldsync/replication/channel"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/runtime/localapi"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
func (c fixedClock) NewTimer(time.Duration) (<-chan time.Time, func() bool) {
	return make(chan time.Time), func() bool { return true }
}

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// cheapKDF makes tests' password stretches fast (the floor of datadir's
// limits; accounts in the field use DefaultKDF).
func cheapKDF() datadir.KDF {
	k := datadir.DefaultKDF()
	k.Time, k.MemoryKiB, k.Threads = 1, 8<<10, 1
	return k
}

var listed = []residents.Resident{
	{PersonalID: "042085000101", FullName: "Nguyễn Văn An", DateOfBirth: enrollment.Date{Year: 1985, Month: 3, Day: 12}, Sex: enrollment.Male, Household: "HK-001", RelationToHead: "Chủ hộ", Address: "Thôn 3"},
	{PersonalID: "042185000102", FullName: "Trần Thị Bình", DateOfBirth: enrollment.Date{Year: 1985}, Sex: enrollment.Female, Household: "HK-001", RelationToHead: "Vợ", Address: "Thôn 3"},
	{PersonalID: "042090000345", FullName: "Lê Văn Hùng", DateOfBirth: enrollment.Date{Year: 1990, Month: 7, Day: 1}, Sex: enrollment.Male, Household: "HK-002", RelationToHead: "Chủ hộ", Address: "Thôn 4"},
}

// laptop is a laptop's node with the commune's list ingested, an officer
// account, and its app served over HTTP.
type laptop struct {
	t    *testing.T
	n    *node.Node
	srv  *httptest.Server
	app  *capture.App
	auth *localapi.Auth
}

func newLaptop(t *testing.T) *laptop {
	d, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586", Name: "l-thach-kenh"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	n, err := node.New(d, node.Options{Clock: fixedClock{now}})
	if err != nil {
		t.Fatal(err)
	}
	// The province's channel for Thạch Kênh, as sync brings it down.
	mem, hub := oplog.NewMem(), oplogtest.NewSigner(77)
	payloads, err := residents.EncodeLists(residents.List{Commune: "18586", CodeList: enrollment.CodeList2023, AsOf: "2026-03-01", MinAge: 14}, listed, nil)
	if err != nil {
		t.Fatal(err)
	}
	var drafts []replication.Draft
	for _, p := range payloads {
		drafts = append(drafts, replication.Draft{Kind: replication.KindResidents, Schema: residents.Schema, Payload: p, HLC: replication.MakeHLC(now.UnixMilli(), 0)})
	}
	es, err := channel.Write(mem, hub, "province", "42", "18586", drafts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Log.Ingest(es, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := node.AddOfficer(d.Log, "CA-18586-02", "Trần Văn Bình", []byte("mật khẩu dài"), cheapKDF(), now); err != nil {
		t.Fatal(err)
	}
	app, err := capture.New(capture.Config{Node: n, Clock: fixedClock{now}})
	if err != nil {
		t.Fatal(err)
	}
	l := &laptop{t: t, n: n, app: app}
	mux := http.NewServeMux()
	l.srv = httptest.NewUnstartedServer(mux)
	l.srv.Start()
	t.Cleanup(l.srv.Close)
	port := l.srv.URL[strings.LastIndex(l.srv.URL, ":")+1:]
	l.auth = localapi.NewAuth("token", port, nil)
	mux.Handle("/", app.Handler(l.auth))
	return l
}

// call sends a request from the app's own page (Origin, JSON) with the
// session cookie, if any, and decodes the answer.
func (l *laptop) call(method, path string, body any, cookie *http.Cookie, out any) int {
	l.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, l.srv.URL+path, rd)
	req.Header.Set("Origin", l.srv.URL)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			l.t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

func (l *laptop) signIn(officer, password string) *http.Cookie {
	l.t.Helper()
	b, _ := json.Marshal(map[string]string{"officer": officer, "password": password})
	req, _ := http.NewRequest("POST", l.srv.URL+"/app/signin", bytes.NewReader(b))
	req.Header.Set("Origin", l.srv.URL)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == l.auth.Cookie() && resp.StatusCode == 200 {
			return c
		}
	}
	return nil
}

// form is what the page posts: a record as enroll takes it.
func form(pid, name, dob, sex string) map[string]any {
	place := map[string]string{"unit_code": "18586", "code_list": "2023-04", "text": "Xã Thạch Kênh"}
	return map[string]any{"personal_id": pid, "full_name": name, "date_of_birth": dob, "sex": sex, "ethnicity_code": "01",
		"religion": "Không", "nationality": []string{"Việt Nam"},
		"birth_registration": map[string]string{"unit_code": "42", "code_list": "2023-04", "text": "Tỉnh Hà Tĩnh"},
		"hometown":           place, "permanent_residence": place,
		"capture": map[string]string{"officer": "somebody else", "request_type": "cấp mới"}}
}

func TestSignInAndSessions(t *testing.T) {
	l := newLaptop(t)
	var ans map[string]any
	if code := l.call("POST", "/app/check", map[string]any{"record": form("", "", "", "")}, nil, &ans); code != http.StatusUnauthorized {
		t.Fatalf("a check without a session: %d", code)
	}
	if c := l.signIn("CA-18586-02", "wrong password"); c != nil {
		t.Fatal("a wrong password signed in")
	}
	if c := l.signIn("CA-18586-99", "mật khẩu dài"); c != nil {
		t.Fatal("an unknown officer signed in")
	}
	// A sign-in from another origin (a page on another port) is refused.
	b, _ := json.Marshal(map[string]string{"officer": "CA-18586-02", "password": "mật khẩu dài"})
	req, _ := http.NewRequest("POST", l.srv.URL+"/app/signin", bytes.NewReader(b))
	req.Header.Set("Origin", "http://127.0.0.1:1")
	req.Header.Set("Content-Type", "application/json")
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-origin sign-in: %d", resp.StatusCode)
	}
	c := l.signIn("CA-18586-02", "mật khẩu dài")
	if c == nil {
		t.Fatal("the right password did not sign in")
	}
	var s capture.Session
	l.call("GET", "/app/session", nil, c, &s)
	if s.Officer == nil || s.Officer.ID != "CA-18586-02" || s.Officer.Hash != "" || s.Commune != "18586" {
		t.Fatalf("session %+v", s)
	}
	// Disabled: the next request is refused and the session ends.
	if err := node.SetOfficerDisabled(l.n.Dir().Log, "CA-18586-02", true); err != nil {
		t.Fatal(err)
	}
	if code := l.call("GET", "/app/queue", nil, c, nil); code != http.StatusUnauthorized {
		t.Fatalf("a disabled officer's request: %d", code)
	}
	node.SetOfficerDisabled(l.n.Dir().Log, "CA-18586-02", false)
	if code := l.call("GET", "/app/queue", nil, c, nil); code != http.StatusUnauthorized {
		t.Fatal("the disabled officer's session came back")
	}
}

func TestCheckSaveAndLookUp(t *testing.T) {
	l := newLaptop(t)
	c := l.signIn("CA-18586-02", "mật khẩu dài")
	// A rejected field, named in both languages.
	var ans capture.CheckAnswer
	l.call("POST", "/app/check", map[string]any{"record": form("009085000101", "Nguyễn Văn An", "12/03/1985", "Nam")}, c, &ans)
	f := find(ans.Findings, "personal_id", "pid.prefix_unknown")
	if f == nil || f.Severity != enrollment.Reject || !strings.Contains(f.MessageVI, "Số định danh") || !strings.Contains(f.Message, "ID number") {
		t.Fatalf("findings %+v", ans.Findings)
	}
	// A date that cannot be read is a finding on its field, not an error.
	l.call("POST", "/app/check", map[string]any{"record": form("042085000101", "Nguyễn Văn An", "31/x/1985", "Nam")}, c, &ans)
	if find(ans.Findings, "date_of_birth", "date.unreadable") == nil {
		t.Fatalf("findings %+v", ans.Findings)
	}
	// The person of the list, their ID number's last digits swapped and
	// the name in capitals: a probable duplicate, side by side.
	l.call("POST", "/app/check", map[string]any{"record": form("042085000110", "NGUYỄN VĂN AN", "12/03/1985", "Nam")}, c, &ans)
	if len(ans.Matches) == 0 || ans.Matches[0].Kind != "resident" || ans.Matches[0].SameID || ans.Matches[0].Resident.PersonalID != "042085000101" ||
		!slices.Contains(ans.Matches[0].Reasons, "given-equal") || slices.Contains(ans.Matches[0].Reasons, "id-differs") ||
		len(ans.Matches[0].Evidence) == 0 || ans.Matches[0].Evidence[0].VI == "" {
		t.Fatalf("matches %+v", ans.Matches)
	}
	// Saved from the list: the capture carries the officer signed in, and
	// the person is marked enrolled, linked to it.
	var saved capture.SaveAnswer
	if code := l.call("POST", "/app/save", map[string]any{"record": form("042085000101", "Nguyễn Văn An", "12/03/1985", "Nam"), "resident": "042085000101"}, c, &saved); code != 200 {
		t.Fatalf("save: %d", code)
	}
	if saved.Record.Capture.Officer != "CA-18586-02" || saved.Status == nil {
		t.Fatalf("saved %+v", saved)
	}
	var res capture.ResidentsAnswer
	l.call("GET", "/app/residents?category=missing", nil, c, &res)
	if res.Counts.Enrolled != 1 || res.Counts.Missing != 2 || res.Total != 2 {
		t.Fatalf("after the save: %+v", res.Counts)
	}
	// The same ID number again: the capture is shown before a second save.
	l.call("POST", "/app/check", map[string]any{"record": form("042 085 000 101", "Nguyễn Văn Ân", "12/03/1985", "Nam")}, c, &ans)
	if len(ans.Matches) == 0 || ans.Matches[0].Kind != "capture" || !ans.Matches[0].SameID || ans.Matches[0].Entry != saved.Receipt.ID.String() {
		t.Fatalf("matches %+v", ans.Matches)
	}
	// Correcting it instead: no duplicate of itself, one capture standing.
	var amended capture.SaveAnswer
	ans = capture.CheckAnswer{}
	l.call("POST", "/app/check", map[string]any{"record": form("042085000101", "Nguyễn Văn Ân", "12/03/1985", "Nam"), "amend": saved.Receipt.ID.String()}, c, &ans)
	for _, m := range ans.Matches {
		if m.Entry == saved.Receipt.ID.String() {
			t.Fatalf("a capture is shown as a duplicate of its own correction: %+v", ans.Matches)
		}
	}
	if code := l.call("POST", "/app/save", map[string]any{"record": form("042085000101", "Nguyễn Văn Ân", "12/03/1985", "Nam"), "amend": saved.Receipt.ID.String(), "reason": "dấu"}, c, &amended); code != 200 {
		t.Fatalf("amend: %d", code)
	}
	var q capture.Queue
	l.call("GET", "/app/queue", nil, c, &q)
	if q.Captures != 1 || q.OnLaptop != 3 || q.MaxUnsynced != node.DefaultMaxUnsyncedEntries || len(q.Recent) != 2 || q.Recent[0].Kind != "amend" || q.Recent[0].State != "laptop" {
		t.Fatalf("queue %+v", q)
	}
	// A save the rules refuse writes nothing and says why.
	before, _ := l.n.Dir().Log.Head(l.n.Dir().Signer.Origin())
	if code := l.call("POST", "/app/save", map[string]any{"record": form("12345", "Ai", "1985", "Nam")}, c, &ans); code != http.StatusUnprocessableEntity || find(ans.Findings, "personal_id", "pid.length") == nil {
		t.Fatalf("a bad save: %d %+v", code, ans.Findings)
	}
	after, _ := l.n.Dir().Log.Head(l.n.Dir().Signer.Origin())
	if after != before {
		t.Fatal("a refused save wrote an entry")
	}
	// A status from the list page.
	var st map[string]any
	if code := l.call("POST", "/app/status", map[string]any{"personal_id": "042090000345", "status": "away", "note": "Bình Dương"}, c, &st); code != 200 {
		t.Fatalf("status: %d %v", code, st)
	}
	l.call("GET", "/app/residents?category=accounted", nil, c, &res)
	if res.Total != 1 || res.People[0].Status.Status != residents.Away || res.People[0].Status.Officer != "CA-18586-02" {
		t.Fatalf("accounted: %+v", res)
	}
}

func find(fs enrollment.Findings, field, code string) *enrollment.Finding {
	for i := range fs {
		if fs[i].Field == field && fs[i].Code == code {
			return &fs[i]
		}
	}
	return nil
}

func TestPageHasNoExternalReference(t *testing.T) {
	l := newLaptop(t)
	for _, path := range []string{"/", "/assets/app.js", "/assets/app.css", "/assets/labels.json"} {
		resp, err := http.Get(l.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "@import", "url(http"} {
			if strings.Contains(string(b), bad) && !(path == "/assets/app.js" && bad == "http://") {
				t.Errorf("%s mentions %q", path, bad)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
}
