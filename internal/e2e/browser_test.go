package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/hub"
	"fieldsync/hub/dashboard"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/internal/linkemu"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/localapi"
)

// slowLink is a poor 2G uplink: slow enough that an upload can be caught
// half-way and cut.
var slowLink = func() linkemu.Profile {
	p := linkemu.Bench128k
	p.Name, p.RateBitsPerSec, p.RTT = "slow 2G", 48_000, 300*time.Millisecond
	return p
}()

// TestDashboardInABrowser opens a district hub's dashboard in headless
// Chromium: communes and backlogs are on the page (a laptop whose upload
// was cut half-way shows as behind), an officer settles a conflict by
// clicking, the queue shrinks live, and the decision reaches the province.
// It saves screenshots to $FIELDSYNC_ARTIFACTS (or a temporary directory)
// and the overview to docs/dashboard.png for the README.
func TestDashboardInABrowser(t *testing.T) {
	start := time.Now()
	br := newBrowser(t, 1440, 1000)
	t.Logf("browser up in %v", time.Since(start).Round(time.Millisecond))

	d := newDeployment(t)
	d.addHub("province", "province", "42", "")
	var info localapi.Info
	ready := make(chan struct{})
	d.addHubWith("thach-ha", "district", "445", "province", func(c *hub.DaemonConfig) {
		c.Public = dashboard.Handler
		c.Ready = func(i localapi.Info) { info = i; close(ready) }
		c.SampleEvery = time.Second
		expected := "commune_code,expected\n18586,320\n18571,200\n18658,260\n"
		if err := os.WriteFile(filepath.Join(c.Dir.Path, hub.ExpectedFile), []byte(expected), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	d.addNode("l-thach-kenh", "18586", "thach-ha")
	d.addNode("l-thach-hai", "18571", "thach-ha")
	slow := linkemu.NewLink(slowLink, linkemu.WithSeed(30))
	d.addNodeOn("l-thach-xuan", "18658", "thach-ha", slow)

	// Captures: two communes in sync; the same citizen enrolled on both
	// laptops with a different date of birth (a conflict for the district).
	d.enroll("l-thach-kenh", synthtest.Enrollments(t, synth.Config{Count: 230, Seed: 1, Commune: "18586", CodeList: enrollment.CodeList2023})...)
	d.enroll("l-thach-hai", synthtest.Enrollments(t, synth.Config{Count: 150, Seed: 2, Commune: "18571", CodeList: enrollment.CodeList2023})...)
	first := citizen("042085001234", "Nguyễn Văn Thành", "18586")
	second := citizen("042085001234", "Nguyễn Văn Thành", "18571")
	second.DateOfBirth.Day = 21
	second.Capture.Officer = "CA-18571"
	d.enroll("l-thach-kenh", first)
	d.enroll("l-thach-hai", second)
	// And a probable duplicate: one person enrolled in both communes, the
	// ID number's last two digits swapped, the name in capitals.
	d.enroll("l-thach-kenh", citizen("042085005678", "Lê Văn Hùng", "18586"))
	d.enroll("l-thach-hai", citizen("042085005687", "LÊ VĂN HÙNG", "18571"))

	// Thạch Xuân's laptop sends a first batch whole (so that its link's
	// rate is known), then a second one over 2G that is cut half-way.
	xuan := d.nodes["l-thach-xuan"]
	xuanOrigin := xuan.Dir.Signer.Origin()
	district := d.hubs["thach-ha"]
	held := func() uint64 { v, _ := district.Dir.Log.Vector(); return v.Seq(xuanOrigin) }
	batch := synthtest.Enrollments(t, synth.Config{Count: 290, Seed: 3, Commune: "18658", CodeList: enrollment.CodeList2023})
	d.enroll("l-thach-xuan", batch[:90]...)
	waitUntil(t, "Thạch Xuân's first batch at the district", 30*time.Second, func() bool { return held() >= 91 })
	d.enroll("l-thach-xuan", batch[90:]...)
	waitUntil(t, "Thạch Xuân's second upload to start", 30*time.Second, func() bool {
		snap, err := district.Source().Snapshot()
		if err != nil {
			return false
		}
		for _, p := range snap.Peers {
			if p.Origin == xuanOrigin && p.Incoming >= 100 {
				return true
			}
		}
		return false
	})
	slow.Cut()
	t.Logf("Thạch Xuân cut with %d of its 291 entries at the district (%v)", held(), time.Since(start).Round(time.Millisecond))

	waitUntil(t, "the other laptops, the conflict and the pair at the district", 30*time.Second, func() bool {
		return len(conflictsIn(t, district.View(), district.Queue())) == 1 && len(pairsIn(t, district.View(), district.Queue())) == 1
	})
	// Let a backlog sample see the cut (the chart's last point).
	waitUntil(t, "a backlog sample after the cut", 10*time.Second, func() bool {
		snap, _ := district.Source().Snapshot()
		for _, p := range snap.Peers {
			if n := len(p.History); p.Origin == xuanOrigin && n > 0 && p.History[n-1].Incoming >= 100 {
				return true
			}
		}
		return false
	})
	<-ready

	// Without the session the page has no data and says how to log in.
	br.navigate("http://" + info.Addr + "/")
	br.waitFor("the login message", 10*time.Second, func() bool {
		return strings.Contains(br.text("#login"), "fieldsync login") && br.count("#communes tr") == 0
	})
	// The operator opens the link `fieldsync login` prints.
	link, err := localapi.NewClient(info).LoginLink()
	if err != nil {
		t.Fatal(err)
	}
	br.navigate(link.URL)
	br.waitFor("the communes table", 15*time.Second, func() bool { return br.count("#communes tr.commune") == 3 })
	headers := br.texts("#communes thead th")
	if len(headers) < 7 || !strings.EqualFold(headers[5], "Tồn đọng") || !strings.EqualFold(headers[0], "Xã / thiết bị") { // shown in capitals
		t.Fatalf("communes table headers: %q", headers)
	}
	// Thạch Xuân is furthest behind: first row, in red, its backlog in
	// entries and bytes, a drain time.
	br.waitFor("Thạch Xuân shown behind", 15*time.Second, func() bool {
		return br.attrOf("#communes tr.commune", "data-code") == "18658" && strings.Contains(br.attrOf("#communes tr.commune", "class"), "bad")
	})
	row := `#communes tr.commune[data-code="18658"] `
	if name := br.text(row + "td.name"); !strings.Contains(name, "Thạch Xuân") {
		t.Errorf("commune name %q", name)
	}
	backlog := br.text(row + "td.backlog")
	if n := leadingInt(backlog); n < 100 || !strings.Contains(backlog, "KB") {
		t.Errorf("Thạch Xuân's backlog cell %q: want at least 100 entries and their size", backlog)
	}
	if st := br.text(row + "td.status"); !strings.HasPrefix(st, "Chậm ") {
		t.Errorf("status %q", st)
	}
	if dr := br.text(row + "td.drain"); dr == "—" || dr == "" {
		t.Errorf("drain time %q", dr)
	}
	for _, code := range []string{"18586", "18571"} {
		r := `#communes tr.commune[data-code="` + code + `"] `
		if b := br.text(r + "td.backlog"); b != "0" {
			t.Errorf("commune %s backlog %q, want 0", code, b)
		}
		if c := br.text(r + "td:nth-child(2)"); !strings.Contains(c, "/ 320") && !strings.Contains(c, "/ 200") {
			t.Errorf("commune %s completeness %q", code, c)
		}
	}
	if links := br.texts("#communes tr.device td.link .badge"); len(links) != 3 {
		t.Errorf("device link badges: %q", links)
	}
	if br.text("#hub-name") != "thach-ha" || !strings.Contains(br.text("#hub-queue"), "445") {
		t.Errorf("header: %q, queue %q", br.text("#hub-name"), br.text("#hub-queue"))
	}
	br.waitFor("sparklines", 10*time.Second, func() bool { return br.count("#communes svg.spark") >= 2 })
	shot := artifacts(t)
	fitWindow(br, 1440)
	overview := br.screenshot()
	save(t, filepath.Join(shot, "dashboard-overview.png"), overview)
	if *updateDocs {
		save(t, filepath.Join("..", "..", "docs", "dashboard.png"), overview)
	}

	// The English switch relabels the page, and is remembered.
	br.click("#lang")
	br.waitFor("English labels", 5*time.Second, func() bool { return strings.EqualFold(br.text("#communes thead th:nth-child(6)"), "Backlog") })
	if got := br.text(row + "td.status"); !strings.Contains(got, "entries behind") {
		t.Errorf("English status %q", got)
	}
	if got := br.exec2str("return localStorage.getItem('fieldsync.lang')"); got != "en" {
		t.Errorf("language remembered as %q", got)
	}
	save(t, filepath.Join(shot, "dashboard-overview-en.png"), br.screenshot())
	br.click("#lang")
	br.waitFor("Vietnamese labels", 5*time.Second, func() bool { return strings.EqualFold(br.text("#communes thead th:nth-child(6)"), "Tồn đọng") })

	// The conflict, side by side.
	br.exec(nil, "window.fieldsyncMarker = 42") // gone if the page reloads
	br.click("#tab-conflicts")
	item := `.item[data-id="conflict:042085001234"]`
	br.waitFor("the conflict card", 10*time.Second, func() bool { return br.count(item) == 1 })
	if n := br.text("#count-conflicts"); n != "1" {
		t.Fatalf("conflict count %q", n)
	}
	dob := br.texts(item + ` tr[data-field="date_of_birth"] td`)
	if len(dob) != 2 || br.count(item+` tr[data-field="date_of_birth"] td.diff`) != 2 || dob[0] == dob[1] {
		t.Fatalf("date-of-birth row: %q", dob)
	}
	if br.count(item+` tr[data-field="full_name"] td.diff`) != 0 {
		t.Errorf("the names agree and must not be highlighted")
	}
	var choose, chosen string
	for i, v := range dob {
		if v == "21/03/1985" {
			choose = item + ` tr:last-child td:nth-child(` + strconv.Itoa(i+2) + `) button[data-choose]`
			chosen = br.attrOf(choose, "data-choose")
		}
	}
	if chosen == "" {
		t.Fatalf("no version with 21/03/1985 among %q", dob)
	}
	// No decision without an officer's name.
	br.exec(nil, "localStorage.removeItem('fieldsync.officer'); document.getElementById('officer').value = ''")
	br.click(choose)
	br.waitFor("the officer-required message", 5*time.Second, func() bool { return strings.Contains(br.text("#toast"), "cán bộ") })
	if len(conflictsIn(t, district.View(), district.Queue())) != 1 {
		t.Fatal("a decision was taken without an officer")
	}
	save(t, filepath.Join(shot, "dashboard-conflict.png"), br.screenshot())
	br.one("#officer").sendKeys("CA-445 Trần Văn Bình")
	decided := time.Now()
	br.click(choose)
	br.waitFor("the conflict queue to shrink", 15*time.Second, func() bool {
		return br.text("#count-conflicts") == "0" && br.count(item) == 0 && br.count("#conflicts .queue-empty") == 1
	})
	t.Logf("queue shrank %v after the click", time.Since(decided).Round(time.Millisecond))
	var marker int
	br.exec(&marker, "return window.fieldsyncMarker || 0")
	if marker != 42 {
		t.Fatal("the page reloaded: updates must be live")
	}
	if got := br.exec2str("return localStorage.getItem('fieldsync.officer')"); got != "CA-445 Trần Văn Bình" {
		t.Errorf("officer remembered as %q", got)
	}

	// The probable duplicate, with its evidence in words; the officer
	// decides they are different people.
	br.click("#tab-duplicates")
	pair := `.item[data-id="` + reconcile.PairID("042085005678", "042085005687") + `"]`
	br.waitFor("the pair card", 10*time.Second, func() bool { return br.count(pair) == 1 })
	// Each line of evidence is a sentence with its weight in bits.
	reasons := br.texts(pair + " .chips .chip")
	has := func(prefix string) bool {
		return slices.ContainsFunc(reasons, func(r string) bool { return strings.HasPrefix(r, prefix) && strings.Contains(r, " +") })
	}
	if !has("Số định danh lệch một chữ số") || !has("Tên trùng nhau") || !has("Cùng ngày sinh") {
		t.Errorf("pair evidence %q", reasons)
	}
	if ids := br.texts(pair + ` tr[data-field="personal_id"] td.diff`); len(ids) != 2 {
		t.Errorf("the ID numbers differ and must be highlighted: %q", ids)
	}
	save(t, filepath.Join(shot, "dashboard-duplicate.png"), br.screenshot())
	br.click(pair + ` button[data-action="distinct"]`)
	br.waitFor("the duplicate queue to shrink", 15*time.Second, func() bool {
		return br.text("#count-duplicates") == "0" && br.count(pair) == 0
	})

	// Thạch Xuân's link comes back; everything, the decision included,
	// reaches the province.
	slow.SetProfile(testLink)
	slow.Heal()
	settled := func(h *hub.Daemon) bool {
		for _, c := range conflictsIn(t, h.View(), review.Queue{All: true, Resolved: true}) {
			if c.Key == "042085001234" && c.Conflict.Resolved != nil {
				r := c.Conflict.Resolved
				return r.Choose == chosen && r.Officer == "CA-445 Trần Văn Bình" && r.Tier == "district"
			}
		}
		return false
	}
	distinct := func(h *hub.Daemon) bool {
		for _, p := range pairsIn(t, h.View(), review.Queue{All: true, Resolved: true}) {
			if p.ID == reconcile.PairID("042085005678", "042085005687") && p.Resolved != nil {
				return p.Resolved.Verdict == reconcile.VerdictDistinct
			}
		}
		return false
	}
	d.waitConverged("province", "after the decisions", func() bool {
		return settled(d.hubs["province"]) && distinct(d.hubs["province"])
	})
	var shown *reconcile.Citizen
	d.hubs["province"].View().Read(func(r *reconcile.Reconciler) { shown, _ = r.Citizen("042085001234") })
	if shown == nil || shown.Record.DateOfBirth != (enrollment.Date{Year: 1985, Month: 3, Day: 21}) {
		t.Fatalf("the province shows %+v", shown)
	}
	// And the district's page caught up with Thạch Xuân, live.
	br.click("#tab-overview")
	br.waitFor("Thạch Xuân caught up", 15*time.Second, func() bool { return br.text(row+"td.backlog") == "0" })
	save(t, filepath.Join(shot, "dashboard-caught-up.png"), br.screenshot())
	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}

// addNodeOn starts a laptop like addNode, dialing hub through link (which
// the test may cut and heal).
func (d *deployment) addNodeOn(name, unit, hubName string, link *linkemu.Link) {
	dir := d.initDir(datadir.Config{Role: replication.RoleNode, Unit: unit, Name: name})
	rc := fast(replicator.Config{Static: []string{d.addrs[hubName]}, Dial: dialer(link)})
	n, err := node.NewDaemon(node.DaemonConfig{Dir: dir, Replicator: rc})
	if err != nil {
		d.t.Fatal(err)
	}
	d.nodes[name] = n
	d.run(name, n)
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leadingInt reads the number a cell starts with ("1.234" in Vietnamese).
func leadingInt(s string) int {
	var digits strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '.' || r == ',':
		default:
			n, _ := strconv.Atoi(digits.String())
			return n
		}
	}
	n, _ := strconv.Atoi(digits.String())
	return n
}

// exec2str runs a script that returns a string.
func (b *browser) exec2str(script string) string {
	var s string
	b.exec(&s, script)
	return s
}

// fitWindow makes the window as tall as the page, so that a screenshot
// shows all of it.
func fitWindow(b *browser, width int) {
	var h int
	b.exec(&h, "return Math.ceil(document.documentElement.scrollHeight)")
	b.resize(width, min(max(h, 600), 4000))
	var inner int
	b.exec(&inner, "return window.innerHeight")
	if inner < h { // the window's frame takes some of its height
		b.resize(width, min(h+(h-inner), 4000))
	}
}

// artifacts is where screenshots go: $FIELDSYNC_ARTIFACTS, else a
// temporary directory.
// updateDocs refreshes the README's screenshot, docs/dashboard.png
// (go test ./internal/e2e -run Browser -update-docs); a plain run leaves
// the checkout untouched.
var updateDocs = flag.Bool("update-docs", false, "write docs/dashboard.png from the browser test")

// artifacts is where screenshots go: $FIELDSYNC_ARTIFACTS (CI keeps it)
// or a temporary directory.
func artifacts(t *testing.T) string {
	dir := os.Getenv("FIELDSYNC_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func save(t *testing.T, path string, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("%s: not a PNG", path)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}
