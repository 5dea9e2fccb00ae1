package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"fieldsync/enrollment"
	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/synctls"
	"fieldsync/replication/wire"
	"fieldsync/runtime/localapi"
)

// device is a key and the log it writes, built outside any replica: what
// a compromised laptop (or a thief) holds.
type device struct {
	s       *replication.KeySigner
	entries []replication.Entry // entries[i] has seq i+1
}

func newDevice(seed uint64, unit string) *device {
	d := &device{s: oplogtest.NewSigner(seed)}
	g, _ := json.Marshal(replication.NewGenesis(d.s, replication.RoleNode, "", unit))
	d.append(replication.KindGenesis, g)
	return d
}

func (d *device) append(kind replication.Kind, payload []byte) replication.Entry {
	var prev replication.Hash
	if n := len(d.entries); n > 0 {
		prev = d.entries[n-1].Hash()
	}
	e := replication.Seal(d.s, replication.Draft{Kind: kind, Schema: 1, Payload: payload, HLC: replication.MakeHLC(int64(1700000000000+len(d.entries)), 0)},
		uint64(len(d.entries)+1), prev)
	d.entries = append(d.entries, e)
	return e
}

// enroll appends a capture of a citizen of commune with a recognizable ID.
func (d *device) enroll(pid, commune string) replication.Entry {
	p, _ := json.Marshal(citizen(pid, "Người Thử "+pid[8:], commune))
	return d.append(replication.KindEnroll, p)
}

// rng returns entries from seq..to (inclusive), as a range.
func (d *device) rng(from, to uint64) wire.Range {
	es := append([]replication.Entry(nil), d.entries[from-1:to]...)
	var prev replication.Hash
	if from > 1 {
		prev = d.entries[from-2].Hash()
	}
	return wire.Range{Origin: d.s.Origin(), Prev: prev, Entries: es}
}

func (d *device) key() string { return hex.EncodeToString(d.s.PublicKey()) }

// relink rebuilds the Prev links of a range after an entry was altered,
// as an attacker would to get it past the codec.
func relink(rg *wire.Range) {
	prev := rg.Prev
	for i := range rg.Entries {
		rg.Entries[i].Prev = prev
		prev = rg.Entries[i].Hash()
	}
}

// adversary speaks the sync protocol by hand over an authenticated stream:
// it can send any batch a compromised key can sign or forge.
type adversary struct {
	t     *testing.T
	conn  net.Conn
	enc   *zstd.Encoder
	dec   *zstd.Decoder
	codec *wire.Codec
	next  uint64
}

// connect opens a session to addr as the device with key s (which the
// hub must find on its roster).
func connect(t *testing.T, addr string, s *replication.KeySigner) (*adversary, error) {
	t.Helper()
	auth, err := synctls.New(s, func(ed25519.PublicKey) (replication.Role, error) { return "", nil })
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := auth.Client(ctx, raw)
	if err != nil {
		return nil, err
	}
	codec, _ := wire.NewStreamCodec(wire.DefaultLimits())
	// The connection carries segments (syncnet/mux.go); the adversary's
	// frames all travel in the zstd stream, and it never needs the raw
	// blob chunks a hub could send, so it drops them.
	enc, _ := zstd.NewWriter(syncnet.NewSegments(conn), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(2<<20), zstd.WithEncoderCRC(false))
	ignore := func(wire.Message) error { return nil }
	dec, _ := zstd.NewReader(syncnet.NewSegmentReader(conn, codec, ignore), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(2<<20))
	a := &adversary{t: t, conn: conn, enc: enc, dec: dec, codec: codec}
	t.Cleanup(a.close)
	for _, m := range []wire.Message{&wire.Hello{Version: 1, Origin: s.Origin(), Role: "node", Unit: "18586", Node: "adversary"}, &wire.Summary{}} {
		if err := a.write(m); err != nil {
			return nil, err // a refused client learns it here or on its first read
		}
	}
	return a, nil
}

func (a *adversary) close() { a.enc.Close(); a.conn.Close(); a.dec.Close() }

func (a *adversary) write(m wire.Message) error {
	if _, err := a.codec.WriteFrame(a.enc, m); err != nil {
		return err
	}
	return a.enc.Flush()
}

