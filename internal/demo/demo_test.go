package demo

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReducedDemoConverges runs a small province end to end — two
// districts of two communes (one reached only through a colleague's
// laptop), 2G and EDGE links with outages — and checks that every hub
// ends with the same digest and the province holds every entry the
// laptops acknowledged. While it still runs, the province's /metrics is
// scraped for the figures an operator alerts on.
func TestReducedDemoConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a province for ~40 s")
	}
	var out strings.Builder
	var metrics map[string]float64
	cfg := Config{Districts: 2, Communes: 2, Records: 1200, Dossiers: 60, CaptureFor: 15 * time.Second, ConvergeWithin: 2 * time.Minute,
		DashboardAddr: "127.0.0.1:0", Out: &out, Dir: t.TempDir(),
		AtEnd: func(sum Summary) {
			metrics = scrapeSettled(t, strings.Replace(sum.Hubs[0].Dashboard, "/login?", "/metrics?", 1))
		}}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if !sum.Converged || sum.Missing != 0 {
		t.Fatalf("not converged: province lacks %d laptop entries", sum.Missing)
	}
	if len(sum.Refused) != 0 || sum.Roster != 3+sum.Laptops {
		t.Errorf("roster of %d devices (want %d hubs and laptops), refused %v (want nothing): %q", sum.Roster, 3+sum.Laptops, sum.Refused, sum.RefusedWhy)
	}
	if len(sum.Hubs) != 3 {
		t.Fatalf("%d hubs, want province + 2 districts", len(sum.Hubs))
	}
	for _, h := range sum.Hubs {
		if h.Digest != sum.Hubs[0].Digest || h.Entries != sum.Hubs[0].Entries {
			t.Errorf("%s: %d entries digest %s; province %d entries digest %s", h.Name, h.Entries, h.Digest, sum.Hubs[0].Entries, sum.Hubs[0].Digest)
		}
	}
	// Each laptop's genesis + every capture is an entry; hubs add theirs.
	if sum.Hubs[0].Entries < uint64(sum.Captured+sum.Laptops) {
		t.Errorf("province holds %d entries, laptops captured %d", sum.Hubs[0].Entries, sum.Captured)
	}
	if sum.Captured < cfg.Records*9/10 {
		t.Errorf("captured %d of %d", sum.Captured, cfg.Records)
	}
	if sum.Hubs[0].Pairs == 0 || sum.Hubs[0].Conflicts == 0 {
		t.Errorf("province found %d duplicate pairs and %d conflicts; the data plants both", sum.Hubs[0].Pairs, sum.Hubs[0].Conflicts)
	}
	// Every commune's list went down and the completeness is the same at
	// every hub; people never captured (the absent) are missing.
	for _, h := range sum.Hubs {
		if h.CensusDigest != sum.Hubs[0].CensusDigest || h.Census != sum.Hubs[0].Census {
			t.Errorf("%s: completeness %+v, province %+v", h.Name, h.Census, sum.Hubs[0].Census)
		}
	}
	if c := sum.Hubs[0].Census; c.Eligible == 0 || c.Enrolled == 0 || c.Missing == 0 || c.NotEligible == 0 {
		t.Errorf("province completeness %+v: want people on the lists, enrolled, missing and not eligible", c)
	}
	checkMetrics(t, metrics, sum)
	// Dossiers: carried by the laptops, counted at every hub (complete or
	// not: thin links move their blobs behind the records).
	if sum.Dossiers < cfg.Dossiers*9/10 || sum.BlobBytes < int64(sum.Dossiers)*400_000 {
		t.Errorf("%d dossiers of %d bytes captured, want about %d of ~1 MB", sum.Dossiers, sum.BlobBytes, cfg.Dossiers)
	}
	for _, h := range sum.Hubs {
		d := h.Dossiers
		if d.Dossiers < uint64(sum.Dossiers) || d.Complete+uint64(d.Incomplete) != d.Dossiers || (d.Incomplete > 0) != (d.PendingBytes > 0) {
			t.Errorf("%s: dossiers %+v, laptops captured %d", h.Name, d, sum.Dossiers)
		}
	}
	if _, ok := metrics[`fieldsync_dossiers{level="all",state="complete",unit=""}`]; !ok {
		t.Errorf("no dossier completeness in /metrics")
	}
}

func checkMetrics(t *testing.T, m map[string]float64, sum Summary) {
	t.Helper()
	prov := sum.Hubs[0]
	// The province issues receipts (entries of its own) every few seconds
	// of the demo, so its log may hold a round more at the scrape than in
	// the summary: a receipt per laptop, in its commune's channel (begun
	// by a genesis the first time).
	if got, most := m["fieldsync_log_entries"], prov.Entries+uint64(2*sum.Laptops); got < float64(prov.Entries) || got > float64(most) {
		t.Errorf("metric fieldsync_log_entries = %v, want %d (+ at most a round of receipts since: %d)", got, prov.Entries, most)
	}
	for name, want := range map[string]float64{
		"fieldsync_view_citizens":                  float64(prov.Citizens),
		"fieldsync_view_open_conflicts":            float64(prov.OpenConflicts),
		"fieldsync_view_open_duplicates":           float64(prov.OpenPairs),
		`fieldsync_sync_errors_total{kind="fork"}`: 0,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("metric %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	var ingested, received float64
	var peers int
	for k, v := range m {
		switch {
		case k == "fieldsync_entries_ingested_total":
			ingested = v
		case strings.HasPrefix(k, "fieldsync_peer_bytes_received_total{"):
			received += v
			peers++
		case strings.HasPrefix(k, "fieldsync_peer_backlog_entries{") && v != 0:
			t.Errorf("%s = %v after convergence", k, v)
		}
	}
	// The province ingested everything but its own entries (its genesis,
	// its receipts), its roster (the roster origin's genesis and one add
	// per device) and the resident lists it published.
	if ingested < float64(prov.Entries-prov.Own-uint64(sum.Roster+1)-uint64(sum.ResidentEntries)) || received == 0 || peers < 2 {
		t.Errorf("ingested %v of %d entries, %v bytes received from %d peers", ingested, prov.Entries, received, peers)
	}
}

// scrapeSettled scrapes until no peer shows a backlog, for a few
// seconds at most: convergence is read from the logs, and the last acks
// (which tell the province what its peers hold) may still be on the wire.
func scrapeSettled(t *testing.T, url string) map[string]float64 {
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := scrape(t, url)
		settled := true
		for k, v := range m {
			if strings.HasPrefix(k, "fieldsync_peer_backlog_entries{") && v != 0 {
				settled = false
			}
		}
		if settled || time.Now().After(deadline) {
			return m
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// scrape reads a Prometheus text page into series → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("metrics: %v", err)
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Errorf("metrics line %q: %v", line, err)
			continue
		}
		out[line[:i]] = v
	}
	return out
}
