package reconcile

import (
	"bytes"
	"slices"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/roster"
	"fieldsync/storage/kv"
)

// Rule 0 — authorization (package roster). With Config.Anchor set, the
// view takes an entry only if the province's roster allows it:
//
//   - roster and revoke entries of an origin whose genesis names the anchor
//     key make the roster; from anyone else they are quarantined;
//   - a genesis is identity, never quarantined;
//   - every other entry needs its origin's key on the roster with the role
//     (and a hub's tier) its genesis declares, a seq the key's revocation
//     keeps, a hub's key for a decision, and for a capture a commune inside
//     the key's scope (the commune itself, or a district or province that
//     holds it in the capture's code list).
//
// A quarantined entry stays in the log, is listed with its reason
// (Quarantine, Stats.Quarantined, the digest) and changes nothing else:
// no citizen, conflict, pair or decision. The verdict is a function of the
// entry set, so every hub quarantines the same entries. An entry is judged
// when it arrives; when the roster or a genesis that arrives later would
// change the verdict of an entry already judged, the origins concerned are
// judged again (judge.go) — their entries taken out and applied anew —
// and nothing else is recomputed.

// Quarantined is an entry held out of the view by Rule 0 or 8.
type Quarantined struct {
	Entry  replication.EntryID  `json:"entry"`
	Kind   replication.Kind     `json:"kind"`
	Reason roster.Reason        `json:"reason"`
	Device replication.DeviceID `json:"device,omitempty"`
}

// ReasonForked quarantines the entries of a forked origin (Rule 8).
const ReasonForked roster.Reason = "forked"

// gate applies Rule 0 to an entry (not a genesis); it reports whether the
// entry is kept out of the citizen view (quarantined, or a roster entry,
// which is the roster's and nobody's citizen).
func (r *Reconciler) gate(e *entryRec, o *originInfo) bool {
	switch e.Kind {
	case replication.KindRoster, replication.KindRevoke:
		switch {
		case o.Genesis == nil:
			r.quarantine(e, o, roster.ReasonNoGenesis, "")
		case !bytes.Equal(o.Genesis.PublicKey, r.cfg.Anchor):
			r.quarantine(e, o, roster.ReasonNotAnchor, o.Device)
		default:
			e.State = stateRoster
			if entry, err := replication.DecodeEntry(e.Payload); err == nil {
				if ch, err := r.roster.Apply(entry); err == nil {
					r.changed(ch)
				}
			}
		}
		return true
	}
	if reason, dev := r.verdict(e, o); reason != "" {
		r.quarantine(e, o, reason, dev)
		return true
	}
	o.Admitted++
	o.MaxAdmitted = max(o.MaxAdmitted, e.ID.Seq)
	return false
}

// verdict is Rule 0 for a data entry: "" admits it.
func (r *Reconciler) verdict(e *entryRec, o *originInfo) (roster.Reason, replication.DeviceID) {
	if o.Genesis == nil {
		return roster.ReasonNoGenesis, ""
	}
	dev, reason := r.roster.Admits(*o.Genesis, e.ID.Origin, e.ID.Seq, e.Kind)
	if reason != "" {
		return reason, o.Device
	}
	if v := e.Version; v != nil && !e.invalid() && !roster.InScope(dev.Units, v.Commune, parentIn(v.CodeList)) {
		return roster.ReasonOutOfScope, o.Device
	}
	if e.Unit != "" && !e.invalid() {
		// A resident list comes from a hub's channel for its commune; a
		// status from a device serving its commune (census.go).
		g := o.Genesis
		if e.MKind == replication.KindResidents && (g.Scope != e.Unit || g.Role != replication.RoleHub) || !roster.InScope(dev.Units, e.Unit, parentIn("")) {
			return roster.ReasonOutOfScope, o.Device
		}
	}
	return "", o.Device
}

// parentIn returns the parent of a unit in a code list (both lists when
// the capture names none).
func parentIn(list string) func(string) string {
	lists := []string{list}
	if list == "" {
		lists = []string{enrollment.CodeList2023, enrollment.CodeList2025}
	}
	return func(code string) string {
		for _, l := range lists {
			if u, ok := enrollment.UnitByCode(l, code); ok {
				return u.Parent
			}
		}
		return ""
	}
}

func (r *Reconciler) quarantine(e *entryRec, o *originInfo, reason roster.Reason, dev replication.DeviceID) {
	e.State = stateQuarantined
	o.Quarantined++
	r.listHeld(e, reason, dev, true)
}

// listHeld lists an entry held out of the view (q/), counted by reason;
// Rule 0's are in the digest (every hub holds the same), Rule 8's are not
// (hubs may hold different entries past a fork: the fork line says it).
func (r *Reconciler) listHeld(e *entryRec, reason roster.Reason, dev replication.DeviceID, inDigest bool) {
	q := &quarantineRow{Kind: e.Kind, Reason: reason, Device: dev}
	r.set(idKey(tQuarantine, e.ID), q.encode())
	r.counts.quarantined(reason, 1)
	if inDigest {
		r.digest.item(e.ID.String(), quarantineLine(e.ID, string(reason)), 1)
	}
}

// unlistHeld is listHeld's inverse.
func (r *Reconciler) unlistHeld(e *entryRec) {
	v, ok := r.get(idKey(tQuarantine, e.ID))
	if !ok {
		return
	}
	q, err := decodeQuarantineRow(v)
	if err != nil {
		r.fail(err)
		return
	}
	r.del(idKey(tQuarantine, e.ID))
	r.counts.quarantined(q.Reason, -1)
	if q.Reason != ReasonForked {
		r.digest.item(e.ID.String(), quarantineLine(e.ID, string(q.Reason)), -1)
	}
}

// changed judges again the origins of a device whose roster record
// changed, when a verdict already given could change: a revocation below
// an admitted seq; any other change of a device with entries judged (a
// first add admits what was held, a new scope or role may admit or hold
// anything).
func (r *Reconciler) changed(ch roster.Change) {
	for _, id := range r.devOrigins[ch.Device] {
		o := r.origins[id]
		switch {
		case o == nil:
		case ch.Revocation:
			if o.Admitted > 0 && o.MaxAdmitted > ch.After.Limit(id) {
				r.rejudge[id] = true
			}
		case o.Quarantined > 0:
			r.rejudge[id] = true
		case o.Admitted > 0 && !sameRecord(ch.Before, ch.After):
			r.rejudge[id] = true
		}
	}
}

func sameRecord(a, b roster.Device) bool {
	return a.Role == b.Role && a.Tier == b.Tier && slices.Equal(a.Units, b.Units)
}

// Quarantine returns the entries Rules 0 and 8 hold out of the view,
// sorted by entry.
func (r *Reconciler) Quarantine() []Quarantined {
	var out []Quarantined
	r.db.View(func(s kv.Reader) error {
		return s.Scan([]byte{tQuarantine, '/'}, nil, func(k, v []byte) bool {
			if q, err := decodeQuarantineRow(v); err == nil && len(k) == 2+idSize {
				out = append(out, Quarantined{Entry: readID(k[2:]), Kind: q.Kind, Reason: q.Reason, Device: q.Device})
			}
			return true
		})
	})
	return out
}

// Roster returns the roster the view's Rule 0 applies (nil when open).
func (r *Reconciler) Roster() []roster.Device { return r.pub.Load().roster }
