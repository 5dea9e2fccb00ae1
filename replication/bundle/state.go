package bundle

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// What a replica remembers of bundles, in its log's metadata (persisted
// with the log, shown by status and the dashboard):
//
//	bundle/log/ID          a bundle written or taken here: a Record
//	bundle/held/DEVICE     per origin, the seq through which that hub holds
//	                       every blob (from its answers): a laptop's next
//	                       bundle leaves those blobs out
const (
	metaLog  = "bundle/log/"
	metaHeld = "bundle/held/"
	// maxRecords bounds the records kept: the oldest go first.
	maxRecords = 200
)

// States of a bundle, in the order they come.
const (
	StateExported     = "exported"     // written here (a laptop's, or a hub's answer)
	StateImported     = "imported"     // taken here (at least one part)
	StateAnswered     = "answered"     // a hub wrote the answer to it
	StateAcknowledged = "acknowledged" // the writer took the hub's answer
)

// Record is one bundle as this replica knows it.
type Record struct {
	ID        ID        `json:"id"`
	Direction Direction `json:"direction"`
	// Peer is the other side: the hub a bundle is for, or its writer.
	Peer         string    `json:"peer"`
	State        string    `json:"state"`
	Parts        []uint32  `json:"parts,omitempty"`
	Entries      int       `json:"entries"`
	Blobs        int       `json:"blobs"`
	Bytes        int64     `json:"bytes"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	Answer       *ID       `json:"answer,omitempty"` // the return bundle answering it
	Incomplete   bool      `json:"incomplete,omitempty"`
	Note         string    `json:"note,omitempty"` // the last problem (a damaged part, refusals)
	MoreExpected bool      `json:"more_expected,omitempty"`
}

func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

func (id *ID) UnmarshalText(b []byte) error {
	if len(b) != 2*idLen {
		return fmt.Errorf("%w: bundle ID %q", replication.ErrMalformed, b)
	}
	_, err := hex.Decode(id[:], b)
	return err
}

func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "up":
		*d = Up
	case "return":
		*d = Return
	default:
		return fmt.Errorf("%w: bundle direction %q", replication.ErrMalformed, b)
	}
	return nil
}

// SaveRecord writes (or replaces) a record.
func SaveRecord(l oplog.Log, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := l.PutMeta(oplog.KV{Key: metaLog + r.ID.String(), Value: b}); err != nil {
		return err
	}
	recs, err := Records(l)
	if err != nil || len(recs) <= maxRecords {
		return err
	}
	for _, old := range recs[maxRecords:] {
		if err := l.PutMeta(oplog.KV{Key: metaLog + old.ID.String()}); err != nil {
			return err
		}
	}
	return nil
}

// LoadRecord returns the record of id, if there is one.
func LoadRecord(l oplog.Log, id ID) (Record, bool, error) {
	b, err := l.GetMeta(metaLog + id.String())
	if errors.Is(err, oplog.ErrNotFound) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, false, err
	}
	return r, true, nil
}

// Records returns the records, newest first.
func Records(l oplog.Log) ([]Record, error) {
	var out []Record
	err := l.ScanMeta(metaLog, func(_ string, v []byte) bool {
		var r Record
		if json.Unmarshal(v, &r) == nil {
			out = append(out, r)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	return out, err
}

// Held returns, per origin, the seq through which the hub of device holds
// every blob, as its answers said.
func Held(l oplog.Log, device []byte) (map[replication.OriginID]uint64, error) {
	out := map[replication.OriginID]uint64{}
	b, err := l.GetMeta(metaHeld + hex.EncodeToString(device))
	if errors.Is(err, oplog.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	var m map[string]uint64
	if err := json.Unmarshal(b, &m); err != nil {
		return out, err
	}
	for k, v := range m {
		o, err := replication.ParseOriginID(k)
		if err == nil {
			out[o] = v
		}
	}
	return out, nil
}

// NoteHeld raises what the hub of device is known to hold blobs through.
func NoteHeld(l oplog.Log, device []byte, through map[replication.OriginID]uint64) error {
	cur, err := Held(l, device)
	if err != nil {
		return err
	}
	m := map[string]uint64{}
	for o, s := range cur {
		m[o.String()] = s
	}
	for o, s := range through {
		if s > cur[o] {
			m[o.String()] = s
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return l.PutMeta(oplog.KV{Key: metaHeld + hex.EncodeToString(device), Value: b})
}
