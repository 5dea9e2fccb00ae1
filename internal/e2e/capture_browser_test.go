package e2e

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/hub"
	"fieldsync/hub/dashboard"
	"fieldsync/internal/linkemu"
	"fieldsync/node"
	"fieldsync/node/capture"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/channel"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/localapi"
)

// cheapKDF keeps officers' password stretches quick in tests (datadir's
// floor); the field uses datadir.DefaultKDF.
func cheapKDF() datadir.KDF {
	k := datadir.DefaultKDF()
	k.Time, k.MemoryKiB, k.Threads = 1, 8<<10, 1
	return k
}

// addCaptureNode starts a laptop with its capture app, dialing hubName;
// it returns the daemon and the API's address once it serves.
func (d *deployment) addCaptureNode(name, unit, hubName string, opts node.Options) (*node.Daemon, localapi.Info) {
	dir := d.initDir(datadir.Config{Role: replication.RoleNode, Unit: unit, Name: name})
	rc := fast(replicator.Config{Static: []string{d.addrs[hubName]}, Dial: dialer(linkemu.NewLink(testLink, linkemu.WithSeed(int64(len(d.nodes)+40)))),
		Blobs: &replicator.BlobConfig{Refs: dossier.RefsOf}})
	ready := make(chan localapi.Info, 1)
	n, _, err := capture.NewDaemon(node.DaemonConfig{Dir: dir, Replicator: rc, Options: opts, OfficerKDF: cheapKDF,
		Ready: func(i localapi.Info) { ready <- i }})
	if err != nil {
		d.t.Fatal(err)
	}
	d.nodes[name] = n
	d.run(name, n)
	return n, <-ready
}

// signIn signs an officer in with the keyboard: ID, Tab, password, Enter.
func signIn(t *testing.T, br *browser, id, password string) {
	t.Helper()
	br.waitFor("the sign-in form", 20*time.Second, func() bool { return br.focused() == "signin-officer" })
	br.press(id, keyTab, password, keyEnter)
	br.waitFor("the capture form", 20*time.Second, func() bool { return br.count("#app:not([hidden]) #f-personal_id") == 1 })
}

