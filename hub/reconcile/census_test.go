package reconcile_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/roster"
	"fieldsync/storage/kv"
)

// addChannel adds the downward channel of hub for scope (its genesis).
func (w *world) addChannel(name, hub, tier, scope string) {
	h := w.origins[hub]
	o := &origin{name: name, signer: h.signer.Channel(scope), clock: h.clock}
	w.origins[name], w.names[o.signer.Origin()] = o, name
	w.order = append(w.order, name)
	p, _ := json.Marshal(replication.NewGenesis(o.signer, replication.RoleHub, tier, "42"))
	w.add(name, replication.KindGenesis, p)
}

func (w *world) addList(name, commune string, rows []residents.Resident) replication.EntryID {
	p, _ := json.Marshal(residents.List{Commune: commune, CodeList: enrollment.CodeList2023, AsOf: "2025-03-01", MinAge: 14, Residents: rows})
	return w.add(name, replication.KindResidents, p)
}

func (w *world) addStatus(name, pid, commune string, code residents.Code) replication.EntryID {
	p, _ := json.Marshal(residents.Status{PersonalID: pid, Commune: commune, Status: code, Officer: "CA-1", SetAt: time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)})
	return w.add(name, replication.KindStatus, p)
}

func residentRows(commune string, n int) []residents.Resident {
	out := make([]residents.Resident, n)
	for i := range out {
		base, _ := strconv.Atoi(commune[2:])
		out[i] = residents.Resident{PersonalID: fmt.Sprintf("042085%06d", base*1000+i), FullName: fmt.Sprintf("Người %d", i),
			DateOfBirth: enrollment.Date{Year: 1985}, Sex: enrollment.Male}
	}
	return out
}

// censusWorld: the province publishes Thạch Kênh's and Thạch Hải's
// lists in their channels; laptops capture and set statuses. Out of
// scope, and counted nowhere: a list in the province's own origin, a
// list of Thạch Hải in Thạch Kênh's channel, a district's list of a
// commune outside its district, a status of Thạch Hải's person set by
// Thạch Kênh's laptop.
func censusWorld() *world {
	w := newWorld()
	w.addAnchor(900)
	w.addOrigin("p1", replication.RoleHub, "province", 901, 1)
	w.addOrigin("d2", replication.RoleHub, "district", 902, 1)
	w.addOrigin("l3", replication.RoleNode, "", 903, 1)
	w.addOrigin("l5", replication.RoleNode, "", 904, 1)
	for _, a := range []roster.Add{
		{Key: w.origins["p1"].signer.PublicKey(), Role: replication.RoleHub, Tier: "province", Units: []string{"42"}},
		{Key: w.origins["d2"].signer.PublicKey(), Role: replication.RoleHub, Tier: "district", Units: []string{"436"}},
		{Key: w.origins["l3"].signer.PublicKey(), Role: replication.RoleNode, Units: []string{"18586"}},
		{Key: w.origins["l5"].signer.PublicKey(), Role: replication.RoleNode, Units: []string{"18571"}},
	} {
		d, _ := roster.AddDraft(a, 0)
		w.add("roster", d.Kind, d.Payload)
	}
	w.addChannel("p1/18586", "p1", "province", "18586")
	w.addChannel("p1/18571", "p1", "province", "18571")
	w.addChannel("d2/18586", "d2", "district", "18586") // a commune of another district
	w.addList("p1/18586", "18586", residentRows("18586", 6))
	w.addList("p1/18571", "18571", residentRows("18571", 4))
	w.addList("p1", "18586", residentRows("18500", 3))       // not a channel
	w.addList("p1/18586", "18571", residentRows("18599", 3)) // another commune's channel
	w.addList("d2/18586", "18586", residentRows("18598", 2)) // outside d2's district
	kenh := residentRows("18586", 6)
	for _, r := range kenh[:3] {
		e := record(map[string]string{"id": r.PersonalID, "commune": "18586"})
		p, _ := json.Marshal(e)
		w.add("l3", replication.KindEnroll, p)
	}
	w.addStatus("l3", kenh[3].PersonalID, "18586", residents.Away)
	w.addStatus("l3", kenh[4].PersonalID, "18586", residents.Deceased)
	w.addStatus("l3", residentRows("18571", 4)[0].PersonalID, "18571", residents.Away) // out of l3's scope
	w.addStatus("l5", residentRows("18571", 4)[1].PersonalID, "18571", residents.Refused)
	return w
}

