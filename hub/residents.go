package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/channel"
	"fieldsync/replication/oplog"
	"fieldsync/replication/roster"
	"fieldsync/storage/kv"
)

// ErrBadResidents is returned (wrapped) when a resident list cannot be
// imported at all: a bad header, a commune outside this hub's unit.
var ErrBadResidents = errors.New("hub: resident list refused")

// ResidentsOptions are an import's settings besides the CSV file.
type ResidentsOptions struct {
	// Commune and CodeList apply to rows without those columns.
	Commune  string `json:"commune,omitempty"`
	CodeList string `json:"code_list,omitempty"`
	// AsOf is the register's date (YYYY-MM-DD; today when empty); MinAge
	// the age of eligibility (residents.DefaultMinAge when 0).
	AsOf   string `json:"as_of,omitempty"`
	MinAge int    `json:"min_age,omitempty"`
	Source string `json:"source,omitempty"`
	// Partial: the file holds only some people of its communes (an
	// update); without it the file is each commune's whole list, and
	// people no longer on it are removed.
	Partial bool `json:"partial,omitempty"`
}

// ResidentsResult is what an import did.
type ResidentsResult struct {
	Communes      []ImportedCommune       `json:"communes"`
	Accepted      int                     `json:"accepted"`
	Warnings      int                     `json:"warnings"`
	Rejected      int                     `json:"rejected"`
	RejectedRows  []residents.RejectedRow `json:"rejected_rows,omitempty"`
	Entries       int                     `json:"entries"`
	CensusDigest  string                  `json:"census_digest"`
	ChannelOrigin map[string]string       `json:"channels,omitempty"` // commune → channel origin
}

// ImportedCommune is one commune of an import.
type ImportedCommune struct {
	Commune string `json:"commune"`
	Name    string `json:"name"`
	Rows    int    `json:"rows"`
	Changed int    `json:"changed"` // rows written (new or different)
	Removed int    `json:"removed"` // people no longer on the list
	Entries int    `json:"entries"`
}

// ImportResidents reads a resident list from CSV (package residents has
// the format) and publishes it: for each commune, the rows that are new
// or differ from what stands, and (unless opts.Partial) the removal of
// people no longer on it, as KindResidents entries in the commune's
// downward channel of this hub (synced), applied to the view. Each
// commune must be inside this hub's unit. Rejected rows are reported with
// their reasons and never stop the others.
func (a *Author) ImportResidents(v *View, r io.Reader, opts ResidentsOptions, now time.Time) (ResidentsResult, []replication.Entry, error) {
	var res ResidentsResult
	asOf := now
	if opts.AsOf != "" {
		t, err := time.Parse(time.DateOnly, opts.AsOf)
		if err != nil {
			return res, nil, fmt.Errorf("%w: as_of %q: write the register's date as YYYY-MM-DD", ErrBadResidents, opts.AsOf)
		}
		asOf = t
	}
	if opts.MinAge < 0 || opts.MinAge > 120 {
		return res, nil, fmt.Errorf("%w: min_age %d: give an age from 0 to 120", ErrBadResidents, opts.MinAge)
	}
	im, err := residents.ReadCSV(r, residents.ImportOptions{Commune: opts.Commune, CodeList: opts.CodeList, AsOf: asOf,
		MinAge: opts.MinAge, Source: opts.Source, Now: now})
	if err != nil {
		return res, nil, fmt.Errorf("%w: %w", ErrBadResidents, err)
	}
	res.Accepted, res.Warnings, res.Rejected, res.RejectedRows = im.Accepted, im.Warnings, im.RejectedCount, im.Rejected
	cfg := a.dir.Config
	communes := make([]string, 0, len(im.Rows))
	for c := range im.Rows {
		if !roster.InScope([]string{cfg.Unit}, c, unitParent) {
			return res, nil, fmt.Errorf("%w: commune %s is outside this hub's unit %s; import it at its district or the province", ErrBadResidents, c, cfg.Unit)
		}
		communes = append(communes, c)
	}
	slices.Sort(communes)
	var written []replication.Entry
	res.ChannelOrigin = map[string]string{}
	for _, c := range communes {
		head := im.Head[c]
		changed, removed, err := a.residentChanges(v, head, im.Rows[c], !opts.Partial)
		if err != nil {
			return res, written, err
		}
		payloads, err := residents.EncodeLists(head, changed, removed)
		if err != nil {
			return res, written, err
		}
		drafts := make([]replication.Draft, len(payloads))
		for i := range drafts {
			drafts[i] = replication.Draft{Kind: replication.KindResidents, Schema: residents.Schema, Payload: payloads[i]}
		}
		es, err := a.WriteChannel(nil, c, drafts, now)
		written = append(written, es...)
		if err != nil {
			return res, written, fmt.Errorf("hub: write the resident list of %s: %w", c, err)
		}
		v.Wake()
		name := communeName(c)
		if u, ok := enrollment.UnitByCode(head.CodeList, c); ok {
			name = u.Name
		}
		res.Communes = append(res.Communes, ImportedCommune{Commune: c, Name: name, Rows: len(im.Rows[c]), Changed: len(changed), Removed: len(removed), Entries: len(payloads)})
		res.Entries += len(payloads)
		res.ChannelOrigin[c] = channel.Origin(a.dir.Signer, c).String()
	}
	if len(written) > 0 { // the view shows the lists before this returns
		ctx, cancel := context.WithTimeout(context.Background(), showTimeout)
		defer cancel()
		if err := v.Show(ctx, written[len(written)-1].ID()); err != nil {
			return res, written, err
		}
	}
	res.CensusDigest, err = v.Reconciler().CensusDigest()
	return res, written, err
}

