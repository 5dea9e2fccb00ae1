package dashboard

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/replication"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/localapi"
)

const token = "s3cret-token"

// fakeSource is a Source the test fills in.
type fakeSource struct {
	mu        sync.Mutex
	snap      Snapshot
	conflicts []*reconcile.Citizen
	pairs     []review.PairItem
	all       []bool // the all arguments seen
	resolved  []review.Request
	resolve   error
	changed   chan struct{}
}

func newFake() *fakeSource { return &fakeSource{changed: make(chan struct{}, 1)} }

func (f *fakeSource) Snapshot() (Snapshot, error) { return f.snap, nil }
func (f *fakeSource) Conflicts(all bool) ([]*reconcile.Citizen, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.all = append(f.all, all)
	return f.conflicts, nil
}
func (f *fakeSource) Duplicates(all bool) ([]review.PairItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.all = append(f.all, all)
	return f.pairs, nil
}
func (f *fakeSource) Resolve(req review.Request) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.resolve != nil {
		return "", f.resolve
	}
	f.resolved = append(f.resolved, req)
	return "00112233445566778899aabbccddeeff:7", nil
}
func (f *fakeSource) Changed() <-chan struct{} { return f.changed }

func (f *fakeSource) Portrait(entry string) ([]byte, string, error) {
	if entry == "with:2" {
		return []byte{0xFF, 0xD8, 0xFF, 0xD9}, "jpeg", nil
	}
	return nil, "", ErrNoPortrait
}

func (f *fakeSource) Residents(commune, category string, limit int) (ResidentsPage, error) {
	return ResidentsPage{Commune: commune, Category: category}, nil
}

func do(t *testing.T, h http.Handler, method, path string, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// auth is the hub's API auth in these tests; session is a browser
// session's cookie header, opened through a one-time login code.
var (
	auth    = localapi.NewAuth(token, "80", nil)
	session = login(auth)
)

func login(a *localapi.Auth) []string {
	code, _ := a.NewLoginCode()
	w := httptest.NewRecorder()
	a.LoginHandler("refused").ServeHTTP(w, httptest.NewRequest("GET", "/login?code="+code, nil))
	cs := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cs) != 1 {
		panic(fmt.Sprintf("login: %d %v", w.Code, cs))
	}
	return []string{"Cookie", cs[0].Name + "=" + cs[0].Value}
}

func TestDataNeedsASessionOrTheToken(t *testing.T) {
	h := Handler(newFake(), auth)
	gets := []string{"/dash/snapshot", "/dash/conflicts", "/dash/duplicates?all=1", "/dash/portrait?entry=with:2"}
	for _, p := range gets {
		if w := do(t, h, "GET", p, ""); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "fieldsync login") {
			t.Errorf("%s without a session: %d %s", p, w.Code, w.Body)
		}
		if w := do(t, h, "GET", p, "", "Cookie", auth.Cookie()+"=nope"); w.Code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong cookie: %d", p, w.Code)
		}
		if w := do(t, h, "GET", p, "", "Cookie", auth.Cookie()+"="+token); w.Code != http.StatusUnauthorized {
			t.Errorf("%s with the API token as a cookie: %d", p, w.Code)
		}
		if w := do(t, h, "GET", p, "", session...); w.Code != http.StatusOK {
			t.Errorf("%s with the cookie: %d %s", p, w.Code, w.Body)
		}
		if w := do(t, h, "GET", p, "", "Authorization", "Bearer "+token); w.Code != http.StatusOK {
			t.Errorf("%s with the bearer token: %d", p, w.Code)
		}
	}
	for _, p := range []string{"/dash/events"} {
		if w := do(t, h, "GET", p, ""); w.Code != http.StatusUnauthorized {
			t.Errorf("%s without a session: %d", p, w.Code)
		}
	}
	if w := do(t, h, "POST", "/dash/resolve", `{"id":"conflict:1","choose":"x","officer":"a"}`, "Content-Type", "application/json"); w.Code != http.StatusUnauthorized {
		t.Errorf("resolve without a session: %d", w.Code)
	}
	// A hub started without a token serves no data to a bearer.
	h = Handler(newFake(), localapi.NewAuth("", "80", nil))
	if w := do(t, h, "GET", "/dash/snapshot", "", "Authorization", "Bearer "); w.Code != http.StatusUnauthorized {
		t.Errorf("empty token: %d", w.Code)
	}
}

