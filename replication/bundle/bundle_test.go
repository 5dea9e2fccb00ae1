package bundle_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/bundle"
	"fieldsync/replication/datadir"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// replica is a data directory for the tests (open mode: no roster).
type replica struct {
	dir *datadir.Dir
}

func newReplica(t *testing.T, role replication.Role, tier, name string) *replica {
	t.Helper()
	d, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: role, Tier: tier, Unit: "18586", Name: name, Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &replica{dir: d}
}

func (r *replica) hello() wire.Hello {
	c := r.dir.Config
	return wire.Hello{Version: syncproto.ProtocolVersion, Origin: r.dir.Signer.Origin(), Role: string(c.Role), Tier: c.Tier, Unit: c.Unit, Node: c.Name}
}

// capture saves n dossiers with files on a laptop and returns their blobs.
func (r *replica) capture(t *testing.T, n int, seed uint64) []blob.ID {
	t.Helper()
	nd, err := node.New(r.dir, node.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(synth.Config{Count: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{"face": 60_000, "finger_r2": 15_000, "finger_l2": 16_000}
	var ids []blob.ID
	var ds []node.Dossier
	i := 0
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		d := node.Dossier{Record: rec.Enrollment}
		d.Record.Biometrics = nil
		for _, slot := range enrollment.Slots {
			size, ok := sizes[slot.Name]
			if !ok {
				continue
			}
			spec := synth.BlobSpec{Slot: slot.Name, Format: slot.Formats[0], Size: size}
			binary.LittleEndian.PutUint64(spec.Seed[:], seed<<32|uint64(i)<<8|uint64(len(d.Files)))
			data := spec.Bytes()
			d.Files = append(d.Files, node.File{Slot: slot.Name, Name: slot.Name + spec.Ext(), Data: data})
			ids = append(ids, blob.IDOf(data))
		}
		ds = append(ds, d)
		i++
	}
	for len(ds) > 0 {
		k := min(len(ds), node.MaxGroupRecords)
		res, err := nd.SaveDossiers(ds[:k])
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range res {
			if x.Err != nil {
				t.Fatal(x.Err)
			}
		}
		ds = ds[k:]
	}
	return ids
}

// copyOrigin gives dst what src holds of origin o (a laptop that synced
// with its hub once holds the hub's entries, its bundle key among them).
func copyOrigin(t *testing.T, src, dst *replica, o replication.OriginID) {
	t.Helper()
	var es []replication.Entry
	if err := src.dir.Log.Scan(o, 1, func(e replication.Entry) bool { es = append(es, e); return true }); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.dir.Log.Ingest(es, nil); err != nil {
		t.Fatal(err)
	}
}

// world is a laptop and its district hub, the hub's key known to the
// laptop.
type world struct {
	lap, hub *replica
	ids      []blob.ID
}

func newWorld(t *testing.T, dossiers int) *world {
	t.Helper()
	w := &world{lap: newReplica(t, replication.RoleNode, "", "node-a"), hub: newReplica(t, replication.RoleHub, "district", "hub-445")}
	if _, err := bundle.PublishKey(w.hub.dir.Log, w.hub.dir.Signer, time.Now()); err != nil {
		t.Fatal(err)
	}
	copyOrigin(t, w.hub, w.lap, w.hub.dir.Signer.Origin())
	w.ids = w.lap.capture(t, dossiers, 5)
	return w
}

func (w *world) export(t *testing.T, dir string, partBytes int64, heads replication.Vector) (*bundle.Export, []string) {
	t.Helper()
	keys, err := bundle.HubKeys(w.lap.dir.Log)
	if err != nil || len(keys) != 1 {
		t.Fatalf("hub keys: %v %v", keys, err)
	}
	lapKey, err := bundle.KeyOf(w.lap.dir.Signer.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	ex := &bundle.Exporter{Log: w.lap.dir.Log, Blobs: w.lap.dir.Blobs, Refs: dossier.RefsOf,
		Proto:  syncproto.Config{Self: w.lap.hello()},
		Signer: w.lap.dir.Signer.PrivateKey(), ReplyKey: lapKey.PublicKey().Bytes(),
		Hub: w.hub.hello(), HubHeads: heads,
		To:        []bundle.RecipientKey{{Device: keys[0].Device, Key: keys[0].Key}},
		PartBytes: partBytes, Now: time.Now(),
		Create: func(n int) (io.WriteCloser, error) {
			p := filepath.Join(dir, fmt.Sprintf("part%d.fsb", n))
			paths = append(paths, p)
			return os.Create(p)
		}}
	out, err := ex.Run()
	if err != nil {
		t.Fatal(err)
	}
	return out, paths
}

func importer(t *testing.T, r *replica) *bundle.Importer {
	t.Helper()
	ix, err := needs.Open(r.dir.Log, r.dir.Blobs, dossier.RefsOf)
	if err != nil {
		t.Fatal(err)
	}
	key, err := bundle.KeyOf(r.dir.Signer.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	return &bundle.Importer{Log: r.dir.Log, Blobs: r.dir.Blobs, Refs: dossier.RefsOf, Needs: ix,
		Proto:  syncproto.Config{Self: r.hello()},
		Device: r.dir.Signer.PublicKey(), Key: key,
		OnHeld: func(ids []replication.EntryID) { ix.Recheck(ids...) }}
}

func importFile(t *testing.T, im *bundle.Importer, path string) (*bundle.Result, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return im.ImportPart(f)
}

// holdsAll reports whether r holds every entry of the laptop's origin and
// every blob of ids, verified.
func holdsAll(t *testing.T, w *world, r *replica) (entries bool, blobs int) {
	t.Helper()
	lh, _ := w.lap.dir.Log.Head(w.lap.dir.Signer.Origin())
	hh, _ := r.dir.Log.Head(w.lap.dir.Signer.Origin())
	for _, id := range w.ids {
		if blob.Check(r.dir.Blobs, id.Hash) == nil {
			blobs++
		}
	}
	return hh == lh, blobs
}

func TestRoundTripAndReplay(t *testing.T) {
	w := newWorld(t, 30)
	out, paths := w.export(t, t.TempDir(), 0, nil)
	if len(paths) != 1 || out.Entries != 31 || out.Blobs != len(w.ids) || !out.Complete {
		t.Fatalf("export: %d parts, %d entries, %d blobs (want 31 and %d)", len(paths), out.Entries, out.Blobs, len(w.ids))
	}
	im := importer(t, w.hub)
	res, err := importFile(t, im, paths[0])
	if err != nil || res.Err != nil {
		t.Fatalf("import: %v %v", err, res.Err)
	}
	if res.Applied != 31 || res.BlobsTaken != len(w.ids) || res.Refused != 0 {
		t.Fatalf("import: %+v", res)
	}
	if ok, n := holdsAll(t, w, w.hub); !ok || n != len(w.ids) {
		t.Fatalf("the hub holds the laptop's entries: %v, %d of %d blobs", ok, n, len(w.ids))
	}
	// Twice: nothing new, nothing refused.
	res, err = importFile(t, importer(t, w.hub), paths[0])
	if err != nil || res.Err != nil || res.Applied != 0 || res.Duplicate != 31 || res.BlobsTaken != 0 || res.BlobsHeld != len(w.ids) {
		t.Fatalf("second import: %+v %v", res, err)
	}
}

func TestTruncatedThenWhole(t *testing.T) {
	w := newWorld(t, 20)
	_, paths := w.export(t, t.TempDir(), 0, nil)
	whole, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.fsb")
	os.WriteFile(cut, whole[:len(whole)*6/10], 0o600)
	res, err := importFile(t, importer(t, w.hub), cut)
	if err != nil || !errors.Is(res.Err, bundle.ErrTruncated) {
		t.Fatalf("a cut copy: %v %v", err, res)
	}
	t.Logf("a copy cut at 60%%: %v; taken %d entries, %d blobs", res.Err, res.Applied, res.BlobsTaken)
	if res.Applied != 21 || res.BlobsTaken == 0 {
		t.Fatalf("what came before the cut is not taken: %+v", res)
	}
	res, err = importFile(t, importer(t, w.hub), paths[0])
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	if ok, n := holdsAll(t, w, w.hub); !ok || n != len(w.ids) {
		t.Fatalf("after the whole copy: entries %v, %d of %d blobs", ok, n, len(w.ids))
	}
}

func TestBitFlipRefusedRestKept(t *testing.T) {
	w := newWorld(t, 20)
	_, paths := w.export(t, t.TempDir(), 0, nil)
	b, _ := os.ReadFile(paths[0])
	b[len(b)/2] ^= 0x10
	bad := filepath.Join(t.TempDir(), "bad.fsb")
	os.WriteFile(bad, b, 0o600)
	res, err := importFile(t, importer(t, w.hub), bad)
	if err != nil || !errors.Is(res.Err, bundle.ErrDamaged) {
		t.Fatalf("a flipped bit: %v %+v", err, res)
	}
	t.Logf("a flipped bit: %v; taken %d entries and %d blobs before it", res.Err, res.Applied, res.BlobsTaken)
	for _, id := range w.ids {
		if err := blob.Check(w.hub.dir.Blobs, id.Hash); err != nil && !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("a blob the hub holds does not verify: %v", err)
		}
	}
	// A flipped bit in the header: the signature fails.
	b, _ = os.ReadFile(paths[0])
	b[40] ^= 0x01
	os.WriteFile(bad, b, 0o600)
	if _, err := importFile(t, importer(t, w.hub), bad); !errors.Is(err, bundle.ErrBadSignature) && !errors.Is(err, replication.ErrMalformed) {
		t.Fatalf("a flipped header bit: %v", err)
	}
}

func TestWrongHubRefused(t *testing.T) {
	w := newWorld(t, 5)
	_, paths := w.export(t, t.TempDir(), 0, nil)
	other := newReplica(t, replication.RoleHub, "district", "hub-446")
	_, err := importFile(t, importer(t, other), paths[0])
	if !errors.Is(err, bundle.ErrNotForUs) {
		t.Fatalf("another hub: %v", err)
	}
	t.Logf("another hub: %v", err)
	if h, _ := other.dir.Log.Head(w.lap.dir.Signer.Origin()); h.Seq != 0 {
		t.Fatal("the other hub took entries")
	}
}

func TestPartsInAnyOrder(t *testing.T) {
	w := newWorld(t, 40)
	out, paths := w.export(t, t.TempDir(), 400_000, nil)
	if len(paths) < 3 {
		t.Fatalf("%d parts of 400 kB for %d blob bytes", len(paths), out.BlobBytes)
	}
	for i, p := range out.Parts {
		if p.Bytes > 400_000 {
			t.Fatalf("part %d is %d bytes", i+1, p.Bytes)
		}
	}
	// The last part first: its blobs reference entries not held yet.
	last := paths[len(paths)-1]
	res, err := importFile(t, importer(t, w.hub), last)
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	t.Logf("last part first: %d blobs refused (%v)", res.BlobsRefused, firstRefusal(res))
	if res.BlobsTaken != 0 || res.BlobsRefused == 0 {
		t.Fatalf("blobs of entries the hub does not hold: %+v", res)
	}
	for _, p := range paths {
		res, err := importFile(t, importer(t, w.hub), p)
		if err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
	}
	if ok, n := holdsAll(t, w, w.hub); !ok || n != len(w.ids) {
		t.Fatalf("after every part: entries %v, %d of %d blobs", ok, n, len(w.ids))
	}
}

func firstRefusal(r *bundle.Result) string {
	if len(r.BlobRefusals) == 0 {
		return ""
	}
	return r.BlobRefusals[0].Detail
}

func TestNothingToSend(t *testing.T) {
	w := newWorld(t, 3)
	v, _ := w.lap.dir.Log.Vector()
	_, err := (&bundle.Exporter{Log: w.lap.dir.Log, Proto: syncproto.Config{Self: w.lap.hello()}, Signer: w.lap.dir.Signer.PrivateKey(),
		Hub: w.hub.hello(), HubHeads: v, Now: time.Now()}).Run()
	if !errors.Is(err, bundle.ErrNothing) {
		t.Fatalf("%v", err)
	}
}

// TestAnswerBringsAcksAndDecisionsBack: the hub imports a laptop's bundle
// and answers; the laptop takes the answer: the hub's heads for its
// origin, every blob held, and what flows down (a decision the hub wrote).
func TestAnswerBringsAcksAndDecisionsBack(t *testing.T) {
	w := newWorld(t, 10)
	// A decision at the hub, which flows down to laptops.
	if _, err := w.hub.dir.Log.Append(w.hub.dir.Signer, []replication.Draft{{Kind: replication.KindResolve, Schema: 1, Payload: []byte(`{"note":"a decision"}`), HLC: replication.MakeHLC(time.Now().UnixMilli(), 0)}}); err != nil {
		t.Fatal(err)
	}
	_, paths := w.export(t, t.TempDir(), 0, nil)
	im := importer(t, w.hub)
	up, err := importFile(t, im, paths[0])
	if err != nil || up.Err != nil {
		t.Fatal(err, up.Err)
	}
	hubKey := w.hub.dir.Signer.PrivateKey()
	ans := &bundle.Answerer{Log: w.hub.dir.Log, Blobs: w.hub.dir.Blobs, Refs: dossier.RefsOf, Needs: im.Needs,
		Proto: syncproto.Config{Self: w.hub.hello()}, Signer: hubKey, Now: time.Now()}
	retPath := filepath.Join(t.TempDir(), "return.fsb")
	f, _ := os.Create(retPath)
	out, err := ans.Write(f, []*bundle.Result{up}, 0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out.Entries != 1 {
		t.Fatalf("the answer carries %d entries down, want the decision", out.Entries)
	}
	// The laptop takes it.
	back, err := importFile(t, importer(t, w.lap), retPath)
	if err != nil || back.Err != nil {
		t.Fatal(err, back.Err)
	}
	if back.Answers == nil || back.Answers.Bundle != up.Header.ID || back.Applied != 1 {
		t.Fatalf("answer: %+v, applied %d", back.Answers, back.Applied)
	}
	lh, _ := w.lap.dir.Log.Head(w.lap.dir.Signer.Origin())
	found := false
	for _, h := range back.HubHeads {
		if h.Origin == w.lap.dir.Signer.Origin() && h.Head == lh {
			found = true
		}
	}
	if !found {
		t.Fatalf("the answer's heads %v do not hold the laptop's head %v", back.HubHeads, lh)
	}
	held := bundle.HeldThrough(back.HubStatus)
	if held[w.lap.dir.Signer.Origin()] != lh.Seq {
		t.Fatalf("blobs held through %d, want %d (status %+v)", held[w.lap.dir.Signer.Origin()], lh.Seq, back.HubStatus)
	}
	// With that known, the next bundle has nothing to send.
	heads := replication.Vector{}
	for _, h := range back.HubHeads {
		heads[h.Origin] = h.Head
	}
	keys, _ := bundle.HubKeys(w.lap.dir.Log)
	ex := &bundle.Exporter{Log: w.lap.dir.Log, Blobs: w.lap.dir.Blobs, Refs: dossier.RefsOf, Proto: syncproto.Config{Self: w.lap.hello()},
		Signer: w.lap.dir.Signer.PrivateKey(), Hub: w.hub.hello(), HubHeads: heads, BlobsHeldThrough: held,
		To: []bundle.RecipientKey{{Device: keys[0].Device, Key: keys[0].Key}}, Now: time.Now(),
		Create: func(int) (io.WriteCloser, error) { return os.Create(filepath.Join(t.TempDir(), "next.fsb")) }}
	if _, err := ex.Run(); !errors.Is(err, bundle.ErrNothing) {
		t.Fatalf("the next export after the answer: %v", err)
	}
}
