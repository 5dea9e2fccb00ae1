package reconcile

import (
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
	"fieldsync/replication"
)

// derive recomputes every dirty citizen from its current versions.
func (r *Reconciler) derive() {
	keys := make([]string, 0, len(r.dirty))
	for k := range r.dirty {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	clear(r.dirty)
	for _, k := range keys {
		r.deriveCitizen(k)
	}
}

func (r *Reconciler) deriveCitizen(key string) {
	ids := r.members[key]
	if len(ids) == 0 {
		delete(r.citizens, key)
		delete(r.members, key)
		if r.cfg.Matcher != nil {
			r.cfg.Matcher.Delete(key)
		}
		return
	}
	c := &Citizen{Key: key}
	for id := range ids {
		c.Versions = append(c.Versions, *r.versions[id])
	}
	slices.SortFunc(c.Versions, func(a, b Version) int { return compareIDs(a.ID, b.ID) })
	c.Conflict = r.conflictOf(key, c.Versions)
	shown := r.shown(c)
	c.Shown = shown.ID
	var own bool
	c.Record, c.History, own = r.merged(shown, c.Versions)
	keys := shown.keys
	if own { // the shown record as captured: its findings and keys are known
		c.Findings = shown.notes
	} else {
		c.Findings = notes(enrollment.Validate(c.Record, enrollment.Context{Now: shown.HLC.Time()}))
		keys = enrollment.Keys(c.Record)
	}
	c.Cleaning = cleaning(c.Record)
	c.Region = region(c.Record)
	c.Linked = r.linked(key)
	r.citizens[key] = c
	if r.cfg.Matcher != nil {
		r.cfg.Matcher.Put(key, c.Record, keys, c.Region)
	}
}

// conflictOf is Rule 3: versions that disagree on an identity field (name,
// date of birth, sex, birth-registration place, parents) form a conflict.
// Identity fields compare by their normalized keys, so the same name in
// NFD, in capitals or with the other tone placement is no disagreement.
func (r *Reconciler) conflictOf(key string, vs []Version) *Conflict {
	fields := map[string]bool{}
	for i := 1; i < len(vs); i++ {
		for _, f := range identityDiff(&vs[0], &vs[i]) {
			fields[f] = true
		}
	}
	if len(fields) == 0 {
		return nil
	}
	c := &Conflict{ID: ConflictID(key)}
	for f := range fields {
		c.Fields = append(c.Fields, f)
	}
	sort.Strings(c.Fields)
	regions := make([]string, len(vs))
	for i := range vs {
		regions[i] = region(vs[i].Record)
	}
	c.Level = level(regions...)
	c.Resolved = r.best(r.decisions[c.ID], func(d *Decision) bool { return decides(d, vs) })
	return c
}

// identityDiff lists the identity fields on which a and b disagree.
func identityDiff(a, b *Version) []string {
	var out []string
	ka, kb := a.keys, b.keys
	if ka.Name != kb.Name {
		out = append(out, "full_name")
	}
	if ka.DateOfBirth != kb.DateOfBirth {
		out = append(out, "date_of_birth")
	}
	if ka.Sex != kb.Sex {
		out = append(out, "sex")
	}
	if placeKey(a.Record.BirthRegistration) != placeKey(b.Record.BirthRegistration) {
		out = append(out, "birth_registration")
	}
	if relativeKey(a.Record.Father) != relativeKey(b.Record.Father) {
		out = append(out, "father")
	}
	if relativeKey(a.Record.Mother) != relativeKey(b.Record.Mother) {
		out = append(out, "mother")
	}
	return out
}

func placeKey(p enrollment.Place) string {
	if p.UnitCode != "" {
		return p.UnitCode
	}
	return enrollment.NameKey(p.Text)
}

func relativeKey(rel *enrollment.Relative) string {
	if rel == nil {
		return ""
	}
	pid, _ := enrollment.NormalizePersonalID(rel.PersonalID)
	return enrollment.NameKey(rel.FullName) + "|" + pid
}

// decides reports whether a conflict decision applies to these versions:
// it must choose one of them and have seen all of them (a version that
// arrived after the decision reopens the conflict).
func decides(d *Decision, vs []Version) bool {
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
func (r *Reconciler) shown(c *Citizen) *Version {
	if c.Conflict != nil && c.Conflict.Resolved != nil {
		for i := range c.Versions {
			if c.Versions[i].ID.String() == c.Conflict.Resolved.Choose {
				return &c.Versions[i]
			}
		}
	}
	best := &c.Versions[0]
	for i := 1; i < len(c.Versions); i++ {
		v := &c.Versions[i]
		if v.Warnings < best.Warnings || v.Warnings == best.Warnings && string(v.Hash[:]) < string(best.Hash[:]) {
			best = v
		}
	}
	return best
}

// changeable are the fields that legitimately change over a life (Rule 5).
var changeable = [...]string{"current_residence", "marital_status", "occupation"}

// merged is Rule 5: the shown record, with each changeable field taken from
// the latest version that has it. "Latest" is causal and needs no clock: a
// version follows another when the same device wrote it later (a higher
// seq of the same origin) or when it amends the other, directly or along a
// chain. Laptop clocks are wrong, so wall time (and the HLC's wall part)
// never decides. Versions that no such link orders are concurrent; they
// are ordered by hash, so the value shown is the last in that order, and
// the history marks it concurrent for an officer to check. History lists
// every distinct value in causal order. own reports that every field came
// from the shown version itself: rec is then the shown record (shared, not
// copied: records in the view are never modified).
func (r *Reconciler) merged(shown *Version, vs []Version) (rec *enrollment.Enrollment, history map[string][]FieldChange, own bool) {
	order := r.causalOrder(vs)
	history = map[string][]FieldChange{}
	var from [len(changeable)]replication.EntryID // where each field's current value is
	own = true
	for i, f := range changeable {
		changes := r.fieldHistory(order, f)
		if len(changes) == 0 {
			from[i] = shown.ID
			continue
		}
		from[i] = changes[len(changes)-1].Entry
		own = own && from[i] == shown.ID
		if len(changes) > 1 {
			history[f] = changes
		}
	}
	if len(history) == 0 {
		history = nil
	}
	if own {
		return shown.Record, history, true
	}
	copied := *shown.Record
	for i, f := range changeable {
		setField(&copied, r.versions[from[i]].Record, f)
	}
	return &copied, history, false
}

// fieldHistory lists the values of f in order; the last is the current one.
func (r *Reconciler) fieldHistory(order []*Version, f string) []FieldChange {
	var changes []FieldChange
	var withValue []*Version
	for _, v := range order {
		val := fieldValue(v.Record, f)
		if val == "" {
			continue
		}
		withValue = append(withValue, v)
		if len(changes) == 0 || changes[len(changes)-1].Value != val {
			changes = append(changes, FieldChange{Value: val, Entry: v.ID, HLC: v.HLC})
		}
	}
	if len(changes) > 0 && !r.dominates(withValue[len(withValue)-1], withValue) {
		changes[len(changes)-1].Concurrent = true
	}
	return changes
}

// causalOrder sorts versions so that a version comes after every version
// it follows; unordered ones by hash. Versions are few per citizen.
func (r *Reconciler) causalOrder(vs []Version) []*Version {
	order := make([]*Version, len(vs))
	for i := range vs {
		order[i] = &vs[i]
	}
	sort.Slice(order, func(i, j int) bool { return string(order[i].Hash[:]) < string(order[j].Hash[:]) })
	out := make([]*Version, 0, len(order))
	placed := map[replication.EntryID]bool{}
	for len(out) < len(order) {
		for _, v := range order { // the lowest-hash version all of whose predecessors are placed
			if !placed[v.ID] && r.readyAfter(v, order, placed) {
				out, placed[v.ID] = append(out, v), true
				break
			}
		}
	}
	return out
}

func (r *Reconciler) readyAfter(v *Version, all []*Version, placed map[replication.EntryID]bool) bool {
	for _, u := range all {
		if u != v && !placed[u.ID] && r.follows(v, u) {
			return false
		}
	}
	return true
}

// follows reports whether b provably comes after a: the same device wrote
// it later, or it amends a (directly or along a chain of amends).
func (r *Reconciler) follows(b, a *Version) bool {
	if b.ID.Origin == a.ID.Origin && b.ID.Seq > a.ID.Seq {
		return true
	}
	id := b.ID
	for n := 0; n < maxLineage; n++ {
		p, ok := r.parentOf[id]
		if !ok {
			return false
		}
		if p == a.ID {
			return true
		}
		id = p
	}
	return false
}

// dominates reports whether v follows every other version in vs.
func (r *Reconciler) dominates(v *Version, vs []*Version) bool {
	for _, u := range vs {
		if u != v && !r.follows(v, u) {
			return false
		}
	}
	return true
}

func fieldValue(e *enrollment.Enrollment, f string) string {
	switch f {
	case "current_residence":
		if e.CurrentResidence != nil {
			return e.CurrentResidence.UnitCode + " " + e.CurrentResidence.Text
		}
	case "marital_status":
		return e.MaritalStatus
	case "occupation":
		return e.Occupation
	}
	return ""
}

func setField(dst, src *enrollment.Enrollment, f string) {
	switch f {
	case "current_residence":
		dst.CurrentResidence = src.CurrentResidence
	case "marital_status":
		dst.MaritalStatus = src.MaritalStatus
	case "occupation":
		dst.Occupation = src.Occupation
	}
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
		d.Tier = r.tiers[d.Entry.Origin]
		if win == nil || outranks(r.cfg.Tiers, d, win) {
			win = d
		}
	}
	if win == nil {
		return nil
	}
	c := *win
	return &c
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
	ref := b.Entry.String()
	for _, s := range a.Supersedes {
		if s == ref {
			return true
		}
	}
	return false
}

// linked lists the citizens an officer decided are the same person as key.
func (r *Reconciler) linked(key string) []string {
	var out []string
	for _, subject := range r.pairDecs[key] {
		d := r.best(r.decisions[subject], nil)
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

// region is the old district of a record's capture commune.
func region(e *enrollment.Enrollment) string {
	return enrollment.DistrictOf(e.Capture.CodeList, e.Capture.CommuneCode)
}

// notes keeps the warnings and notes of a finding list (a record in the
// view was accepted, so it has no rejections).
func notes(fs enrollment.Findings) enrollment.Findings {
	var out enrollment.Findings
	for _, f := range fs {
		if f.Severity < enrollment.Reject {
			out = append(out, f)
		}
	}
	return out
}

// cleaning lists what the matching keys derive differently from what was
// captured: the captured text stays; the view shows both.
func cleaning(e *enrollment.Enrollment) []Cleaning {
	var out []Cleaning
	if e.PersonalID != "" {
		if pid, _ := enrollment.NormalizePersonalID(e.PersonalID); pid != "" && pid != e.PersonalID {
			out = append(out, Cleaning{Field: "personal_id", From: e.PersonalID, To: pid, Rule: "personal ID cleaned (spaces, dots, full-width digits, lost leading zero)"})
		}
	}
	name := e.FullName
	if repaired, enc := enrollment.RepairLegacy(name); enc != enrollment.LegacyNone {
		out = append(out, Cleaning{Field: "full_name", From: name, To: repaired, Rule: "legacy " + enc.String() + " text repaired"})
		name = repaired
	} else if nfc := norm.NFC.String(name); nfc != name {
		out = append(out, Cleaning{Field: "full_name", From: name, To: nfc, Rule: "Unicode NFC"})
		name = nfc
	}
	if c := strings.Join(strings.Fields(name), " "); c != name {
		out = append(out, Cleaning{Field: "full_name", From: name, To: c, Rule: "spaces collapsed"})
	}
	return out
}

func compareIDs(a, b replication.EntryID) int {
	if c := replication.CompareOrigin(a.Origin, b.Origin); c != 0 {
		return c
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}