// origin makes a deterministic origin ID.
func origin(b byte) replication.OriginID {
	var o replication.OriginID
	for i := range o {
		o[i] = b
	}
	return o
}

func TestSnapshotWorksOutWhatIsBehind(t *testing.T) {
	laptop, other, far := origin(1), origin(2), origin(3)
	now := time.Date(2025, 7, 3, 10, 0, 0, 0, time.UTC)
	direct := PeerRow{PeerStatus: replicator.PeerStatus{Name: "l-thach-kenh", Origin: laptop, Role: "node", Unit: "18586",
		LastContact: now.Add(-2 * time.Minute), BytesIn: 20_000, EntriesIn: 100, RateBytesPerSec: 1000,
		TheirHeads: replication.Vector{laptop: {Seq: 150}}}, Link: "idle", Incoming: 50,
		History: []BacklogSample{{Time: now.Add(-time.Minute), Incoming: 80}, {Time: now, Incoming: 50}}}
	district := PeerRow{PeerStatus: replicator.PeerStatus{Name: "thach-ha", Role: "hub", Tier: "district", RateBytesPerSec: 4000,
		BytesPerEntry: 200, TheirHeads: replication.Vector{laptop: {Seq: 100}, far: {Seq: 40}}}, Link: "connected"}
	f := newFake()
	f.snap = Snapshot{Time: now, Hub: HubInfo{Name: "province", Tier: "province", Unit: "42", Digest: "abcdef"},
		Peers: []PeerRow{direct, district},
		Communes: []CommuneRow{
			{Code: "18586", Name: "Xã Thạch Kênh", District: "445", Enrolled: 90, Expected: 120, Devices: []DeviceRow{
				{Origin: laptop.String(), Device: "dev-1", Entries: 100, LastReceived: now.Add(-time.Hour), Peer: &direct},
				{Origin: other.String(), Device: "dev-2", Entries: 7, LastReceived: now.Add(-3 * time.Hour)}}},
			{Code: "18073", Name: "Xã Nam Hà", District: "436", Enrolled: 30, Devices: []DeviceRow{
				{Origin: far.String(), Device: "dev-3", Entries: 10, LastReceived: now.Add(-time.Minute)}}},
		},
		Totals: Totals{Enrolled: 120, Expected: 120, Devices: 3, Communes: 2},
		Alarms: []localapi.Alarm{{Kind: "fork", Origin: far.String(), Seq: 5, Detail: "two entries 5", Count: 1}},
	}
	w := do(t, Handler(f, auth), "GET", "/dash/snapshot", "", session...)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), `"their_heads":{`) {
		t.Errorf("the overview must leave the peers' vectors out")
	}
	var ov overview
	if err := json.Unmarshal(w.Body.Bytes(), &ov); err != nil {
		t.Fatal(err)
	}
	c0, c1 := ov.Communes[0], ov.Communes[1]
	d0, d1, d2 := c0.Devices[0], c0.Devices[1], c1.Devices[0]
	// The laptop itself said it holds 150: 50 are still on their way, at
	// 200 B an entry (observed on its link), 10 s at 1000 B/s.
	if d0.Pending != 50 || d0.PendingBytes != 10_000 || d0.DrainSeconds != 10 || d0.Via != "" || d0.Link != "idle" || len(d0.History) != 2 {
		t.Errorf("direct laptop: %+v", d0)
	}
	if !d0.LastContact.Equal(now.Add(-2 * time.Minute)) {
		t.Errorf("direct laptop's last contact %v: want its last session", d0.LastContact)
	}
	if d1.Pending != 0 || d1.Link != "" || d1.Via != "" || !d1.LastContact.Equal(now.Add(-3*time.Hour)) {
		t.Errorf("unknown laptop: %+v", d1)
	}
	// Indirect: the district holds 40 of dev-3, the province 10.
	if d2.Pending != 30 || d2.Via != "thach-ha" || d2.PendingBytes != 6000 || d2.DrainSeconds != 1.5 || d2.Link != "" {
		t.Errorf("indirect laptop: %+v", d2)
	}
	if c0.Pending != 50 || c0.PendingBytes != 10_000 || c0.DrainSeconds != 10 || !c0.Oldest.Equal(now.Add(-3*time.Hour)) || !c0.LastContact.Equal(now.Add(-2*time.Minute)) {
		t.Errorf("commune sums: %+v", c0)
	}
	if c0.DistrictName == "445" || c0.DistrictName == "" {
		t.Errorf("district name of 445: %q", c0.DistrictName)
	}
	if len(ov.Districts) != 2 || ov.Districts[0].Code != "436" || ov.Districts[1].Pending != 50 || ov.Districts[1].Expected != 120 {
		t.Errorf("districts: %+v", ov.Districts)
	}
	if ov.Totals.Pending != 80 || ov.Totals.ExpectedKnown != 1 || ov.Totals.EnrolledKnown != 90 || ov.Totals.Communes != 2 {
		t.Errorf("totals: %+v", ov.Totals)
	}
	if ov.Peers[0].Incoming != 50 || ov.Peers[0].IncomingBytes != 10_000 || ov.Peers[0].IncomingSeconds != 10 {
		t.Errorf("peer incoming: %+v", ov.Peers[0])
	}
	if len(ov.Alarms) != 1 || ov.Alarms[0].Commune != "Xã Nam Hà" || ov.Alarms[0].Device != "dev-3" {
		t.Errorf("alarms: %+v", ov.Alarms)
	}
}