func (a *adversary) send(m wire.Message) {
	a.t.Helper()
	if err := a.write(m); err != nil {
		a.t.Fatal(err)
	}
}

// batch sends ranges in one batch and returns the hub's ack of it.
func (a *adversary) batch(ranges ...wire.Range) *wire.Ack {
	a.t.Helper()
	a.next++
	id := a.next
	a.send(&wire.Batch{ID: id, Ranges: ranges})
	a.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		m, _, err := a.codec.ReadFrame(a.dec)
		if err != nil {
			a.t.Fatalf("waiting for the ack of batch %d: %v", id, err)
		}
		if ack, ok := m.(*wire.Ack); ok && ack.BatchID == id {
			return ack
		}
	}
}

func refusals(ack *wire.Ack) string {
	if len(ack.Refused) == 0 {
		return "accepted"
	}
	r := ack.Refused[0]
	return "refused " + r.Reason.String()
}

// TestAdversarialEntries throws at a real province hub, over its sync
// listener and through the mutual-TLS stream a compromised laptop's key
// opens, every kind of bad entry G4 and G10 name: each is refused at
// ingest or quarantined in the view, counted, visible in status, and
// nothing of it reaches a citizen.
func TestAdversarialEntries(t *testing.T) {
	d := newDeployment(t)
	d.addHub("province", "province", "42", "")
	prov := d.hubs["province"]
	addr := d.addrs["province"]

	mole, victim, colleague, stranger := newDevice(501, "18586"), newDevice(502, "18586"), newDevice(503, "18586"), newDevice(504, "18586")
	for _, dv := range []*device{mole, victim, colleague} {
		if _, err := prov.ChangeRoster(hub.RosterRequest{Op: "add", Device: dv.key(), Role: replication.RoleNode, Units: []string{"18586"}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		mole.enroll(fmt.Sprintf("04208500%04d", i), "18586")      // 2..5: honest captures
		victim.enroll(fmt.Sprintf("04208501%04d", i), "18586")    // 2..5
		colleague.enroll(fmt.Sprintf("04208502%04d", i), "18586") // 2..5, revoked after 3
		stranger.enroll(fmt.Sprintf("04299900%04d", i), "18586")
	}
	bad := map[string]bool{} // personal IDs that must never reach the view
	a, err := connect(t, addr, mole.s)
	if err != nil {
		t.Fatal(err)
	}
	for _, rg := range []wire.Range{mole.rng(1, 5), victim.rng(1, 3), colleague.rng(1, 3)} {
		if got := refusals(a.batch(rg)); got != "accepted" {
			t.Fatalf("honest batch: %s", got)
		}
	}
	revoke := func() {
		if _, err := prov.ChangeRoster(hub.RosterRequest{Op: "revoke", Device: colleague.key(), Note: "stolen"}); err != nil {
			t.Fatal(err)
		}
	}

	cases := []struct {
		name  string
		build func() wire.Range
		ack   string // the ack's verdict on the range
	}{
		{"forged signature: the victim's next captures, signed by the mole", func() wire.Range {
			victim.enroll("042999010001", "18586")
			bad["042999010001"] = true
			rg := victim.rng(4, 6)
			last := &rg.Entries[len(rg.Entries)-1]
			last.Sig = replication.Seal(mole.s, replication.Draft{Kind: last.Kind, Schema: last.Schema, Payload: last.Payload, HLC: last.HLC}, last.Seq, last.Prev).Sig
			return rg
		}, "refused bad-signature"},
		{"altered payload: a capture's name changed in flight, links rebuilt", func() wire.Range {
			rg := victim.rng(4, 5)
			var rec enrollment.Enrollment
			json.Unmarshal(rg.Entries[0].Payload, &rec)
			rec.PersonalID, rec.FullName = "042999020002", "Kẻ Giả Mạo"
			bad["042999020002"] = true
			rg.Entries[0].Payload, _ = json.Marshal(rec)
			relink(&rg)
			return rg
		}, "refused bad-signature"},
		{"replayed batch: the mole's own captures again", func() wire.Range { return mole.rng(1, 5) }, "accepted"},
		{"a device not on the roster, carried by the mole", func() wire.Range {
			for i := range 4 {
				bad[fmt.Sprintf("04299900%04d", i)] = true
			}
			return stranger.rng(1, 5)
		}, "refused not-authorized"},
		{"out of scope: the mole captures in another district's commune", func() wire.Range {
			mole.enroll("042999030003", "18073")
			bad["042999030003"] = true
			return mole.rng(6, 6)
		}, "accepted"},
		{"a revoked device's later captures, carried by the mole", func() wire.Range {
			revoke()
			colleague.enroll("042999040004", "18586")
			bad["042999040004"] = true
			for i := 2; i < 4; i++ {
				bad[fmt.Sprintf("04208502%04d", i)] = true // seqs 4, 5: after the 3 the province held
			}
			return colleague.rng(4, 6)
		}, "accepted"},
		{"a fork: the mole's clone rewrites seq 3", func() wire.Range {
			clone := &device{s: mole.s, entries: append([]replication.Entry(nil), mole.entries[:2]...)}
			clone.enroll("042999050005", "18586")
			bad["042999050005"] = true
			return clone.rng(3, 3)
		}, "refused fork"},
	}
	for _, c := range cases {
		if got := refusals(a.batch(c.build())); got != c.ack {
			t.Errorf("%s: %s, want %s", c.name, got, c.ack)
		} else {
			t.Logf("%-70s %s", c.name, got)
		}
	}

	// A stranger's own key cannot even open a session (TLS 1.3: a refused
	// client learns it on its first read).
	if x, err := connect(t, addr, stranger.s); err == nil {
		x.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if m, _, err := x.codec.ReadFrame(x.dec); err == nil {
			t.Fatalf("a stranger's session got %s from the hub", m.Type())
		}
	}

	// Status, as `fieldsync status` reads it from the running hub.
	c, err := localapi.Dial(prov.Dir.Path)
	if err != nil {
		t.Fatal(err)
	}
	var st localapi.Status
	deadline := time.Now().Add(10 * time.Second)
	var vs reconcile.Stats
	for {
		st = localapi.Status{}
		if err := c.Do("GET", "/api/status", nil, &st); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(st.Extra["view"])
		vs = reconcile.Stats{}
		json.Unmarshal(b, &vs)
		if st.Refused["handshake"] > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("status: refused %v (evidence kept %d), duplicates ignored %d; view quarantined %v", st.Refused, st.Trust.Evidence, st.Duplicates, vs.Quarantined)
	if st.Duplicates < 5 {
		t.Errorf("status counts %d duplicates ignored, want the 5 replayed", st.Duplicates)
	}
	for reason, want := range map[string]int{"bad-signature": 2, "not-authorized": 1, "fork": 1, "handshake": 1} {
		if st.Refused[reason] < want {
			t.Errorf("status counts %d %s, want at least %d", st.Refused[reason], reason, want)
		}
	}
	for reason, want := range map[string]int{"out-of-scope": 1, "revoked": 3} {
		if vs.Quarantined[reason] < want {
			t.Errorf("view quarantines %d %s, want at least %d", vs.Quarantined[reason], reason, want)
		}
	}
	if st.Trust.Evidence < 2 { // the victim's range from seq 4 (twice) and the stranger's
		t.Errorf("%d refused ranges kept as evidence, want at least 2", st.Trust.Evidence)
	}
	prov.View().Read(func(r *reconcile.Reconciler) {
		for pid := range bad {
			if shows(t, r, pid) {
				t.Errorf("citizen %s reached the view", pid)
			}
		}
		// The mole forked at seq 3: its captures before stand (from seq 3
		// on, a hub's fork notice sets its origin aside: Rule 8).
		if !shows(t, r, "042085000000") {
			t.Error("the mole's capture before its fork is missing")
		}
		for i := range 2 {
			if pid := fmt.Sprintf("04208502%04d", i); !shows(t, r, pid) {
				t.Errorf("the colleague's capture %s, held before the revocation, is missing", pid)
			}
		}
	})
	if h, _ := prov.Dir.Log.Head(stranger.s.Origin()); h.Seq != 0 {
		t.Errorf("the hub holds %d entries of the stranger", h.Seq)
	}
}
