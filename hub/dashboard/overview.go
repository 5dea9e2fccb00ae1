package dashboard

import (
	"sort"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/replication"
)

// MaxChartPoints bounds each backlog chart the overview sends (the hub
// keeps more samples; the chart is a hundred pixels wide).
const MaxChartPoints = 60

// DefaultBytesPerEntry estimates the wire bytes of an entry before a link
// has moved any (the replicator uses the same figure).
const DefaultBytesPerEntry = 160

// overview is what /dash/snapshot answers: the Snapshot, with what is
// behind worked out per peer, device, commune and district, and the bulky
// vectors left out.
type overview struct {
	Time      time.Time     `json:"time"`
	Hub       HubInfo       `json:"hub"`
	Peers     []peerView    `json:"peers"`
	Communes  []communeView `json:"communes"`
	Districts []district    `json:"districts"`
	Totals    totals        `json:"totals"`
	Alarms    []alarmView   `json:"alarms"`
}

// peerView is a direct peer with both directions of its backlog.
type peerView struct {
	PeerRow
	// IncomingBytes and IncomingSeconds estimate the size and drain time
	// of what the peer still has to send this hub (PeerRow.Incoming).
	IncomingBytes   int64   `json:"incoming_bytes"`
	IncomingSeconds float64 `json:"incoming_seconds"` // 0: unknown rate
}

// deviceView is one laptop and how far behind this hub is on its entries.
type deviceView struct {
	DeviceRow
	// LastContact is the latest of a session with it and an arrival of
	// its entries (through any peer).
	LastContact time.Time `json:"last_contact"`
	// Link is its own link state when it syncs with this hub directly;
	// otherwise Via names the peer it comes through.
	Link string `json:"link,omitempty"`
	Via  string `json:"via,omitempty"`
	// Pending is how many of its entries a peer holds (the laptop itself,
	// or the lower hub) that this hub does not yet; PendingBytes their
	// estimated size and DrainSeconds the time at the carrying link's
	// observed rate (0: unknown).
	Pending      uint64  `json:"pending"`
	PendingBytes int64   `json:"pending_bytes"`
	DrainSeconds float64 `json:"drain_seconds"`
	RateBytes    float64 `json:"rate_bytes_per_sec"`
	// History is the backlog chart of its direct link (nil if indirect).
	History []BacklogSample `json:"history"`
}

// communeView is a commune with what is behind summed over its devices.
type communeView struct {
	CommuneRow
	Devices      []deviceView `json:"devices"`
	DistrictName string       `json:"district_name"`
	Pending      uint64       `json:"pending"`
	PendingBytes int64        `json:"pending_bytes"`
	DrainSeconds float64      `json:"drain_seconds"` // the slowest device's
	// Dossiers sums its devices' dossiers.
	Dossiers DossierCounts `json:"dossiers"`
	// LastContact is the most recent contact with any of its devices;
	// Oldest the least recent (zero when a device was never heard of).
	LastContact time.Time `json:"last_contact"`
	Oldest      time.Time `json:"oldest_contact"`
}

// district sums the communes of one (pre-2025) district.
type district struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Communes int    `json:"communes"`
	Devices  int    `json:"devices"`
	Enrolled int    `json:"enrolled"`
	Expected int    `json:"expected"`
	Pending  uint64 `json:"pending"`
	// Dossiers sums its communes' dossiers.
	Dossiers DossierCounts `json:"dossiers"`
	// Census sums the communes' resident lists (nil: none held);
	// Complete counts the communes with everyone accounted for.
	Census   *residents.Counts `json:"census,omitempty"`
	Complete int               `json:"complete"`
}

type totals struct {
	Totals
	Pending      uint64        `json:"pending"`
	PendingBytes int64         `json:"pending_bytes"`
	Dossiers     DossierCounts `json:"dossiers"`
	// ExpectedKnown counts the communes whose population is known, and
	// EnrolledKnown the citizens enrolled in them: completeness is
	// EnrolledKnown/Expected, never diluted by communes of unknown size.
	ExpectedKnown int `json:"expected_known"`
	EnrolledKnown int `json:"enrolled_known"`
	// Census sums every commune's resident list (nil: none held), with
	// the communes that have one and those complete.
	Census           *residents.Counts `json:"census,omitempty"`
	CensusCommunes   int               `json:"census_communes"`
	CompleteCommunes int               `json:"complete_communes"`
}

