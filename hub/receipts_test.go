package hub

import (
	"errors"
	"testing"
	"time"

	"fieldsync/dossier"
	"fieldsync/enrollment/synth"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/channel"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
)

func copyOrigin(t *testing.T, from, to *datadir.Dir, o replication.OriginID) {
	t.Helper()
	var es []replication.Entry
	if err := from.Log.Scan(o, 1, func(e replication.Entry) bool { es = append(es, e); return true }); err != nil {
		t.Fatal(err)
	}
	if _, err := to.Log.Ingest(es, nil); err != nil {
		t.Fatal(err)
	}
}

type laterClock struct{ d time.Duration }

func (c laterClock) Now() time.Time { return time.Now().Add(c.d) }
func (c laterClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Receipts: the province receipts the dossiers complete there, the
// receipts flow down to the laptop, which then releases those dossiers'
// blobs (records stay, verify counts them released), and whose freeze
// rule counts only what is not receipted.
func TestReceiptsAndRetention(t *testing.T) {
	lap, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer lap.Close()
	n, err := node.New(lap, node.Options{Freeze: node.NoFreeze})
	if err != nil {
		t.Fatal(err)
	}
	prov, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: ReceiptTier, Unit: "42", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer prov.Close()
	g, _ := synth.New(synth.Config{Count: 4, Seed: 40})
	var incompleteBytes int64
	i := 0
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		files := rec.Files()
		if _, err := n.SaveDossier(&node.Dossier{Record: rec.Enrollment, Files: files}); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Data == nil {
				continue
			}
			if i == 1 { // the second dossier (seq 3) stays incomplete at the province
				incompleteBytes += int64(len(f.Data))
				continue
			}
			if _, err := blob.PutBytes(prov.Blobs, f.Data); err != nil {
				t.Fatal(err)
			}
		}
		i++
	}
	copyOrigin(t, lap, prov, lap.Signer.Origin())
	d, err := NewDaemon(DaemonConfig{Dir: prov, Replicator: replicator.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	written, err := d.IssueReceipts()
	if err != nil || written != 1 {
		t.Fatalf("receipts written %d, %v", written, err)
	}
	if again, err := d.IssueReceipts(); err != nil || again != 0 {
		t.Fatalf("nothing new, yet %d receipts (%v)", again, err)
	}
	// In the channel of the laptop's commune, not the hub's own origin
	// (which every laptop gets).
	ch := channel.Origin(prov.Signer, "18586")
	if own, _ := prov.Log.Head(prov.Signer.Origin()); own.Seq > 2 { // genesis and bundle key
		t.Errorf("the province's own origin has %d entries: receipts written there", own.Seq)
	}
	head, _ := prov.Log.Head(ch)
	e, _ := prov.Log.Get(replication.EntryID{Origin: ch, Seq: head.Seq})
	r, err := dossier.DecodeReceipt(e.Payload)
	if err != nil || e.Kind != replication.KindReceipt || r.Through != 2 || len(r.Also) != 2 || r.Also[0] != 4 {
		t.Fatalf("receipt %+v %v", r, err)
	}

	// Down to the laptop.
	b, err := n.DossierBacklog()
	if err != nil || b.Dossiers != 4 {
		t.Fatalf("before receipts: %+v %v", b, err)
	}
	copyOrigin(t, prov, lap, ch)
	b, err = n.DossierBacklog()
	if err != nil || b.Dossiers != 1 || b.BlobBytes != incompleteBytes || b.ReceiptedThrough != 2 {
		t.Fatalf("after receipts: %+v %v (want 1 dossier of %d bytes)", b, err, incompleteBytes)
	}
	own := lap.Signer.Origin()
	for seq, want := range map[uint64]bool{2: true, 3: false, 4: true, 5: true} {
		if n.Receipted(replication.EntryID{Origin: own, Seq: seq}) != want {
			t.Fatalf("receipted(%d) != %v", seq, want)
		}
	}

	// Retention: nothing is old enough today; tomorrow, the receipted go.
	u0, _ := lap.Blobs.Usage()
	if rep, err := n.Retain(node.DefaultRetention, false); err != nil || rep.Blobs != 0 {
		t.Fatalf("retain today: %+v %v", rep, err)
	}
	later, err := node.New(lap, node.Options{Freeze: node.NoFreeze, Clock: laterClock{8 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := later.Retain(node.DefaultRetention, false)
	if err != nil || rep.Dossiers != 3 || rep.Blobs == 0 {
		t.Fatalf("retain: %+v %v", rep, err)
	}
	u1, _ := lap.Blobs.Usage()
	if u1.Bytes != u0.Bytes-rep.Bytes || u1.Bytes < incompleteBytes {
		t.Fatalf("usage %+v -> %+v after releasing %d bytes", u0, u1, rep.Bytes)
	}
	scan := func(fn func(e *replication.Entry) bool) error {
		return lap.Log.Scan(own, 1, func(e replication.Entry) bool { return fn(&e) })
	}
	vr, err := dossier.CheckBlobs(lap.Blobs, scan, dossier.CheckOptions{Own: func(o replication.OriginID) bool { return o == own }, Released: later.Receipted})
	if err != nil || !vr.OK() || vr.Released == 0 || vr.Missing != 0 {
		t.Fatalf("verify after retention: %+v %v", vr, err)
	}
	if h, _ := lap.Log.Head(own); h.Seq != 5 {
		t.Fatalf("records lost: head %d", h.Seq)
	}

	// The freeze rule counts only what the province has not receipted.
	strict, err := node.New(lap, node.Options{Freeze: node.FreezePolicy{MaxUnsyncedEntries: -1, MaxUnsyncedAge: -1, MaxUnreceiptedBlobBytes: incompleteBytes, MaxUnreceiptedAge: -1}})
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := synth.New(synth.Config{Count: 1, Seed: 41})
	rec, _ := g2.Next()
	_, err = strict.SaveDossier(&node.Dossier{Record: rec.Enrollment, Files: rec.Files()})
	var fe *node.FrozenError
	if !errors.As(err, &fe) || fe.Limit != "blob-bytes" {
		t.Fatalf("freeze on unreceipted blob bytes: %v", err)
	}
	roomy, _ := node.New(lap, node.Options{Freeze: node.FreezePolicy{MaxUnsyncedEntries: -1, MaxUnsyncedAge: -1, MaxUnreceiptedBlobBytes: incompleteBytes + 1, MaxUnreceiptedAge: -1}})
	if _, err := roomy.SaveDossier(&node.Dossier{Record: rec.Enrollment, Files: rec.Files()}); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
}

// Receipts are incremental: each names the watermark and only the
// dossiers completed since the last one, so what flows down to the
// commune's laptops stays small.
func TestReceiptsNameEachDossierOnce(t *testing.T) {
	lap, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer lap.Close()
	n, _ := node.New(lap, node.Options{Freeze: node.NoFreeze})
	prov, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: ReceiptTier, Unit: "42", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer prov.Close()
	d, err := NewDaemon(DaemonConfig{Dir: prov, Replicator: replicator.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := synth.New(synth.Config{Count: 6, Seed: 42})
	var held [][]node.File
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		files := rec.Files()
		if _, err := n.SaveDossier(&node.Dossier{Record: rec.Enrollment, Files: files}); err != nil {
			t.Fatal(err)
		}
		held = append(held, files)
	}
	put := func(i int) {
		for _, f := range held[i] {
			if f.Data != nil {
				blob.PutBytes(prov.Blobs, f.Data)
			}
		}
	}
	own := lap.Signer.Origin()
	ch := channel.Origin(prov.Signer, "18586")
	receipts := func() []dossier.Receipt {
		t.Helper()
		h0, _ := prov.Log.Head(ch)
		if _, err := d.IssueReceipts(); err != nil {
			t.Fatal(err)
		}
		var out []dossier.Receipt
		prov.Log.Scan(ch, h0.Seq+1, func(e replication.Entry) bool {
			r, err := dossier.DecodeReceipt(e.Payload)
			if err == nil {
				out = append(out, r)
			}
			return true
		})
		return out
	}
	// Dossiers 1 (seq 2) incomplete; 2..4 (seqs 3..5) complete.
	for i := 1; i < 4; i++ {
		put(i)
	}
	copyOrigin(t, lap, prov, own)
	rs := receipts()
	if len(rs) != 1 || rs[0].Through != 1 || len(rs[0].Also) != 3 {
		t.Fatalf("first: %+v", rs)
	}
	// Seq 6 and 7 complete now; seq 2 still waits: only 6 and 7 named.
	put(4)
	put(5)
	d.Rep.Needs().Recheck(replication.EntryID{Origin: own, Seq: 6}, replication.EntryID{Origin: own, Seq: 7})
	rs = receipts()
	if len(rs) != 1 || rs[0].Through != 1 || len(rs[0].Also) != 2 || rs[0].Also[0] != 6 {
		t.Fatalf("second: %+v", rs)
	}
	// Seq 2 completes: the watermark passes everything; nothing listed.
	put(0)
	d.Rep.Needs().Recheck(replication.EntryID{Origin: own, Seq: 2})
	rs = receipts()
	if len(rs) != 1 || rs[0].Through != 7 || len(rs[0].Also) != 0 {
		t.Fatalf("third: %+v", rs)
	}
	if rs := receipts(); len(rs) != 0 {
		t.Fatalf("nothing new, yet %+v", rs)
	}
}
