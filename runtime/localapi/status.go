package localapi

import (
	"encoding/hex"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/bundle"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
)

// Status is what `fieldsync status` shows, from the daemon's API or, when
// no daemon runs, read from the data directory.
type Status struct {
	Name    string               `json:"name"`
	Role    replication.Role     `json:"role"`
	Tier    string               `json:"tier,omitempty"`
	Unit    string               `json:"unit"`
	Device  replication.DeviceID `json:"device"`
	Origin  replication.OriginID `json:"origin"`
	Running bool                 `json:"running"`
	// SyncAddr is where the daemon accepts sync sessions ("" if it only dials).
	SyncAddr string                   `json:"sync_addr,omitempty"`
	Entries  uint64                   `json:"entries"`
	Vector   []replication.OriginHead `json:"vector"`
	Peers    []replicator.PeerStatus  `json:"peers"`
	Alarms   []Alarm                  `json:"alarms,omitempty"`
	// Key is the device's public key (hex): what the province puts on the
	// roster (fieldsync roster add --device KEY).
	Key string `json:"key"`
	// Trust is the replica's roster: its anchor, devices, revocations.
	Trust Trust `json:"trust"`
	// Refused counts what this replica refused or set aside, by reason:
	// ranges at ingest (not-authorized, bad-signature, broken-chain, …),
	// forks, and peers refused at the TLS handshake ("handshake").
	Refused map[string]int `json:"refused,omitempty"`
	// Duplicates counts entries received again and ignored (a replay, or
	// the same entries by a second path: idempotent ingest).
	Duplicates int `json:"duplicates_ignored,omitempty"`
	// Blobs is what the replica's blob store holds (biometric files,
	// sealed): committed blobs and bytes, partial writes of blobs arriving.
	Blobs *blob.Usage `json:"blobs,omitempty"`
	// Bundles are the bundles this replica wrote or took lately, newest
	// first: exported, imported, answered, acknowledged.
	Bundles []bundle.Record `json:"bundles,omitempty"`
	// BlobStore is a hub's object store, when it keeps its blobs in one.
	BlobStore *BlobStore     `json:"blob_store,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"` // role-specific sections
}

// BlobStore is the state of a hub's object store (package blob/s3).
type BlobStore struct {
	// Location is the store, bucket and prefix (no credentials).
	Location  string    `json:"location"`
	Up        bool      `json:"up"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
	// Waiting blobs are whole on local disk, not yet in the object store
	// (not acknowledged to their senders).
	Waiting      int   `json:"waiting"`
	WaitingBytes int64 `json:"waiting_bytes"`
}

// Alarm is something an operator must look at: a fork, refused entries.
type Alarm struct {
	Kind   string `json:"kind"`
	Origin string `json:"origin,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Peer   string `json:"peer,omitempty"`
	Detail string `json:"detail"`
	Count  int    `json:"count"`
}

// Trust is the replica's roster as status shows it.
type Trust struct {
	// Open: no roster, unauthenticated sync streams (tests and labs only).
	Open bool `json:"open,omitempty"`
	// Anchor is the trust anchor's device ID (the provincial hub's key).
	Anchor   replication.DeviceID `json:"anchor,omitempty"`
	Devices  int                  `json:"devices"`
	Revoked  int                  `json:"revoked"`
	Evidence int                  `json:"evidence"` // refused ranges kept as evidence
}

// maxStatusBundles bounds the bundles status lists.
const maxStatusBundles = 10

// BaseStatus fills the parts every replica has.
func BaseStatus(d *datadir.Dir, peers []replicator.PeerStatus, running bool) (Status, error) {
	v, err := d.Log.Vector()
	if err != nil {
		return Status{}, err
	}
	var blobs *blob.Usage
	if d.Blobs != nil {
		// An object store that does not answer leaves the count out (its
		// alarm says why); status still shows the rest.
		if u, err := d.Blobs.Usage(); err == nil {
			blobs = &u
		}
	}
	recs, err := bundle.Records(d.Log)
	if err != nil {
		return Status{}, err
	}
	if len(recs) > maxStatusBundles {
		recs = recs[:maxStatusBundles]
	}
	return Status{Blobs: blobs, Bundles: recs,
		Name: d.Config.Name, Role: d.Config.Role, Tier: d.Config.Tier, Unit: d.Config.Unit,
		Device: replication.DeviceIDOf(d.Signer.PublicKey()), Origin: d.Signer.Origin(), Key: hex.EncodeToString(d.Signer.PublicKey()),
		Running: running, Entries: v.Total(), Vector: v.Heads(), Peers: peers,
	}, nil
}
