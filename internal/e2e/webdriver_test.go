package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A minimal WebDriver (W3C) client over net/http, enough to drive the
// dashboard in headless Chromium through chromedriver: no Go module, no
// browser download; Debian's chromium and chromium-driver packages.

// Browser binaries, as Debian's packages install them.
const (
	chromiumPath     = "/usr/bin/chromium"
	chromedriverPath = "/usr/bin/chromedriver"
)

// webElementKey is the W3C name of an element reference in JSON.
const webElementKey = "element-6066-11e4-a52e-4f735466cecf"

// browser is a headless Chromium session behind chromedriver.
type browser struct {
	t         *testing.T
	base      string // chromedriver's URL + "/session/" + id
	http      *http.Client
	driver    *exec.Cmd
	driverLog string
	tempDir   string
}

// findBrowser returns the paths of chromium and chromedriver, installing
// Debian's packages when they are missing and this is root with apt-get.
// FIELDSYNC_SKIP_BROWSER=1 skips the calling test instead.
func findBrowser(t *testing.T) (chromium, driver string) {
	t.Helper()
	if os.Getenv("FIELDSYNC_SKIP_BROWSER") == "1" {
		t.Skip("FIELDSYNC_SKIP_BROWSER=1: browser tests skipped")
	}
	look := func() (string, string, bool) {
		c, d := chromiumPath, chromedriverPath
		if _, err := os.Stat(c); err != nil {
			if p, err := exec.LookPath("chromium"); err == nil {
				c = p
			} else {
				return "", "", false
			}
		}
		if _, err := os.Stat(d); err != nil {
			if p, err := exec.LookPath("chromedriver"); err == nil {
				d = p
			} else {
				return "", "", false
			}
		}
		return c, d, true
	}
	if c, d, ok := look(); ok {
		return c, d
	}
	apt, err := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || err != nil {
		t.Fatalf("headless Chromium is needed: install Debian's packages (apt-get install chromium chromium-driver, or run .ci/setup-browser as root), or set FIELDSYNC_SKIP_BROWSER=1 to skip this test")
	}
	t.Logf("installing chromium and chromium-driver with apt-get (this takes a few minutes once)")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	install := func() ([]byte, error) {
		cmd := exec.CommandContext(ctx, apt, "install", "-y", "--no-install-recommends", "chromium", "chromium-driver", "fonts-dejavu-core")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	if _, err := install(); err != nil {
		// The package lists may be missing or stale on a fresh machine.
		if up, err := exec.CommandContext(ctx, apt, "update").CombinedOutput(); err != nil {
			t.Fatalf("apt-get update: %v\n%s", err, tail(up))
		}
		if out, err := install(); err != nil {
			t.Fatalf("apt-get install chromium chromium-driver: %v\n%s", err, tail(out))
		}
	}
	c, d, ok := look()
	if !ok {
		t.Fatalf("chromium and chromedriver still missing after apt-get install")
	}
	return c, d
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// startDriver runs chromedriver on a free port and returns its URL once it
// answers. The port is picked by listening and closing, so another process
// can take it before chromedriver binds it (chromedriver then exits, or
// another server answers): an attempt that exits or does not answer within
// driverWait is ended and another port tried, three times in all.
func (b *browser) startDriver(driverPath string) string {
	t := b.t
	var logs []string
	for attempt := 1; attempt <= 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		logPath := filepath.Join(b.tempDir, fmt.Sprintf("chromedriver-%d.log", attempt))
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(driverPath, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1")
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatalf("start chromedriver: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cmd.Process.Kill()
			<-exited
			logFile.Close()
		}
		root := "http://127.0.0.1:" + strconv.Itoa(port)
		if b.driverAnswers(root, exited) {
			b.driver, b.driverLog = cmd, logPath
			t.Cleanup(stop)
			return root
		}
		stop()
		out, _ := os.ReadFile(logPath)
		logs = append(logs, fmt.Sprintf("attempt %d (port %d): %s", attempt, port, tail(out)))
	}
	t.Fatalf("chromedriver did not come up in 3 attempts:\n%s", strings.Join(logs, "\n"))
	return ""
}

// driverWait bounds one chromedriver start: under a -race run on the
// shared 2-core machine it once took over 20 s to answer.
const driverWait = 30 * time.Second

// driverAnswers polls chromedriver's status until it is ready, it exits, or
// driverWait passes.
func (b *browser) driverAnswers(root string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(driverWait)
	for time.Now().Before(deadline) {
		var st struct {
			Value struct {
				Ready bool `json:"ready"`
			} `json:"value"`
		}
		if err := b.call(http.MethodGet, root+"/status", nil, &st); err == nil && st.Value.Ready {
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// newBrowser starts chromedriver and a headless Chromium session with a
// window of w×h CSS pixels; both end when the test does. extra are more
// Chromium flags (a fake camera, a closed network).
func newBrowser(t *testing.T, w, h int, extra ...string) *browser {
	chromium, driverPath := findBrowser(t)
	b := &browser{t: t, http: &http.Client{Timeout: 60 * time.Second}, tempDir: t.TempDir()}
	root := b.startDriver(driverPath)
	// Without the background-networking flags Chromium keeps trying to
	// reach Google's services, which a closed network does not like.
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--mute-audio",
		"--hide-scrollbars", "--force-device-scale-factor=1",
		fmt.Sprintf("--window-size=%d,%d", w, h), "--user-data-dir=" + filepath.Join(b.tempDir, "profile")}
	args = append(args, extra...)
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":        "chrome",
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": args},
	}}}
	var sess struct {
		Value struct {
			SessionID string `json:"sessionId"`
		} `json:"value"`
	}
	if err := b.call(http.MethodPost, root+"/session", caps, &sess); err != nil {
		out, _ := os.ReadFile(b.driverLog)
		t.Fatalf("new WebDriver session: %v; chromedriver's log: %s", err, tail(out))
	}
	b.base = root + "/session/" + sess.Value.SessionID
	t.Cleanup(func() { b.call(http.MethodDelete, b.base, nil, nil) })
	return b
}

// call sends one WebDriver command and decodes the answer into out.
func (b *browser) call(method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Value struct {
				Error   string `json:"error"`
				Message string `json:"message"`
			} `json:"value"`
		}
		json.Unmarshal(raw, &e)
		msg, _, _ := strings.Cut(e.Value.Message, "\n")
		return fmt.Errorf("webdriver %s %s: %d %s: %s", method, strings.TrimPrefix(url, b.base), resp.StatusCode, e.Value.Error, msg)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// cmd runs a session command and returns its value.
func (b *browser) cmd(method, path string, body any) json.RawMessage {
	b.t.Helper()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	if body == nil && method == http.MethodPost {
		body = map[string]any{}
	}
	if err := b.call(method, b.base+path, body, &out); err != nil {
		b.t.Fatal(err)
	}
	return out.Value
}

func (b *browser) navigate(url string) { b.cmd(http.MethodPost, "/url", map[string]string{"url": url}) }

// exec runs script in the page (a function body: use "return") and
// decodes its result into out (if not nil).
func (b *browser) exec(out any, script string, args ...any) {
	b.t.Helper()
	if args == nil {
		args = []any{}
	}
	v := b.cmd(http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": args})
	if out != nil {
		if err := json.Unmarshal(v, out); err != nil {
			b.t.Fatalf("script result %s: %v", v, err)
		}
	}
}

// element is a reference to a DOM element of the session.
type element struct {
	b  *browser
	id string
}

// find returns the elements matching a CSS selector (possibly none).
func (b *browser) find(css string) []element {
	b.t.Helper()
	v := b.cmd(http.MethodPost, "/elements", map[string]string{"using": "css selector", "value": css})
	var refs []map[string]string
	if err := json.Unmarshal(v, &refs); err != nil {
		b.t.Fatal(err)
	}
	out := make([]element, len(refs))
	for i, r := range refs {
		out[i] = element{b, r[webElementKey]}
	}
	return out
}

// one returns the only (or first) element matching css, failing if none.
func (b *browser) one(css string) element {
	b.t.Helper()
	els := b.find(css)
	if len(els) == 0 {
		b.t.Fatalf("no element matches %q", css)
	}
	return els[0]
}

// The page re-renders on every live update, so element references go
// stale quickly: the helpers below read the DOM in one script each, and
// click retries with a fresh reference.

// text is the rendered text of the first element matching css ("" if none).
func (b *browser) text(css string) string {
	b.t.Helper()
	var s string
	b.exec(&s, "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : ''", css)
	return s
}

// texts are the rendered texts of every element matching css.
func (b *browser) texts(css string) []string {
	b.t.Helper()
	var s []string
	b.exec(&s, "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText.trim())", css)
	return s
}

// attrOf is an attribute of the first element matching css.
func (b *browser) attrOf(css, name string) string {
	b.t.Helper()
	var s string
	b.exec(&s, "const e = document.querySelector(arguments[0]); return e ? (e.getAttribute(arguments[1]) || '') : ''", css, name)
	return s
}

// count is how many elements match css.
func (b *browser) count(css string) int {
	b.t.Helper()
	var n int
	b.exec(&n, "return document.querySelectorAll(arguments[0]).length", css)
	return n
}

// click clicks the first element matching css like a user would (the
// browser checks it is visible and not covered), retrying if a live
// update replaced it meanwhile.
func (b *browser) click(css string) {
	b.t.Helper()
	var err error
	for range 20 {
		var refs []map[string]string
		var out struct {
			Value json.RawMessage `json:"value"`
		}
		if err = b.call(http.MethodPost, b.base+"/elements", map[string]string{"using": "css selector", "value": css}, &out); err != nil {
			break
		}
		json.Unmarshal(out.Value, &refs)
		if len(refs) == 0 {
			err = fmt.Errorf("no element matches %q", css)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err = b.call(http.MethodPost, b.base+"/element/"+refs[0][webElementKey]+"/click", map[string]any{}, nil); err == nil || !strings.Contains(err.Error(), "stale element") {
			break
		}
	}
	if err != nil {
		b.t.Fatalf("click %s: %v", css, err)
	}
}

// sendKeys types s into the element.
func (e element) sendKeys(s string) {
	e.b.t.Helper()
	e.b.cmd(http.MethodPost, "/element/"+e.id+"/value", map[string]string{"text": s})
}

// waitFor polls cond until it holds or timeout passes.
func (b *browser) waitFor(what string, timeout time.Duration, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// resize sets the window's size (CSS pixels).
func (b *browser) resize(w, h int) {
	b.cmd(http.MethodPost, "/window/rect", map[string]int{"width": w, "height": h})
}

// screenshot returns a PNG of the viewport.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	var s string
	if err := json.Unmarshal(b.cmd(http.MethodGet, "/screenshot", nil), &s); err != nil {
		b.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b.t.Fatal(err)
	}
	return png
}

// W3C key codes of the keys the tests press.
const (
	keyTab    = "\uE004"
	keyEnter  = "\uE007"
	keyEscape = "\uE00C"
	keyCtrl   = "\uE009"
	keyAlt    = "\uE00A"
)

// press sends keys to whatever has the focus, as a keyboard would: each
// key down then up, a modifier held around the key that follows it when
// given as chord(modifier, key).
func (b *browser) press(keys ...string) {
	b.t.Helper()
	var acts []map[string]string
	for _, k := range keys {
		for _, r := range k {
			acts = append(acts, map[string]string{"type": "keyDown", "value": string(r)}, map[string]string{"type": "keyUp", "value": string(r)})
		}
	}
	b.cmd(http.MethodPost, "/actions", map[string]any{"actions": []any{map[string]any{"type": "key", "id": "keyboard", "actions": acts}}})
}

// chord presses key with a modifier held (Ctrl+S, Alt+3).
func (b *browser) chord(modifier, key string) {
	b.t.Helper()
	acts := []map[string]string{{"type": "keyDown", "value": modifier}, {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}, {"type": "keyUp", "value": modifier}}
	b.cmd(http.MethodPost, "/actions", map[string]any{"actions": []any{map[string]any{"type": "key", "id": "keyboard", "actions": acts}}})
}

// focused is the id of the element that has the focus.
func (b *browser) focused() string {
	return b.exec2str("return document.activeElement ? document.activeElement.id : ''")
}

// typeAt types s into whatever has the focus, a key every gap (a person
// typing, rather than as fast as the driver can).
func (b *browser) typeAt(gap time.Duration, s string) {
	b.t.Helper()
	var acts []map[string]any
	for _, r := range s {
		acts = append(acts, map[string]any{"type": "keyDown", "value": string(r)}, map[string]any{"type": "keyUp", "value": string(r)},
			map[string]any{"type": "pause", "duration": gap.Milliseconds()})
	}
	b.cmd(http.MethodPost, "/actions", map[string]any{"actions": []any{map[string]any{"type": "key", "id": "keyboard", "actions": acts}}})
}
