package dashboard

import (
	"errors"
	"time"

	"fieldsync/enrollment/residents"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/replication"
	"fieldsync/replication/bundle"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/localapi"
)

// ErrRejected is wrapped by Source.Resolve's error when the hub refuses the
// decision itself (no such item, a choice that does not fit its subject):
// the dashboard answers 400 and shows the message to the officer. Any other
// error is the hub's own failure (500).
var ErrRejected = errors.New("decision refused")

// Source is what the dashboard shows; package hub implements it over a
// running hub. Every method is safe for concurrent use and returns copies.
type Source interface {
	// Snapshot returns the overview: the hub, its peers, the communes
	// below it with their devices, completeness, alarms.
	Snapshot() (Snapshot, error)
	// Conflicts returns the conflict queue (this hub's, or every one).
	Conflicts(all bool) ([]*reconcile.Citizen, error)
	// Duplicates returns the probable-duplicate queue with both citizens.
	Duplicates(all bool) ([]review.PairItem, error)
	// Resolve records an officer's decision exactly as `fieldsync resolve`
	// does (a resolve entry in the hub's log) and returns its entry ID.
	Resolve(req review.Request) (string, error)
	// Changed receives (coalesced) whenever something shown may have
	// changed: the dashboard pushes an update to open pages.
	Changed() <-chan struct{}
	// Portrait returns the portrait a capture entry ("origin:seq")
	// references, read from the hub's blob store and verified, with its
	// format (enrollment.FormatJPEG or FormatJP2); ErrNoPortrait when the
	// entry has none or the hub does not hold it yet.
	Portrait(entry string) ([]byte, string, error)
	// Residents lists a commune's people on its resident list in a
	// category ("missing", "accounted", "enrolled", "not-eligible", or ""
	// for all), house by house, at most limit.
	Residents(commune, category string, limit int) (ResidentsPage, error)
}

// ResidentsPage is a commune's people of one category.
type ResidentsPage struct {
	Commune  string           `json:"commune"`
	Name     string           `json:"name"`
	Category string           `json:"category"`
	Counts   residents.Counts `json:"counts"`
	People   []ResidentRow    `json:"people"`
	Total    int              `json:"total"`
}

// ResidentRow is one person with their row of the list and status.
type ResidentRow struct {
	residents.Person
	Resident *residents.Resident `json:"resident,omitempty"`
}

// ErrNoPortrait is Portrait's answer for an entry without a portrait here.
var ErrNoPortrait = errors.New("no portrait held for this capture")

// Snapshot is the overview page's data.
type Snapshot struct {
	Time time.Time `json:"time"`
	Hub  HubInfo   `json:"hub"`
	// Peers are the replicas this hub syncs with directly (district hubs
	// for the province; laptops and the province for a district), with
	// link state and a backlog history.
	Peers []PeerRow `json:"peers"`
	// Communes are the communes below this hub, with their devices.
	Communes []CommuneRow     `json:"communes"`
	Totals   Totals           `json:"totals"`
	Alarms   []localapi.Alarm `json:"alarms"`
	// Bundles are the bundles by USB stick this hub took or answered
	// lately, newest first.
	Bundles []bundle.Record `json:"bundles,omitempty"`
}

// HubInfo describes the hub serving the page.
type HubInfo struct {
	Name    string          `json:"name"`
	Tier    string          `json:"tier"`
	Unit    string          `json:"unit"`
	Queue   string          `json:"queue"` // the review level this hub works on
	Entries uint64          `json:"entries"`
	Origins int             `json:"origins"`
	View    reconcile.Stats `json:"view"`
	Digest  string          `json:"digest"`
}

// PeerRow is one direct peer with its link.
type PeerRow struct {
	replicator.PeerStatus
	// Link is "connected", "idle" (last session ended cleanly), "failing"
	// (last contact attempt failed) or "never".
	Link string `json:"link"`
	// Incoming is what the peer holds and this hub does not, as of the
	// peer's last summary: Incoming(this hub's vector, TheirHeads).
	Incoming uint64 `json:"incoming"`
	// History is the backlog sampled over time, oldest first.
	History []BacklogSample `json:"history"`
}

// BacklogSample is one point of a backlog chart.
type BacklogSample struct {
	Time time.Time `json:"time"`
	// Entries and Bytes are what this hub would still send the peer.
	Entries uint64 `json:"entries"`
	Bytes   int64  `json:"bytes"`
	// Incoming is what the peer holds and this hub does not, as of the
	// peer's last summary (Incoming of its TheirHeads): for a laptop, its
	// unsent captures; for a lower hub, what it has not forwarded yet.
	Incoming uint64 `json:"incoming"`
}

// Incoming counts the entries theirs holds and ours does not: what a peer
// that last summarized itself as theirs still has to send this hub.
func Incoming(ours, theirs replication.Vector) uint64 {
	var n uint64
	for o, h := range theirs {
		if h.Seq > ours.Seq(o) {
			n += h.Seq - ours.Seq(o)
		}
	}
	return n
}

// CommuneRow is one commune: its devices and how complete it is.
type CommuneRow struct {
	Code     string      `json:"code"`
	Name     string      `json:"name"`
	District string      `json:"district"` // old district code
	Devices  []DeviceRow `json:"devices"`
	// Enrolled is the citizens captured in this commune in the view.
	Enrolled int `json:"enrolled"`
	// Expected is the eligible population, 0 when unknown.
	Expected int `json:"expected"`
	// Census is the completeness against the commune's resident list
	// (package enrollment/residents); nil when no list is held.
	Census *residents.Counts `json:"census,omitempty"`
	// Complete: every eligible person on the list is enrolled or
	// accounted for.
	Complete bool `json:"complete,omitempty"`
}

// DeviceRow is one field laptop (an origin) of a commune.
type DeviceRow struct {
	Origin string `json:"origin"` // origin ID, hex
	Device string `json:"device"` // device ID
	Name   string `json:"name"`   // member name when known (a direct peer)
	// Entries is how many of its entries this hub holds; LastReceived
	// when the last of them arrived here.
	Entries      uint64    `json:"entries"`
	LastReceived time.Time `json:"last_received"`
	// Peer is set when the device syncs with this hub directly.
	Peer *PeerRow `json:"peer,omitempty"`
	// Dossiers is how complete its dossiers are here (DrainSeconds is
	// worked out by the overview).
	Dossiers DossierCounts `json:"dossiers"`
}

// Totals sums the communes.
type Totals struct {
	Enrolled int `json:"enrolled"`
	Expected int `json:"expected"`
	Devices  int `json:"devices"`
	Communes int `json:"communes"`
}