// alarmView is an alarm with the origin's commune and device, when known.
type alarmView struct {
	Kind    string `json:"kind"`
	Origin  string `json:"origin,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	Peer    string `json:"peer,omitempty"`
	Detail  string `json:"detail"`
	Count   int    `json:"count"`
	Commune string `json:"commune,omitempty"`
	Device  string `json:"device,omitempty"`
}

// perEntry is a link's observed wire bytes per entry received.
func perEntry(p PeerRow) float64 {
	switch {
	case p.EntriesIn > 0 && p.BytesIn > 0:
		return float64(p.BytesIn) / float64(p.EntriesIn)
	case p.BytesPerEntry > 0:
		return p.BytesPerEntry
	}
	return DefaultBytesPerEntry
}

func drain(bytes int64, rate float64) float64 {
	if rate <= 0 || bytes <= 0 {
		return 0
	}
	return float64(bytes) / rate
}

// newOverview works out the overview from a snapshot. It needs no vector
// of this hub's own: a device's Entries is what the hub holds of it.
func newOverview(s Snapshot) overview {
	ov := overview{Time: s.Time, Hub: s.Hub, Peers: make([]peerView, len(s.Peers)), Communes: make([]communeView, len(s.Communes))}
	for i, p := range s.Peers {
		pv := peerView{PeerRow: p}
		pv.History = thin(p.History, MaxChartPoints)
		pv.IncomingBytes = int64(float64(pv.Incoming) * perEntry(p))
		pv.IncomingSeconds = drain(pv.IncomingBytes, p.RateBytesPerSec)
		pv.TheirHeads = nil // bulky; the page does not need it
		ov.Peers[i] = pv
	}
	for i, c := range s.Communes {
		cv := communeView{CommuneRow: c, Devices: make([]deviceView, len(c.Devices)), DistrictName: unitName(c.District)}
		cv.CommuneRow.Devices = nil
		for j, d := range c.Devices {
			dv := device(d, s.Peers)
			dv.Dossiers = dossiersOf(d.Dossiers, dv.RateBytes)
			cv.Devices[j] = dv
			cv.Dossiers.add(dv.Dossiers)
			cv.Pending += dv.Pending
			cv.PendingBytes += dv.PendingBytes
			cv.DrainSeconds = max(cv.DrainSeconds, dv.DrainSeconds)
			if dv.LastContact.After(cv.LastContact) {
				cv.LastContact = dv.LastContact
			}
			if j == 0 || dv.LastContact.Before(cv.Oldest) {
				cv.Oldest = dv.LastContact
			}
		}
		ov.Communes[i] = cv
		ov.Totals.Pending += cv.Pending
		ov.Totals.PendingBytes += cv.PendingBytes
		ov.Totals.Dossiers.add(cv.Dossiers)
		if c.Expected > 0 {
			ov.Totals.ExpectedKnown++
			ov.Totals.EnrolledKnown += c.Enrolled
		}
		if c.Census != nil {
			ov.Totals.Census = addCounts(ov.Totals.Census, *c.Census)
			ov.Totals.CensusCommunes++
			if c.Complete {
				ov.Totals.CompleteCommunes++
			}
		}
	}
	ov.Totals.Totals = s.Totals
	ov.Districts = districts(ov.Communes)
	ov.Alarms = alarms(s)
	return ov
}

// device works out one laptop's row: its link if direct, and how many of
// its entries the best-informed peer holds beyond this hub.
func device(d DeviceRow, peers []PeerRow) deviceView {
	dv := deviceView{DeviceRow: d, LastContact: d.LastReceived}
	if d.Peer != nil {
		dv.Link, dv.History, dv.RateBytes = d.Peer.Link, thin(d.Peer.History, MaxChartPoints), d.Peer.RateBytesPerSec
		if d.Peer.LastContact.After(dv.LastContact) {
			dv.LastContact = d.Peer.LastContact
		}
	}
	dv.Peer = nil
	o, err := replication.ParseOriginID(d.Origin)
	if err != nil {
		return dv
	}
	var via *PeerRow
	for i := range peers {
		p := &peers[i]
		if seq := p.TheirHeads.Seq(o); seq > d.Entries && seq-d.Entries > dv.Pending {
			dv.Pending, via = seq-d.Entries, p
		}
	}
	if via == nil && d.Peer == nil {
		// Indirect and nothing pending: name the peer it comes through
		// (the one that holds as much of it as we do).
		for i := range peers {
			if peers[i].TheirHeads.Seq(o) >= d.Entries && d.Entries > 0 {
				dv.Via, dv.RateBytes = peers[i].Name, peers[i].RateBytesPerSec
				break
			}
		}
	}
	if via != nil {
		if d.Peer == nil || via.Name != d.Peer.Name {
			dv.Via = via.Name
		}
		dv.RateBytes = via.RateBytesPerSec
		dv.PendingBytes = int64(float64(dv.Pending) * perEntry(*via))
		dv.DrainSeconds = drain(dv.PendingBytes, via.RateBytesPerSec)
	}
	return dv
}

// districts sums the communes per district, in code order.
func districts(cs []communeView) []district {
	by := map[string]*district{}
	for _, c := range cs {
		d, ok := by[c.District]
		if !ok {
			d = &district{Code: c.District, Name: c.DistrictName}
			by[c.District] = d
		}
		d.Communes++
		d.Devices += len(c.Devices)
		d.Enrolled += c.Enrolled
		d.Expected += c.Expected
		d.Pending += c.Pending
		d.Dossiers.add(c.Dossiers)
		if c.Census != nil {
			d.Census = addCounts(d.Census, *c.Census)
			if c.Complete {
				d.Complete++
			}
		}
	}
	out := make([]district, 0, len(by))
	for _, d := range by {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

func addCounts(sum *residents.Counts, c residents.Counts) *residents.Counts {
	if sum == nil {
		sum = &residents.Counts{}
	}
	sum.Add(c)
	return sum
}

// alarms names the commune and device of each alarm's origin.
func alarms(s Snapshot) []alarmView {
	where := map[string][2]string{}
	for _, c := range s.Communes {
		for _, d := range c.Devices {
			where[d.Origin] = [2]string{c.Name, d.Device}
		}
	}
	out := make([]alarmView, len(s.Alarms))
	for i, a := range s.Alarms {
		w := where[a.Origin]
		out[i] = alarmView{Kind: a.Kind, Origin: a.Origin, Seq: a.Seq, Peer: a.Peer, Detail: a.Detail, Count: a.Count, Commune: w[0], Device: w[1]}
	}
	return out
}

// unitName is a (pre-2025) district's name, or its code when unknown.
func unitName(code string) string {
	if u, ok := enrollment.UnitByCode(enrollment.CodeList2023, code); ok {
		return u.Name
	}
	return code
}

// thin keeps at most n samples of h, evenly spread, the last one included.
func thin(h []BacklogSample, n int) []BacklogSample {
	if len(h) <= n {
		return h
	}
	out := make([]BacklogSample, n)
	for i := range out {
		out[i] = h[(len(h)-1)-(n-1-i)*(len(h)-1)/(n-1)]
	}
	return out
}
