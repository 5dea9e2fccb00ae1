package hub

import (
	"errors"
	"testing"

	"fieldsync/enrollment/synth"
	"fieldsync/hub/dashboard"
	"fieldsync/hub/reconcile"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
)

// Completeness at a hub: two laptops of two communes captured dossiers;
// the hub holds every record but only some blobs. Per laptop, commune,
// district and in all: complete dossiers, records without all their
// blobs, the bytes to come — counted from the records' references and
// the hub's own store, and never part of the view's digest.
func TestDossierCompleteness(t *testing.T) {
	hubDir, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "436", Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer hubDir.Close()
	type laptop struct {
		unit     string
		dossiers int
		withheld int // dossiers whose portrait the hub does not get
	}
	var bytesPending int64
	for i, l := range []laptop{{"18586", 4, 1}, {"18352", 3, 0}} {
		d, err := datadir.Init(t.TempDir(), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: l.unit, Open: true}})
		if err != nil {
			t.Fatal(err)
		}
		n, err := node.New(d, node.Options{Freeze: node.NoFreeze})
		if err != nil {
			t.Fatal(err)
		}
		g, _ := synth.New(synth.Config{Count: l.dossiers, Seed: uint64(30 + i), Commune: l.unit, CodeList: "2023-04"})
		k := 0
		for rec, ok := g.Next(); ok; rec, ok = g.Next() {
			files := rec.Files()
			if _, err := n.SaveDossier(&node.Dossier{Record: rec.Enrollment, Files: files}); err != nil {
				t.Fatal(err)
			}
			for j, f := range files {
				if f.Data == nil {
					continue
				}
				if j == 0 && k < l.withheld { // the portrait comes first: withheld
					bytesPending += int64(len(f.Data))
					continue
				}
				if _, err := blob.PutBytes(hubDir.Blobs, f.Data); err != nil {
					t.Fatal(err)
				}
			}
			k++
		}
		var es []replication.Entry
		d.Log.Scan(d.Signer.Origin(), 1, func(e replication.Entry) bool { es = append(es, e); return true })
		if _, err := hubDir.Log.Ingest(es, nil); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
	s, err := OfflineDossiers(hubDir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Totals.Dossiers != 7 || s.Totals.Complete != 6 || s.Totals.Incomplete != 1 || s.Totals.PendingBytes != bytesPending {
		t.Fatalf("totals %+v (pending bytes want %d)", s.Totals, bytesPending)
	}
	if len(s.Devices) != 2 || len(s.Communes) != 2 || len(s.Districts) != 2 {
		t.Fatalf("units: %d devices, %d communes, %d districts", len(s.Devices), len(s.Communes), len(s.Districts))
	}
	for _, c := range s.Communes {
		want := map[string]uint64{"18586": 3, "18352": 3}[c.Code]
		if c.Complete != want || c.District == "" {
			t.Fatalf("commune %+v", c)
		}
	}
	// The review screens' portraits: held ones are served, verified; the
	// withheld one is not here.
	src := &source{d: &Daemon{cfg: DaemonConfig{Dir: hubDir}}}
	served, missing := 0, 0
	for _, o := range mustVector(t, hubDir).Origins() {
		for seq := uint64(2); ; seq++ {
			id := replication.EntryID{Origin: o, Seq: seq}
			if _, err := hubDir.Log.Get(id); err != nil {
				break
			}
			img, format, err := src.Portrait(id.String())
			switch {
			case errors.Is(err, dashboard.ErrNoPortrait):
				missing++
			case err != nil || len(img) == 0 || (format != "jpeg" && format != "jp2"):
				t.Fatalf("portrait of %s: %v %q", id, err, format)
			default:
				served++
			}
		}
	}
	if served != 6 || missing != 1 {
		t.Fatalf("portraits served %d, missing %d", served, missing)
	}
	// Blobs are this hub's own state: the view digest does not see them.
	view, err := NewView(hubDir.Log, mustViewConfig(t, hubDir.Config))
	if err != nil {
		t.Fatal(err)
	}
	_, before := view.Stats()
	var ids []blob.Hash
	hubDir.Blobs.List(func(in blob.Info) bool { ids = append(ids, in.Hash); return true })
	for _, h := range ids {
		hubDir.Blobs.Delete(h)
	}
	view2, _ := NewView(hubDir.Log, mustViewConfig(t, hubDir.Config))
	if _, after := view2.Stats(); after != before {
		t.Fatal("the view digest depends on which blobs are held")
	}
}

func mustVector(t *testing.T, d *datadir.Dir) replication.Vector {
	t.Helper()
	v, err := d.Log.Vector()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustViewConfig(t *testing.T, cfg datadir.Config) reconcile.Config {
	t.Helper()
	c, err := ViewConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