func TestIncoming(t *testing.T) {
	a, b, c := origin(1), origin(2), origin(3)
	ours := replication.Vector{a: {Seq: 10}, b: {Seq: 5}}
	theirs := replication.Vector{a: {Seq: 4}, b: {Seq: 9}, c: {Seq: 3}}
	if n := Incoming(ours, theirs); n != 7 {
		t.Fatalf("Incoming = %d, want 4 of b and 3 of c", n)
	}
	if n := Incoming(ours, nil); n != 0 {
		t.Fatalf("Incoming of nothing = %d", n)
	}
}

func TestQueueEndpoints(t *testing.T) {
	f := newFake()
	for i := range MaxQueueItems + 5 {
		key := fmt.Sprintf("0420850%05d", i)
		f.conflicts = append(f.conflicts, &reconcile.Citizen{Key: key, Conflict: &reconcile.Conflict{ID: reconcile.ConflictID(key), Fields: []string{"date_of_birth"}, Level: "district:445"}})
	}
	f.pairs = []review.PairItem{{Pair: reconcile.Pair{ID: reconcile.PairID("a", "b"), Keys: []string{"a", "b"}, Score: 0.97, Reasons: []string{"given-equal"}, Level: "province"},
		Citizens: []*reconcile.Citizen{{Key: "a", Record: &enrollment.Enrollment{FullName: "Nguyễn Văn Thành"}}, {Key: "b"}}}}
	h := Handler(f, auth)

	var conf struct {
		Items []struct {
			Conflict reconcile.Conflict `json:"conflict"`
		} `json:"items"`
		Total int  `json:"total"`
		All   bool `json:"all"`
	}
	w := do(t, h, "GET", "/dash/conflicts?all=1", "", session...)
	if err := json.Unmarshal(w.Body.Bytes(), &conf); err != nil {
		t.Fatal(err)
	}
	if len(conf.Items) != MaxQueueItems || conf.Total != MaxQueueItems+5 || !conf.All || conf.Items[0].Conflict.ID != "conflict:042085000000" {
		t.Fatalf("conflicts: %d items of %d, all %v", len(conf.Items), conf.Total, conf.All)
	}
	var dup struct {
		Items []struct {
			ID       string `json:"id"`
			Citizens []struct {
				Record enrollment.Enrollment `json:"record"`
			} `json:"citizens"`
		} `json:"items"`
		Total int `json:"total"`
	}
	w = do(t, h, "GET", "/dash/duplicates", "", session...)
	if err := json.Unmarshal(w.Body.Bytes(), &dup); err != nil {
		t.Fatal(err)
	}
	if dup.Total != 1 || dup.Items[0].ID != "pair:a|b" || dup.Items[0].Citizens[0].Record.FullName != "Nguyễn Văn Thành" || !strings.Contains(w.Body.String(), `"reasons":["given-equal"]`) {
		t.Fatalf("duplicates: %s", w.Body)
	}
	if want := []bool{true, false}; fmt.Sprint(f.all) != fmt.Sprint(want) {
		t.Fatalf("all passed as %v, want %v", f.all, want)
	}
	// The tab badges ask for the count only.
	w = do(t, h, "GET", "/dash/conflicts?limit=0", "", session...)
	if !strings.Contains(w.Body.String(), `"items":[],"total":205`) {
		t.Fatalf("count only: %.200s", w.Body)
	}
	// An empty queue is an empty list, not null.
	f.conflicts = nil
	if w := do(t, h, "GET", "/dash/conflicts", "", session...); !strings.Contains(w.Body.String(), `"items":[]`) {
		t.Fatalf("empty queue: %s", w.Body)
	}
}