// TestCaptureAppInABrowser is the commune team's screen end to end, in
// headless Chromium on a 1366×768 window with a fake camera and no
// network but loopback: an officer signs in and captures a dossier with
// the keyboard — a rejected ID number and its message at the field, a
// probable duplicate from the resident list shown side by side before
// saving and used, a portrait from the camera — saves it, sees it reach
// the district hub in the sync queue, and sees the district's
// completeness change on its dashboard. It checks labels, focus order and
// contrast, and that the page asked nothing of any other host. With
// -update-docs it writes the screenshots to docs/.
func TestCaptureAppInABrowser(t *testing.T) {
	start := time.Now()
	br := newBrowser(t, 1366, 768, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
	d := newDeployment(t)
	d.addHub("province", "province", "42", "")
	var dash localapi.Info
	dashReady := make(chan struct{})
	d.addHubWith("thach-ha", "district", "445", "province", func(c *hub.DaemonConfig) {
		c.Public = dashboard.Handler
		c.SampleEvery = time.Second
		c.Ready = func(i localapi.Info) { dash = i; close(dashReady) }
		c.Replicator.Blobs = &replicator.BlobConfig{Refs: dossier.RefsOf} // the dossier's images come up too
	})
	lap, info := d.addCaptureNode("l-thach-kenh", "18586", "thach-ha", node.Options{})
	if _, err := lap.ChangeOfficer(node.OfficerRequest{Op: "add", ID: "CA-18586-02", Name: "Trần Văn Bình", Password: "mật khẩu trạm"}); err != nil {
		t.Fatal(err)
	}
	// The province publishes Thạch Kênh's list; the laptop gets it.
	people := synthtest.WithPersonalID(t, synth.Config{Count: 60, Seed: 31, Commune: "18586", CodeList: enrollment.CodeList2023}, 40)
	res, err := d.hubs["province"].ImportResidents(bytes.NewReader(residentCSV(map[string][]enrollment.Enrollment{"18586": people})),
		hub.ResidentsOptions{CodeList: enrollment.CodeList2023, AsOf: "2026-03-01"})
	if err != nil || res.Accepted != 40 {
		t.Fatalf("import: %+v %v", res, err)
	}
	ch := channel.Origin(d.hubs["province"].Dir.Signer, "18586")
	waitUntil(t, "the list on the laptop", 60*time.Second, func() bool {
		v, _ := lap.Dir.Log.Vector()
		return v.Seq(ch) == uint64(1+res.Entries)
	})
	var target enrollment.Enrollment
	for _, p := range people {
		if p.DateOfBirth.Precision() == enrollment.PrecisionDay && p.Sex != "" && !strings.Contains(p.FullName, "  ") {
			target = p
			break
		}
	}
	enrolledBefore := censusOf(t, d.hubs["thach-ha"]).Total.Enrolled
	t.Logf("deployment up in %v; the person to capture: %s %s", time.Since(start).Round(time.Millisecond), target.PersonalID, target.FullName)

	// Sign in with the keyboard.
	br.navigate("http://" + info.Addr + "/")
	signIn(t, br, "CA-18586-02", "mật khẩu trạm")
	shots := artifacts(t)
	// The time one dossier takes, from the form after sign-in to the
	// receipt, without the screenshots' time.
	formStart, shotTime := time.Now(), time.Duration(0)
	shoot := func() []byte {
		t0 := time.Now()
		b := br.screenshot()
		shotTime += time.Since(t0)
		return b
	}
	if got := br.focused(); got != "f-personal_id" {
		t.Fatalf("after sign-in the focus is on %q, want the ID number", got)
	}
	if who := br.text("#officer-name"); !strings.Contains(who, "Trần Văn Bình") {
		t.Errorf("header officer %q", who)
	}

	// A rejected field: an ID number whose first three digits are no
	// province. The message, in Vietnamese, is at the field.
	br.press("009" + target.PersonalID[3:])
	msg := "#msg-f-personal_id"
	br.waitFor("the rejection at the ID number", 10*time.Second, func() bool {
		return strings.Contains(br.text(msg), "không phải mã tỉnh") && strings.Contains(br.attrOf(msg, "class"), "reject")
	})
	if br.attrOf("#f-personal_id", "aria-invalid") != "true" {
		t.Error("the rejected field is not marked aria-invalid")
	}
	if !strings.HasPrefix(br.text(msg), "Số định danh cá nhân") {
		t.Errorf("the message does not name the field: %q", br.text(msg))
	}
	save(t, filepath.Join(shots, "capture-rejected.png"), shoot())

	// The officer retypes the number with two digits swapped, the name in
	// capitals and the date of birth: the person of the list shows before
	// saving, side by side.
	typo := target.PersonalID[:10] + target.PersonalID[11:] + target.PersonalID[10:11]
	br.chord(keyCtrl, "a")
	br.press(typo, keyTab, strings.ToUpper(target.FullName), keyTab, fmt.Sprintf("%02d/%02d/%04d", target.DateOfBirth.Day, target.DateOfBirth.Month, target.DateOfBirth.Year))
	card := `.dup.resident[data-key="r:` + target.PersonalID + `"]`
	br.waitFor("the probable duplicate from the list", 10*time.Second, func() bool { return br.count(card) == 1 })
	// The card is updated in place as the answers to the keystrokes come
	// in: the one to the last keystroke marks the ID number, not the date.
	marked := func() bool {
		return br.count(card+` tr[data-field="personal_id"].diff`) == 1 && br.count(card+` tr[data-field="date_of_birth"].diff`) == 0
	}
	deadline := time.Now().Add(5 * time.Second)
	for !marked() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !marked() {
		t.Errorf("the comparison marks the wrong rows: %q", br.texts(card+" tr.diff th"))
	}
	fitWindow(br, 1366)
	dupShot := shoot()
	save(t, filepath.Join(shots, "capture-duplicate.png"), dupShot)
	br.resize(1366, 768)
	// Use the list's data: the keyboard reaches the button, Enter presses it.
	br.one(card + ` button[data-act="use"]`).sendKeys(keyEnter)
	var errs []string
	br.exec(&errs, "return window.fieldsyncErrors")
	if len(errs) > 0 {
		t.Fatalf("script errors: %q", errs)
	}
	br.waitFor("the form filled from the list", 10*time.Second, func() bool {
		return br.exec2str("return document.getElementById('f-personal_id').value") == target.PersonalID && br.count(card) == 0
	})
	if !strings.Contains(br.text("#form-mode"), target.PersonalID) {
		t.Errorf("the form does not say which person of the list it captures: %q", br.text("#form-mode"))
	}

	// The rest with the keyboard: birth registration, hometown.
	br.one("#f-birth_registration-unit_code").sendKeys("42" + keyTab)
	br.waitFor("the province named", 5*time.Second, func() bool {
		return br.exec2str("return document.getElementById('f-birth_registration-text').value") == "Tỉnh Hà Tĩnh"
	})
	br.one("#f-hometown-unit_code").sendKeys("18586" + keyTab)
	br.one("#f-father-full_name").sendKeys("Nguyễn Văn Bảy")

	// The portrait from the (fake) camera: Enter opens it, Enter takes it.
	br.one("#camera-start").sendKeys(keyEnter)
	br.waitFor("the camera preview", 10*time.Second, func() bool { return br.focused() == "camera-take" })
	time.Sleep(300 * time.Millisecond) // a few frames
	br.press(keyEnter)
	br.waitFor("the portrait's thumbnail", 10*time.Second, func() bool { return br.count(`#portrait-box img.thumb[data-slot="face"]`) == 1 })

	// The scanner's files from its folder (a rolled print, an iris), and a
	// finger that could not be taken, with its reason, by the keyboard.
	scanDir := t.TempDir()
	var paths []string
	for i, sp := range []synth.BlobSpec{{Slot: "finger_r2", Format: enrollment.FormatWSQ, Size: 20_000}, {Slot: "iris_r", Format: enrollment.FormatPNG, Size: 30_000}} {
		sp.Seed[0] = byte(i + 1)
		path := filepath.Join(scanDir, sp.Slot+sp.Ext())
		if err := os.WriteFile(path, sp.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	br.one("#scan-files").sendKeys(strings.Join(paths, "\n"))
	br.waitFor("the scanner's files in their slots", 10*time.Second, func() bool {
		return br.count(`#slots .slot.has[data-slot="finger_r2"]`) == 1 && br.count(`#slots .slot.has[data-slot="iris_r"] img`) == 1
	})
	br.one("#exc-finger_l1").sendKeys("Cụt")
	br.waitFor("the exception chosen", 5*time.Second, func() bool {
		return br.exec2str("return document.getElementById('exc-finger_l1').value") == enrollment.ExceptionAmputated
	})

	// Everything checks: no rejection left.
	br.waitFor("no error left", 10*time.Second, func() bool {
		return strings.Contains(br.text("#checks-summary"), "có thể lưu") || strings.Contains(br.text("#checks-summary"), "Không có lỗi")
	})
	save(t, filepath.Join(shots, "capture-form.png"), shoot())

	// Ctrl+S saves; the receipt names the entry.
	br.chord(keyCtrl, "s")
	br.waitFor("the receipt", 15*time.Second, func() bool {
		if br.count("#receipt:not([hidden]) #receipt-entry") == 1 {
			return true
		}
		if toast := br.text("#toast"); toast != "" {
			t.Logf("toast: %s; checks: %q", toast, br.texts("#findings li"))
		}
		return false
	})
	captureTime := time.Since(formStart) - shotTime
	t.Logf("one dossier captured with the keyboard in %v (from the form after sign-in to the receipt; keystrokes sent by WebDriver, the camera's 300 ms and the checks' waits included, screenshots not)", captureTime.Round(time.Millisecond))
	entry := br.text("#receipt-entry")
	id, err := replication.ParseEntryID(entry)
	if err != nil || id.Origin != lap.Dir.Signer.Origin() {
		t.Fatalf("receipt entry %q: %v", entry, err)
	}
	if br.focused() != "receipt-title" {
		t.Errorf("the focus is on %q after saving, want the receipt", br.focused())
	}
	if !strings.Contains(br.text("#receipt-body"), "CA-18586-02") || !strings.Contains(br.text("#receipt-body"), "đánh dấu đã thu nhận") {
		t.Errorf("receipt: %q", br.text("#receipt-body"))
	}
	if slots := br.text("#receipt-slots"); !strings.Contains(slots, "face") || !strings.Contains(slots, "finger_r2") || !strings.Contains(slots, "iris_r") || !strings.Contains(slots, "finger_l1 (Cụt ngón)") {
		t.Errorf("the receipt's biometrics: %q", slots)
	}
	receiptShot := br.screenshot()
	save(t, filepath.Join(shots, "capture-receipt.png"), receiptShot)

	// It reaches the district hub, and the district's completeness moves.
	district := d.hubs["thach-ha"]
	deadline = time.Now().Add(60 * time.Second)
	for {
		r := district.View().Reconciler()
		c, err := r.Citizen(target.PersonalID)
		if err != nil {
			t.Fatal(err)
		}
		st := r.Stats()
		if c != nil && c.Record.Capture.Officer == "CA-18586-02" && censusOf(t, district).Total.Enrolled == enrolledBefore+1 {
			// The portrait the camera took travels with the record.
			var face string
			for _, b := range c.Record.Biometrics {
				if b.Kind == "face" {
					face = b.SHA256
				}
			}
			if h, err := blob.ParseHash(face); err == nil {
				if has, err := district.Dir.Blobs.Has([]blob.Hash{h}); err == nil && has[0] {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			v, _ := district.Dir.Log.Vector()
			t.Fatalf("the capture did not reach the district: it holds %d of the laptop's origin (laptop at %d); citizen %v; view %+v; census %+v",
				v.Seq(lap.Dir.Signer.Origin()), id.Seq, c != nil, st, censusOf(t, district).Total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The queue view shows it at the hub (Alt+3).
	br.press(keyEscape)
	br.chord(keyAlt, "3")
	row := `#queue-recent tr[data-entry="` + entry + `"]`
	br.waitFor("the capture at the hub in the queue view", 40*time.Second, func() bool {
		if br.count(row+".hub") == 1 {
			return true
		}
		br.chord(keyAlt, "1")
		br.chord(keyAlt, "3") // refetch
		return false
	})

	// The province confirms the dossier complete (its images reached it);
	// the receipt comes down in the anchor's channel of Thạch Kênh, and the
	// queue view says so.
	prov := d.hubs["province"]
	br.waitFor("the province's confirmation in the queue view", 90*time.Second, func() bool {
		if _, err := prov.IssueReceipts(); err != nil {
			t.Fatal(err)
		}
		prov.Rep.Wake()
		lap.Rep.Wake() // gossip would say the hub holds more; this deployment runs none
		if br.count(row+".province") == 1 {
			return true
		}
		br.chord(keyAlt, "1")
		br.chord(keyAlt, "3") // refetch
		return false
	})
	if !strings.Contains(br.text(row), "Tỉnh xác nhận") {
		t.Errorf("the confirmed row reads %q", br.text(row))
	}
	queueShot := br.screenshot()
	save(t, filepath.Join(shots, "capture-queue.png"), queueShot)

	// Accessibility basics, measured in the page.
	br.chord(keyAlt, "1")
	br.waitFor("the capture page", 5*time.Second, func() bool { return br.count("#page-capture:not([hidden])") == 1 })
	checkLabels(t, br)
	checkFocusOrder(t, br)
	checkContrast(t, br)

	// Nothing was asked of any other host.
	var foreign []string
	br.exec(&foreign, "return performance.getEntriesByType('resource').map((e) => e.name).filter((n) => !n.startsWith(location.origin) && !n.startsWith('data:') && !n.startsWith('blob:'))")
	if len(foreign) > 0 {
		t.Errorf("the app fetched from other hosts: %q", foreign)
	}
	var violations []string
	br.exec(&violations, "return window.fieldsyncViolations")
	if len(violations) > 0 {
		t.Errorf("the page tried what its security policy forbids: %q", violations)
	}

	// The district's dashboard shows Thạch Kênh's completeness.
	<-dashReady
	link, err := localapi.NewClient(dash).LoginLink()
	if err != nil {
		t.Fatal(err)
	}
	br.resize(1440, 1000)
	br.navigate(link.URL)
	commune := `#communes tr.commune[data-code="18586"] td.census`
	br.waitFor("Thạch Kênh's completeness on the dashboard", 20*time.Second, func() bool {
		return strings.Contains(br.text(commune), fmt.Sprintf("%d / 40", enrolledBefore+1)) && strings.Contains(br.text(commune), "còn thiếu")
	})
	br.click(commune + " button[data-missing]")
	br.waitFor("the missing people", 10*time.Second, func() bool { return br.count("#missing tr.person") == 40-enrolledBefore-1 })
	if br.count(`#missing tr.person[data-pid="`+target.PersonalID+`"]`) != 0 {
		t.Error("the person just enrolled is still listed missing")
	}
	fitWindow(br, 1440)
	dashShot := br.screenshot()
	save(t, filepath.Join(shots, "dashboard-completeness.png"), dashShot)
	if *updateDocs {
		save(t, filepath.Join("..", "..", "docs", "capture-duplicate.png"), dupShot)
		save(t, filepath.Join("..", "..", "docs", "capture-receipt.png"), receiptShot)
		save(t, filepath.Join("..", "..", "docs", "capture-queue.png"), queueShot)
		save(t, filepath.Join("..", "..", "docs", "dashboard-completeness.png"), dashShot)
	}
	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}

// checkLabels: every visible input and select has an accessible name (a
// label, or a legend for a group of radio buttons, or aria-label).
func checkLabels(t *testing.T, br *browser) {
	t.Helper()
	var unlabelled []string
	br.exec(&unlabelled, `return [...document.querySelectorAll('input, select, textarea')]
		.filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
		.filter((el) => !(el.labels && [...el.labels].some((l) => l.textContent.trim())) && !el.getAttribute('aria-label'))
		.map((el) => el.id || el.name)`)
	if len(unlabelled) > 0 {
		t.Errorf("fields without a label: %q", unlabelled)
	}
	var n int
	br.exec(&n, "return document.querySelectorAll('#form input, #form select').length")
	if n < 25 {
		t.Errorf("only %d fields checked", n)
	}
}

// checkFocusOrder tabs through the form from the ID number: the focus
// follows the fields in reading order, never jumps back, and reaches the
// save button.
func checkFocusOrder(t *testing.T, br *browser) {
	t.Helper()
	br.one("#f-personal_id").sendKeys("")
	var order []string
	for range 60 {
		order = append(order, br.focused())
		if br.focused() == "save" {
			break
		}
		br.press(keyTab)
	}
	want := []string{"f-personal_id", "f-full_name", "f-date_of_birth", "f-sex-0", "f-ethnicity_code", "f-religion", "f-nationality",
		"f-birth_registration-code_list", "f-birth_registration-unit_code", "f-birth_registration-text"}
	if len(order) < len(want) || !slices.Equal(order[:len(want)], want) {
		t.Errorf("focus order from the ID number: %q\nwant it to start %q", order, want)
	}
	if order[len(order)-1] != "save" {
		t.Errorf("tabbing never reached the save button: %q", order)
	}
	var positions []float64
	br.exec(&positions, `return arguments[0].map((id) => { const e = document.getElementById(id); if (!e) return -1;
		const r = e.getBoundingClientRect(); return Math.round(r.top + window.scrollY) * 10000 + Math.round(r.left); })`, order)
	for i := 1; i < len(positions); i++ {
		// Down the form, and within a row left to right; the side panel
		// (the portrait's buttons, the save button) comes after the form.
		if positions[i] >= 0 && positions[i-1] >= 0 && positions[i] < positions[i-1] && !strings.HasPrefix(order[i], "camera") && order[i] != "save" && order[i] != "portrait-file" &&
			math.Floor(positions[i]/10000) < math.Floor(positions[i-1]/10000)-40 {
			t.Errorf("the focus jumps back up from %s to %s", order[i-1], order[i])
		}
	}
}

// checkContrast computes WCAG contrast ratios of the page's text against
// the background it is drawn on: at least 4.5:1.
func checkContrast(t *testing.T, br *browser) {
	t.Helper()
	var low []string
	br.exec(&low, `
		const lum = (c) => { const m = c.match(/[\d.]+/g).map(Number); const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
			return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]); };
		const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; const m = c.match(/[\d.]+/g);
			if (m && (m.length < 4 || Number(m[3]) > 0.5)) return c; } return 'rgb(255,255,255)'; };
		const out = [];
		const sel = 'label, legend, .hint, .msg.reject, .msg.warn, .msg.info, button, .tab, h1, h2, h3, th, td, .muted, .badge, .sync, header .where, #checks-summary, ul.findings li';
		for (const el of document.querySelectorAll(sel)) {
			if (!el.offsetParent || !el.textContent.trim()) continue;
			const fg = getComputedStyle(el).color, b = bg(el);
			const [a, c] = [lum(fg), lum(b)].sort((x, y) => y - x);
			const ratio = (a + 0.05) / (c + 0.05);
			if (ratio < 4.5) out.push(el.tagName + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2) + ' (' + fg + ' on ' + b + ')');
		}
		return out;`)
	if len(low) > 0 {
		t.Errorf("text below 4.5:1 contrast:\n  %s", strings.Join(low, "\n  "))
	}
}

// percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
