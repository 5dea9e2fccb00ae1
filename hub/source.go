package hub

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/hub/dashboard"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/replication"
	"fieldsync/replication/bundle"
	"fieldsync/replication/replicator"
)

// ExpectedFile, in a hub's data directory, lists the eligible population
// per commune ("commune_code,expected" per line) for the dashboard's
// completeness; optional.
const ExpectedFile = "expected-population.csv"

// maxSamples bounds each peer's backlog history (at one sample every 5 s,
// half an hour).
const maxSamples = 360

// source implements dashboard.Source over a running hub.
type source struct {
	d        *Daemon
	expected map[string]int
	changed  chan struct{}

	mu       sync.Mutex
	history  map[string][]dashboard.BacklogSample // peer name → samples
	received map[replication.OriginID]time.Time   // last ingest per origin
	units    map[replication.OriginID]replication.Genesis
}

func newSource(d *Daemon) (*source, error) {
	exp, err := readExpected(filepath.Join(d.cfg.Dir.Path, ExpectedFile))
	if err != nil {
		return nil, err
	}
	return &source{d: d, expected: exp, changed: make(chan struct{}, 1),
		history: map[string][]dashboard.BacklogSample{}, received: map[replication.OriginID]time.Time{},
		units: map[replication.OriginID]replication.Genesis{}}, nil
}

// readExpected reads the optional expected-population file.
func readExpected(path string) (map[string]int, error) {
	out := map[string]int{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		code, n, ok := strings.Cut(strings.TrimSpace(sc.Text()), ",")
		if !ok || strings.HasPrefix(code, "#") || code == "commune_code" {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil {
			return nil, errors.New("hub: " + ExpectedFile + " line " + strconv.Itoa(line) + ": expected population is not a number")
		}
		out[strings.TrimSpace(code)] = v
	}
	return out, sc.Err()
}

// notify marks that something shown changed (coalesced).
func (s *source) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// noteIngest records when entries of each origin arrived.
func (s *source) noteIngest(es []replication.Entry, now time.Time) {
	s.mu.Lock()
	for i := range es {
		s.received[es[i].Origin] = now
	}
	s.mu.Unlock()
	s.notify()
}

// sample records every peer's backlog (called on a timer by the daemon).
func (s *source) sample(now time.Time) {
	peers, err := s.d.Rep.Peers()
	if err != nil {
		return
	}
	ours, err := s.d.cfg.Dir.Log.Vector()
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range peers {
		h := append(s.history[p.Name], dashboard.BacklogSample{Time: now, Entries: p.BacklogEntries, Bytes: p.BacklogBytes,
			Incoming: dashboard.Incoming(ours, p.TheirHeads)})
		if len(h) > maxSamples {
			h = h[len(h)-maxSamples:]
		}
		s.history[p.Name] = h
	}
	s.notify()
}

func (s *source) Changed() <-chan struct{} { return s.changed }

func (s *source) Snapshot() (dashboard.Snapshot, error) {
	d := s.d
	snap := dashboard.Snapshot{Time: replication.OrReal(d.cfg.Replicator.Clock).Now()}
	vec, err := d.cfg.Dir.Log.Vector()
	if err != nil {
		return snap, err
	}
	stats, digest := d.view.Stats()
	cfg := d.cfg.Dir.Config
	snap.Hub = dashboard.HubInfo{Name: cfg.Name, Tier: cfg.Tier, Unit: cfg.Unit, Queue: d.Queue().Level,
		Entries: vec.Total(), Origins: len(vec), View: stats, Digest: digest}
	peers, err := d.Rep.Peers()
	if err != nil {
		return snap, err
	}
	rows := s.peerRows(peers, vec)
	snap.Peers = rows
	if snap.Communes, err = s.communes(vec, rows); err != nil {
		return snap, err
	}
	for _, c := range snap.Communes {
		snap.Totals.Enrolled += c.Enrolled
		snap.Totals.Expected += c.Expected
		snap.Totals.Devices += len(c.Devices)
	}
	snap.Totals.Communes = len(snap.Communes)
	snap.Alarms = d.Alarms()
	if recs, err := bundle.Records(d.Dir.Log); err == nil {
		snap.Bundles = recs[:min(len(recs), 10)]
	}
	return snap, nil
}

func (s *source) peerRows(peers []replicator.PeerStatus, ours replication.Vector) []dashboard.PeerRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := make([]dashboard.PeerRow, len(peers))
	for i, p := range peers {
		rows[i] = dashboard.PeerRow{PeerStatus: p, Link: linkState(p), Incoming: dashboard.Incoming(ours, p.TheirHeads),
			History: append([]dashboard.BacklogSample(nil), s.history[p.Name]...)}
	}
	return rows
}