func TestResolvePassesTheDecisionThrough(t *testing.T) {
	f := newFake()
	h := Handler(f, auth)
	post := func(body string, hdr ...string) *httptest.ResponseRecorder {
		return do(t, h, "POST", "/dash/resolve", body, append(append([]string{"Content-Type", "application/json", "Origin", "http://example.com"}, session...), hdr...)...)
	}
	w := post(`{"id":"conflict:042085001234","choose":"aa:2","officer":"  CA-18586 Lê Thị Hoa ","note":"giấy khai sinh"}`, "Origin", "http://example.com")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"entry":"00112233445566778899aabbccddeeff:7"`) {
		t.Fatalf("resolve: %d %s", w.Code, w.Body)
	}
	want := review.Request{ID: "conflict:042085001234", Choose: "aa:2", Officer: "CA-18586 Lê Thị Hoa", Note: "giấy khai sinh"}
	if len(f.resolved) != 1 || f.resolved[0] != want {
		t.Fatalf("source got %+v", f.resolved)
	}
	w = post(`{"id":"pair:a|b","same_person":true,"officer":"PC06"}`)
	if w.Code != http.StatusOK || f.resolved[1] != (review.Request{ID: "pair:a|b", SamePerson: true, Officer: "PC06"}) {
		t.Fatalf("pair: %d %+v", w.Code, f.resolved)
	}

	for name, tc := range map[string]struct {
		body string
		hdr  []string
		code int
	}{
		"no officer":    {`{"id":"conflict:1","choose":"x","officer":"  "}`, nil, http.StatusBadRequest},
		"no id":         {`{"choose":"x","officer":"a"}`, nil, http.StatusBadRequest},
		"unknown field": {`{"id":"conflict:1","officer":"a","chose":"x"}`, nil, http.StatusBadRequest},
		"not json":      {`id=conflict:1`, nil, http.StatusBadRequest},
		"too big":       {`{"id":"conflict:1","officer":"a","note":"` + strings.Repeat("x", MaxResolveBytes) + `"}`, nil, http.StatusBadRequest},
		"long officer":  {`{"id":"conflict:1","officer":"` + strings.Repeat("ạ", maxOfficer+1) + `"}`, nil, http.StatusBadRequest},
		"other site":    {`{"id":"conflict:1","choose":"x","officer":"a"}`, []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		"form content":  {`{"id":"conflict:1","choose":"x","officer":"a"}`, []string{"Content-Type", "text/plain"}, http.StatusForbidden},
		"no origin":     {`{"id":"conflict:1","choose":"x","officer":"a"}`, []string{"Origin", ""}, http.StatusForbidden},
		"other port":    {`{"id":"conflict:1","choose":"x","officer":"a"}`, []string{"Origin", "http://example.com:8081"}, http.StatusForbidden},
		"cross-site":    {`{"id":"conflict:1","choose":"x","officer":"a"}`, []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		"other type":    {`{"id":"conflict:1","choose":"x","officer":"a"}`, []string{"Content-Type", "application/xml"}, http.StatusUnsupportedMediaType},
	} {
		if w := post(tc.body, tc.hdr...); w.Code != tc.code {
			t.Errorf("%s: %d %s, want %d", name, w.Code, w.Body, tc.code)
		}
	}
	if len(f.resolved) != 2 {
		t.Fatalf("refused requests reached the source: %+v", f.resolved[2:])
	}

	f.resolve = fmt.Errorf("%w: hub: no such conflict", ErrRejected)
	if w := post(`{"id":"conflict:9","choose":"x","officer":"a"}`); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "no such conflict") {
		t.Errorf("refused decision: %d %s", w.Code, w.Body)
	}
	f.resolve = errors.New("disk full")
	if w := post(`{"id":"conflict:9","choose":"x","officer":"a"}`); w.Code != http.StatusInternalServerError {
		t.Errorf("hub failure: %d %s", w.Code, w.Body)
	}
}

// readEvent reads one SSE event (or comment) block.
func readEvent(t *testing.T, rd *bufio.Reader, timeout time.Duration) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		var b strings.Builder
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				got <- b.String() + "ERR " + err.Error()
				return
			}
			if line == "\n" {
				got <- b.String()
				return
			}
			b.WriteString(line)
		}
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(timeout):
		t.Fatalf("no event in %v", timeout)
		return ""
	}
}

func TestEventsPushChanges(t *testing.T) {
	defer func(h, c time.Duration) { heartbeatEvery, coalesceEvery = h, c }(heartbeatEvery, coalesceEvery)
	heartbeatEvery, coalesceEvery = 300*time.Millisecond, 50*time.Millisecond
	f := newFake()
	srv := httptest.NewServer(Handler(f, auth))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/dash/events", nil)
	req.Header.Set(session[0], session[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	if ev := readEvent(t, rd, 2*time.Second); !strings.Contains(ev, "event: change\ndata: hello") {
		t.Fatalf("first event %q", ev)
	}
	f.changed <- struct{}{}
	if ev := readEvent(t, rd, 2*time.Second); !strings.HasPrefix(ev, "event: change\ndata: 20") {
		t.Fatalf("after a change: %q", ev)
	}
	// Nothing changed: a heartbeat keeps the stream alive.
	if ev := readEvent(t, rd, 2*time.Second); ev != ": heartbeat\n" {
		t.Fatalf("heartbeat: %q", ev)
	}
	// A burst of changes is coalesced: no more events than bursts.
	for range 3 {
		select {
		case f.changed <- struct{}{}:
		default:
		}
	}
	if ev := readEvent(t, rd, 2*time.Second); !strings.HasPrefix(ev, "event: change") {
		t.Fatalf("after a burst: %q", ev)
	}
}

func TestEventStreamsEnd(t *testing.T) {
	defer func(l time.Duration) { streamLife = l }(streamLife)
	streamLife = 200 * time.Millisecond
	srv := httptest.NewServer(Handler(newFake(), auth))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/dash/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived streamLife")
	}
}

func TestChartsAreThinned(t *testing.T) {
	var h []BacklogSample
	for i := range 360 {
		h = append(h, BacklogSample{Incoming: uint64(i)})
	}
	got := thin(h, MaxChartPoints)
	if len(got) != MaxChartPoints || got[0].Incoming != 0 || got[len(got)-1].Incoming != 359 {
		t.Fatalf("thin: %d points, %v … %v", len(got), got[0], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i].Incoming <= got[i-1].Incoming {
			t.Fatalf("thin is not in order at %d", i)
		}
	}
	if short := thin(h[:10], MaxChartPoints); len(short) != 10 {
		t.Fatalf("a short history is kept whole: %d", len(short))
	}
}

func TestEventClientsAreBoundedAndReleased(t *testing.T) {
	f := newFake()
	b := newBroadcaster(f)
	var cs []chan struct{}
	for range MaxEventClients {
		c, ok := b.join()
		if !ok {
			t.Fatal("refused below the bound")
		}
		cs = append(cs, c)
	}
	if _, ok := b.join(); ok {
		t.Fatal("accepted beyond MaxEventClients")
	}
	f.changed <- struct{}{}
	select {
	case <-cs[0]:
	case <-time.After(2 * time.Second):
		t.Fatal("no broadcast")
	}
	for _, c := range cs {
		b.leave(c)
	}
	// With no page open, nobody reads the source's signal.
	time.Sleep(50 * time.Millisecond)
	f.changed <- struct{}{}
	time.Sleep(50 * time.Millisecond)
	if len(f.changed) != 1 {
		t.Fatal("the broadcaster still reads Changed with no client")
	}
	// Full again after leaving: the handler answers 503.
	for range MaxEventClients {
		b.join()
	}
	h := &server{src: f, events: b}
	w := httptest.NewRecorder()
	h.stream(w, httptest.NewRequest("GET", "/dash/events", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("over the bound: %d", w.Code)
	}
}

func TestPagesAreEmbeddedAndSelfContained(t *testing.T) {
	h := Handler(newFake(), auth)
	for path, ctype := range map[string]string{
		"/":                   "text/html",
		"/assets/app.js":      "text/javascript",
		"/assets/app.css":     "text/css",
		"/assets/labels.json": "application/json",
	} {
		w := do(t, h, "GET", path, "")
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s", path, w.Code, w.Header().Get("Content-Type"))
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	if w := do(t, h, "GET", "/nothing-here", ""); w.Code != http.StatusNotFound {
		t.Errorf("unknown path: %d", w.Code)
	}
	page := do(t, h, "GET", "/", "").Body.String()
	for _, want := range []string{`src="/assets/app.js"`, `href="/assets/app.css"`, `lang="vi"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// Nothing is loaded from elsewhere: no absolute or protocol-relative
	// URL, no @import, no web font. The SVG namespace is a name, not a
	// fetch.
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9-]+(\.[a-z0-9-]+)+|@import|@font-face|url\(\s*['"]?(https?:)?//`)
	fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := assets.ReadFile(path)
		text := strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "")
		if m := external.FindString(text); m != "" {
			t.Errorf("%s refers to something outside the hub: %q", path, m)
		}
		return nil
	})
}

