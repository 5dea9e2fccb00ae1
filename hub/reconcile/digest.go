package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strings"

	"fieldsync/replication"
)

// Digest is a SHA-256 over a canonical rendering of the whole view: every
// citizen (key, current versions with their hashes, the version shown, the
// conflict and what settles it, links), every probable-duplicate pair
// (keys, score to 1e-6, reasons, what settles it), every entry Rule 0
// quarantines (with its reason), every forked origin and the seq Rule 8
// sets it aside from, and every decision held.
// Two hubs holding the same entries print the same digest, in any order of
// arrival; a digest that differs names a real difference.
func (r *Reconciler) Digest() string {
	h := sha256.New()
	for _, k := range r.Keys() {
		writeCitizen(h, r.citizens[k])
	}
	for _, p := range r.Pairs() {
		fmt.Fprintf(h, "pair %s %.6f %s %s\n", p.ID, p.Score, strings.Join(p.Reasons, ","), decisionRef(p.Resolved))
	}
	if r.gate != nil {
		for _, q := range r.gate.list() {
			fmt.Fprintf(h, "quarantine %s %s\n", q.Entry, q.Reason)
		}
	}
	for _, o := range sortedOrigins(r.epochs.forks) { // hubs may hold different entries past a fork
		fmt.Fprintf(h, "forked %s from %d\n", o, r.epochs.forks[o])
	}
	for _, subject := range sortedSubjects(r.decisions) {
		for _, d := range sortedDecisions(r.decisions[subject]) {
			fmt.Fprintf(h, "decision %s %s\n", subject, d.Entry)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sortedOrigins(m map[replication.OriginID]uint64) []replication.OriginID {
	out := make([]replication.OriginID, 0, len(m))
	for o := range m {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

func writeCitizen(h hash.Hash, c *Citizen) {
	fmt.Fprintf(h, "citizen %s shown %s region %s\n", c.Key, c.Shown, c.Region)
	for _, v := range c.Versions {
		fmt.Fprintf(h, " version %s %s\n", v.ID, v.Hash)
	}
	if c.Conflict != nil {
		fmt.Fprintf(h, " conflict %s %s %s\n", strings.Join(c.Conflict.Fields, ","), c.Conflict.Level, decisionRef(c.Conflict.Resolved))
	}
	if len(c.Linked) > 0 {
		fmt.Fprintf(h, " linked %s\n", strings.Join(c.Linked, ","))
	}
}

func decisionRef(d *Decision) string {
	if d == nil {
		return "open"
	}
	return "settled-by " + d.Entry.String()
}
