package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/hub"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/channel"
	"fieldsync/replication/roster"
	"fieldsync/runtime/localapi"
)

// residentCSV renders people as the province's resident-list CSV.
func residentCSV(people map[string][]enrollment.Enrollment) []byte {
	var b bytes.Buffer
	b.WriteString("commune_code,personal_id,full_name,date_of_birth,sex,household,relation_to_head,address\n")
	for commune, recs := range people {
		for i, r := range recs {
			fmt.Fprintf(&b, "%s,%s,%q,%s,%s,HK-%03d,%s,\"Thôn %d\"\n", commune, r.PersonalID, r.FullName, r.DateOfBirth, r.Sex, i/4, "Khác", i%5+1)
		}
	}
	return b.Bytes()
}

// labelledValue returns the value of the metric line of name carrying
// every label given, or -1.
func labelledValue(body, name string, labels ...string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(line, l)
		}
		if all {
			var v float64
			fmtSscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			return v
		}
	}
	return -1
}

// TestResidentListsGoDownToTheirCommuneOnly is the resident list's end to
// end: the province imports the lists of two communes; each reaches its
// own commune's laptops (two in Thạch Kênh) and no other laptop; officers
// capture and set statuses on the laptops; statuses and captures go up;
// every hub shows the same completeness, figure for figure, and the same
// census digest.
func TestResidentListsGoDownToTheirCommuneOnly(t *testing.T) {
	d := newDeployment(t)
	d.addHub("province", "province", "42", "")
	var districtAPI localapi.Info
	apiReady := make(chan struct{})
	d.addHubWith("thach-ha", "district", "445", "province", func(c *hub.DaemonConfig) {
		c.Ready = func(i localapi.Info) { districtAPI = i; close(apiReady) }
	})
	d.addHub("tp-ha-tinh", "district", "436", "province")
	d.addNode("l-kenh-1", "18586", "thach-ha")
	d.addNode("l-kenh-2", "18586", "thach-ha")
	d.addNode("l-hai", "18571", "thach-ha")
	d.addNode("l-nam-ha", "18073", "tp-ha-tinh")

	kenh := synthtest.WithPersonalID(t, synth.Config{Count: 60, Seed: 21, Commune: "18586", CodeList: enrollment.CodeList2023}, 40)
	hai := synthtest.WithPersonalID(t, synth.Config{Count: 50, Seed: 22, Commune: "18571", CodeList: enrollment.CodeList2023}, 30)
	res, err := d.hubs["province"].ImportResidents(bytes.NewReader(residentCSV(map[string][]enrollment.Enrollment{"18586": kenh, "18571": hai})),
		hub.ResidentsOptions{CodeList: enrollment.CodeList2023, AsOf: "2025-03-01", Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 70 || res.Rejected != 0 || len(res.Communes) != 2 {
		t.Fatalf("import: %+v", res)
	}
	province := d.hubs["province"].Dir.Signer
	chKenh, chHai := channel.Origin(province, "18586"), channel.Origin(province, "18571")
	held := func(name string, o replication.OriginID) uint64 {
		v, _ := d.nodes[name].Dir.Log.Vector()
		return v.Seq(o)
	}
	wantKenh, wantHai := uint64(1+res.Communes[1].Entries), uint64(1+res.Communes[0].Entries) // sorted: 18571, 18586
	waitUntil(t, "each commune's list on its laptops", 60*time.Second, func() bool {
		return held("l-kenh-1", chKenh) == wantKenh && held("l-kenh-2", chKenh) == wantKenh && held("l-hai", chHai) == wantHai
	})
	// Officers capture some people on the list and set others' statuses.
	d.enroll("l-kenh-1", kenh[:20]...)
	d.enroll("l-kenh-2", kenh[20:25]...)
	d.enroll("l-hai", hai[:10]...)
	set := func(laptop string, r enrollment.Enrollment, code residents.Code) {
		if _, err := d.nodes[laptop].Node().SetStatus(residents.Status{PersonalID: r.PersonalID, Status: code, Officer: "CA-" + laptop}); err != nil {
			t.Fatal(err)
		}
		d.nodes[laptop].Rep.Wake()
	}
	set("l-kenh-1", kenh[30], residents.Away)
	set("l-kenh-2", kenh[31], residents.Deceased)
	set("l-hai", hai[29], residents.MovedOut)
	set("l-hai", hai[28], residents.Refused)

	counts := func(h *hub.Daemon) string {
		c := censusOf(t, h)
		var b strings.Builder
		for _, cc := range c.Communes {
			fmt.Fprintf(&b, "%s %+v; ", cc.Commune, cc.Counts)
		}
		return b.String() + c.Digest
	}
	d.waitConverged("province", "statuses and captures at every hub", func() bool {
		first := ""
		for _, h := range d.hubs {
			c := counts(h)
			if first == "" {
				first = c
			} else if c != first {
				return false
			}
		}
		return censusOf(t, d.hubs["province"]).Total.Enrolled+censusOf(t, d.hubs["province"]).Total.Accounted == 38
	})
	// No other laptop holds a list it is not for.
	for _, c := range []struct {
		laptop string
		o      replication.OriginID
	}{{"l-hai", chKenh}, {"l-kenh-1", chHai}, {"l-kenh-2", chHai}, {"l-nam-ha", chKenh}, {"l-nam-ha", chHai}} {
		if n := held(c.laptop, c.o); n != 0 {
			t.Errorf("%s holds %d entries of another commune's list", c.laptop, n)
		}
	}
	rep := censusOf(t, d.hubs["thach-ha"])
	want := map[string]residents.Counts{ // the synthetic people are adults: all eligible
		"18586": {Residents: 40, Eligible: 40, Enrolled: 25, Accounted: 2, Away: 1, Deceased: 1, Missing: 13},
		"18571": {Residents: 30, Eligible: 30, Enrolled: 10, Accounted: 1, Moved: 1, Missing: 19, Refused: 1},
	}
	for _, c := range rep.Communes {
		if w := want[c.Commune]; c.Counts.Eligible != w.Eligible || c.Enrolled != w.Enrolled || c.Accounted != w.Accounted || c.Missing != w.Missing {
			t.Errorf("commune %s: %+v\nwant %+v", c.Commune, c.Counts, w)
		}
	}
	for name, h := range d.hubs {
		t.Logf("%s: %s", name, counts(h))
	}
	// /metrics carries the same counts as status, per commune.
	<-apiReady
	body := scrape(t, "http://"+districtAPI.Addr+"/metrics")
	for _, c := range rep.Communes {
		for cat, want := range map[string]int{"eligible": c.Eligible, "enrolled": c.Enrolled, "accounted": c.Accounted, "missing": c.Missing} {
			if got := labelledValue(body, "fieldsync_residents_by_unit", `level="commune"`, `unit="`+c.Commune+`"`, `category="`+cat+`"`); got != float64(want) {
				t.Errorf("metric %s of %s = %v, status says %d", cat, c.Commune, got, want)
			}
		}
	}

	// The province's receipts travel in the same channels: a dossier
	// captured in each commune, complete at the province, is receipted to
	// its own commune's laptops, and no receipt reaches another commune.
	dossierOf := func(commune string, seed uint64) *node.Dossier {
		g, err := synth.New(synth.Config{Count: 1, Seed: seed, Commune: commune, CodeList: enrollment.CodeList2023})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := g.Next()
		return &node.Dossier{Record: r.Enrollment, Files: r.Files()}
	}
	saved := map[string]replication.EntryID{}
	for laptop, dos := range map[string]*node.Dossier{"l-kenh-1": dossierOf("18586", 23), "l-hai": dossierOf("18571", 24)} {
		r, err := d.nodes[laptop].Node().SaveDossier(dos)
		if err != nil {
			t.Fatal(err)
		}
		saved[laptop] = r.ID
		d.nodes[laptop].Rep.Wake()
	}
	// The anchor signs receipts (only its receipts count, at hubs and on
	// laptops), in its own channels.
	prov := d.hubs["province"]
	anchor := roster.SignerFor(province)
	rKenh, rHai := channel.Origin(anchor, "18586"), channel.Origin(anchor, "18571")
	waitUntil(t, "both dossiers receipted on their laptops", 90*time.Second, func() bool {
		if n, err := prov.IssueReceipts(); err != nil {
			t.Fatal(err)
		} else if n > 0 {
			prov.Rep.Wake()
		}
		// The laptops contact their hub (gossip would tell them it holds
		// more; this deployment runs none).
		d.nodes["l-kenh-1"].Rep.Wake()
		d.nodes["l-hai"].Rep.Wake()
		return d.nodes["l-kenh-1"].Node().Receipted(saved["l-kenh-1"]) && d.nodes["l-hai"].Node().Receipted(saved["l-hai"])
	})
	if h, _ := prov.Dir.Log.Head(rKenh); h.Seq < 2 {
		t.Errorf("Thạch Kênh's receipt channel holds %d entries", h.Seq)
	}
	for _, o := range []replication.OriginID{province.Origin(), anchor.Origin(), chKenh, chHai} {
		if err := prov.Dir.Log.Scan(o, 1, func(e replication.Entry) bool {
			if e.Kind == replication.KindReceipt {
				t.Errorf("a receipt outside the anchor's channels: %s", e.ID())
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		laptop string
		o      replication.OriginID
	}{{"l-hai", rKenh}, {"l-kenh-1", rHai}, {"l-kenh-2", rHai}, {"l-nam-ha", rKenh}, {"l-nam-ha", rHai}, {"l-hai", chKenh}, {"l-kenh-1", chHai}} {
		if n := held(c.laptop, c.o); n != 0 {
			t.Errorf("after receipts, %s holds %d entries of another commune's channel", c.laptop, n)
		}
	}
	// No quarantine at any hub: the anchor's receipts are admitted.
	for name, h := range d.hubs {
		if q := h.View().Reconciler().Stats().Quarantined; len(q) != 0 {
			t.Errorf("%s quarantined %v", name, q)
		}
	}

	// A re-import of the same file writes nothing; a register without one
	// person removes them, and the count follows at every hub.
	again, err := d.hubs["province"].ImportResidents(bytes.NewReader(residentCSV(map[string][]enrollment.Enrollment{"18586": kenh, "18571": hai})),
		hub.ResidentsOptions{CodeList: enrollment.CodeList2023, AsOf: "2025-03-01"})
	if err != nil || again.Entries != 0 {
		t.Fatalf("the same list again wrote %d entries (%v)", again.Entries, err)
	}
	fewer, err := d.hubs["province"].ImportResidents(bytes.NewReader(residentCSV(map[string][]enrollment.Enrollment{"18571": hai[:29]})),
		hub.ResidentsOptions{CodeList: enrollment.CodeList2023, AsOf: "2025-03-01"})
	if err != nil || fewer.Entries != 1 || fewer.Communes[0].Removed != 1 || fewer.Communes[0].Changed != 0 {
		t.Fatalf("a list without one person: %+v (%v)", fewer, err)
	}
	d.waitConverged("province", "the removal at every hub", func() bool {
		for _, h := range d.hubs {
			if censusOf(t, h).Total.Residents != 69 {
				return false
			}
		}
		return true
	})

	// The missing list names people, house by house.
	rows, total, err := d.hubs["province"].View().ResidentsOf(d.hubs["province"].Dir.Log, "18571", 0, residents.CatMissing)
	if err != nil || total != 19 || rows[0].Resident == nil || rows[0].Resident.Address == "" || rows[0].Resident.Address > rows[total-1].Resident.Address {
		t.Fatalf("missing list: %v, %d, %+v", err, total, rows)
	}
}

// censusOf reads a hub's census.
func censusOf(t *testing.T, h *hub.Daemon) hub.CensusReport {
	t.Helper()
	c, err := h.View().Census()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
