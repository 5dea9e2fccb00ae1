package reconcile

import (
	"encoding/json"
	"slices"
	"sort"

	"fieldsync/replication"
)

// derive recomputes every citizen the round touched from its current
// versions (Rule 7: derived, never patched in arrival order), then the
// pairs the matcher changed or whose decisions did.
func (r *Reconciler) derive() {
	for len(r.dirty) > 0 && r.err == nil {
		keys := sortedStrings(r.dirty)
		clear(r.dirty)
		for _, k := range keys {
			r.deriveCitizen(k)
		}
	}
	r.derivePairs()
	for k, c := range r.rows {
		if c == nil {
			continue
		}
		if len(c.Members) == 0 {
			r.del(strKey(tCitizen, k))
		} else {
			r.set(strKey(tCitizen, k), c.encode())
		}
	}
}

// deriveCitizen recomputes one citizen: its conflict (Rule 3), the version
// shown (Rule 4), its links (Rule 6), and what the counters, the queues,
// the digest, the commune counts and the matcher hold of it.
func (r *Reconciler) deriveCitizen(key string) {
	c := r.row(key, false)
	if c == nil {
		return
	}
	before := *c
	had := !before.Line.IsZero()
	if had {
		r.untally(key, &before)
	}
	if len(c.Members) == 0 {
		if had && r.cfg.Matcher != nil {
			r.cfg.Matcher.Delete(key)
			r.del(strKey(tProfile, key))
		}
		r.citizenChanged(key, &before, nil)
		if !had {
			delete(r.rows, key)
		}
		return
	}
	vs := make([]*entryRec, 0, len(c.Members))
	for _, id := range c.Members {
		if e := r.rec(id); e != nil && e.Version != nil {
			vs = append(vs, e)
		}
	}
	if len(vs) == 0 {
		return
	}
	if len(vs) > 1 { // compared with each other: their details are needed, now and at every derive
		for _, v := range vs {
			r.detail(v, true)
		}
	}
	var resolved *Decision
	c.Conflict, resolved = r.conflictOf(key, vs)
	shown := r.shown(vs, resolved)
	c.Shown, c.Region = shown.ID, shown.Version.Region
	c.Commune, c.CodeList = shown.Version.Commune, shown.Version.CodeList
	c.Linked = r.linked(key)
	c.Line = replication.Hash(sha(citizenLine(key, c, vs, resolved)))
	r.tally(key, c)
	if r.cfg.Matcher != nil && (c.Put != shown.ID || before.Region != c.Region || !had) {
		r.detail(shown, false)
		r.cfg.Matcher.Put(key, shown.Version.Profile, c.Region)
		r.set(strKey(tProfile, key), encodeProfiled(Profiled{Profile: shown.Version.Profile, Region: c.Region}))
		c.Put = shown.ID
		if had && before.Region != c.Region {
			r.pairsOf(key, func(id string) { r.dirtyPairs[id] = true }) // their level may move
		}
	}
	r.citizenChanged(key, &before, c)
}

// tally adds a derived citizen to the counters, queues, digest and
// commune counts; untally takes it out as it was.
func (r *Reconciler) tally(key string, c *citizenRow) {
	r.counts.Citizens++
	r.digest.addHash(key, c.Line, 1)
	r.enrolled(c.Commune, c.CodeList, 1)
	if c.Conflict != nil {
		r.counts.Conflicts++
		open := c.Conflict.Resolved == nil
		if open {
			r.counts.OpenConflicts++
		}
		r.set(queueKey('c', c.Conflict.Level, key), queueValue(open))
	}
}

func (r *Reconciler) untally(key string, c *citizenRow) {
	r.counts.Citizens--
	r.digest.addHash(key, c.Line, -1)
	r.enrolled(c.Commune, c.CodeList, -1)
	if c.Conflict != nil {
		r.counts.Conflicts--
		open := c.Conflict.Resolved == nil
		if open {
			r.counts.OpenConflicts--
		}
		r.del(queueKey('c', c.Conflict.Level, key))
	}
}

// queueKey is an item in a review queue: conflicts (c) or pairs (p), by
// level; its value says whether it is open.
func queueKey(kind byte, level string, id string) []byte {
	return strKey(tQueue, string(kind)+"/"+level, id)
}

func queueValue(open bool) []byte {
	if open {
		return []byte{1}
	}
	return []byte{0}
}