func TestEveryLabelInBothLanguages(t *testing.T) {
	b, err := assets.ReadFile("assets/labels.json")
	if err != nil {
		t.Fatal(err)
	}
	var labels map[string]map[string]string
	if err := json.Unmarshal(b, &labels); err != nil {
		t.Fatal(err)
	}
	for k, l := range labels {
		if strings.TrimSpace(l["vi"]) == "" || strings.TrimSpace(l["en"]) == "" || len(l) != 2 {
			t.Errorf("label %q: want exactly vi and en, got %v", k, l)
		}
	}
	used := map[string]bool{}
	html, _ := assets.ReadFile("assets/index.html")
	for _, m := range regexp.MustCompile(`data-i18n(?:-placeholder|-title)?="([^"]+)"`).FindAllStringSubmatch(string(html), -1) {
		used[m[1]] = true
	}
	// Every string literal of app.js that looks like a label key is one
	// (but for localStorage keys and a CSS selector).
	js, _ := assets.ReadFile("assets/app.js")
	for _, m := range regexp.MustCompile(`'([a-z_]+\.[a-z0-9_.-]*[a-z0-9_])'`).FindAllStringSubmatch(string(js), -1) {
		if !strings.HasPrefix(m[1], "fieldsync.") && m[1] != "input.note" {
			used[m[1]] = true
		}
	}
	// Keys the page builds from data.
	for _, k := range []string{"connected", "idle", "failing", "never"} {
		used["link."+k] = true
	}
	for _, k := range []string{"fork", "fork-suspected", "refused", "peer-refused"} {
		used["alarm."+k] = true
	}
	for _, k := range []string{"full_name", "date_of_birth", "sex", "birth_registration", "father", "mother", // conflict fields
		"personal_id", "hometown", "permanent_residence", "capture_commune", "officer", "device", "captured_at"} {
		used["field."+k] = true
	}
	for _, k := range []string{"tier.district", "tier.province", "role.node", "role.hub", "live.on", "live.off"} {
		used[k] = true
	}
	if len(used) < 100 {
		t.Fatalf("found only %d label uses: the scan is broken", len(used))
	}
	for k := range used {
		if _, ok := labels[k]; !ok {
			t.Errorf("label %q is used but not defined in labels.json", k)
		}
	}
}

// The portraits of the review screens: to a logged-in operator only, as
// an image, never cached; a capture without one here is a 404.
func TestPortrait(t *testing.T) {
	h := Handler(newFake(), auth)
	w := do(t, h, "GET", "/dash/portrait?entry=with:2", "", session...)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/jpeg" || !strings.Contains(w.Header().Get("Cache-Control"), "no-store") {
		t.Fatalf("portrait: %d %v", w.Code, w.Header())
	}
	if w := do(t, h, "GET", "/dash/portrait?entry=without:3", "", session...); w.Code != http.StatusNotFound {
		t.Fatalf("no portrait: %d", w.Code)
	}
	if w := do(t, h, "GET", "/dash/portrait?entry=with:2", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("portrait without a session: %d", w.Code)
	}
}
