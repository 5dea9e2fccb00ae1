package reconcile

import (
	"bytes"
	"testing"

	"fieldsync/replication"
)

// FuzzRows feeds arbitrary bytes to every decoder of the view's store:
// none may panic, and what decodes encodes back to the same bytes (a row
// read and written again is unchanged). Seeds: one row of each kind.
func FuzzRows(f *testing.F) {
	id := replication.EntryID{Seq: 7}
	id.Origin[0] = 3
	v := &versionData{PersonalID: "042085000123", Region: "445", Commune: "18586", CodeList: "2023-04", Detailed: true, keep: true,
		Warnings: 1, Name: "nguyen van an", DateOfBirth: "1985-03-12", Sex: "Nam", Profile: []byte{1, 2, 3}}
	f.Add(byte(0), (&entryRec{ID: id, Kind: replication.KindEnroll, MKind: replication.KindEnroll, State: stateApplied, Version: v, Key: "042085000123"}).encode())
	f.Add(byte(0), (&entryRec{ID: id, Kind: replication.KindAmend, MKind: replication.KindAmend, State: stateApplied, Target: &id, Parent: &id, Of: &id,
		Version: &versionData{PersonalID: "x"}}).encode())
	f.Add(byte(1), (&citizenRow{Members: []replication.EntryID{id}, Shown: id, Region: "445", Conflict: &conflictRow{Fields: []string{"sex"}, Level: "province", Resolved: &id}, Linked: []string{"a"}}).encode())
	f.Add(byte(2), (&decisionRow{Tier: "province", Resolution: []byte(`{"subject":"conflict:1"}`)}).encode())
	f.Add(byte(3), (&pairRow{Score: 0.9, Reasons: []string{"name-equal"}, RegionA: "444", RegionB: "445", Resolved: &id}).encode())
	f.Add(byte(4), (&quarantineRow{Kind: replication.KindEnroll, Reason: "revoked", Device: "d"}).encode())
	f.Add(byte(5), encodeProfiled(Profiled{Profile: []byte("p"), Region: "445"}))
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		var again []byte
		switch kind % 6 {
		case 0:
			if e, err := decodeEntryRec(b); err == nil {
				again = e.encode()
			}
		case 1:
			if c, err := decodeCitizenRow(b); err == nil {
				again = c.encode()
			}
		case 2:
			if d, err := decodeDecisionRow(b); err == nil {
				again = d.encode()
			}
		case 3:
			if p, err := decodePairRow(b); err == nil {
				again = p.encode()
			}
		case 4:
			if q, err := decodeQuarantineRow(b); err == nil {
				again = q.encode()
			}
		case 5:
			if p, err := decodeProfiled(b); err == nil {
				again = encodeProfiled(p)
			}
		}
		if again != nil && !bytes.Equal(again, b) {
			t.Fatalf("row kind %d decoded from %x encodes as %x", kind%6, b, again)
		}
	})
}