// conflictOf is Rule 3: versions that disagree on an identity field (name,
// date of birth, sex, birth-registration place, parents) form a conflict.
// Identity fields compare by their normalized keys, so the same name in
// NFD, in capitals or with the other tone placement is no disagreement.
func (r *Reconciler) conflictOf(key string, vs []*entryRec) (*conflictRow, *Decision) {
	fields := map[string]bool{}
	for i := 1; i < len(vs); i++ {
		for _, f := range identityDiff(vs[0].Version, vs[i].Version) {
			fields[f] = true
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	c := &conflictRow{Fields: sortedStrings(fields)}
	regions := make([]string, len(vs))
	for i := range vs {
		regions[i] = vs[i].Version.Region
	}
	c.Level = level(regions...)
	d := r.best(r.decisions(ConflictID(key)), func(d *Decision) bool { return decides(d, vs) })
	if d != nil {
		c.Resolved = &d.Entry
	}
	return c, d
}

// identityDiff lists the identity fields on which a and b disagree.
func identityDiff(a, b *versionData) []string {
	var out []string
	if a.Name != b.Name {
		out = append(out, "full_name")
	}
	if a.DateOfBirth != b.DateOfBirth {
		out = append(out, "date_of_birth")
	}
	if a.Sex != b.Sex {
		out = append(out, "sex")
	}
	if a.BirthPlace != b.BirthPlace {
		out = append(out, "birth_registration")
	}
	if a.Father != b.Father {
		out = append(out, "father")
	}
	if a.Mother != b.Mother {
		out = append(out, "mother")
	}
	return out
}

// decides reports whether a conflict decision applies to these versions:
// it must choose one of them and have seen all of them (a version that
// arrived after the decision reopens the conflict).
func decides(d *Decision, vs []*entryRec) bool {
	if d.Choose == "" {
		return false
	}
	seen := map[string]bool{}
	for _, s := range d.Versions {
		seen[s] = true
	}
	chosen := false
	for _, v := range vs {
		id := v.ID.String()
		if !seen[id] {
			return false
		}
		chosen = chosen || id == d.Choose
	}
	return chosen
}

// shown is Rule 4: the version a settling decision chose; otherwise the one
// with the fewest validation warnings; then the lowest entry hash. No clock
// is read and no wall time compared: any hub, any order, the same answer.
func (r *Reconciler) shown(vs []*entryRec, resolved *Decision) *entryRec {
	if resolved != nil {
		for _, v := range vs {
			if v.ID.String() == resolved.Choose {
				return v
			}
		}
	}
	best := vs[0]
	for _, v := range vs[1:] {
		if w, bw := r.warnings(v), r.warnings(best); w < bw || w == bw && string(v.Hash[:]) < string(best.Hash[:]) {
			best = v
		}
	}
	return best
}

// decisions returns the decisions held on subject.
func (r *Reconciler) decisions(subject string) []*Decision {
	var out []*Decision
	prefix := append(strKey(tDecision, subject), 0)
	r.scan(prefix, func(k, v []byte) {
		if d := decodeDecision(k[len(prefix):], v); d != nil {
			out = append(out, d)
		}
	})
	return out
}

func decodeDecision(id, v []byte) *Decision {
	row, err := decodeDecisionRow(v)
	if err != nil || len(id) != idSize {
		return nil
	}
	d := &Decision{Entry: readID(id), Tier: row.Tier, hash: row.Hash}
	if json.Unmarshal(row.Resolution, &d.Resolution) != nil {
		return nil
	}
	return d
}

// best returns the decision that prevails among ds (Rule 6): the highest
// tier; among equals, one that supersedes another (its officer saw it and
// overrode it), or one the same hub wrote later (a higher seq); then the
// lowest entry hash. No clock decides. ok filters which decisions apply;
// nil means all.
func (r *Reconciler) best(ds []*Decision, ok func(*Decision) bool) *Decision {
	var win *Decision
	for _, d := range ds {
		if ok != nil && !ok(d) || !validVerdict(d) {
			continue
		}
		if win == nil || outranks(r.cfg.Tiers, d, win) {
			win = d
		}
	}
	return win
}

func validVerdict(d *Decision) bool {
	if _, _, isPair := parsePairID(d.Subject); isPair {
		return d.Verdict == VerdictSamePerson || d.Verdict == VerdictDistinct
	}
	return d.Choose != ""
}

func outranks(tiers map[string]int, a, b *Decision) bool {
	if ra, rb := tiers[a.Tier], tiers[b.Tier]; ra != rb {
		return ra > rb
	}
	switch {
	case supersedes(a, b):
		return true
	case supersedes(b, a):
		return false
	case a.Entry.Origin == b.Entry.Origin:
		return a.Entry.Seq > b.Entry.Seq
	}
	return string(a.hash[:]) < string(b.hash[:])
}

func supersedes(a, b *Decision) bool {
	return slices.Contains(a.Supersedes, b.Entry.String())
}

// linked lists the citizens an officer decided are the same person as key.
func (r *Reconciler) linked(key string) []string {
	if r.count(strKey(tPairDecN, key)) == 0 {
		return nil
	}
	var subjects []string
	prefix := append(strKey(tPairDecs, key), 0)
	r.scan(prefix, func(k, _ []byte) { subjects = append(subjects, string(k[len(prefix):])) })
	var out []string
	for _, subject := range subjects {
		d := r.best(r.decisions(subject), nil)
		if d == nil || d.Verdict != VerdictSamePerson {
			continue
		}
		a, b, _ := parsePairID(subject)
		if a == key {
			out = append(out, b)
		} else {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// derivePairs keeps the pairs: what the matcher changed, and the pairs
// whose decisions or citizens' regions changed.
func (r *Reconciler) derivePairs() {
	if r.cfg.Matcher != nil {
		for _, mp := range r.cfg.Matcher.Changes() {
			r.setPair(mp)
		}
	}
	for _, id := range sortedStrings(r.dirtyPairs) {
		if p := r.pairRow(id); p != nil {
			a, b, _ := parsePairID(id)
			r.setPair(MatchPair{A: a, B: b, Score: p.Score, Reasons: p.Reasons, Extra: p.Extra})
		}
	}
	clear(r.dirtyPairs)
}

func (r *Reconciler) pairRow(id string) *pairRow {
	v, ok := r.get(strKey(tPair, id))
	if !ok {
		return nil
	}
	p, err := decodePairRow(v)
	if err != nil {
		r.fail(err)
		return nil
	}
	return p
}

// setPair writes (or, withdrawn, removes) a pair and moves its counts,
// queue item and digest line.
func (r *Reconciler) setPair(mp MatchPair) {
	id := PairID(mp.A, mp.B)
	if old := r.pairRow(id); old != nil {
		r.counts.Pairs--
		open := old.Resolved == nil
		if open {
			r.counts.OpenPairs--
		}
		r.del(queueKey('p', level(old.RegionA, old.RegionB), id))
		r.digest.addHash(id, old.Line, -1)
	}
	ca, cb := r.row(mp.A, false), r.row(mp.B, false)
	if mp.Withdrawn || ca == nil || cb == nil || len(ca.Members) == 0 || len(cb.Members) == 0 {
		if _, held := r.get(strKey(tPair, id)); held {
			r.del(strKey(tPair, id))
			r.del(strKey(tCitPairs, mp.A, id))
			r.del(strKey(tCitPairs, mp.B, id))
		}
		return
	}
	p := &pairRow{Score: mp.Score, Reasons: mp.Reasons, RegionA: ca.Region, RegionB: cb.Region, Extra: mp.Extra}
	d := r.best(r.decisions(id), nil)
	if d != nil {
		p.Resolved = &d.Entry
	}
	p.Line = replication.Hash(sha(pairLine(id, p, d)))
	r.set(strKey(tPair, id), p.encode())
	r.set(strKey(tCitPairs, mp.A, id), nil)
	r.set(strKey(tCitPairs, mp.B, id), nil)
	r.counts.Pairs++
	open := d == nil
	if open {
		r.counts.OpenPairs++
	}
	r.set(queueKey('p', level(p.RegionA, p.RegionB), id), queueValue(open))
	r.digest.addHash(id, p.Line, 1)
}

// pairsOf calls fn with the ID of each pair of citizen key.
func (r *Reconciler) pairsOf(key string, fn func(id string)) {
	prefix := append(strKey(tCitPairs, key), 0)
	var ids []string
	r.scan(prefix, func(k, _ []byte) { ids = append(ids, string(k[len(prefix):])) })
	for _, id := range ids {
		fn(id)
	}
}
