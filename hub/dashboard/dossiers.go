package dashboard

import "sort"

// DossierCounts says how complete some laptops' dossiers are at this hub.
// A dossier is a record that references biometric blobs; it is complete
// here when the record and every blob it references are held, verified
// (a blob is verified against its reference before it is stored). Blob
// presence is this replica's own state: it is never part of the view or
// its digest.
type DossierCounts struct {
	Dossiers   uint64 `json:"dossiers"`
	Complete   uint64 `json:"complete"`
	Incomplete int    `json:"incomplete"` // records without all their blobs
	// PendingBytes are the blob bytes still to come, and DrainSeconds the
	// time to receive them at the observed rate of the link they come over
	// (the slowest device's for a group; 0 when unknown or none).
	PendingBytes int64   `json:"pending_bytes"`
	DrainSeconds float64 `json:"drain_seconds"`
}

func (c *DossierCounts) add(o DossierCounts) {
	c.Dossiers += o.Dossiers
	c.Complete += o.Complete
	c.Incomplete += o.Incomplete
	c.PendingBytes += o.PendingBytes
	c.DrainSeconds = max(c.DrainSeconds, o.DrainSeconds)
}

// DossierUnit is the completeness of one device, commune or district.
type DossierUnit struct {
	Code     string `json:"code"` // device ID, commune or district code
	Name     string `json:"name,omitempty"`
	Commune  string `json:"commune,omitempty"`  // a device's
	District string `json:"district,omitempty"` // a device's or commune's
	DossierCounts
}

// DossierSummary is the completeness of dossiers per device, commune and
// district, and in all: what `fieldsync status` and /metrics show.
type DossierSummary struct {
	Devices   []DossierUnit `json:"devices"`
	Communes  []DossierUnit `json:"communes"`
	Districts []DossierUnit `json:"districts"`
	Totals    DossierCounts `json:"totals"`
}

// SummarizeDossiers works the summary out of the communes' device rows
// and the direct peers: each device's drain time at the rate of the link
// its blobs come over, as the overview works it out.
func SummarizeDossiers(communes []CommuneRow, peers []PeerRow) DossierSummary {
	var s DossierSummary
	districts := map[string]*DossierUnit{}
	for _, c := range communes {
		cu := DossierUnit{Code: c.Code, Name: c.Name, District: c.District}
		for _, d := range c.Devices {
			dv := device(d, peers)
			counts := dossiersOf(d.Dossiers, dv.RateBytes)
			s.Devices = append(s.Devices, DossierUnit{Code: d.Device, Name: d.Name, Commune: c.Code, District: c.District, DossierCounts: counts})
			cu.add(counts)
		}
		s.Communes = append(s.Communes, cu)
		du, ok := districts[c.District]
		if !ok {
			du = &DossierUnit{Code: c.District, Name: unitName(c.District)}
			districts[c.District] = du
		}
		du.add(cu.DossierCounts)
		s.Totals.add(cu.DossierCounts)
	}
	for _, d := range districts {
		s.Districts = append(s.Districts, *d)
	}
	sort.Slice(s.Districts, func(i, j int) bool { return s.Districts[i].Code < s.Districts[j].Code })
	return s
}

// dossiersOf is a device's counts with its drain time at rate.
func dossiersOf(c DossierCounts, rate float64) DossierCounts {
	c.DrainSeconds = drain(c.PendingBytes, rate)
	return c
}
