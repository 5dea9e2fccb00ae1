package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/hub"
	"fieldsync/runtime/localapi"
)

// TestMetricsOfARunningHub scrapes /metrics of a hub with a laptop behind
// it and checks the figures the operator needs are there and sane.
func TestMetricsOfARunningHub(t *testing.T) {
	d := newDeployment(t)
	var info localapi.Info
	ready := make(chan struct{})
	d.addHubWith("province", "province", "42", "", func(c *hub.DaemonConfig) {
		c.Ready = func(i localapi.Info) { info = i; close(ready) }
	})
	d.addHub("thach-ha", "district", "445", "province")
	d.addNode("l1", "18586", "thach-ha")
	d.enroll("l1", synthtest.Enrollments(t, synth.Config{Count: 120, Seed: 7})...)
	d.enroll("l1", citizen("042085001234", "Nguyễn Văn Thành", "18586"))
	dup := citizen("042085001234", "Nguyễn Văn Thành", "18586")
	dup.DateOfBirth.Day = 21 // a conflicting capture of the same citizen
	d.enroll("l1", dup)
	d.waitConverged("province", "metrics", nil)
	<-ready
	deadline := time.Now().Add(20 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		body = scrape(t, "http://"+info.Addr+"/metrics")
		if metricValue(body, "fieldsync_entries_ingested_total") >= 123 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{
		`fieldsync_entries_ingested_total`, `fieldsync_peer_backlog_entries{peer="thach-ha"} 0`,
		`fieldsync_peer_bytes_received_total{peer="thach-ha"}`, `fieldsync_peer_bytes_sent_total{peer="thach-ha"}`,
		`fieldsync_sync_sessions_total`, `fieldsync_view_open_conflicts 1`, `fieldsync_view_open_duplicates`,
		`fieldsync_view_citizens`, `fieldsync_log_entries`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if n := metricValue(body, "fieldsync_entries_ingested_total"); n < 123 {
		t.Errorf("ingested %v entries, want at least 123 (the laptop's and the district's)", n)
	}
	if strings.Contains(body, "Nguyễn") || strings.Contains(body, "042085001234") {
		t.Error("metrics must carry no personal data")
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue returns the value of an unlabelled metric line.
func metricValue(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+" ") {
			var v float64
			_, _ = fmtSscan(strings.TrimPrefix(line, name+" "), &v)
			return v
		}
	}
	return -1
}