func linkState(p replicator.PeerStatus) string {
	switch {
	case p.Connected:
		return "connected"
	case p.LastError != "":
		return "failing"
	case p.LastContact.IsZero():
		return "never"
	}
	return "idle"
}

// communes groups the field origins held by the commune their genesis
// names, with the citizens the view shows as captured there.
func (s *source) communes(vec replication.Vector, peers []dashboard.PeerRow) ([]dashboard.CommuneRow, error) {
	byCode := s.communeRows(vec, peers)
	lists := map[string]string{} // commune → the code list its captures use
	enrolled, err := s.d.view.Reconciler().Enrolled()
	if err != nil {
		return nil, err
	}
	for code, n := range enrolled { // kept as entries apply: no walk over the citizens
		s.communeRow(byCode, code).Enrolled += n.Citizens
		lists[code] = n.CodeList
	}
	census, err := s.d.view.Reconciler().CensusCommunes()
	if err != nil {
		return nil, err
	}
	for _, cc := range census {
		counts := cc.Counts
		row := s.communeRow(byCode, cc.Commune)
		row.Census, row.Complete = &counts, cc.Complete
	}
	for _, r := range byCode {
		// Codes are reused across code lists: name the commune in the
		// list its captures are coded in.
		if u, ok := enrollment.UnitByCode(lists[r.Code], r.Code); ok {
			r.Name = u.Name
		}
	}
	return sortedCommunes(byCode), nil
}

// communeRow returns the row of commune code, made if new.
func (s *source) communeRow(byCode map[string]*dashboard.CommuneRow, code string) *dashboard.CommuneRow {
	return communeRowIn(byCode, code, s.expected)
}

func communeRowIn(byCode map[string]*dashboard.CommuneRow, code string, expected map[string]int) *dashboard.CommuneRow {
	r, ok := byCode[code]
	if !ok {
		r = &dashboard.CommuneRow{Code: code, Name: communeName(code), District: enrollment.DistrictOf(enrollment.CodeList2023, code), Expected: expected[code]}
		byCode[code] = r
	}
	return r
}

// communeRows groups the laptop origins held by the commune their genesis
// names, with their links and how complete their dossiers are here. It
// reads no citizen: status and /metrics use it.
func (s *source) communeRows(vec replication.Vector, peers []dashboard.PeerRow) map[string]*dashboard.CommuneRow {
	received := func(o replication.OriginID) time.Time {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.received[o]
	}
	return groupDevices(vec, s.genesis, peers, received, s.expected, s.d.dossierCounts)
}

// groupDevices groups the laptop origins of vec by the commune their
// genesis names, with their direct links and dossier counts.
func groupDevices(vec replication.Vector, genesis func(replication.OriginID) (replication.Genesis, bool), peers []dashboard.PeerRow,
	received func(replication.OriginID) time.Time, expected map[string]int,
	counts func([]replication.OriginID) map[replication.OriginID]dashboard.DossierCounts) map[string]*dashboard.CommuneRow {
	byCode := map[string]*dashboard.CommuneRow{}
	var origins []replication.OriginID
	for _, o := range vec.Origins() {
		g, ok := genesis(o)
		if !ok || g.Role != replication.RoleNode {
			continue
		}
		dev := dashboard.DeviceRow{Origin: o.String(), Device: string(replication.DeviceIDOf(g.PublicKey)), Entries: vec.Seq(o), LastReceived: received(o)}
		for i := range peers {
			if peers[i].Origin == o {
				dev.Peer, dev.Name = &peers[i], peers[i].Name
			}
		}
		r := communeRowIn(byCode, g.Unit, expected)
		r.Devices = append(r.Devices, dev)
		origins = append(origins, o)
	}
	c := counts(origins)
	for _, r := range byCode {
		for i := range r.Devices {
			o, _ := replication.ParseOriginID(r.Devices[i].Origin)
			r.Devices[i].Dossiers = c[o]
		}
	}
	return byCode
}

