package node_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
)

// fixedClock is a clock for tests.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
func (c fixedClock) NewTimer(time.Duration) (<-chan time.Time, func() bool) {
	return make(chan time.Time), func() bool { return true }
}

func newNode(t *testing.T) *node.Node {
	t.Helper()
	d, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	n, err := node.New(d, node.Options{Clock: fixedClock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func head(t *testing.T, n *node.Node) uint64 {
	t.Helper()
	h, err := n.Dir().Log.Head(n.Dir().Signer.Origin())
	if err != nil {
		t.Fatal(err)
	}
	return h.Seq
}

func TestEnrollSavesAValidRecord(t *testing.T) {
	n := newNode(t)
	rec := synthtest.Enrollments(t, synth.Config{Count: 1, Seed: 3})[0]
	r, err := n.Enroll(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID.Seq != 2 || r.ID.Origin != n.Dir().Signer.Origin() {
		t.Fatalf("receipt %v", r.ID)
	}
	e, err := n.Dir().Log.Get(r.ID)
	if err != nil || e.Hash() != r.Hash || e.Kind != replication.KindEnroll {
		t.Fatalf("stored entry: %v", err)
	}
	var back enrollment.Enrollment
	if err := json.Unmarshal(e.Payload, &back); err != nil || back.FullName != rec.FullName {
		t.Fatalf("payload does not hold the record as captured: %v", err)
	}
}

func TestRejectedRecordWritesNothingAndNamesEveryField(t *testing.T) {
	n := newNode(t)
	rec := synthtest.Enrollments(t, synth.Config{Count: 1, Seed: 3})[0]
	rec.PersonalID = "003123456789" // 003 is not a province prefix
	rec.EthnicityCode = "77"
	before := head(t, n)
	_, err := n.Enroll(&rec)
	var rej *node.RejectedError
	if !errors.As(err, &rej) || !errors.Is(err, node.ErrRejected) {
		t.Fatalf("want a rejection, got %v", err)
	}
	fields := map[string]bool{}
	for _, f := range rej.Findings {
		if f.Severity == enrollment.Reject {
			fields[f.Field] = true
		}
	}
	if !fields["personal_id"] || !fields["ethnicity_code"] {
		t.Fatalf("every reason must be given, each naming its field: %v", rej.Findings)
	}
	if head(t, n) != before {
		t.Fatal("a rejected record was written")
	}
}

func TestEnrollFillsWhatTheDeviceKnows(t *testing.T) {
	n := newNode(t)
	rec := synthtest.Enrollments(t, synth.Config{Count: 1, Seed: 3})[0]
	rec.Capture.Device, rec.Capture.CapturedAt = "", time.Time{}
	r, err := n.Enroll(&rec)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := n.Dir().Log.Get(r.ID)
	var back enrollment.Enrollment
	_ = json.Unmarshal(e.Payload, &back)
	if back.Capture.Device != string(replication.DeviceIDOf(n.Dir().Signer.PublicKey())) || back.Capture.CapturedAt.IsZero() {
		t.Fatalf("capture metadata not filled: %+v", back.Capture)
	}
}

func TestImportReportsBadRowsAndKeepsGoing(t *testing.T) {
	n := newNode(t)
	var in bytes.Buffer
	for i, r := range synthtest.Enrollments(t, synth.Config{Count: 7, Seed: 3}) {
		switch i {
		case 2:
			in.WriteString("{not json\n")
		case 4:
			r.Sex = "X"
		}
		b, _ := json.Marshal(r)
		in.Write(append(b, '\n'))
	}
	var report bytes.Buffer
	var groups int
	onRejected := func(row node.RejectedRow) { b, _ := json.Marshal(row); report.Write(append(b, '\n')) }
	st, err := n.Import(&in, node.ImportOptions{OnRejected: onRejected, OnGroup: func(node.ImportStats) { groups++ }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 8 || st.Accepted != 6 || st.Rejected != 2 || groups != 1 {
		t.Fatalf("stats %+v groups %d", st, groups)
	}
	lines := strings.Split(strings.TrimSpace(report.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"line":3`) || !strings.Contains(lines[1], `"field":"sex"`) {
		t.Fatalf("report:\n%s", report.String())
	}
	if head(t, n) != 7 {
		t.Fatalf("head %d, want genesis + 6", head(t, n))
	}
}

func TestImportCSVWithBOM(t *testing.T) {
	n := newNode(t)
	csv := "\xef\xbb\xbfpersonal_id,full_name,date_of_birth,sex,ethnicity_code,nationality,birth_registration_code,birth_registration_code_list,birth_registration_text,permanent_residence_code,permanent_residence_code_list,permanent_residence_text,hometown_code,hometown_code_list,hometown_text,commune_code,code_list,officer,device,captured_at\n" +
		"042085000123,Nguyễn Văn An,12/03/1985,Nam,01,Việt Nam,42,2023-04,Tỉnh Hà Tĩnh,18586,2025-07,\"Thôn 3, Xã Đông Kinh, Tỉnh Hà Tĩnh\",18586,2025-07,Xã Đông Kinh,18586,2025-07,CA-01,dev-1,2026-03-01T08:00:00Z\n"
	st, err := n.Import(strings.NewReader(csv), node.ImportOptions{})
	if err != nil || st.Accepted != 1 {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestAmendAndVoidNameTheirTarget(t *testing.T) {
	n := newNode(t)
	rec := synthtest.Enrollments(t, synth.Config{Count: 1, Seed: 3})[0]
	r, err := n.Enroll(&rec)
	if err != nil {
		t.Fatal(err)
	}
	rec.FullName = rec.FullName + " Em"
	a, err := n.Amend(r.ID, rec, "typo")
	if err != nil {
		t.Fatal(err)
	}
	v, err := n.Void(a.ID, "duplicate capture")
	if err != nil {
		t.Fatal(err)
	}
	e, _ := n.Dir().Log.Get(v.ID)
	if e.Kind != replication.KindVoid || !strings.Contains(string(e.Payload), a.ID.String()) {
		t.Fatalf("void entry %s %s", e.Kind, e.Payload)
	}
	missing := replication.EntryID{Origin: r.ID.Origin, Seq: 99}
	if _, err := n.Void(missing, "x"); !errors.Is(err, oplog.ErrNotFound) {
		t.Fatalf("void of an unknown entry: %v", err)
	}
}

func TestHLCContinuesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	d, _ := datadir.Init(dir, datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586"}})
	late := fixedClock{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	n, _ := node.New(d, node.Options{Clock: late})
	rec := synthtest.Enrollments(t, synth.Config{Count: 1, Seed: 3})[0]
	first, _ := n.Enroll(&rec)
	d.Close()
	d, _ = datadir.Open(dir, datadir.OpenOptions{})
	defer d.Close()
	early := fixedClock{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)} // the RTC battery died
	n, _ = node.New(d, node.Options{Clock: early})
	second, err := n.Enroll(&rec)
	if err != nil {
		t.Fatal(err)
	}
	e1, _ := d.Log.Get(first.ID)
	e2, _ := d.Log.Get(second.ID)
	if e2.HLC <= e1.HLC {
		t.Fatalf("HLC went backwards across a restart with a clock reset: %v then %v", e1.HLC, e2.HLC)
	}
}
