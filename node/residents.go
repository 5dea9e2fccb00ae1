package node

import (
	"encoding/json"
	"fmt"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/replication"
	"fieldsync/replication/epoch"
)

// SetStatus saves an officer's status of a person on the commune's
// resident list (package enrollment/residents) as a KindStatus entry in
// this laptop's log, synced before it returns; it goes up to the hubs
// like a capture. The commune defaults to the laptop's; the capture
// named by an Enrolled status must be held. A status that fails the rules
// returns *RejectedError and writes nothing.
func (n *Node) SetStatus(s residents.Status) (Receipt, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.clock.Now()
	if s.Commune == "" && n.dir.Config.Role == replication.RoleNode {
		s.Commune = n.dir.Config.Unit
	}
	if s.SetAt.IsZero() {
		s.SetAt = now.UTC()
	}
	if pid, fs := enrollment.NormalizePersonalID(s.PersonalID); !fs.Rejected() {
		s.PersonalID = pid
	}
	if fs := residents.CheckStatus(s); fs.Rejected() {
		return Receipt{Findings: fs}, &RejectedError{Findings: fs}
	}
	if s.Capture != "" {
		id, err := replication.ParseEntryID(s.Capture)
		if err != nil {
			return Receipt{}, fmt.Errorf("node: status: capture %q: %w", s.Capture, err)
		}
		if _, err := n.dir.Log.Get(id); err != nil {
			return Receipt{}, fmt.Errorf("node: status: capture %s: %w", id, err)
		}
	}
	payload, err := json.Marshal(s)
	if err != nil {
		return Receipt{}, err
	}
	if _, err := residents.DecodeStatus(payload); err != nil {
		return Receipt{}, fmt.Errorf("node: status: %w", err)
	}
	if len(payload) > epoch.MaxReissuable {
		return Receipt{}, fmt.Errorf("%w: status of %d bytes, limit %d", replication.ErrTooLarge, len(payload), epoch.MaxReissuable)
	}
	return n.appendOne(replication.Draft{Kind: replication.KindStatus, Schema: residents.Schema, Payload: payload, HLC: n.hlc.Next(now)}, nil)
}