// sortedCommunes lists rows in code order.
func sortedCommunes(byCode map[string]*dashboard.CommuneRow) []dashboard.CommuneRow {
	out := make([]dashboard.CommuneRow, 0, len(byCode))
	for _, r := range byCode {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// dossierSummary is the completeness of dossiers per device, commune and
// district, without reading the view.
func (s *source) dossierSummary() (dashboard.DossierSummary, error) {
	vec, err := s.d.cfg.Dir.Log.Vector()
	if err != nil {
		return dashboard.DossierSummary{}, err
	}
	peers, err := s.d.Rep.Peers()
	if err != nil {
		return dashboard.DossierSummary{}, err
	}
	rows := s.peerRows(peers, vec)
	return dashboard.SummarizeDossiers(sortedCommunes(s.communeRows(vec, rows)), rows), nil
}

// genesis reads (and caches) an origin's genesis.
func (s *source) genesis(o replication.OriginID) (replication.Genesis, bool) {
	s.mu.Lock()
	g, ok := s.units[o]
	s.mu.Unlock()
	if ok {
		return g, true
	}
	e, err := s.d.cfg.Dir.Log.Get(replication.EntryID{Origin: o, Seq: 1})
	if err != nil {
		return g, false
	}
	if g, err = replication.DecodeGenesis(e.Payload); err != nil {
		return g, false
	}
	s.mu.Lock()
	s.units[o] = g
	s.mu.Unlock()
	return g, true
}

func communeName(code string) string {
	for _, list := range []string{enrollment.CodeList2025, enrollment.CodeList2023} {
		if u, ok := enrollment.UnitByCode(list, code); ok {
			return u.Name
		}
	}
	return code
}

func (s *source) Conflicts(all bool) ([]*reconcile.Citizen, error) {
	q := s.d.Queue()
	q.All = all
	items, _, err := s.d.view.Conflicts(q)
	return items, err
}

func (s *source) Duplicates(all bool) ([]review.PairItem, error) {
	q := s.d.Queue()
	q.All = all
	items, _, err := s.d.view.Pairs(q)
	return items, err
}

func (s *source) Resolve(req review.Request) (string, error) {
	e, err := s.d.Resolve(req)
	if review.Rejected(err) {
		return "", fmt.Errorf("%w: %w", dashboard.ErrRejected, err)
	}
	if err != nil {
		return "", err
	}
	s.notify()
	return e.ID().String(), nil
}

func (s *source) Residents(commune, category string, limit int) (dashboard.ResidentsPage, error) {
	var cats []residents.Category
	switch category {
	case "missing":
		cats = []residents.Category{residents.CatMissing}
	case "accounted":
		cats = []residents.Category{residents.CatAccounted}
	case "enrolled":
		cats = []residents.Category{residents.CatEnrolled}
	case "not-eligible":
		cats = []residents.Category{residents.CatNotEligible}
	}
	rows, total, err := s.d.view.ResidentsOf(s.d.cfg.Dir.Log, commune, limit, cats...)
	if err != nil {
		return dashboard.ResidentsPage{}, err
	}
	page := dashboard.ResidentsPage{Commune: commune, Name: communeName(commune), Category: category, Total: total,
		People: make([]dashboard.ResidentRow, len(rows))}
	if page.Counts, err = s.d.view.Reconciler().CensusCommune(commune); err != nil {
		return dashboard.ResidentsPage{}, err
	}
	for i, r := range rows {
		page.People[i] = dashboard.ResidentRow{Person: r.Person, Resident: r.Resident}
	}
	return page, nil
}

var _ dashboard.Source = (*source)(nil)