func communeCounts(t *testing.T, r *reconcile.Reconciler, code string) residents.Counts {
	t.Helper()
	c, err := r.CensusCommune(code)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func censusDigest(t *testing.T, r *reconcile.Reconciler) (census, view string) {
	t.Helper()
	d, err := r.CensusDigest()
	if err != nil {
		t.Fatal(err)
	}
	return d, r.Digest()
}

func TestCensusInTheView(t *testing.T) {
	w := censusWorld()
	r := w.apply(w.entries)
	kenh := communeCounts(t, r, "18586")
	if want := (residents.Counts{Residents: 6, Eligible: 6, Enrolled: 3, Accounted: 2, Away: 1, Deceased: 1, Missing: 1}); kenh != want {
		t.Errorf("Thạch Kênh %+v\nwant %+v", kenh, want)
	}
	hai := communeCounts(t, r, "18571")
	if want := (residents.Counts{Residents: 4, Eligible: 4, Missing: 4, Refused: 1}); hai != want {
		t.Errorf("Thạch Hải %+v\nwant %+v", hai, want)
	}
	if cs, err := r.CensusCommunes(); err != nil || len(cs) != 2 {
		t.Errorf("%d communes: out-of-scope lists counted: %+v %v", len(cs), cs, err)
	}
	people, n, err := r.CensusPeople("18586", 0, residents.CatMissing)
	if err != nil || n != 1 || len(people) != 1 || people[0].PersonalID != residentRows("18586", 6)[5].PersonalID {
		t.Errorf("missing in Thạch Kênh: %+v (%d) %v", people, n, err)
	}
	q := r.Stats().Quarantined[string(roster.ReasonOutOfScope)]
	if q != 4 {
		t.Errorf("%d entries quarantined out of scope, want 4", q)
	}
	// Any order, cut into rounds anywhere, with judgements made again when
	// Rule 0 learns late: one census, one view.
	want, wantView := censusDigest(t, r)
	for seed := range uint64(60) {
		es := append([]replication.Entry(nil), w.entries...)
		rng := rand.New(rand.NewPCG(seed, 11))
		rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		got := w.apply(es)
		if seed%2 == 1 {
			got = w.applyInRounds(es, rng)
		}
		if d, v := censusDigest(t, got); d != want || v != wantView {
			t.Fatalf("order %d: census digest %s view %s, want %s %s", seed, d, v, want, wantView)
		}
	}
	// A capture voided: the person is missing again.
	var first replication.EntryID
	for _, e := range w.entries {
		if w.names[e.Origin] == "l3" && e.Kind == replication.KindEnroll {
			first = e.ID()
			break
		}
	}
	p, _ := json.Marshal(enrollment.Voiding{Target: first.String(), Reason: "wrong person"})
	w.add("l3", replication.KindVoid, p)
	r = w.apply(w.entries)
	if got := communeCounts(t, r, "18586"); got.Enrolled != 2 || got.Missing != 2 {
		t.Errorf("after a void: %+v", got)
	}
	// l3 revoked: its statuses and captures leave the census.
	d, _ := roster.RevokeDraft(roster.Revoke{Key: w.origins["l3"].signer.PublicKey(), Note: "lost"}, 0)
	w.add("roster", d.Kind, d.Payload)
	r = w.apply(w.entries)
	if got := communeCounts(t, r, "18586"); got.Enrolled != 0 || got.Accounted != 0 || got.Missing != 6 {
		t.Errorf("after l3's revocation: %+v", got)
	}
}

// BenchmarkCensusInTheView: a commune's list of b.N people (200 a list
// entry, as a hub's channel carries them) applied to a view in rounds of
// 2,048 entries, alone and with a capture of every second person; it
// reports the view store's bytes of the census per person (kv.Mem: keys
// and values, before compression).
func BenchmarkCensusInTheView(b *testing.B) {
	for _, captures := range []bool{false, true} {
		name := "lists"
		if captures {
			name = "lists+captures"
		}
		b.Run(name, func(b *testing.B) { benchCensus(b, captures) })
	}
}

func benchCensus(b *testing.B, captures bool) {
	w := newWorld()
	w.addOrigin("p1", replication.RoleHub, "province", 901, 1)
	w.addOrigin("l3", replication.RoleNode, "", 903, 1)
	w.addChannel("p1/18586", "p1", "province", "18586")
	rows := residentRows("18586", b.N)
	for i := 0; i < len(rows); i += residents.MaxRowsPerList {
		w.addList("p1/18586", "18586", rows[i:min(i+residents.MaxRowsPerList, len(rows))])
	}
	for i := 0; captures && i < len(rows); i += 2 {
		p, _ := json.Marshal(record(map[string]string{"id": rows[i].PersonalID, "commune": "18586"}))
		w.add("l3", replication.KindEnroll, p)
	}
	db := kv.NewMem()
	r, err := reconcile.Open(reconcile.Config{}, db)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for es := w.entries; len(es) > 0; {
		n := min(len(es), 2048)
		if err := r.Apply(es[:n]...); err != nil {
			b.Fatal(err)
		}
		es = es[n:]
	}
	b.StopTimer()
	c, err := r.CensusCommune("18586")
	if err != nil || c.Residents != b.N || captures && c.Enrolled != (b.N+1)/2 {
		b.Fatalf("census %+v %v", c, err)
	}
	var bytes int
	db.View(func(s kv.Reader) error {
		return s.Scan([]byte("x/census/"), nil, func(k, v []byte) bool { bytes += len(k) + len(v); return true })
	})
	b.ReportMetric(float64(bytes)/float64(b.N), "store-B/person")
}