// unitParent is a unit's parent in either code list ("" at the top).
func unitParent(code string) string {
	for _, l := range enrollment.CodeLists() {
		if u, ok := enrollment.UnitByCode(l, code); ok {
			return u.Parent
		}
	}
	return ""
}

// WriteChannel appends drafts to the hub's downward channel for scope
// (package replication/channel), stamped with the hub's clock: what goes
// to that unit's laptops and no other's (resident lists, receipts). signer
// is the key whose channel it is: the hub's device key (nil), or the
// roster key for what only the anchor may write (receipts).
func (a *Author) WriteChannel(signer *replication.KeySigner, scope string, drafts []replication.Draft, now time.Time) ([]replication.Entry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range drafts {
		drafts[i].HLC = a.hlc.Next(now)
	}
	if signer == nil {
		signer = a.dir.Signer
	}
	cfg := a.dir.Config
	return channel.Write(a.dir.Log, signer, cfg.Tier, cfg.Unit, scope, drafts...)
}

// residentChanges returns the rows of a commune's import that are new or
// differ from the row that stands (Rule R1; a different register date or
// age of eligibility counts as a difference: ages move), and, when the
// import is the commune's whole list, the people whose row stands in this
// commune but who are not on it.
func (a *Author) residentChanges(v *View, head residents.List, rows []residents.Resident, whole bool) ([]residents.Resident, []string, error) {
	standing := make([]*residents.RowRef, len(rows))
	inImport := make(map[string]bool, len(rows))
	var gone []string
	err := v.Reconciler().ReadComponent(reconcile.CensusName, func(s kv.Reader) error {
		for i := range rows {
			inImport[rows[i].PersonalID] = true
			p, ok, err := residents.StoredPerson(s, rows[i].PersonalID)
			if err != nil {
				return err
			}
			if ok && p.Row != nil && !p.Removed {
				standing[i] = p.Row
			}
		}
		if whole {
			people, _, err := residents.StoredPeople(s, head.Commune, 0)
			if err != nil {
				return err
			}
			for _, p := range people {
				if !inImport[p.PersonalID] {
					gone = append(gone, p.PersonalID)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("hub: read the census: %w", err)
	}
	var changed []residents.Resident
	cache := listCache{log: a.dir.Log}
	for i := range rows {
		if standing[i] != nil {
			l, err := cache.get(standing[i].Entry)
			if err != nil {
				return nil, nil, err
			}
			if l != nil && standing[i].Index < len(l.Residents) && l.Commune == head.Commune && l.AsOf == head.AsOf &&
				l.MinAge == head.MinAge && l.Residents[standing[i].Index] == rows[i] {
				continue
			}
		}
		changed = append(changed, rows[i])
	}
	return changed, gone, nil
}

// listCache reads resident-list entries from the log, keeping the last
// one decoded (rows of one entry are read one after the other).
type listCache struct {
	log  oplog.Log
	ref  residents.Ref
	list *residents.List
}

func (c *listCache) get(ref residents.Ref) (*residents.List, error) {
	if c.list != nil && c.ref == ref {
		return c.list, nil
	}
	o, err := replication.ParseOriginID(ref.Origin)
	if err != nil {
		return nil, err
	}
	e, err := c.log.Get(replication.EntryID{Origin: o, Seq: ref.Seq})
	if err != nil {
		return nil, fmt.Errorf("hub: read resident list %s: %w", ref, err)
	}
	l, err := residents.DecodeList(e.Payload)
	if err != nil {
		return nil, nil // counts for nothing: treated as absent
	}
	c.ref, c.list = ref, &l
	return c.list, nil
}

// ResidentRow is a person of a commune's list with their row and status.
type ResidentRow struct {
	residents.Person
	Resident *residents.Resident `json:"resident,omitempty"`
}

// CensusCommune is one commune's completeness, named, with its district.
type CensusCommune struct {
	residents.CommuneCounts
	Name     string `json:"name"`
	District string `json:"district"`
}

// CensusDistrict sums a district's communes.
type CensusDistrict struct {
	District string `json:"district"`
	Name     string `json:"name"`
	residents.Counts
	Communes         int `json:"communes"`
	CompleteCommunes int `json:"complete_communes"`
}

// CensusReport is the hub's completeness: per commune, per district, in
// all, and the census digest (equal on every hub with the same entries).
type CensusReport struct {
	Communes  []CensusCommune  `json:"communes"`
	Districts []CensusDistrict `json:"districts"`
	Total     residents.Counts `json:"total"`
	Complete  int              `json:"complete_communes"`
	Digest    string           `json:"digest"`
}

// Census returns the view's completeness per commune and district (a
// read of one counter per commune).
func (v *View) Census() (CensusReport, error) {
	var rep CensusReport
	r := v.Reconciler()
	communes, err := r.CensusCommunes()
	if err != nil {
		return rep, fmt.Errorf("hub: read the census: %w", err)
	}
	for _, cc := range communes {
		rep.Communes = append(rep.Communes, CensusCommune{CommuneCounts: cc, Name: communeName(cc.Commune), District: enrollment.DistrictOf(enrollment.CodeList2023, cc.Commune)})
		rep.Total.Add(cc.Counts)
	}
	if rep.Digest, err = r.CensusDigest(); err != nil {
		return rep, fmt.Errorf("hub: read the census: %w", err)
	}
	byDistrict := map[string]*CensusDistrict{}
	for _, cc := range rep.Communes {
		d := byDistrict[cc.District]
		if d == nil {
			d = &CensusDistrict{District: cc.District, Name: communeName(cc.District)}
			byDistrict[cc.District] = d
		}
		d.Counts.Add(cc.Counts)
		d.Communes++
		if cc.Complete {
			d.CompleteCommunes++
			rep.Complete++
		}
	}
	for _, d := range byDistrict {
		rep.Districts = append(rep.Districts, *d)
	}
	slices.SortFunc(rep.Districts, func(a, b CensusDistrict) int { return cmpString(a.District, b.District) })
	return rep, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// showTimeout bounds how long an import waits for the view to show it.
const showTimeout = 5 * time.Minute

// MaxResidentRows bounds the people one answer lists.
const MaxResidentRows = 5000

// ResidentsOf lists a commune's people in the given categories (all when
// none), with their rows read from the log: the list of missing people a
// commune team visits. It returns at most limit rows (MaxResidentRows when
// 0 or above) and how many there are.
func (v *View) ResidentsOf(l oplog.Log, commune string, limit int, cats ...residents.Category) ([]ResidentRow, int, error) {
	if limit <= 0 || limit > MaxResidentRows {
		limit = MaxResidentRows
	}
	people, total, err := v.Reconciler().CensusPeople(commune, limit, cats...)
	if err != nil {
		return nil, 0, fmt.Errorf("hub: read the census: %w", err)
	}
	out := make([]ResidentRow, len(people))
	cache := listCache{log: l}
	for i, p := range people {
		out[i].Person = p
		if p.Row == nil || p.Removed {
			continue
		}
		lst, err := cache.get(p.Row.Entry)
		if err != nil {
			return nil, 0, err
		}
		if lst != nil && p.Row.Index < len(lst.Residents) {
			row := lst.Residents[p.Row.Index]
			out[i].Resident = &row
		}
	}
	// House by house: by address, household, then ID number.
	slices.SortStableFunc(out, func(a, b ResidentRow) int {
		ka, kb := rowKey(a), rowKey(b)
		for i := range ka {
			if c := cmpString(ka[i], kb[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out, total, nil
}

func rowKey(r ResidentRow) [3]string {
	if r.Resident == nil {
		return [3]string{"\uffff", "", r.PersonalID}
	}
	return [3]string{enrollment.NameKey(r.Resident.Address), r.Resident.Household, r.PersonalID}
}

// censusCollector exposes the resident lists' completeness in /metrics,
// with the figures of status: per commune, district and in all.
type censusCollector struct{ d *Daemon }

var descResidents = prometheus.NewDesc("fieldsync_residents_by_unit",
	"People on the resident lists by category (residents, not_eligible, eligible, enrolled, accounted, missing) and whether the unit is complete (complete: 1 or 0), per unit (all, district, commune).",
	[]string{"level", "unit", "category"}, nil)

func (c censusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descResidents }

func (c censusCollector) Collect(ch chan<- prometheus.Metric) {
	rep, err := c.d.view.Census()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descResidents, err)
		return
	}
	emit := func(level, unit string, n residents.Counts, complete bool) {
		for _, kv := range []struct {
			cat string
			v   int
		}{{"residents", n.Residents}, {"not_eligible", n.NotEligible}, {"eligible", n.Eligible}, {"enrolled", n.Enrolled}, {"accounted", n.Accounted}, {"missing", n.Missing}} {
			ch <- prometheus.MustNewConstMetric(descResidents, prometheus.GaugeValue, float64(kv.v), level, unit, kv.cat)
		}
		done := 0.0
		if complete {
			done = 1
		}
		ch <- prometheus.MustNewConstMetric(descResidents, prometheus.GaugeValue, done, level, unit, "complete")
	}
	if len(rep.Communes) == 0 {
		return
	}
	emit("all", "", rep.Total, rep.Complete == len(rep.Communes))
	for _, d := range rep.Districts {
		emit("district", d.District, d.Counts, d.CompleteCommunes == d.Communes)
	}
	for _, cc := range rep.Communes {
		emit("commune", cc.Commune, cc.Counts, cc.Complete)
	}
}
